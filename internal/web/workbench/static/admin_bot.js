// Admin pages for the bot (docs/bot.md): the knowledge base (FAQ entries,
// import and export, the sample FAQ, synonyms), each inbox's bot settings,
// and the unanswered-questions and feedback reports.

import { h, replace } from './dom.js';
import { t, fmtTime } from './i18n.js';
import { table } from './admin.js';

export const botPages = { kb, bot, botreports };

const SHOWN = 50; // FAQ rows rendered at once; the search narrows the rest

// kb is the knowledge base. A draft (from the unanswered report) opens the
// editor with the question filled in.
async function kb(app, el) {
  const api = app.api;
  const status = h('p', { class: 'muted', role: 'status', id: 'kb-status' });
  const err = h('p', { class: 'error', role: 'alert', id: 'kb-error' });
  const search = h('input', { type: 'search', id: 'kb-search', placeholder: t('kbSearch'), 'aria-label': t('kbSearch') });
  const list = h('div', { id: 'kb-list' });
  const editor = h('div', { id: 'kb-editor' });
  const file = h('input', { type: 'file', id: 'kb-file', accept: '.csv,.json,text/csv,application/json', 'aria-label': t('importFile') });
  let faqs = [];
  const fail = (e) => { err.textContent = e.message; };

  // load keeps only the newest answer: an import may finish while the
  // first listing is still on its way, and the older list must not win.
  let loads = 0;
  const load = async () => {
    const n = ++loads;
    const res = await api.get('/api/v1/bot/faqs');
    if (n !== loads) return;
    faqs = res.data || [];
    render();
  };
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const hits = q ? faqs.filter((f) => [f.answer, f.category, ...(f.questions || [])].some((x) => String(x || '').toLowerCase().includes(q))) : faqs;
    status.textContent = t('kbCount', { n: faqs.length, shown: Math.min(hits.length, SHOWN), hits: hits.length });
    replace(list, table('faq-table', [t('questions'), t('answer'), t('category'), t('enabled'), ''], hits.slice(0, SHOWN).map((f) => h('tr', { dataset: { id: String(f.id) } },
      h('td', null, (f.questions || []).join(' / ')), h('td', null, f.answer), h('td', null, f.category || ''),
      h('td', null, h('input', { type: 'checkbox', checked: f.enabled, 'aria-label': t('enableFaq'), onchange: async (e) => {
        try { Object.assign(f, await api.put('/api/v1/bot/faqs/' + f.id, { category: f.category, answer: f.answer, questions: f.questions, enabled: e.target.checked })); }
        catch (ex) { e.target.checked = !e.target.checked; fail(ex); }
      } })),
      h('td', null, h('button', { type: 'button', onclick: () => edit(f) }, t('edit')), ' ',
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm(t('confirmDelete'))) return;
          try { await api.del('/api/v1/bot/faqs/' + f.id); await load(); } catch (ex) { fail(ex); }
        } }, t('delete')))))));
  };
  const edit = (f) => {
    const cur = f && f.id ? f : null;
    const questions = h('textarea', { id: 'faq-questions', rows: 3, required: true, value: ((f && f.questions) || []).join('\n') });
    const answer = h('textarea', { id: 'faq-answer', rows: 4, required: true, value: (f && f.answer) || '' });
    const category = h('input', { id: 'faq-category', value: (f && f.category) || '', maxlength: 100 });
    const enabled = h('input', { id: 'faq-enabled', type: 'checkbox', checked: f ? f.enabled !== false : true });
    const ferr = h('p', { class: 'error', role: 'alert', id: 'faq-error' });
    replace(editor, h('h2', null, cur ? t('editFaq') : t('newFaq')),
      h('form', { class: 'stack card wide', id: 'faq-form', onsubmit: async (e) => {
        e.preventDefault();
        const body = { category: category.value, answer: answer.value, questions: questions.value.split('\n').map((x) => x.trim()).filter(Boolean), enabled: enabled.checked };
        try {
          if (cur) await api.put('/api/v1/bot/faqs/' + cur.id, body); else await api.post('/api/v1/bot/faqs', body);
          app.toast(t('saved'));
          edit(null);
          await load();
        } catch (ex) { ferr.textContent = ex.message; }
      } },
      h('label', { for: 'faq-questions' }, t('questionsHelp')), questions,
      h('label', { for: 'faq-answer' }, t('answer')), answer,
      h('label', { for: 'faq-category' }, t('category')), category,
      h('label', { class: 'inline' }, enabled, t('enabled')),
      ferr,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'faq-submit' }, cur ? t('save') : t('create')),
        cur || (f && f.questions) ? h('button', { type: 'button', onclick: () => edit(null) }, t('cancel')) : null)));
    if (f) questions.focus();
  };
  const download = async (format) => {
    try {
      const u = await api.blobURL('/api/v1/bot/faqs/export?format=' + format);
      const a = h('a', { href: u, download: 'faq.' + format });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(u), 10000);
    } catch (ex) { fail(ex); }
  };
  const importFile = async () => {
    const f = file.files[0];
    if (!f) return;
    err.textContent = '';
    const type = /\.json$/i.test(f.name) || f.type === 'application/json' ? 'application/json' : 'text/csv';
    try {
      const res = await api.req('POST', '/api/v1/bot/faqs/import', await f.text(), { contentType: type });
      app.toast(t('imported', { n: res.imported }));
      await load();
    } catch (ex) { fail(ex); }
    file.value = '';
  };
  file.addEventListener('change', importFile);
  search.addEventListener('input', render);

  el.append(
    h('div', { class: 'row' },
      h('button', { type: 'button', id: 'import-sample', onclick: async () => {
        err.textContent = '';
        try { const res = await api.post('/api/v1/bot/faqs/import_sample'); app.toast(t('imported', { n: res.imported })); status.textContent = t('imported', { n: res.imported }); await load(); } catch (ex) { fail(ex); }
      } }, t('importSample')),
      h('label', { for: 'kb-file' }, t('importFile')), file,
      h('button', { type: 'button', id: 'export-csv', onclick: () => download('csv') }, t('exportCsv')),
      h('button', { type: 'button', id: 'export-json', onclick: () => download('json') }, t('exportJson')),
      h('button', { type: 'button', id: 'new-faq', onclick: () => edit({ questions: [], enabled: true }) }, t('newFaq'))),
    h('p', { class: 'muted' }, t('importHelp')),
    err, search, status, list, editor,
    h('h2', null, t('synonyms')), await synonyms(app));
  const draft = sessionStorage.getItem('kefu.faqDraft');
  sessionStorage.removeItem('kefu.faqDraft');
  await load();
  edit(draft ? { questions: [draft], enabled: true } : null);
}

// synonyms edits the groups of words the bot treats as one, a group a line.
async function synonyms(app) {
  const res = await app.api.get('/api/v1/bot/synonyms');
  const area = h('textarea', { id: 'synonyms', rows: 6, value: (res.groups || []).map((g) => g.join(', ')).join('\n') });
  const err = h('p', { class: 'error', role: 'alert', id: 'synonyms-error' });
  return h('form', { class: 'stack card wide', id: 'synonyms-form', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const groups = area.value.split('\n').map((l) => l.split(/[,，、]/).map((w) => w.trim()).filter(Boolean)).filter((g) => g.length);
    try {
      const out = await app.api.put('/api/v1/bot/synonyms', { groups });
      area.value = (out.groups || []).map((g) => g.join(', ')).join('\n');
      app.toast(t('saved'));
    } catch (ex) { err.textContent = ex.message; }
  } }, h('label', { for: 'synonyms' }, t('synonymsHelp')), area, err, h('button', { type: 'submit', class: 'primary', id: 'synonyms-submit' }, t('save')));
}

// bot edits one inbox's bot settings (GET|PUT /inboxes/{id}/bot).
async function bot(app, el) {
  const api = app.api;
  const body = h('div');
  el.append(body);
  const load = async (selected) => {
    const inboxes = (await api.get('/api/v1/inboxes')).data;
    const inbox = inboxes.find((i) => i.id === selected) || inboxes[0];
    if (!inbox) return;
    const st = await api.get(`/api/v1/inboxes/${inbox.id}/bot`);
    const mode = h('select', { id: 'bot-mode' }, ['off', 'bot_first', 'outside_hours'].map((m) => h('option', { value: m, selected: st.mode === m }, t('botMode_' + m))));
    const greeting = h('textarea', { id: 'bot-greeting', rows: 2, value: st.greeting || '' });
    const quick = h('textarea', { id: 'bot-quick', rows: 3, value: (st.quick_replies || []).join('\n') });
    const threshold = h('input', { id: 'bot-threshold', type: 'number', min: 0, max: 1, step: 0.05, value: String(st.threshold ?? 0) });
    const handoff = h('input', { id: 'bot-handoff', type: 'number', min: 0, max: 20, step: 1, value: String(st.handoff_after ?? 0) });
    const err = h('p', { class: 'error', role: 'alert', id: 'bot-error' });
    replace(body,
      h('ul', { class: 'pills', id: 'bot-inboxes' }, inboxes.map((i) => h('li', null,
        h('button', { type: 'button', class: i === inbox ? 'active' : '', 'aria-pressed': String(i === inbox), onclick: () => load(i.id) }, i.name)))),
      h('form', { class: 'stack card wide', id: 'bot-form', onsubmit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        try {
          await api.put(`/api/v1/inboxes/${inbox.id}/bot`, { mode: mode.value, greeting: greeting.value,
            quick_replies: quick.value.split('\n').map((x) => x.trim()).filter(Boolean), threshold: Number(threshold.value), handoff_after: Number(handoff.value) });
          app.toast(t('saved'));
          load(inbox.id);
        } catch (ex) { err.textContent = ex.message; }
      } },
      h('label', { for: 'bot-mode' }, t('botMode')), mode,
      h('label', { for: 'bot-greeting' }, t('botGreeting')), greeting,
      h('label', { for: 'bot-quick' }, t('botQuickReplies')), quick,
      h('label', { for: 'bot-threshold' }, t('botThreshold')), threshold,
      h('label', { for: 'bot-handoff' }, t('botHandoffAfter')), handoff,
      err,
      h('button', { type: 'submit', class: 'primary', id: 'bot-submit' }, t('save'))));
  };
  await load();
}

// botreports: the questions the bot could not answer (grouped, most asked
// first, each a click away from a new FAQ entry) and visitors' feedback.
async function botreports(app, el) {
  const [un, fb] = await Promise.all([app.api.get('/api/v1/bot/unanswered'), app.api.get('/api/v1/bot/feedback?limit=100')]);
  const helpful = (fb.data || []).filter((f) => f.helpful).length;
  el.append(
    h('h2', null, t('unanswered')),
    (un.data || []).length ? table('unanswered-table', [t('question'), t('timesAsked'), t('examples'), ''], un.data.map((g) => h('tr', null,
      h('td', null, g.question), h('td', null, String(g.count)), h('td', null, (g.examples || []).join(' / ')),
      h('td', null, h('button', { type: 'button', class: 'create-faq', onclick: () => {
        sessionStorage.setItem('kefu.faqDraft', g.question);
        app.go('/app/admin/kb');
      } }, t('createFaq')))))) : h('p', { class: 'muted', id: 'unanswered-empty' }, t('noUnanswered')),
    h('h2', null, t('feedback')),
    h('p', { id: 'feedback-summary' }, t('feedbackSummary', { helpful, unhelpful: (fb.data || []).length - helpful })),
    (fb.data || []).length ? table('feedback-table', [t('time'), t('conversation'), t('helpfulQ')], fb.data.map((f) => h('tr', null,
      h('td', null, fmtTime(f.created_at)),
      h('td', null, h('a', { href: '/app/conversations/' + f.conversation_id, onclick: (e) => app.link(e, '/app/conversations/' + f.conversation_id) }, '#' + f.conversation_id)),
      h('td', null, f.helpful ? '👍 ' + t('yes') : '👎 ' + t('no'))))) : h('p', { class: 'muted' }, t('noFeedback')));
}
