// The inbox editor of the admin console: the inbox itself, every widget
// setting the server keeps (kefu.WidgetSettings, docs/widget.md) with a
// pre-chat form builder, the install snippet, and identity verification
// (the secret Kefu.identify's hash is made with: reveal, copy, rotate).
// The server validates everything; its error messages are shown as they
// come.

import { h, replace } from './dom.js';
import { t, LOCALES } from './i18n.js';

const FIELD_TYPES = ['text', 'email', 'tel', 'select', 'textarea'];
const MAX_FIELDS = 10; // kefu.MaxPreChatFields

export function inboxEditor(app, inbox, reload) {
  const w = inbox.widget || {};
  const input = (id, value, extra = {}) => h('input', { id, value: value || '', ...extra });
  const area = (id, value, rows = 3) => h('textarea', { id, rows, value: value || '' });
  const labelled = (id, label, el) => [h('label', { for: id }, label), el];

  const name = input('inbox-form-name', inbox.name, { required: true, maxlength: 100 });
  const greeting = area('inbox-form-greeting', inbox.greeting);
  const color = input('inbox-form-color', inbox.color || '#1f6feb', { type: 'color' });
  const origins = area('inbox-form-allowed_origins', (inbox.allowed_origins || []).join('\n'));

  const title = input('widget-title', w.title, { maxlength: 500 });
  const launcher = input('widget-launcher-text', w.launcher_text, { maxlength: 500 });
  const position = h('select', { id: 'widget-position' },
    [['right', t('widgetRight')], ['left', t('widgetLeft')]].map(([v, l]) => h('option', { value: v, selected: (w.position || 'right') === v }, l)));
  const loc = h('select', { id: 'widget-locale' },
    [['', t('widgetLocaleBrowser')], ...LOCALES].map(([v, l]) => h('option', { value: v, selected: (w.locale || '') === v }, l)));
  const offline = area('widget-offline-message', w.offline_message);
  const prechatOn = h('input', { id: 'widget-prechat-enabled', type: 'checkbox', checked: !!w.prechat_enabled });
  const fields = prechatEditor(w.prechat_fields || []);

  const err = h('p', { class: 'error', role: 'alert', id: 'inbox-form-error' });
  const submit = async (e) => {
    e.preventDefault();
    err.textContent = '';
    const widget = {
      title: title.value, launcher_text: launcher.value, position: position.value, locale: loc.value,
      offline_message: offline.value, prechat_enabled: prechatOn.checked, prechat_fields: fields.value(),
    };
    try {
      await app.api.patch('/api/v1/inboxes/' + inbox.id, {
        name: name.value, greeting: greeting.value, color: color.value,
        allowed_origins: origins.value.split(/\s+/).filter(Boolean), widget,
      });
      app.toast(t('saved'));
      reload();
    } catch (ex) { err.textContent = ex.message; err.scrollIntoView({ block: 'nearest' }); }
  };

  const snippet = `<script src="${location.origin}/widget.js" data-inbox="${inbox.public_token}" async></script>`;
  const code = h('code', { id: 'install-snippet' }, snippet);
  return h('div', { class: 'inbox-editor' },
    h('form', { class: 'stack card wide', id: 'inbox-form', onsubmit: submit },
      labelled('inbox-form-name', t('name'), name),
      labelled('inbox-form-greeting', t('greeting'), greeting),
      labelled('inbox-form-color', t('color'), color),
      labelled('inbox-form-allowed_origins', t('allowedOrigins'), origins),
      h('fieldset', { id: 'widget-settings' }, h('legend', null, t('widgetSettings')),
        h('div', { class: 'stack' },
          labelled('widget-title', t('widgetTitle'), title),
          labelled('widget-launcher-text', t('widgetLauncherText'), launcher),
          labelled('widget-position', t('widgetPosition'), position),
          labelled('widget-locale', t('widgetLocale'), loc),
          labelled('widget-offline-message', t('widgetOfflineMessage'), offline))),
      h('fieldset', { id: 'widget-prechat' }, h('legend', null, t('prechatForm')),
        h('label', { class: 'inline' }, prechatOn, t('prechatEnabled')),
        h('p', { class: 'muted' }, t('prechatHelp')),
        fields.el),
      err,
      h('button', { type: 'submit', class: 'primary', id: 'inbox-form-submit' }, t('save'))),
    h('h2', null, t('installSnippet')),
    h('p', { class: 'muted' }, t('installHelp')),
    h('pre', { class: 'snippet' }, code),
    h('button', { type: 'button', id: 'copy-snippet', onclick: () => copy(app, snippet, code) }, t('copy')),
    identity(app, inbox));
}

// copy puts text on the clipboard. Where the clipboard API is refused
// (plain http, an old browser) el's text is selected for Ctrl+C instead;
// btn, when given, records which happened in data-copied.
export async function copy(app, text, el, btn) {
  try {
    await navigator.clipboard.writeText(text);
    if (btn) btn.dataset.copied = 'clipboard';
    app.toast(t('copied'));
  } catch {
    if (el instanceof HTMLInputElement) { el.focus(); el.select(); } else getSelection().selectAllChildren(el);
    if (btn) btn.dataset.copied = 'selected';
    app.toast(t('copyManually'));
  }
}

// prechatEditor edits the pre-chat fields in order: each row has the
// field's key, its label, type, whether it is required and, for a select,
// its options; rows move up and down and are removed. value() returns the
// fields as the server takes them.
function prechatEditor(initial) {
  const list = h('ol', { class: 'prechat-fields', id: 'prechat-fields' });
  const add = h('button', { type: 'button', id: 'add-prechat-field' }, t('addField'));
  const sync = () => {
    const rows = [...list.children];
    rows.forEach((row, i) => {
      row.querySelector('.pf-up').disabled = i === 0;
      row.querySelector('.pf-down').disabled = i === rows.length - 1;
    });
    add.disabled = rows.length >= MAX_FIELDS;
  };
  let n = 0;
  const row = (f) => {
    const id = 'pf-' + (++n);
    const key = h('input', { id: id + '-name', class: 'pf-name', value: f.name || '', required: true, maxlength: 64, pattern: '[A-Za-z0-9_]+', autocomplete: 'off', spellcheck: 'false' });
    const label = h('input', { id: id + '-label', class: 'pf-label', value: f.label || '', maxlength: 500 });
    const type = h('select', { id: id + '-type', class: 'pf-type' }, FIELD_TYPES.map((x) => h('option', { value: x, selected: (f.type || 'text') === x }, t('fieldType_' + x))));
    const required = h('input', { id: id + '-required', class: 'pf-required', type: 'checkbox', checked: !!f.required });
    const options = h('textarea', { id: id + '-options', class: 'pf-options', rows: 3, value: (f.options || []).join('\n') });
    const optionsBox = h('div', { class: 'pf-options-box' }, h('label', { for: id + '-options' }, t('fieldOptions')), options);
    const showOptions = () => { optionsBox.hidden = type.value !== 'select'; };
    type.addEventListener('change', showOptions);
    showOptions();
    const move = (dir) => {
      const other = dir < 0 ? el.previousElementSibling : el.nextElementSibling;
      if (!other) return;
      if (dir < 0) list.insertBefore(el, other); else list.insertBefore(other, el);
      sync();
      el.querySelector(dir < 0 ? '.pf-up' : '.pf-down').focus();
    };
    const el = h('li', { class: 'prechat-field' },
      h('div', { class: 'pf-grid' },
        h('label', { for: id + '-name' }, t('fieldName')), key,
        h('label', { for: id + '-label' }, t('fieldLabel')), label,
        h('label', { for: id + '-type' }, t('fieldType')), type),
      h('label', { class: 'inline' }, required, t('fieldRequired')),
      optionsBox,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'pf-up', 'aria-label': t('moveFieldUp'), title: t('moveFieldUp'), onclick: () => move(-1) }, '↑'),
        h('button', { type: 'button', class: 'pf-down', 'aria-label': t('moveFieldDown'), title: t('moveFieldDown'), onclick: () => move(1) }, '↓'),
        h('button', { type: 'button', class: 'pf-remove danger', onclick: () => { el.remove(); sync(); add.focus(); } }, t('removeField'))));
    return el;
  };
  for (const f of initial) list.append(row(f));
  add.addEventListener('click', () => {
    if (list.children.length >= MAX_FIELDS) return;
    const el = row({ name: '', type: 'text' });
    list.append(el);
    sync();
    el.querySelector('.pf-name').focus();
  });
  sync();
  return {
    el: h('div', null, list, add),
    value: () => [...list.children].map((el) => {
      const type = el.querySelector('.pf-type').value;
      return {
        name: el.querySelector('.pf-name').value.trim(), label: el.querySelector('.pf-label').value.trim(), type,
        required: el.querySelector('.pf-required').checked,
        options: type === 'select' ? el.querySelector('.pf-options').value.split('\n').map((o) => o.trim()).filter(Boolean) : [],
      };
    }),
  };
}

// identity shows the inbox's identity-verification secret on request
// (GET /inboxes/{id}/secret), rotates it after a second click, and shows
// how a website's server computes Kefu.identify's hash with it.
function identity(app, inbox) {
  const hidden = '••••••••••••••••';
  let secret = '';
  const value = h('code', { id: 'inbox-secret', class: 'secret masked' }, hidden);
  const err = h('p', { class: 'error', role: 'alert', id: 'secret-error' });
  const show = (s) => {
    secret = s;
    value.textContent = s;
    value.classList.remove('masked');
    reveal.textContent = t('hideSecret');
    reveal.setAttribute('aria-pressed', 'true');
    copyBtn.hidden = false;
  };
  const hide = () => {
    value.textContent = hidden;
    value.classList.add('masked');
    reveal.textContent = t('showSecret');
    reveal.setAttribute('aria-pressed', 'false');
    copyBtn.hidden = true;
  };
  const reveal = h('button', { type: 'button', id: 'reveal-secret', 'aria-pressed': 'false', 'aria-controls': 'inbox-secret', onclick: async () => {
    err.textContent = '';
    if (!value.classList.contains('masked')) { hide(); return; }
    try { show((await app.api.get(`/api/v1/inboxes/${inbox.id}/secret`)).secret); } catch (ex) { err.textContent = ex.message; }
  } }, t('showSecret'));
  const copyBtn = h('button', { type: 'button', id: 'copy-secret', hidden: true, onclick: () => copy(app, secret, value) }, t('copy'));
  // Rotating breaks every hash the website makes now, so it takes a
  // second, explicit click.
  const confirmBox = h('div', { class: 'nudge', id: 'rotate-confirm', hidden: true },
    h('p', null, t('rotateWarning')),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'danger', id: 'rotate-secret-confirm', onclick: async () => {
        err.textContent = '';
        try {
          const res = await app.api.post(`/api/v1/inboxes/${inbox.id}/rotate_secret`);
          confirmBox.hidden = true;
          show(res.secret);
          app.toast(t('secretRotated'));
        } catch (ex) { err.textContent = ex.message; }
      } }, t('rotateSecretNow')),
      h('button', { type: 'button', id: 'rotate-secret-cancel', onclick: () => { confirmBox.hidden = true; rotate.focus(); } }, t('cancel'))));
  const rotate = h('button', { type: 'button', id: 'rotate-secret', 'aria-controls': 'rotate-confirm',
    onclick: () => { confirmBox.hidden = false; confirmBox.querySelector('#rotate-secret-confirm').focus(); } }, t('rotateSecret'));
  const hmac = [
    '// Node.js',
    "const hash = require('crypto').createHmac('sha256', INBOX_SECRET).update(String(userId)).digest('hex');",
    '',
    '// PHP',
    "$hash = hash_hmac('sha256', $userId, $inboxSecret);",
    '',
    '// Go',
    'mac := hmac.New(sha256.New, []byte(inboxSecret))',
    'mac.Write([]byte(userID))',
    'hash := hex.EncodeToString(mac.Sum(nil))',
    '',
    '// ' + t('identifyInPage'),
    'Kefu.identify({ id: userId, hash: hash, name: userName, email: userEmail });',
  ].join('\n');
  return h('section', { class: 'identity', id: 'identity', 'aria-labelledby': 'identity-title' },
    h('h2', { id: 'identity-title' }, t('identityTitle')),
    h('p', { class: 'muted' }, t('identityHelp')),
    h('div', { class: 'row' }, h('span', null, t('inboxSecret')), value, reveal, copyBtn, rotate),
    confirmBox, err,
    h('h3', null, t('hmacTitle')),
    h('pre', { class: 'snippet', id: 'hmac-snippet' }, h('code', null, hmac)));
}
