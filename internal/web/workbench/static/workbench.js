// The workbench: the live conversation list, one conversation with its
// composer, and the contact beside it.

import { h, replace, linkify, fmtBytes, debounce, safeURL } from './dom.js';
import { qs } from './api.js';
import { t, relTime, fmtTime } from './i18n.js';

const PAGE = 50;

export class Workbench {
  constructor(app) {
    this.app = app;
    this.api = app.api;
    this.me = app.me;
    this.convs = new Map();   // id -> conversation (with last_message)
    this.contacts = new Map(); // id -> contact or a promise of one
    this.agents = new Map();
    this.inboxes = new Map();
    this.labels = [];
    this.canned = [];
    this.teams = new Map();    // id -> team
    this.routing = new Map();  // agent id -> routing state (availability, online, open, capacity)
    this.queueOrder = new Map(); // conversation id -> place in its inbox's queue (1-based)
    this.queueLen = new Map(); // inbox id -> conversations waiting
    this.reminders = new Map(); // conversation id -> waiting_since
    this.refreshQueueSoon = debounce(() => this.refreshQueue(), 250);
    this.filter = { tab: 'mine', status: 'open', inbox: '' };
    this.view = null;
    this.loaded = null;
    this.build();
    this.clock = setInterval(() => this.tick(), 30000);
    // markRead skips while the tab is hidden (the agent has not seen the
    // messages); when the agent comes back to the tab or window, the open
    // conversation is read then.
    this.onVisible = () => { if (!document.hidden && this.view && this.el.isConnected) this.view.markRead(); };
    document.addEventListener('visibilitychange', this.onVisible);
    window.addEventListener('focus', this.onVisible);
  }

  // destroy stops the timers and listeners when the agent logs out.
  destroy() {
    clearInterval(this.clock);
    document.removeEventListener('visibilitychange', this.onVisible);
    window.removeEventListener('focus', this.onVisible);
  }

  build() {
    this.search = h('input', { type: 'search', id: 'search', placeholder: t('searchPlaceholder'), 'aria-label': t('search'),
      oninput: debounce(() => this.runSearch(), 300), onkeydown: (e) => { if (e.key === 'Escape') { this.search.value = ''; this.runSearch(); } } });
    this.tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('conversations') },
      ['mine', 'unassigned', 'all'].map((tab) => h('button', { type: 'button', role: 'tab', id: 'tab-' + tab, dataset: { tab },
        onclick: () => this.setFilter({ tab }) }, t('tab_' + tab), h('span', { class: 'count', id: 'count-' + tab }))));
    this.statusSel = h('select', { id: 'status-filter', 'aria-label': t('statusFilter'), onchange: () => this.setFilter({ status: this.statusSel.value }) },
      ['open', 'pending', 'snoozed', 'resolved', ''].map((s) => h('option', { value: s, selected: s === this.filter.status }, s ? t('status_' + s) : t('anyStatus'))));
    this.inboxSel = h('select', { id: 'inbox-filter', 'aria-label': t('inboxFilter'), onchange: () => this.setFilter({ inbox: this.inboxSel.value }) });
    this.list = h('ul', { class: 'conv-list', id: 'conv-list', 'aria-label': t('conversations') });
    this.queueEl = h('div', { class: 'queue-indicator', id: 'queue-indicator', role: 'status', 'aria-label': t('queue') });
    this.agentsEl = h('ul', { class: 'agents-online', id: 'agents-online', 'aria-label': t('agentsOnline') });
    this.results = h('div', { class: 'search-results', id: 'search-results', hidden: true });
    this.center = h('section', { class: 'conversation', id: 'conversation', 'aria-label': t('conversation') },
      h('p', { class: 'empty' }, t('pickConversation')));
    this.side = h('aside', { class: 'contact-panel', id: 'contact-panel', 'aria-label': t('contact') });
    this.el = h('div', { class: 'workbench' },
      h('section', { class: 'sidebar', 'aria-label': t('conversations') },
        this.search, this.queueEl, this.tabs, h('div', { class: 'filters' }, this.statusSel, this.inboxSel), this.results, this.list,
        h('details', { class: 'agents-box', open: true }, h('summary', null, t('agentsOnline')), this.agentsEl)),
      this.center, this.side);
    this.renderQueue(); // takes its place now, so nothing moves when the data arrives
  }

  async show(id) {
    if (!this.loaded) this.loaded = this.load();
    await this.loaded;
    if (id && (!this.view || this.view.id !== id)) await this.open(id);
    if (!id && this.view) { this.view = null; replace(this.center, h('p', { class: 'empty' }, t('pickConversation'))); replace(this.side); }
    this.renderList();
  }

  async load() {
    const [agents, inboxes, labels, canned] = await Promise.all([
      this.api.get('/api/v1/agents'), this.api.get('/api/v1/inboxes'),
      this.api.get('/api/v1/labels').catch(() => ({ data: [] })), this.api.get('/api/v1/canned_responses').catch(() => ({ data: [] }))]);
    for (const a of agents.data) this.agents.set(a.id, a);
    for (const i of inboxes.data) this.inboxes.set(i.id, i);
    this.labels = labels.data;
    this.canned = canned.data;
    await Promise.all([this.refreshTeams(), this.refreshAgents(), this.refreshQueue()]);
    replace(this.inboxSel, h('option', { value: '' }, t('allInboxes')), inboxes.data.map((i) => h('option', { value: String(i.id) }, i.name)));
    await this.fetchList();
    this.el.dataset.loaded = 'true'; // for tests and styles: the first data is in
  }

  // fetchList loads the first page of each tab's view of the current
  // filters; live frames keep them current afterwards.
  async fetchList() {
    const base = { status: this.filter.status, inbox: this.filter.inbox, limit: PAGE };
    const pages = await Promise.all(['me', 'unassigned', 'any'].map((assignee) =>
      this.api.get('/api/v1/conversations' + qs({ ...base, assignee }))));
    for (const p of pages) for (const c of p.data) this.convs.set(c.id, { ...this.convs.get(c.id), ...c });
    this.renderList();
  }

  async refreshTeams() {
    const teams = await this.api.get('/api/v1/teams').catch(() => ({ data: [] }));
    this.teams = new Map(teams.data.map((x) => [x.id, x]));
  }

  // refreshAgents reads who is online and how loaded (GET /routing/agents).
  async refreshAgents() {
    const res = await this.api.get('/api/v1/routing/agents').catch(() => null);
    if (!res) return;
    this.routing = new Map(res.data.map((a) => [a.agent_id, a]));
    this.renderAgents();
  }

  // refreshQueue reads the queue in serving order: it orders the
  // Unassigned tab and counts the waiting conversations per inbox.
  async refreshQueue() {
    const res = await this.api.get('/api/v1/queue?limit=100').catch(() => null);
    if (!res) return;
    this.queueOrder = new Map();
    const per = new Map();
    for (const q of res.data) {
      per.set(q.inbox_id, (per.get(q.inbox_id) || 0) + 1);
      this.queueOrder.set(q.conversation_id, per.get(q.inbox_id));
    }
    // A full page may be cut short: keep a larger count a frame reported.
    for (const id of new Set([...per.keys(), ...this.queueLen.keys()])) {
      const n = per.get(id) || 0;
      this.queueLen.set(id, res.data.length >= 100 ? Math.max(n, this.queueLen.get(id) || 0) : n);
    }
    this.renderQueue();
    this.renderList();
  }

  renderQueue() {
    const waiting = [...this.queueLen].filter(([, n]) => n > 0);
    const total = waiting.reduce((a, [, n]) => a + n, 0);
    this.queueEl.classList.toggle('busy', total > 0);
    replace(this.queueEl, h('strong', null, t('queueWaiting', { n: total })),
      waiting.map(([id, n]) => h('span', { class: 'chip', dataset: { inbox: String(id) } }, ((this.inboxes.get(id) || {}).name || '#' + id) + ': ' + n)));
  }

  renderAgents() {
    const rank = (a) => (a.online ? 0 : a.availability === 'away' ? 1 : 2);
    const list = [...this.agents.values()].filter((a) => a.active).map((a) => ({ a, r: this.routing.get(a.id) || { availability: 'offline' } }))
      .sort((x, y) => rank(x.r) - rank(y.r) || x.a.name.localeCompare(y.a.name));
    replace(this.agentsEl, list.map(({ a, r }) => h('li', { dataset: { agent: String(a.id), presence: presenceOf(r) } },
      h('span', { class: 'dot ' + presenceOf(r), 'aria-hidden': 'true' }), a.name,
      h('span', { class: 'muted' }, ' · ', t('presence_' + presenceOf(r)), r.capacity != null && r.open != null ? ' · ' + t('load', { open: r.open, capacity: r.capacity || '∞' }) : ''))));
  }

  // agentLabel names an agent with their presence, for pickers.
  agentLabel(a) { return a.name + ' · ' + t('presence_' + presenceOf(this.routing.get(a.id) || {})); }

  async refresh() {
    await Promise.all([this.fetchList(), this.refreshQueue(), this.refreshAgents()]);
    if (this.view) await this.view.catchUp();
  }

  setFilter(f) {
    Object.assign(this.filter, f);
    this.renderList();
    if (f.status !== undefined || f.inbox !== undefined) this.fetchList();
  }

  matches(c, tab = this.filter.tab) {
    if (this.filter.status && c.status !== this.filter.status) return false;
    if (this.filter.inbox && String(c.inbox_id) !== this.filter.inbox) return false;
    if (tab === 'mine') return c.assignee_id === this.me.id;
    if (tab === 'unassigned') return !c.assignee_id;
    return true;
  }

  // visible lists the current tab, newest activity first; the Unassigned
  // tab puts the queue first, in serving order (priority, then arrival).
  visible() {
    const byActivity = (a, b) => (b.last_activity_at > a.last_activity_at ? 1 : b.last_activity_at < a.last_activity_at ? -1 : b.id - a.id);
    const items = [...this.convs.values()].filter((c) => this.matches(c));
    if (this.filter.tab !== 'unassigned') return items.sort(byActivity);
    const rank = (c) => PRIORITY_RANK[c.priority] || 0;
    const queued = (c) => c.status === 'open' && !c.assignee_id && c.queued_at;
    return items.sort((a, b) => {
      const qa = queued(a), qb = queued(b);
      if (qa && qb) return rank(b) - rank(a) || (a.queued_at < b.queued_at ? -1 : a.queued_at > b.queued_at ? 1 : a.id - b.id);
      if (qa !== qb) return qa ? -1 : 1;
      return byActivity(a, b);
    });
  }

  unread(c) { return Math.max(0, (c.last_seq || 0) - (c.agent_last_read_seq || 0)); }

  renderList() {
    const items = this.visible();
    for (const b of this.tabs.children) {
      const on = b.dataset.tab === this.filter.tab;
      b.setAttribute('aria-selected', String(on));
      b.classList.toggle('active', on);
      const n = [...this.convs.values()].filter((c) => this.matches(c, b.dataset.tab) && this.unread(c) > 0).length;
      b.querySelector('.count').textContent = n ? String(n) : '';
    }
    replace(this.list, items.length ? items.map((c) => this.listItem(c)) : h('li', { class: 'empty' }, t('noConversations')));
    const unread = [...this.convs.values()].filter((c) => (c.assignee_id === this.me.id || !c.assignee_id) && c.status !== 'resolved' && this.unread(c) > 0).length;
    this.app.notifier.title(unread);
  }

  listItem(c) {
    const n = this.unread(c);
    const lm = c.last_message;
    const name = h('span', { class: 'name' }, this.contactName(c.contact_id));
    const preview = lm ? previewText(lm) : t('noMessages');
    const path = '/app/conversations/' + c.id;
    const place = !c.assignee_id && this.queueOrder.get(c.id);
    const reminded = this.reminders.has(c.id);
    return h('li', null, h('a', {
      class: 'conv' + (this.view && this.view.id === c.id ? ' selected' : '') + (n ? ' unread' : '') + (reminded ? ' reminded' : ''),
      href: path, dataset: { id: String(c.id) }, 'aria-current': this.view && this.view.id === c.id ? 'true' : null,
      onclick: (e) => this.app.link(e, path),
    },
    h('span', { class: 'row' }, name, h('time', { class: 'rel', dataset: { time: c.last_activity_at }, datetime: c.last_activity_at, title: fmtTime(c.last_activity_at) }, relTime(c.last_activity_at))),
    h('span', { class: 'row' }, h('span', { class: 'preview' }, preview),
      n ? h('span', { class: 'badge', 'aria-label': t('unreadCount', { n }) }, String(n)) : null),
    h('span', { class: 'row tags' },
      c.status !== 'open' ? h('span', { class: 'status s-' + c.status }, t('status_' + c.status)) : null,
      place ? h('span', { class: 'status s-queued', title: t('queuePlace', { n: place }) }, t('queuePlace', { n: place })) : null,
      c.team_id ? h('span', { class: 'status s-team' }, this.teamName(c.team_id)) : null,
      reminded ? h('span', { class: 'status s-reminder', role: 'img', 'aria-label': t('reminderShort') }, '⏰ ', t('reminderShort')) : null)));
  }

  teamName(id) { return (this.teams.get(id) || {}).name || t('teamN', { n: id }); }

  tick() { for (const el of this.el.querySelectorAll('time.rel')) el.textContent = relTime(el.dataset.time); }

  contactName(id) {
    const c = this.contacts.get(id);
    if (c && !(c instanceof Promise)) return c.name || c.email || t('visitorN', { n: id });
    if (!c) {
      const p = this.api.get('/api/v1/contacts/' + id).then((ct) => { this.contacts.set(id, ct); this.renderList(); return ct; })
        .catch(() => { this.contacts.delete(id); });
      this.contacts.set(id, p);
    }
    return t('visitorN', { n: id });
  }

  // contactLabel is the contact's name for a notification or a toast: it
  // waits for the contact rather than say "Visitor #12" when the
  // conversation was never on screen here.
  async contactLabel(id) {
    const c = await this.getContact(id).catch(() => null);
    return (c && (c.name || c.email)) || t('visitorN', { n: id });
  }

  async getContact(id, fresh = false) {
    const c = this.contacts.get(id);
    if (c && !fresh) return c instanceof Promise ? c : Promise.resolve(c);
    const ct = await this.api.get('/api/v1/contacts/' + id);
    this.contacts.set(id, ct);
    return ct;
  }

  async open(id) {
    let conv;
    try { conv = await this.api.get('/api/v1/conversations/' + id); } catch (e) { replace(this.center, h('p', { class: 'error' }, e.message)); return; }
    this.convs.set(id, { ...this.convs.get(id), ...conv });
    this.view = new ConversationView(this, this.convs.get(id));
    replace(this.center, this.view.el);
    await this.view.load();
    this.renderContact(conv.contact_id);
  }

  async renderContact(contactId) {
    const contact = await this.getContact(contactId);
    if (!this.view || this.view.conv.contact_id !== contactId) return;
    replace(this.side, new ContactPanel(this, contact).el);
  }

  onFrame(f) {
    switch (f.type) {
      case 'conversation': return this.onConversation(f);
      case 'message': return this.onMessage(f.message);
      case 'typing': if (this.view && f.conversation_id === this.view.id && f.sender_type === 'contact') this.view.typing(f.on); return;
      case 'read': return this.onRead(f);
      case 'queue': return this.onQueue(f);
      case 'reminder': return this.onReminder(f);
      case 'presence': return this.onPresence(f);
    }
  }

  onQueue(f) {
    if (!f.inbox_id || f.length == null) return;
    this.queueLen.set(f.inbox_id, f.length);
    this.renderQueue();
    this.refreshQueueSoon(); // the order and places come from the REST list
  }

  // onReminder: the contact of a conversation assigned to this agent has
  // waited too long; a toast and a notification name the contact, and the
  // list and the open view show a nudge until the agent answers. The
  // server sends reminders to the assignee only; one for a conversation
  // this agent does not hold (an older server sent them to everyone) is
  // not theirs to act on.
  async onReminder(f) {
    const id = f.conversation_id;
    let c = this.convs.get(id);
    if (!c) {
      try { c = await this.api.get('/api/v1/conversations/' + id); } catch { return; }
      c = { ...c, ...this.convs.get(id) };
      this.convs.set(id, c);
    }
    if (c.assignee_id !== this.me.id || c.status !== 'open') return;
    this.reminders.set(id, f.waiting_since);
    if (this.view && this.view.id === id) this.view.renderHeader();
    this.renderList();
    const name = await this.contactLabel(c.contact_id);
    this.app.notifier.alert(t('reminderTitle'), name, () => this.app.go('/app/conversations/' + id));
    this.app.toast(t('reminderToast', { name }));
  }

  onPresence(f) {
    if (!f.agent_id) return;
    const r = this.routing.get(f.agent_id) || { agent_id: f.agent_id };
    // Declared over a live socket: online until it drops (then a refresh
    // after the grace period tells the truth).
    this.routing.set(f.agent_id, { ...r, availability: f.status, online: f.status === 'online' });
    this.renderAgents();
    clearTimeout(this.agentsTimer);
    this.agentsTimer = setTimeout(() => this.refreshAgents(), 1000);
  }

  // onConversation: created, updated, assigned, transferred, and any
  // event a newer server adds is treated as updated (the frame carries the
  // whole conversation).
  onConversation(f) {
    const c = f.conversation;
    if (!c || !c.id) return;
    const prev = this.convs.get(c.id);
    const merged = { ...prev, ...c, last_message: prev ? prev.last_message : null };
    this.convs.set(c.id, merged);
    const go = () => this.app.go('/app/conversations/' + c.id);
    const toMe = c.assignee_id === this.me.id && (!prev || prev.assignee_id !== this.me.id);
    if (f.event === 'created' && !c.assignee_id) this.contactLabel(c.contact_id).then((name) => this.app.notifier.alert(t('newConversation'), name, go));
    else if (toMe) {
      const what = f.event === 'transferred' ? t('transferredToYou') : t('assignedToYou');
      this.contactLabel(c.contact_id).then((name) => {
        this.app.notifier.alert(what, name, go);
        this.app.toast(what + ': ' + name);
      });
    }
    if (c.assignee_id !== this.me.id || c.status !== 'open') this.reminders.delete(c.id);
    if (f.event === 'assigned' || f.event === 'transferred' || (f.changed || []).some((k) => k === 'assignee_id' || k === 'status')) {
      this.refreshQueueSoon();
      clearTimeout(this.agentsTimer);
      this.agentsTimer = setTimeout(() => this.refreshAgents(), 500);
    }
    if (this.view && this.view.id === c.id) this.view.update(merged);
    this.renderList();
  }

  async onMessage(m) {
    let c = this.convs.get(m.conversation_id);
    if (!c) {
      try { c = await this.api.get('/api/v1/conversations/' + m.conversation_id); } catch { return; }
    }
    c = { ...c, last_seq: Math.max(c.last_seq || 0, m.seq), last_activity_at: m.created_at > (c.last_activity_at || '') ? m.created_at : c.last_activity_at,
      last_message: !c.last_message || m.seq >= c.last_message.seq ? preview(m) : c.last_message };
    this.convs.set(c.id, c);
    const open = this.view && this.view.id === c.id;
    if (open) this.view.add(m);
    if (m.sender_type === 'agent' && m.kind === 'text' && this.reminders.delete(c.id) && open) this.view.renderHeader();
    if (open && (m.sender_type === 'bot' || m.kind === 'note')) this.view.loadDecisionsSoon();
    if (m.sender_type === 'contact' && (!open || document.hidden || !document.hasFocus())) {
      this.app.notifier.alert(t('newMessageFrom', { name: this.contactName(c.contact_id) }), m.body || t('attachment'), () => this.app.go('/app/conversations/' + c.id));
    }
    this.renderList();
  }

  onRead(f) {
    const c = this.convs.get(f.conversation_id);
    if (!c) return;
    if (f.reader_type === 'contact') c.contact_last_read_seq = Math.max(c.contact_last_read_seq || 0, f.seq);
    else c.agent_last_read_seq = Math.max(c.agent_last_read_seq || 0, f.seq);
    if (this.view && this.view.id === c.id) this.view.receipts();
    this.renderList();
  }

  move(delta) {
    const items = this.visible();
    if (!items.length) return;
    let i = this.view ? items.findIndex((c) => c.id === this.view.id) : -1;
    i = Math.min(items.length - 1, Math.max(0, i + delta));
    this.app.go('/app/conversations/' + items[i].id);
  }

  toggleResolved() { if (this.view) this.view.setStatus(this.view.conv.status === 'resolved' ? 'open' : 'resolved'); }
  focusSearch() { this.search.focus(); }
  focusComposer() { if (this.view) this.view.input.focus(); }

  async runSearch() {
    const q = this.search.value.trim();
    if (!q) { this.results.hidden = true; this.list.hidden = false; return; }
    let res;
    try { res = await this.api.get('/api/v1/search' + qs({ q, limit: 20 })); } catch (e) { replace(this.results, h('p', { class: 'error' }, e.message)); return; }
    if (this.search.value.trim() !== q) return;
    this.list.hidden = true;
    this.results.hidden = false;
    const go = (id) => (e) => this.app.link(e, '/app/conversations/' + id);
    replace(this.results,
      h('h3', null, t('contacts')),
      res.contacts.length ? h('ul', null, res.contacts.map((c) => h('li', null, h('button', { type: 'button', class: 'link', onclick: () => this.openContact(c.id) },
        c.name || t('visitorN', { n: c.id }), c.email ? ' · ' + c.email : '')))) : h('p', { class: 'muted' }, t('noResults')),
      h('h3', null, t('messages')),
      res.messages.length ? h('ul', { id: 'search-messages' }, res.messages.map((hit) => h('li', null,
        h('a', { href: '/app/conversations/' + hit.conversation.id, class: 'hit', onclick: go(hit.conversation.id) },
          h('span', { class: 'name' }, hit.contact.name || t('visitorN', { n: hit.contact.id })),
          h('span', { class: 'preview' }, hit.message.body),
          h('time', { datetime: hit.message.created_at }, relTime(hit.message.created_at)))))) : h('p', { class: 'muted' }, t('noResults')));
  }

  async openContact(id) {
    const res = await this.api.get(`/api/v1/contacts/${id}/conversations?limit=1`);
    if (res.data.length) this.app.go('/app/conversations/' + res.data[0].id);
    else this.app.toast(t('noConversations'));
  }
}

const PRIORITY_RANK = { urgent: 4, high: 3, medium: 2, low: 1, none: 0 };

// presenceOf is what routing sees: online only while connected.
function presenceOf(r) {
  if (r.online) return 'online';
  return r.availability === 'away' ? 'away' : 'offline';
}

function preview(m) {
  const body = [...(m.body || '')];
  return { seq: m.seq, kind: m.kind, sender_type: m.sender_type, created_at: m.created_at, body: body.length > 140 ? body.slice(0, 140).join('') + '…' : body.join('') };
}

function previewText(lm) {
  const who = lm.kind === 'note' ? t('notePrefix') : lm.sender_type === 'agent' || lm.sender_type === 'bot' ? t('youPrefix') : '';
  return who + (lm.body || (lm.kind === 'attachment' ? t('attachment') : ''));
}

// ConversationView is one open conversation: history, actions, composer.
class ConversationView {
  constructor(wb, conv) {
    this.wb = wb;
    this.api = wb.api;
    this.id = conv.id;
    this.conv = conv;
    this.seqs = new Set();
    this.first = 0; // lowest seq shown
    this.hasMore = false;
    this.mode = 'reply';
    this.loadDecisionsSoon = debounce(() => this.loadDecisions(), 400);
    this.build();
  }

  build() {
    this.header = h('header', { class: 'conv-header' });
    this.msgs = h('ol', { class: 'messages', id: 'messages', 'aria-label': t('messages'), 'aria-live': 'polite', tabindex: '0',
      onscroll: () => { if (this.msgs.scrollTop < 60) this.older(); } });
    this.typingEl = h('p', { class: 'typing', id: 'typing', hidden: true }, t('visitorTyping'));
    this.input = h('textarea', { id: 'composer', rows: 3, 'aria-label': t('composer'), placeholder: t('composerHint'),
      onkeydown: (e) => this.onKey(e), oninput: () => this.onInput() });
    this.popup = h('ul', { class: 'canned-popup', id: 'canned-popup', role: 'listbox', hidden: true, 'aria-label': t('cannedResponses') });
    this.file = h('input', { type: 'file', multiple: true, hidden: true, id: 'file-input', onchange: () => this.upload() });
    this.suggestions = h('div', { class: 'suggestions', id: 'suggestions', role: 'region', 'aria-label': t('suggestions'), hidden: true,
      onkeydown: (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); this.suggestions.hidden = true; this.input.focus(); } } });
    this.decisions = h('details', { class: 'bot-transcript', id: 'bot-transcript', hidden: true });
    this.modeBtns = ['reply', 'note'].map((mode) => h('button', { type: 'button', role: 'tab', id: 'mode-' + mode, dataset: { mode },
      onclick: () => this.setMode(mode) }, t('mode_' + mode)));
    this.composer = h('div', { class: 'composer' },
      h('div', { class: 'modes', role: 'tablist', 'aria-label': t('composer') }, this.modeBtns),
      this.popup, this.suggestions, this.input,
      h('div', { class: 'composer-actions' },
        h('button', { type: 'button', id: 'attach', onclick: () => this.file.click() }, t('attach')), this.file,
        h('button', { type: 'button', id: 'suggest', title: t('suggestHelp'), 'aria-controls': 'suggestions', onclick: () => this.suggest() }, t('suggest')),
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'primary', id: 'send', onclick: () => this.send() }, t('send'))));
    this.el = h('div', { class: 'conv-view' }, this.header, this.decisions, this.msgs, this.typingEl, this.composer);
    this.setMode('reply');
    this.renderHeader();
  }

  setMode(mode) {
    this.mode = mode;
    for (const b of this.modeBtns) { const on = b.dataset.mode === mode; b.setAttribute('aria-selected', String(on)); b.classList.toggle('active', on); }
    this.composer.classList.toggle('note', mode === 'note');
    this.input.placeholder = mode === 'note' ? t('noteHint') : t('composerHint');
  }

  async load() {
    const page = await this.api.get(`/api/v1/conversations/${this.id}/messages?limit=${PAGE}`);
    this.hasMore = page.has_more;
    for (const m of page.data) this.add(m, false);
    this.scrollDown();
    this.markRead();
    this.input.focus();
    this.loadDecisions();
  }

  // loadDecisions shows what the bot did in this conversation (the
  // questions, what it answered from where, how sure it was, and the
  // hand-off), so the agent taking over needs no recap.
  async loadDecisions() {
    const res = await this.api.get(`/api/v1/conversations/${this.id}/bot_decisions`).catch(() => null);
    if (!res || !res.data || !res.data.length) { this.decisions.hidden = true; return; }
    const handoff = res.data.some((d) => d.outcome === 'handoff');
    const wasOpen = this.decisions.open || (handoff && !this.decisionsShown);
    this.decisionsShown = true;
    replace(this.decisions,
      h('summary', null, t('botTranscript', { n: res.data.length }), handoff ? ' · ' + t('handedOff') : ''),
      h('ol', { class: 'decisions' }, res.data.map((d) => h('li', { class: 'decision d-' + d.outcome, dataset: { outcome: d.outcome } },
        h('time', { datetime: d.created_at, title: fmtTime(d.created_at) }, fmtTime(d.created_at)), ' ',
        h('span', { class: 'status' }, t('outcome_' + d.outcome)), ' ',
        d.question ? h('q', null, d.question) : null,
        d.source ? h('span', { class: 'muted' }, ' · ', d.source) : null,
        d.confidence ? h('span', { class: 'muted' }, ' · ', pct(d.confidence)) : null))));
    this.decisions.open = wasOpen;
    this.decisions.hidden = false;
  }

  // suggest fetches knowledge-base answers to the visitor's last message;
  // one click (or Enter) puts an answer into the composer to edit and send.
  async suggest() {
    let res;
    try { res = await this.api.get(`/api/v1/conversations/${this.id}/suggestions`); } catch (e) { this.wb.app.toast(e.message); return; }
    const items = (res.data || []).filter((x) => x.text);
    replace(this.suggestions,
      h('p', { class: 'muted' }, res.question ? t('suggestionsFor', { q: res.question }) : t('suggestions')),
      items.length ? h('ul', null, items.map((x, i) => h('li', null, h('button', { type: 'button', class: 'suggestion', id: 'suggestion-' + i,
        onclick: () => this.insertText(x.text) }, h('span', { class: 'text' }, x.text), x.confidence ? h('span', { class: 'muted' }, ' · ', pct(x.confidence)) : null))))
        : h('p', { class: 'muted', id: 'no-suggestions' }, t('noSuggestions')),
      h('button', { type: 'button', class: 'x', 'aria-label': t('close'), onclick: () => { this.suggestions.hidden = true; this.input.focus(); } }, '×'));
    this.suggestions.hidden = false;
    const first = this.suggestions.querySelector('button.suggestion');
    if (first) first.focus();
  }

  insertText(text) {
    const v = this.input.value;
    const at = this.input.selectionStart ?? v.length;
    const end = this.input.selectionEnd ?? at;
    this.input.value = v.slice(0, at) + text + v.slice(end);
    const pos = at + text.length;
    this.suggestions.hidden = true;
    this.input.focus();
    this.input.setSelectionRange(pos, pos);
  }

  async catchUp() {
    const last = Math.max(0, ...this.seqs);
    const page = await this.api.get(`/api/v1/conversations/${this.id}/messages?after_seq=${last}&limit=200`);
    for (const m of page.data) this.add(m);
  }

  async older() {
    if (!this.hasMore || this.loadingOlder) return;
    this.loadingOlder = true;
    try {
      const page = await this.api.get(`/api/v1/conversations/${this.id}/messages?before_seq=${this.first}&limit=${PAGE}`);
      const before = this.msgs.scrollHeight;
      this.hasMore = page.has_more;
      for (const m of page.data.slice().reverse()) this.add(m, false, true);
      this.msgs.scrollTop += this.msgs.scrollHeight - before;
    } finally { this.loadingOlder = false; }
  }

  update(conv) { this.conv = conv; this.renderHeader(); this.receipts(); }

  renderHeader() {
    const c = this.conv;
    const wb = this.wb;
    const assignee = h('select', { id: 'assignee', 'aria-label': t('assignee'), onchange: () => this.patch({ assignee_id: Number(assignee.value) }) },
      h('option', { value: '0' }, t('unassigned')),
      [...wb.agents.values()].filter((a) => a.active || a.id === c.assignee_id).map((a) => h('option', { value: String(a.id), selected: a.id === c.assignee_id }, wb.agentLabel(a))));
    const waiting = wb.reminders.get(c.id);
    const resolved = c.status === 'resolved';
    const labelSel = h('select', { id: 'add-label', 'aria-label': t('addLabel'), onchange: () => { if (labelSel.value) this.patch({ labels: [...(c.labels || []), labelSel.value] }); } },
      h('option', { value: '' }, t('addLabel')),
      wb.labels.filter((l) => !(c.labels || []).includes(l.name)).map((l) => h('option', { value: l.name }, l.name)));
    const colorOf = (name) => (wb.labels.find((l) => l.name === name) || {}).color || '';
    replace(this.header,
      h('div', { class: 'row' },
        h('h2', { id: 'conv-title' }, wb.contactName(c.contact_id)),
        h('span', { class: 'status s-' + c.status, id: 'conv-status' }, t('status_' + c.status)),
        c.status === 'snoozed' && c.snoozed_until ? h('span', { class: 'muted' }, t('snoozedUntil', { time: fmtTime(c.snoozed_until) })) : null,
        h('span', { class: 'spacer' }),
        h('label', { class: 'inline' }, t('assignee'), ' ', assignee),
        c.assignee_id !== wb.me.id ? h('button', { type: 'button', id: 'assign-me', onclick: () => this.patch({ assignee_id: wb.me.id }) }, t('assignMe')) : null,
        h('button', { type: 'button', id: 'transfer', 'aria-haspopup': 'dialog', onclick: () => this.transfer() }, t('transfer')),
        h('button', { type: 'button', id: 'snooze', onclick: () => this.snooze() }, t('snooze')),
        h('button', { type: 'button', class: resolved ? '' : 'primary', id: resolved ? 'reopen' : 'resolve', title: 'Alt+R',
          onclick: () => this.setStatus(resolved ? 'open' : 'resolved') }, resolved ? t('reopen') : t('resolve'))),
      h('div', { class: 'row labels', id: 'labels' },
        (c.labels || []).map((name) => h('span', { class: 'chip', dataset: { label: name } }, colorOf(name) ? swatch(colorOf(name)) : null, name,
          h('button', { type: 'button', class: 'x', 'aria-label': t('removeLabel', { name }), onclick: () => this.patch({ labels: c.labels.filter((l) => l !== name) }) }, '×'))),
        labelSel,
        c.rating != null ? ratingView(c.rating) : null,
        h('span', { class: 'chip team', id: 'conv-team', dataset: { team: String(c.team_id || 0) } }, t('team'), ': ', c.team_id ? wb.teamName(c.team_id) : t('anyTeam')),
        c.priority && c.priority !== 'none' ? h('span', { class: 'chip', id: 'conv-priority' }, t('priority'), ': ', t('priority_' + c.priority)) : null),
      waiting ? h('div', { class: 'nudge', id: 'reminder-nudge', role: 'alert' }, '⏰ ', t('reminderText', { time: fmtTime(waiting) }), ' ',
        h('button', { type: 'button', onclick: () => { wb.reminders.delete(c.id); this.renderHeader(); wb.renderList(); this.input.focus(); } }, t('dismiss'))) : null);
  }

  // transfer hands the conversation to an agent or a team, with a note
  // kept as a private note (POST /transfer).
  transfer() {
    const wb = this.wb;
    const to = h('select', { id: 'transfer-to', required: true },
      h('option', { value: '' }, t('pickTarget')),
      h('optgroup', { label: t('agents') }, [...wb.agents.values()].filter((a) => a.active && a.id !== this.conv.assignee_id)
        .map((a) => h('option', { value: 'agent:' + a.id }, wb.agentLabel(a)))),
      h('optgroup', { label: t('teams') }, [...wb.teams.values()].map((tm) => h('option', { value: 'team:' + tm.id }, tm.name))));
    const note = h('textarea', { id: 'transfer-note', rows: 3, maxlength: 2000 });
    const err = h('p', { class: 'error', role: 'alert', id: 'transfer-error' });
    const overlay = h('div', { class: 'overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'transfer-title' },
      h('form', { class: 'card dialog', id: 'transfer-form', onsubmit: async (e) => {
        e.preventDefault();
        const [kind, id] = to.value.split(':');
        if (!id) { err.textContent = t('pickTarget'); return; }
        const body = { [kind + '_id']: Number(id) };
        if (note.value.trim()) body.note = note.value.trim();
        try {
          const conv = await this.api.post(`/api/v1/conversations/${this.id}/transfer`, body);
          overlay.remove();
          const merged = { ...wb.convs.get(this.id), ...conv };
          wb.convs.set(this.id, merged);
          this.update(merged);
          wb.renderList();
          wb.app.toast(t('transferred'));
        } catch (ex) { err.textContent = ex.message; }
      } },
      h('h2', { id: 'transfer-title' }, t('transferTitle')),
      h('label', { for: 'transfer-to' }, t('transferTo')), to,
      h('label', { for: 'transfer-note' }, t('transferNote')), note,
      err,
      h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => overlay.remove() }, t('cancel')),
        h('button', { type: 'submit', class: 'primary', id: 'transfer-ok' }, t('transfer')))));
    document.body.append(overlay);
    to.focus();
  }

  async patch(body) {
    try {
      const c = await this.api.patch('/api/v1/conversations/' + this.id, body);
      const merged = { ...this.wb.convs.get(this.id), ...c };
      this.wb.convs.set(this.id, merged);
      this.update(merged);
      this.wb.renderList();
    } catch (e) { this.wb.app.toast(e.message); }
  }

  setStatus(status) { return this.patch({ status }); }

  snooze() {
    const pad = (n) => String(n).padStart(2, '0');
    const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
    const tomorrow = new Date(); tomorrow.setDate(tomorrow.getDate() + 1); tomorrow.setHours(9, 0, 0, 0);
    const input = h('input', { type: 'datetime-local', id: 'snooze-until', value: local(new Date(Date.now() + 3600e3)), min: local(new Date()) });
    const done = (d) => { overlay.remove(); this.patch({ status: 'snoozed', snoozed_until: d.toISOString() }); };
    const overlay = h('div', { class: 'overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'snooze-title' },
      h('form', { class: 'card dialog', onsubmit: (e) => { e.preventDefault(); const d = new Date(input.value); if (!isNaN(d)) done(d); } },
        h('h2', { id: 'snooze-title' }, t('snoozeUntil')),
        h('div', { class: 'row' },
          h('button', { type: 'button', onclick: () => done(new Date(Date.now() + 3600e3)) }, t('inOneHour')),
          h('button', { type: 'button', onclick: () => done(tomorrow) }, t('tomorrowMorning'))),
        h('label', { for: 'snooze-until' }, t('pickTime')), input,
        h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => overlay.remove() }, t('cancel')), h('button', { type: 'submit', class: 'primary', id: 'snooze-ok' }, t('snooze')))));
    document.body.append(overlay);
    input.focus();
  }

  // add shows m once, in seq order.
  add(m, live = true, prepend = false) {
    if (this.seqs.has(m.seq)) return;
    this.seqs.add(m.seq);
    const el = this.renderMessage(m);
    const near = this.msgs.scrollHeight - this.msgs.scrollTop - this.msgs.clientHeight < 120;
    if (prepend || (this.first && m.seq < this.first)) {
      const after = [...this.msgs.children].find((li) => Number(li.dataset.seq) > m.seq);
      this.msgs.insertBefore(el, after || null);
    } else {
      this.msgs.append(el);
    }
    this.first = this.first ? Math.min(this.first, m.seq) : m.seq;
    if (live) {
      if (near || m.sender_type !== 'contact') this.scrollDown();
      if (m.sender_type === 'contact') this.typing(false);
      this.markRead();
    }
    this.receipts();
  }

  renderMessage(m) {
    const mine = m.sender_type === 'agent' || m.sender_type === 'bot';
    const cls = m.kind === 'event' ? 'event' : m.kind === 'note' ? 'note' : mine ? 'out' : 'in';
    const bot = m.sender_type === 'bot';
    const who = m.kind === 'event' || bot || m.sender_type === 'system' ? null : m.sender_type === 'contact' ? this.wb.contactName(this.conv.contact_id)
      : (this.wb.agents.get(m.sender_id) || {}).name || t('agent');
    const meta = m.meta || {};
    return h('li', { class: 'msg ' + cls + (bot ? ' bot' : ''), dataset: { seq: String(m.seq), sender: m.sender_type } },
      m.kind === 'note' ? h('span', { class: 'note-tag' }, t('privateNote')) : null,
      who ? h('span', { class: 'who' }, who) : null,
      bot ? h('span', { class: 'who' }, h('span', { class: 'bot-badge' }, t('bot')),
        meta.intent ? h('span', { class: 'bot-meta intent' }, ' ', t('intent'), ': ', String(meta.intent)) : meta.source ? h('span', { class: 'bot-meta source' }, ' ', String(meta.source)) : null,
        typeof meta.confidence === 'number' ? h('span', { class: 'bot-meta confidence' }, ' · ', t('confidence'), ' ', pct(meta.confidence)) : null) : null,
      m.body ? h('div', { class: 'body' }, linkify(m.body)) : null,
      bot && Array.isArray(meta.quick_replies) && meta.quick_replies.length ? h('div', { class: 'row quick-replies', 'aria-label': t('quickReplies') },
        meta.quick_replies.map((q) => h('span', { class: 'chip' }, String(q)))) : null,
      (m.attachments || []).map((a) => this.attachment(a)),
      h('time', { datetime: m.created_at, title: fmtTime(m.created_at) }, relTime(m.created_at)),
      h('span', { class: 'receipt' }));
  }

  attachment(a) {
    const path = '/api/v1/attachments/' + a.id;
    if (/^image\//.test(a.content_type)) {
      const img = h('img', { alt: a.file_name, class: 'att-img' });
      this.api.blobURL(path).then((u) => { img.src = u; }).catch(() => {});
      return h('div', { class: 'att' }, img);
    }
    return h('div', { class: 'att' }, h('button', { type: 'button', class: 'link', onclick: async () => {
      const u = await this.api.blobURL(path);
      const link = h('a', { href: u, download: a.file_name });
      link.click();
      setTimeout(() => URL.revokeObjectURL(u), 10000);
    } }, '📎 ', a.file_name, ' (', fmtBytes(a.size), ')'));
  }

  // receipts marks the newest agent message the contact has read.
  receipts() {
    const read = (this.wb.convs.get(this.id) || this.conv).contact_last_read_seq || 0;
    let last = null;
    for (const li of this.msgs.querySelectorAll('li.msg.out')) {
      li.querySelector('.receipt').textContent = '';
      if (Number(li.dataset.seq) <= read) last = li;
    }
    if (last) last.querySelector('.receipt').textContent = t('seen');
  }

  scrollDown() { this.msgs.scrollTop = this.msgs.scrollHeight; }

  markRead() {
    const c = this.wb.convs.get(this.id) || this.conv;
    const seq = Math.max(c.last_seq || 0, ...this.seqs);
    if (document.hidden || seq <= (c.agent_last_read_seq || 0)) return;
    c.agent_last_read_seq = seq;
    this.api.post(`/api/v1/conversations/${this.id}/read`, { seq }).catch(() => {});
    this.wb.renderList();
  }

  typing(on) {
    this.typingEl.hidden = !on;
    clearTimeout(this.typingTimer);
    if (on) this.typingTimer = setTimeout(() => { this.typingEl.hidden = true; }, 8000);
  }

  onKey(e) {
    if (!this.popup.hidden) {
      const opts = [...this.popup.children];
      const i = opts.findIndex((o) => o.getAttribute('aria-selected') === 'true');
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const j = (i + (e.key === 'ArrowDown' ? 1 : -1) + opts.length) % opts.length;
        opts.forEach((o, k) => o.setAttribute('aria-selected', String(k === j)));
        this.input.setAttribute('aria-activedescendant', opts[j].id);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); this.insertCanned(this.matches[Math.max(0, i)]); return; }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); this.closePopup(); return; }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.send(); }
  }

  onInput() {
    this.updatePopup();
    if (this.mode !== 'reply' || !this.input.value.trim()) return;
    const now = Date.now();
    if (!this.typingSent || now - this.typingSent > 3000) { this.typingSent = now; this.wb.app.live && this.wb.app.live.send({ type: 'typing', conversation_id: this.id, on: true }); }
    clearTimeout(this.typingOff);
    this.typingOff = setTimeout(() => this.stopTyping(), 4000);
  }

  stopTyping() {
    if (!this.typingSent) return;
    this.typingSent = 0;
    this.wb.app.live && this.wb.app.live.send({ type: 'typing', conversation_id: this.id, on: false });
  }

  // The popup offers canned responses while the word at the caret is
  // "/something".
  updatePopup() {
    const before = this.input.value.slice(0, this.input.selectionStart);
    const m = before.match(/(?:^|\s)\/([\p{L}\p{N}_-]*)$/u);
    if (!m) { this.closePopup(); return; }
    const q = m[1].toLowerCase();
    this.slashAt = before.length - m[1].length - 1;
    this.matches = this.wb.canned.filter((c) => c.short_code.toLowerCase().startsWith(q))
      .concat(this.wb.canned.filter((c) => !c.short_code.toLowerCase().startsWith(q) && c.short_code.toLowerCase().includes(q))).slice(0, 8);
    if (!this.matches.length) { this.closePopup(); return; }
    replace(this.popup, this.matches.map((c, i) => h('li', { role: 'option', id: 'canned-' + c.id, 'aria-selected': String(i === 0), dataset: { code: c.short_code },
      onmousedown: (e) => { e.preventDefault(); this.insertCanned(c); } }, h('strong', null, '/' + c.short_code), ' ', h('span', { class: 'muted' }, c.content.slice(0, 80)))));
    this.popup.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.input.setAttribute('aria-activedescendant', 'canned-' + this.matches[0].id);
  }

  closePopup() { this.popup.hidden = true; this.input.setAttribute('aria-expanded', 'false'); this.input.removeAttribute('aria-activedescendant'); }

  insertCanned(c) {
    if (!c) return;
    const v = this.input.value;
    const caret = this.input.selectionStart;
    this.input.value = v.slice(0, this.slashAt) + c.content + v.slice(caret);
    const pos = this.slashAt + c.content.length;
    this.input.setSelectionRange(pos, pos);
    this.closePopup();
    this.input.focus();
  }

  async send(attachments) {
    const body = attachments ? '' : this.input.value;
    if (!attachments && !body.trim()) return;
    const kind = this.mode === 'note' ? 'note' : attachments ? 'attachment' : 'text';
    const req = { body, kind, client_msg_id: crypto.randomUUID() };
    if (attachments) req.attachments = attachments;
    if (!attachments) { this.input.value = ''; this.closePopup(); }
    if (kind !== 'note') this.stopTyping();
    try {
      const res = await this.api.post(`/api/v1/conversations/${this.id}/messages`, req);
      this.add(res.message);
    } catch (e) {
      if (!attachments) this.input.value = body; // keep the text to retry
      this.wb.app.toast(t('sendFailed') + ' ' + e.message);
    }
  }

  async upload() {
    const ids = [];
    for (const f of this.file.files) {
      const fd = new FormData();
      fd.append('file', f);
      try { ids.push((await this.api.req('POST', '/api/v1/attachments', fd)).id); } catch (e) { this.wb.app.toast(f.name + ': ' + e.message); }
    }
    this.file.value = '';
    if (ids.length) await this.send(ids);
  }
}

function pct(x) { return Math.round(Number(x) * 100) + '%'; }

function swatch(color) {
  const s = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  s.style.background = color; // validated #rgb/#rrggbb from the catalog
  return s;
}

// ratingView shows a satisfaction rating whatever its shape: a number, or
// an object with a score and an optional comment.
function ratingView(r) {
  const score = typeof r === 'object' ? r.score ?? r.rating ?? r.value : r;
  const comment = typeof r === 'object' ? r.comment || '' : '';
  const n = Number(score);
  const stars = Number.isFinite(n) && n >= 0 && n <= 5 ? '★'.repeat(Math.round(n)) + '☆'.repeat(5 - Math.round(n)) : String(score ?? '');
  return h('span', { class: 'rating', id: 'rating', title: t('rating') }, t('rating'), ': ', stars, comment ? h('span', { class: 'muted' }, ' “', comment, '”') : null);
}

// ContactPanel shows and edits the contact of the open conversation.
class ContactPanel {
  constructor(wb, contact) {
    this.wb = wb;
    this.api = wb.api;
    this.contact = contact;
    this.el = h('div');
    this.render();
  }

  render() {
    const c = this.contact;
    const field = (name, label, type = 'text') => {
      const id = 'contact-' + name;
      return [h('label', { for: id }, label), h('input', { id, name, type, value: c[name] || '' })];
    };
    const msg = h('p', { class: 'muted', role: 'status' });
    const form = h('form', { class: 'stack', id: 'contact-form', onsubmit: async (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      try {
        this.contact = await this.api.patch('/api/v1/contacts/' + c.id, { name: fd.get('name'), email: fd.get('email'), phone: fd.get('phone') });
        this.wb.contacts.set(c.id, this.contact);
        this.wb.renderList();
        this.render();
        this.wb.app.toast(t('saved'));
      } catch (ex) { msg.textContent = ex.message; }
    } }, field('name', t('name')), field('email', t('email'), 'email'), field('phone', t('phone'), 'tel'), msg,
    h('button', { type: 'submit', id: 'contact-save' }, t('save')));
    const attrs = Object.entries(c.attributes || {});
    const key = h('input', { id: 'attr-key', 'aria-label': t('attrName'), placeholder: t('attrName') });
    const val = h('input', { id: 'attr-value', 'aria-label': t('attrValue'), placeholder: t('attrValue') });
    const setAttr = async (k, v) => {
      try { this.contact = await this.api.patch('/api/v1/contacts/' + c.id, { attributes: { [k]: v } }); this.wb.contacts.set(c.id, this.contact); this.render(); } catch (ex) { this.wb.app.toast(ex.message); }
    };
    const page = safeURL(c.page_url);
    const prev = h('ul', { class: 'prev', id: 'prev-conversations' });
    replace(this.el,
      h('h2', null, t('contact')),
      form,
      h('h3', null, t('attributes')),
      h('dl', { class: 'attrs', id: 'attrs' }, attrs.map(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'string' ? v : JSON.stringify(v), ' ',
        h('button', { type: 'button', class: 'x', 'aria-label': t('removeAttr', { name: k }), onclick: () => setAttr(k, null) }, '×'))])),
      h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); if (key.value.trim()) setAttr(key.value.trim(), val.value); } }, key, val, h('button', { type: 'submit' }, t('add'))),
      h('h3', null, t('visit')),
      h('dl', { class: 'attrs' },
        h('dt', null, t('currentPage')), h('dd', { id: 'page-url' }, page ? h('a', { href: page, target: '_blank', rel: 'noopener noreferrer' }, c.page_url) : (c.page_url || '—')),
        h('dt', null, t('browser')), h('dd', { id: 'user-agent' }, c.user_agent || '—'),
        h('dt', null, t('lastSeen')), h('dd', null, fmtTime(c.last_seen_at))),
      h('h3', null, t('previousConversations')), prev);
    this.api.get(`/api/v1/contacts/${c.id}/conversations?limit=10`).then((res) => {
      replace(prev, res.data.map((cv) => h('li', null, h('a', { href: '/app/conversations/' + cv.id, onclick: (e) => this.wb.app.link(e, '/app/conversations/' + cv.id) },
        '#' + cv.id, ' · ', t('status_' + cv.status), ' · ', relTime(cv.last_activity_at), cv.last_message ? h('span', { class: 'preview' }, ' ', previewText(cv.last_message)) : null))));
    }).catch(() => {});
  }
}
