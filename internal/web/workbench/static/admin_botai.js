// Admin pages for the bot's documents, language model and intents
// (docs/bot.md). Everything from the server is shown as text. The model's
// API key is write-only: the page only ever learns whether one is stored,
// and clears the field it was typed into once it is saved.

import { h, replace } from './dom.js';
import { t, fmtTime } from './i18n.js';
import { table } from './admin.js';

export const botAIPages = { documents, llm, intents };

const lines = (s) => s.split('\n').map((x) => x.trim()).filter(Boolean);

// formatOf guesses a document's format from its file name.
function formatOf(name) {
  if (/\.(md|markdown)$/i.test(name)) return 'markdown';
  if (/\.html?$/i.test(name)) return 'html';
  return 'text';
}

// documents lists the uploaded documents and uploads new ones (a file or
// pasted text) as {title, format, content}.
async function documents(app, el) {
  const api = app.api;
  const list = h('div', { id: 'doc-list' });
  const err = h('p', { class: 'error', role: 'alert', id: 'doc-error' });
  const load = async () => {
    const docs = (await api.get('/api/v1/bot/documents')).data || [];
    replace(list, docs.length ? table('doc-table', [t('docTitle'), t('docFormat'), t('docPassages'), t('docCreated'), ''], docs.map((d) => h('tr', { dataset: { id: String(d.id) } },
      h('td', null, d.title), h('td', null, t('format_' + d.format)), h('td', null, String(d.passages ?? 0)), h('td', null, fmtTime(d.created_at)),
      h('td', null, h('button', { type: 'button', class: 'danger', 'aria-label': t('deleteDoc', { name: d.title }), onclick: async () => {
        if (!confirm(t('confirmDelete'))) return;
        err.textContent = '';
        try { await api.del('/api/v1/bot/documents/' + d.id); await load(); } catch (ex) { err.textContent = ex.message; }
      } }, t('delete')))))) : h('p', { class: 'muted', id: 'doc-empty' }, t('noDocs')));
  };

  const title = h('input', { id: 'doc-title', required: true, maxlength: 200 });
  const format = h('select', { id: 'doc-format' }, ['markdown', 'text', 'html'].map((f) => h('option', { value: f }, t('format_' + f))));
  const file = h('input', { type: 'file', id: 'doc-file', accept: '.md,.markdown,.txt,.html,.htm,text/markdown,text/plain,text/html' });
  const content = h('textarea', { id: 'doc-content', rows: 8, required: true });
  // A chosen file fills the form; the person may still edit the title.
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    content.value = await f.text();
    format.value = formatOf(f.name);
    if (!title.value.trim()) title.value = f.name.replace(/\.[^.]+$/, '');
  });
  const form = h('form', { class: 'stack card wide', id: 'doc-form', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await api.post('/api/v1/bot/documents', { title: title.value.trim(), format: format.value, content: content.value });
      form.reset();
      app.toast(t('saved'));
      await load();
    } catch (ex) { err.textContent = ex.message; }
  } },
  h('label', { for: 'doc-file' }, t('docFile')), file,
  h('label', { for: 'doc-title' }, t('docTitle')), title,
  h('label', { for: 'doc-format' }, t('docFormat')), format,
  h('label', { for: 'doc-content' }, t('docContent')), content,
  h('button', { type: 'submit', class: 'primary', id: 'doc-submit' }, t('upload')));
  el.append(h('p', { class: 'muted' }, t('docsHelp')), err, list, h('h2', null, t('uploadDoc')), form);
  await load();
}

// LLM_NUMBERS are the numeric settings: [field, label key, min, max, step].
const LLM_NUMBERS = [
  ['temperature', 'llmTemperature', 0, 2, 0.1], ['max_tokens', 'llmMaxTokens', 0, 32768, 1], ['timeout_ms', 'llmTimeout', 0, 120000, 100],
  ['daily_token_cap', 'llmDailyCap', 0, null, 1], ['prompt_price_per_1k', 'llmPromptPrice', 0, null, 'any'],
  ['completion_price_per_1k', 'llmCompletionPrice', 0, null, 'any']];
const LLM_TEXTS = [['base_url', 'llmBaseURL', 'url'], ['model', 'llmModel', 'text'], ['embedding_model', 'llmEmbeddingModel', 'text']];

// llm edits the workspace's language-model settings and shows the usage.
async function llm(app, el) {
  const api = app.api;
  const body = h('div');
  const usage = h('div', { id: 'llm-usage' });
  el.append(body, h('h2', null, t('llmUsage')), usage);
  const load = async () => {
    const [st, use] = await Promise.all([api.get('/api/v1/bot/llm'), api.get('/api/v1/bot/llm/usage?days=30')]);
    replace(body, llmForm(app, st, load));
    replace(usage, usageTable(use));
  };
  await load();
}

// settingsBody is what PUT /bot/llm takes, read from the given inputs.
function settingsBody(inputs) {
  const out = {};
  for (const [k, input] of Object.entries(inputs)) {
    if (input.type === 'checkbox') out[k] = input.checked;
    else if (input.type === 'number') out[k] = input.value === '' ? 0 : Number(input.value);
    else out[k] = input.value;
  }
  return out;
}

function llmForm(app, st, reload) {
  const inputs = {
    enabled: h('input', { type: 'checkbox', id: 'llm-enabled', checked: !!st.enabled }),
    grounded: h('input', { type: 'checkbox', id: 'llm-grounded', checked: !!st.grounded }),
  };
  const field = (k, label, input) => { inputs[k] = input; return [h('label', { for: input.id }, t(label)), input]; };
  const err = h('p', { class: 'error', role: 'alert', id: 'llm-error' });
  const key = h('input', { type: 'password', id: 'llm-key', autocomplete: 'off', maxlength: 512 });
  const save = async (extra) => {
    err.textContent = '';
    try {
      await app.api.put('/api/v1/bot/llm', { ...settingsBody(inputs), ...extra });
      key.value = '';
      app.toast(t('saved'));
      await reload();
    } catch (ex) { err.textContent = ex.message; }
  };
  return h('form', { class: 'stack card wide', id: 'llm-form', onsubmit: (e) => {
    e.preventDefault();
    save(key.value.trim() ? { api_key: key.value.trim() } : {}); // an empty field keeps the stored key
  } },
  h('label', { class: 'inline' }, inputs.enabled, t('llmEnabled')),
  LLM_TEXTS.map(([k, label, type]) => field(k, label, h('input', { id: 'llm-' + k.replace(/_/g, '-'), type, value: st[k] || '', maxlength: k === 'base_url' ? 500 : 200 }))),
  h('p', { class: 'muted' }, t('llmBaseURLHelp')),
  h('p', { id: 'llm-key-status', role: 'status' }, st.api_key_set ? t('llmKeySet') : t('llmKeyNotSet')),
  h('label', { for: 'llm-key' }, st.api_key_set ? t('llmKeyReplace') : t('llmKeyNew')), key,
  st.api_key_set ? h('button', { type: 'button', id: 'llm-key-remove', class: 'danger', onclick: () => {
    if (confirm(t('llmKeyRemoveConfirm'))) save({ api_key: '' });
  } }, t('llmKeyRemove')) : null,
  h('label', { class: 'inline' }, inputs.grounded, t('llmGrounded')),
  field('system_prompt', 'llmSystemPrompt', h('textarea', { id: 'llm-system-prompt', rows: 4, maxlength: 4000, value: st.system_prompt || '' })),
  LLM_NUMBERS.map(([k, label, min, max, step]) => field(k, label,
    h('input', { id: 'llm-' + k.replace(/_/g, '-'), type: 'number', min, max, step, value: String(st[k] ?? 0) }))),
  err,
  h('button', { type: 'submit', class: 'primary', id: 'llm-submit' }, t('save')));
}

function usageTable(use) {
  const row = (u, head) => h('tr', head ? { class: 'total' } : null, h(head ? 'th' : 'td', head ? { scope: 'row' } : null, head || u.day),
    h('td', null, String(u.requests || 0)), h('td', null, String(u.prompt_tokens || 0)), h('td', null, String(u.completion_tokens || 0)),
    h('td', null, (u.cost || 0).toFixed(4)));
  const cap = use.daily_token_cap
    ? t('llmCapIs', { n: use.daily_token_cap }) + ' ' + (use.cap_reached ? t('llmCapReached') : t('llmCapNotReached'))
    : t('llmNoCap');
  return [
    h('p', { id: 'llm-cap', class: use.cap_reached ? 'error' : 'muted', dataset: { reached: String(!!use.cap_reached) } }, cap),
    table('llm-usage-table', [t('day'), t('llmRequests'), t('llmPromptTokens'), t('llmCompletionTokens'), t('llmCost')],
      [...(use.data || []).map((u) => row(u)), use.total ? row(use.total, t('total')) : null]),
  ];
}

const ENTITIES = ['order_number', 'phone', 'email', 'date'];

// intents lists the intents and edits one in a form; the optional webhook
// action is a JSON object, checked here before it is sent.
async function intents(app, el) {
  const api = app.api;
  const list = h('div', { id: 'intent-list' });
  const editor = h('div', { id: 'intent-editor' });
  const err = h('p', { class: 'error', role: 'alert', id: 'intents-error' });
  let all = [];
  const load = async () => {
    all = (await api.get('/api/v1/bot/intents')).data || [];
    replace(list, all.length ? table('intent-table', [t('name'), t('intentTriggers'), t('intentResponse'), t('enabled'), ''], all.map((it) => h('tr', { dataset: { id: String(it.id) } },
      h('td', null, it.name),
      h('td', null, [...(it.examples || []), ...(it.keywords || []), ...(it.patterns || [])].join(' / ')),
      h('td', null, [it.reply, it.action ? t('intentWebhook') : '', it.handoff ? t('intentHandoff') : ''].filter(Boolean).join(' · ')),
      h('td', null, it.enabled ? t('yes') : t('no')),
      h('td', null, h('button', { type: 'button', 'aria-label': t('editIntent') + ': ' + it.name, onclick: () => edit(it) }, t('edit')), ' ',
        h('button', { type: 'button', class: 'danger', 'aria-label': t('deleteIntent', { name: it.name }), onclick: async () => {
          if (!confirm(t('confirmDelete'))) return;
          err.textContent = '';
          try { await api.del('/api/v1/bot/intents/' + it.id); await load(); edit(null); } catch (ex) { err.textContent = ex.message; }
        } }, t('delete')))))) : h('p', { class: 'muted', id: 'intent-empty' }, t('noIntents')));
  };
  const edit = (cur) => replace(editor, intentForm(app, cur, async () => { await load(); edit(null); }, () => edit(null)));
  el.append(h('p', { class: 'muted' }, t('intentsHelp')), err, list, editor);
  await load();
  edit(null);
}

function intentForm(app, cur, saved, cancel) {
  const area = (id, value, rows = 3) => h('textarea', { id, rows, value });
  const name = h('input', { id: 'intent-name', required: true, maxlength: 100, value: cur ? cur.name : '' });
  const examples = area('intent-examples', ((cur && cur.examples) || []).join('\n'));
  const keywords = area('intent-keywords', ((cur && cur.keywords) || []).join('\n'));
  const patterns = area('intent-patterns', ((cur && cur.patterns) || []).join('\n'), 2);
  const reply = area('intent-reply', (cur && cur.reply) || '');
  const handoff = h('input', { type: 'checkbox', id: 'intent-handoff', checked: !!(cur && cur.handoff) });
  const enabled = h('input', { type: 'checkbox', id: 'intent-enabled', checked: cur ? cur.enabled !== false : true });
  const entities = ENTITIES.map((e) => h('input', { type: 'checkbox', value: e, id: 'intent-entity-' + e, checked: !!(cur && (cur.entities || []).includes(e)) }));
  let actionText = '';
  if (cur && cur.action) {
    const { secret_set: _set, secret: _secret, ...rest } = cur.action; // the secret never comes back
    actionText = JSON.stringify(rest, null, 2);
  }
  const action = area('intent-action', actionText, 6);
  const ferr = h('p', { class: 'error', role: 'alert', id: 'intent-error' });
  const parseAction = () => {
    const s = action.value.trim();
    if (!s) return null;
    let v;
    try { v = JSON.parse(s); } catch (ex) { throw new Error(t('intentActionBadJSON', { error: ex.message })); }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(t('intentActionNotObject'));
    return v;
  };
  const f = h('form', { class: 'stack card wide', id: 'intent-form', onsubmit: async (e) => {
    e.preventDefault();
    ferr.textContent = '';
    try {
      const act = parseAction();
      const body = { name: name.value.trim(), examples: lines(examples.value), keywords: lines(keywords.value), patterns: lines(patterns.value),
        entities: entities.filter((x) => x.checked).map((x) => x.value), reply: reply.value, handoff: handoff.checked, enabled: enabled.checked };
      if (act) body.action = act;
      if (cur) await app.api.put('/api/v1/bot/intents/' + cur.id, body); else await app.api.post('/api/v1/bot/intents', body);
      app.toast(t('saved'));
      await saved();
    } catch (ex) { ferr.textContent = ex.message; }
  } },
  h('label', { for: 'intent-name' }, t('name')), name,
  h('label', { for: 'intent-examples' }, t('intentExamples')), examples,
  h('label', { for: 'intent-keywords' }, t('intentKeywords')), keywords,
  h('label', { for: 'intent-patterns' }, t('intentPatterns')), patterns,
  h('fieldset', { id: 'intent-entities' }, h('legend', null, t('intentEntities')),
    entities.map((x) => h('label', { class: 'inline', for: x.id }, x, t('entity_' + x.value)))),
  h('label', { for: 'intent-reply' }, t('intentReply')), reply,
  h('label', { for: 'intent-action' }, t('intentAction')), action,
  h('p', { class: 'muted' }, cur && cur.action && cur.action.secret_set ? t('intentSecretKept') : t('intentActionHelp')),
  h('label', { class: 'inline' }, handoff, t('intentHandoffLabel')),
  h('label', { class: 'inline' }, enabled, t('enabled')),
  ferr,
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'intent-submit' }, cur ? t('save') : t('create')),
    cur ? h('button', { type: 'button', onclick: cancel }, t('cancel')) : null));
  return [h('h2', null, cur ? t('editIntent') : t('newIntent')), f];
}
