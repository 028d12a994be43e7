// The app shell: login, the top bar, client-side routes, keyboard
// shortcuts and the help overlay. The views live in workbench.js (the
// conversations) and admin.js (the admin console and personal settings).

import { API } from './api.js';
import { h, replace } from './dom.js';
import { t, setLocale, locale, LOCALES } from './i18n.js';
import { Live } from './live.js';
import { Notifier } from './notify.js';
import { Workbench } from './workbench.js';
import { renderAdmin, renderSettings, ADMIN_PAGES } from './admin.js';

class App {
  constructor(root) {
    this.root = root;
    this.api = new API(() => this.logout(true));
    this.notifier = new Notifier();
    this.me = null;
    this.workbench = null;
    window.addEventListener('popstate', () => this.route());
    document.addEventListener('keydown', (e) => this.onKey(e));
    document.addEventListener('pointerdown', () => this.notifier.unlock());
    document.addEventListener('keydown', () => this.notifier.unlock(), { once: true });
    document.documentElement.lang = locale();
    this.restoreFocusAfterDialogs();
  }

  // restoreFocusAfterDialogs puts focus back where it was when a dialog
  // (an .overlay) closes, however it closed, instead of leaving it on the
  // page body; the opener may have been drawn again meanwhile, so it is
  // found again by id.
  restoreFocusAfterDialogs() {
    let before = null;
    document.addEventListener('focusin', (e) => { if (!e.target.closest('.overlay')) before = e.target; });
    new MutationObserver((muts) => {
      const closed = muts.some((m) => [...m.removedNodes].some((n) => n.classList && n.classList.contains('overlay')));
      if (!closed || !before || document.querySelector('.overlay')) return;
      if (document.activeElement && document.activeElement !== document.body) return;
      const el = before.isConnected ? before : before.id && document.getElementById(before.id);
      if (el) el.focus();
    }).observe(document.body, { childList: true });
  }

  go(path, replaceState = false) {
    if (location.pathname !== path) history[replaceState ? 'replaceState' : 'pushState'](null, '', path);
    this.route();
  }

  async route() {
    const path = location.pathname;
    // The invitation page works with or without a session: accepting
    // logs the new agent in, replacing whoever was logged in here.
    if (path === '/app/invite' || path === '/app/invite/') { this.stop(); this.me = null; this.renderInvite(); return; }
    if (!this.api.token) { this.stop(); this.renderLogin(); return; }
    if (!this.me) {
      try { this.me = await this.api.get('/api/v1/me'); } catch { return; }
    }
    if (path === '/' || path === '/app' || path === '/app/') { this.go('/app/conversations', true); return; }
    this.renderShell();
    const m = path.match(/^\/app\/conversations(?:\/(\d+))?\/?$/);
    if (m) { await this.showWorkbench(m[1] ? Number(m[1]) : null); return; }
    this.hideWorkbench();
    const admin = path.match(/^\/app\/admin\/([a-z]+)\/?$/);
    if (admin) { renderAdmin(this, this.main, admin[1]); return; }
    if (path === '/app/settings') { renderSettings(this, this.main); return; }
    replace(this.main, h('section', { class: 'empty' }, h('h1', null, t('notFound')), h('a', { href: '/app/conversations', onclick: (e) => this.link(e, '/app/conversations') }, t('backToInbox'))));
  }

  link(e, path) { e.preventDefault(); this.go(path); }

  renderLogin() {
    document.title = t('login') + ' · Kefu';
    const err = h('p', { class: 'error', role: 'alert', id: 'login-error' });
    const email = h('input', { id: 'login-email', type: 'email', name: 'email', autocomplete: 'username', required: true });
    const password = h('input', { id: 'login-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
    const form = h('form', { class: 'login card', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const res = await this.api.req('POST', '/api/v1/auth/login', { email: email.value, password: password.value }, { noLogout: true });
        this.api.token = res.token;
        // /me (fetched by route) carries the declared availability too.
        this.me = null;
        this.go(location.pathname.startsWith('/app/') ? location.pathname : '/app/conversations', true);
      } catch (ex) { err.textContent = ex.status === 401 ? t('badLogin') : ex.message; }
    } },
      h('h1', null, 'Kefu 客服'),
      h('label', { for: 'login-email' }, t('email')), email,
      h('label', { for: 'login-password' }, t('password')), password,
      err,
      h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, t('login')),
      this.localePicker());
    replace(this.root, h('main', { class: 'login-page' }, form));
    email.focus();
  }

  // renderInvite is where an invitation link lands. The token is in the
  // fragment (#token=…): browsers never send that to a server, so it stays
  // out of logs and Referer headers; the page sends it in a JSON body.
  async renderInvite() {
    document.title = t('acceptInvite') + ' · Kefu';
    const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
    const card = h('div', { class: 'login card', id: 'invite-page' }, h('h1', null, 'Kefu 客服'));
    replace(this.root, h('main', { class: 'login-page' }, card));
    const fail = (text, detail) => card.append(
      h('p', { class: 'error', role: 'alert', id: 'invite-error' }, text),
      detail ? h('p', { class: 'muted' }, detail) : null,
      h('a', { href: '/', id: 'invite-login' }, t('goToLogin')),
      this.localePicker());
    if (!token) { fail(t('inviteMissing')); return; }
    let inv;
    try {
      inv = await this.api.req('POST', '/api/v1/invitations/lookup', { token }, { noLogout: true });
    } catch (ex) {
      fail(ex.status === 410 ? t('inviteGone') : ex.status === 404 ? t('inviteNotFound') : ex.message, ex.status === 410 ? ex.message : '');
      return;
    }
    const err = h('p', { class: 'error', role: 'alert', id: 'invite-error' });
    const name = h('input', { id: 'invite-name', name: 'name', autocomplete: 'name', required: true, maxlength: 200, value: inv.name });
    const password = h('input', { id: 'invite-password', type: 'password', name: 'password', autocomplete: 'new-password', minlength: 8, required: true });
    const again = h('input', { id: 'invite-password2', type: 'password', autocomplete: 'new-password', minlength: 8, required: true });
    // The login name, for the browser's password manager.
    const user = h('input', { type: 'email', autocomplete: 'username', value: inv.email, hidden: true, readonly: true });
    const form = h('form', { id: 'invite-form', class: 'stack', onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      if (password.value !== again.value) { err.textContent = t('passwordMismatch'); return; }
      try {
        const res = await this.api.req('POST', '/api/v1/invitations/accept', { token, name: name.value, password: password.value }, { noLogout: true });
        this.api.token = res.token;
        this.me = null;
        this.go('/app/conversations', true);
      } catch (ex) { err.textContent = ex.message; }
    } },
      user,
      h('label', { for: 'invite-name' }, t('name')), name,
      h('label', { for: 'invite-password' }, t('password')), password,
      h('label', { for: 'invite-password2' }, t('confirmPassword')), again,
      err,
      h('button', { type: 'submit', class: 'primary', id: 'invite-submit' }, t('acceptInvite')));
    card.append(
      h('h2', { id: 'invite-title' }, t('inviteTitle', { workspace: inv.workspace_name })),
      h('p', { id: 'invite-intro' }, t('inviteIntro', { email: inv.email, role: t('role_' + inv.role) })),
      form, this.localePicker());
    (inv.name ? password : name).focus();
  }

  localePicker() {
    const sel = h('select', { id: 'locale', 'aria-label': t('language'), onchange: () => { setLocale(sel.value); this.rerender(); } },
      LOCALES.map(([code, name]) => h('option', { value: code, selected: code === locale() }, name)));
    return sel;
  }

  rerender() {
    document.documentElement.lang = locale();
    this.stop();
    this.shell = null;
    this.route();
  }

  renderShell() {
    if (this.shell) { this.updateNav(); return; }
    const me = this.me;
    const isAdmin = me.role === 'admin';
    // The availability the server holds (GET /me): never declared reads
    // offline, so the toggle never claims more than routing believes.
    const avail = me.availability || 'offline';
    const presence = h('select', { id: 'presence', 'aria-label': t('availability'), onchange: () => this.setAvailability(presence.value) },
      ['online', 'away', 'offline'].map((s) => h('option', { value: s, selected: avail === s }, t('presence_' + s))));
    this.nav = h('nav', { class: 'nav', 'aria-label': t('mainNav') },
      this.navLink('/app/conversations', t('conversations')),
      isAdmin ? ADMIN_PAGES.map((p) => this.navLink('/app/admin/' + p, t('admin_' + p))) : null,
      this.navLink('/app/settings', t('settings')));
    this.conn = h('span', { class: 'conn', id: 'conn', role: 'status' }, t('connecting'));
    const top = h('header', { class: 'topbar' },
      h('strong', { class: 'brand' }, 'Kefu'),
      this.nav,
      h('span', { class: 'spacer' }),
      this.conn,
      h('label', { class: 'presence-label', for: 'presence' }, h('span', { class: 'dot ' + avail, id: 'presence-dot' }), presence),
      h('button', { type: 'button', class: 'icon', title: t('shortcuts'), 'aria-label': t('shortcuts'), onclick: () => this.help() }, '?'),
      h('span', { class: 'me', id: 'me-name' }, me.name),
      h('button', { type: 'button', id: 'logout', onclick: () => this.logout() }, t('logout')));
    this.main = h('main', { id: 'main', class: 'main' });
    this.shell = h('div', { class: 'shell' }, top, this.main);
    replace(this.root, this.shell);
    this.updateNav();
    this.startLive();
  }

  navLink(path, label) {
    return h('a', { href: path, dataset: { path }, onclick: (e) => this.link(e, path) }, label);
  }

  updateNav() {
    for (const a of this.nav.querySelectorAll('a')) {
      const on = location.pathname.startsWith(a.dataset.path);
      a.classList.toggle('active', on);
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
  }

  startLive() {
    if (this.live) return;
    this.live = new Live(() => this.api.token, {
      onFrame: (f) => this.workbench && this.workbench.onFrame(f),
      onStatus: (up) => {
        if (this.conn) { this.conn.textContent = up ? t('connected') : t('reconnecting'); this.conn.classList.toggle('down', !up); }
        if (up) this.syncAvailability();
      },
      onReconnect: () => this.workbench && this.workbench.refresh(),
    });
  }

  async showWorkbench(id) {
    if (!this.workbench) this.workbench = new Workbench(this);
    if (this.workbench.el.parentNode !== this.main) replace(this.main, this.workbench.el);
    await this.workbench.show(id);
  }

  hideWorkbench() {
    // The workbench keeps its state (and keeps counting unread messages)
    // while an admin page is shown.
    if (this.workbench && this.workbench.el.parentNode) this.workbench.el.remove();
  }

  // syncAvailability shows what the server holds once connected: an agent
  // who never declared one becomes online on their first connection.
  async syncAvailability() {
    const seq = this.availSeq = (this.availSeq || 0) + 1;
    try {
      const me = await this.api.get('/api/v1/me');
      if (seq !== this.availSeq) return; // the agent chose meanwhile
      this.me.availability = me.availability;
      this.showAvailability(me.availability);
    } catch { /* the next connection tries again */ }
  }

  showAvailability(status) {
    const sel = document.getElementById('presence');
    if (sel && document.activeElement !== sel) sel.value = status;
    const dot = document.getElementById('presence-dot');
    if (dot) dot.className = 'dot ' + status;
  }

  async setAvailability(status) {
    this.availSeq = (this.availSeq || 0) + 1;
    const dot = document.getElementById('presence-dot');
    if (dot) dot.className = 'dot ' + status;
    // Tell the other agents at once over the socket, and store it.
    this.live && this.live.send({ type: 'presence', status });
    try {
      await this.api.put('/api/v1/me/availability', { availability: status });
      this.me.availability = status;
    } catch (e) { this.toast(t('availabilityFailed') + ' ' + e.message); }
  }

  stop() {
    if (this.live) { this.live.close(); this.live = null; }
    if (this.workbench) this.workbench.destroy();
    this.workbench = null;
    this.shell = null;
  }

  async logout(expired = false) {
    if (!expired && this.api.token) { try { await this.api.post('/api/v1/auth/logout'); } catch { /* gone already */ } }
    this.api.token = '';
    this.me = null;
    this.stop();
    history.replaceState(null, '', '/');
    this.renderLogin();
  }

  toast(text) {
    const el = h('div', { class: 'toast', role: 'status' }, text);
    document.body.append(el);
    setTimeout(() => el.remove(), 4000);
  }

  // Keyboard: shortcuts that make sense while typing use Alt; the single
  // letters work only outside text fields.
  onKey(e) {
    if (!this.me) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || e.target.isContentEditable;
    const wb = this.workbench && this.workbench.el.parentNode ? this.workbench : null;
    if (e.key === 'Escape') {
      const o = document.querySelector('.overlay');
      if (o) { o.remove(); e.preventDefault(); return; }
      // Esc leaves the composer for the message list, where the single
      // letters (j, k, r, /) work again.
      if (wb && wb.view && e.target === wb.view.input) { e.preventDefault(); wb.view.msgs.focus(); }
      return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && wb) {
      if (e.key === 'ArrowDown') { e.preventDefault(); wb.move(1); return; }
      if (e.key === 'ArrowUp') { e.preventDefault(); wb.move(-1); return; }
      if (e.code === 'KeyR') { e.preventDefault(); wb.toggleResolved(); return; }
    }
    if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === '?') { e.preventDefault(); this.help(); return; }
    if (!wb) return;
    if (e.key === 'j') { e.preventDefault(); wb.move(1); }
    else if (e.key === 'k') { e.preventDefault(); wb.move(-1); }
    else if (e.key === '/') { e.preventDefault(); wb.focusSearch(); }
    else if (e.key === 'r') { e.preventDefault(); wb.focusComposer(); }
  }

  help() {
    if (document.getElementById('help')) return;
    const rows = [['j / Alt+↓', 'keyNext'], ['k / Alt+↑', 'keyPrev'], ['Alt+R', 'keyResolve'], ['r', 'keyReply'], ['/', 'keySearch'],
      ['Enter', 'keySend'], ['Shift+Enter', 'keyNewline'], ['/shortcut', 'keyCanned'], ['?', 'keyHelp'], ['Esc', 'keyClose']];
    const close = h('button', { type: 'button', class: 'primary', onclick: () => overlay.remove() }, t('close'));
    const overlay = h('div', { class: 'overlay', id: 'help', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'help-title' },
      h('div', { class: 'card dialog' },
        h('h2', { id: 'help-title' }, t('shortcuts')),
        h('table', { class: 'keys' }, h('tbody', null, rows.map(([k, d]) => h('tr', null, h('td', null, h('kbd', null, k)), h('td', null, t(d)))))),
        close));
    overlay.addEventListener('click', (e) => { if (e.target === overlay) overlay.remove(); });
    document.body.append(overlay);
    close.focus();
  }
}

const app = new App(document.getElementById('root'));
app.route();
