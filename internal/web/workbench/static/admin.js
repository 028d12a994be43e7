// The admin console (admins only) and every agent's own settings. The
// server refuses all admin APIs to non-admins (403); these pages also
// refuse to render, and fetch nothing, for them.

import { h, replace } from './dom.js';
import { t, setLocale, locale, LOCALES, fmtTime } from './i18n.js';

import { routingPages } from './admin_routing.js';
import { botPages } from './admin_bot.js';
import { botAIPages } from './admin_botai.js';
import { inboxEditor, copy } from './admin_inbox.js';

export const ADMIN_PAGES = ['agents', 'inboxes', 'teams', 'routing', 'rules', 'kb', 'documents', 'intents', 'llm', 'bot', 'botreports', 'canned', 'labels', 'account'];

export function renderAdmin(app, main, page) {
  if (app.me.role !== 'admin') {
    replace(main, h('section', { class: 'forbidden card', id: 'forbidden', role: 'alert' }, h('h1', null, t('forbiddenTitle')), h('p', null, t('forbiddenText'))));
    return;
  }
  const pages = { agents, inboxes, canned, labels, account, ...routingPages, ...botPages, ...botAIPages };
  const fn = pages[page];
  if (!fn) { replace(main, h('p', { class: 'empty' }, t('notFound'))); return; }
  const section = h('section', { class: 'admin', id: 'admin-' + page, 'aria-labelledby': 'admin-title' }, h('h1', { id: 'admin-title' }, t('admin_' + page)));
  replace(main, section);
  fn(app, section).catch((e) => section.append(h('p', { class: 'error', role: 'alert' }, e.message)));
}

// form builds a labelled form; fields are [name, label, type, value, extra].
export function form(id, fields, submit, onsubmit) {
  const err = h('p', { class: 'error', role: 'alert' });
  const f = h('form', { class: 'stack card', id, onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try { await onsubmit(new FormData(f), f); } catch (ex) { err.textContent = ex.message; }
  } }, fields.map(([name, label, type = 'text', value = '', extra = {}]) => {
    const fid = id + '-' + name;
    let input;
    if (type === 'select') input = h('select', { id: fid, name }, extra.options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
    else if (type === 'textarea') input = h('textarea', { id: fid, name, rows: extra.rows || 3, value });
    else input = h('input', { id: fid, name, type, value, ...extra });
    return [h('label', { for: fid }, label), input];
  }), err, h('button', { type: 'submit', class: 'primary', id: id + '-submit' }, submit));
  return f;
}

export function table(id, head, rows) {
  return h('table', { class: 'grid', id }, h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', null, rows));
}

async function agents(app, el) {
  const api = app.api;
  const body = h('div');
  const invites = h('div');
  el.append(body, invites);
  const load = async () => {
    const list = (await api.get('/api/v1/agents')).data;
    const roleSel = (a) => {
      const s = h('select', { 'aria-label': t('roleOf', { name: a.name }), onchange: () => change(a, { role: s.value }) },
        ['agent', 'admin'].map((r) => h('option', { value: r, selected: a.role === r }, t('role_' + r))));
      return s;
    };
    // An agent's own limit of open chats; 0 takes each inbox's default.
    const maxInput = (a) => {
      const i = h('input', { type: 'number', min: 0, max: 1000, step: 1, class: 'max-concurrent', value: String(a.max_concurrent || 0),
        'aria-label': t('maxConcurrentOf', { name: a.name }), onchange: () => change(a, { max_concurrent: Number(i.value) }) });
      return i;
    };
    const change = async (a, patch) => { try { await api.patch('/api/v1/agents/' + a.id, patch); } catch (e) { app.toast(e.message); } load(); };
    replace(body,
      table('agents-table', [t('name'), t('email'), t('role'), t('maxConcurrent'), t('state'), ''], list.map((a) => h('tr', { dataset: { id: String(a.id) } },
        h('td', null, a.name), h('td', null, a.email), h('td', null, roleSel(a)), h('td', null, maxInput(a)), h('td', null, a.active ? t('active') : t('inactive')),
        h('td', null, h('button', { type: 'button', onclick: () => change(a, { active: !a.active }) }, a.active ? t('deactivate') : t('reactivate')))))));
  };
  await load();
  await invitations(app, invites, load);
}

// invitations: invite by link (Kefu sends no mail: the admin passes the
// link on), the pending invitations with revoke, and the older way of
// adding an agent with a password the admin chooses.
async function invitations(app, el, reloadAgents) {
  const api = app.api;
  // The link is shown once, right after it is made: the server keeps
  // only a hash of its token.
  const linkBox = h('div', { id: 'invite-link-box' });
  const pending = h('div');
  const showLink = (url) => {
    const input = h('input', { id: 'invite-link', type: 'text', readonly: true, value: url, onfocus: () => input.select() });
    const btn = h('button', { type: 'button', id: 'copy-invite-link', onclick: () => copy(app, url, input, btn) }, t('copy'));
    replace(linkBox, h('div', { class: 'card stack' }, h('label', { for: 'invite-link' }, t('inviteLink')), input, btn));
  };
  const load = async () => {
    const list = (await api.get('/api/v1/invitations')).data;
    const revoke = async (inv) => {
      if (!confirm(t('confirmRevoke'))) return;
      try { await api.del('/api/v1/invitations/' + inv.id); app.toast(t('invitationRevoked')); } catch (e) { app.toast(e.message); }
      load();
    };
    replace(pending, list.length === 0 ? h('p', { class: 'muted', id: 'invitations-empty' }, t('noInvitations')) :
      table('invitations-table', [t('email'), t('role'), t('name'), t('expires'), ''], list.map((inv) => h('tr', { dataset: { id: String(inv.id), email: inv.email } },
        h('td', null, inv.email), h('td', null, t('role_' + inv.role)), h('td', null, inv.name), h('td', null, fmtTime(inv.expires_at)),
        h('td', null, h('button', { type: 'button', class: 'danger', onclick: () => revoke(inv) }, t('revoke')))))));
  };
  replace(el,
    h('h2', null, t('inviteAgent')),
    h('p', { class: 'muted' }, t('invitationsHelp')),
    form('invite-form', [['email', t('email'), 'email', '', { required: true }],
      ['role', t('role'), 'select', 'agent', { options: [['agent', t('role_agent')], ['admin', t('role_admin')]] }],
      ['name', t('nameOptional')]], t('createInviteLink'),
    async (fd, f) => {
      const res = await api.post('/api/v1/invitations', { email: fd.get('email'), role: fd.get('role'), name: fd.get('name') });
      f.reset();
      showLink(res.url);
      load();
    }),
    linkBox,
    h('h2', null, t('pendingInvitations')),
    pending,
    h('h2', null, t('addAgent')),
    form('agent-form', [['name', t('name')], ['email', t('email'), 'email'], ['password', t('initialPassword'), 'password', '', { minlength: 8, autocomplete: 'new-password' }],
      ['role', t('role'), 'select', 'agent', { options: [['agent', t('role_agent')], ['admin', t('role_admin')]] }],
      ['max_concurrent', t('maxConcurrent'), 'number', '0', { min: 0, max: 1000, step: 1 }]], t('create'),
    async (fd, f) => {
      const agent = Object.fromEntries(fd);
      agent.max_concurrent = Number(agent.max_concurrent || 0);
      await api.post('/api/v1/agents', agent); app.toast(t('saved')); f.reset(); reloadAgents();
    }));
  await load();
}

async function inboxes(app, el) {
  const api = app.api;
  const body = h('div');
  el.append(body);
  const load = async (selected) => {
    const list = (await api.get('/api/v1/inboxes')).data;
    const cur = list.find((i) => i.id === selected) || list[0];
    replace(body,
      h('ul', { class: 'pills', id: 'inbox-list' }, list.map((i) => h('li', null, h('button', { type: 'button', class: i === cur ? 'active' : '', onclick: () => load(i.id) }, i.name)))),
      cur ? inboxEditor(app, cur, () => load(cur.id)) : null,
      h('h2', null, t('newInbox')),
      form('inbox-new', [['name', t('name')]], t('create'), async (fd) => { const i = await api.post('/api/v1/inboxes', { name: fd.get('name') }); load(i.id); }));
  };
  await load();
}

// crud renders a catalog (canned responses or labels): a table with an
// edit and a delete button per row, and a form that creates or edits.
async function crud(app, el, { path, cols, fields, id }) {
  const api = app.api;
  const body = h('div');
  el.append(body);
  const load = async (editing) => {
    const list = (await api.get(path)).data;
    const cur = list.find((x) => x.id === editing);
    replace(body,
      table(id + '-table', [...cols.map((c) => c[1]), ''], list.map((x) => h('tr', { dataset: { id: String(x.id) } },
        cols.map(([k]) => h('td', null, k === 'color' && x[k] ? h('span', { class: 'chip' }, swatchOf(x[k]), x[k]) : String(x[k] ?? ''))),
        h('td', null,
          h('button', { type: 'button', onclick: () => load(x.id) }, t('edit')), ' ',
          h('button', { type: 'button', class: 'danger', onclick: async () => { if (confirm(t('confirmDelete'))) { await api.del(`${path}/${x.id}`); load(); } } }, t('delete')))))),
      h('h2', null, cur ? t('edit') : t('create')),
      form(id + '-form', fields.map(([k, label, type]) => [k, label, type, cur ? cur[k] ?? '' : type === 'color' ? '#1f6feb' : '']), cur ? t('save') : t('create'),
        async (fd) => {
          const obj = Object.fromEntries(fd);
          if (cur) await api.patch(`${path}/${cur.id}`, obj); else await api.post(path, obj);
          app.toast(t('saved'));
          load();
        }),
      cur ? h('button', { type: 'button', onclick: () => load() }, t('cancel')) : null);
  };
  await load();
}

function swatchOf(color) {
  const s = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  s.style.background = color;
  return s;
}

function canned(app, el) {
  return crud(app, el, { path: '/api/v1/canned_responses', id: 'canned',
    cols: [['short_code', t('shortCode')], ['content', t('content')]],
    fields: [['short_code', t('shortCode')], ['content', t('content'), 'textarea']] });
}

function labels(app, el) {
  return crud(app, el, { path: '/api/v1/labels', id: 'labels',
    cols: [['name', t('name')], ['color', t('color')], ['description', t('description')]],
    fields: [['name', t('name')], ['color', t('color'), 'color'], ['description', t('description')]] });
}

async function account(app, el) {
  const ws = await app.api.get('/api/v1/workspace');
  el.append(form('workspace-form', [['name', t('workspaceName'), 'text', ws.name]], t('save'), async (fd) => {
    await app.api.patch('/api/v1/workspace', { name: fd.get('name') });
    app.toast(t('saved'));
  }));
}

// renderSettings: the agent's own profile, password, language and alerts.
export function renderSettings(app, main) {
  const me = app.me;
  const lang = h('select', { id: 'settings-locale', onchange: () => { setLocale(lang.value); app.rerender(); } },
    LOCALES.map(([code, name]) => h('option', { value: code, selected: code === locale() }, name)));
  replace(main, h('section', { class: 'admin', 'aria-labelledby': 'settings-title' },
    h('h1', { id: 'settings-title' }, t('settings')),
    h('h2', null, t('profile')),
    form('profile-form', [['name', t('name'), 'text', me.name]], t('save'), async (fd) => {
      const res = await app.api.patch('/api/v1/me', { name: fd.get('name') });
      app.me = res.agent;
      document.getElementById('me-name').textContent = res.agent.name;
      app.toast(t('saved'));
    }),
    h('h2', null, t('changePassword')),
    form('password-form', [['current_password', t('currentPassword'), 'password', '', { autocomplete: 'current-password' }],
      ['password', t('newPassword'), 'password', '', { minlength: 8, autocomplete: 'new-password' }]], t('save'), async (fd, f) => {
      const res = await app.api.patch('/api/v1/me', { current_password: fd.get('current_password'), password: fd.get('password') });
      if (res.token) app.api.token = res.token; // every older session was signed out
      f.reset();
      app.toast(t('passwordChanged'));
    }),
    h('h2', null, t('language')),
    h('label', { for: 'settings-locale' }, t('language')), lang,
    h('h2', null, t('notifications')),
    h('p', { class: 'muted' }, t('notificationsHelp')),
    h('button', { type: 'button', id: 'enable-notifications', onclick: async () => {
      app.notifier.unlock();
      app.notifier.chime();
      app.toast((await app.notifier.ask()) ? t('notificationsOn') : t('notificationsBlocked'));
    } }, t('enableNotifications'))));
}
