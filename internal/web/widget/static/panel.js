// The chat panel: the same code in the website's iframe (mode "frame")
// and as a page of its own at /chat/{token} (mode "page"). It speaks the
// REST widget API and /ws/visitor (docs/protocol.md). User text is only
// ever put into the page as text nodes.
import { pickLocale, translator } from './i18n.js';

const body = document.body;
const INBOX = body.dataset.inbox;
const MODE = body.dataset.mode;
const API = location.origin + '/api/v1';
const HISTORY_PAGE = 50;
const MAX_BACKOFF = 30000;
// While the panel is open and in view, whether someone answers is read
// again this often: visitors get no presence frames (docs/widget.md).
const STATUS_POLL = 15000;

const st = {
  t: translator('en'), locale: 'en', explicitLocale: '',
  config: null, token: '', visitorId: '', contact: null, user: null,
  conv: null, msgs: new Map(), pending: new Map(), lastSeq: 0, firstSeq: 0, hasMore: false,
  ws: null, wsOpen: false, backoff: 500, retryTimer: 0, pingTimer: 0, failures: 0,
  open: MODE === 'page', unread: 0, agents: new Map(), agentRead: 0,
  typingTimer: 0, typingOn: false, typingOffTimer: 0, queue: null, notice: '',
  page: { url: location.href, title: document.title, referrer: document.referrer },
  parentOrigin: '', attachment: null, blobs: new Map(), view: 'loading', thanks: false,
  rating: { score: 0, editing: false, done: false }, sounds: 0,
  toEnd: false, keepView: false, // how the next render scrolls (restoreScroll)
  // streams: bot answers a language model is still writing (bot_delta),
  // by stream id, shown after the stored messages until the stored answer
  // arrives; streamsDone: ids whose stored answer is here, so a late delta
  // cannot bring the provisional bubble back.
  streams: new Map(), streamsDone: new Set(),
  // feedback: the visitor's verdict on bot answers, by message id
  // ({ helpful, sending }); one per answer.
  feedback: new Map(),
};

// ---- embedding ----------------------------------------------------------

function toHost(msg) {
  if (MODE !== 'frame' || !st.parentOrigin) return;
  try { parent.postMessage(msg, st.parentOrigin); } catch (e) { console.warn('[kefu]', e); }
}

function waitInit() {
  if (MODE !== 'frame') {
    let store = null;
    try { store = JSON.parse(localStorage.getItem('kefu:' + INBOX) || 'null'); } catch { /* private mode */ }
    const q = new URLSearchParams(location.search);
    return Promise.resolve({ store, locale: q.get('locale') || '', user: null, page: st.page, open: true });
  }
  return new Promise((resolve) => {
    addEventListener('message', (e) => {
      if (e.source !== parent || !e.data || e.data.kefu !== 'init' || st.parentOrigin) return;
      st.parentOrigin = e.origin;
      addEventListener('message', onHostMessage);
      resolve(e.data);
    });
    parent.postMessage({ kefu: 'hello' }, '*');
  });
}

function persist() {
  const store = { visitor_id: st.visitorId };
  if (MODE === 'frame') toHost({ kefu: 'store', store });
  else try { localStorage.setItem('kefu:' + INBOX, JSON.stringify(store)); } catch { /* private mode */ }
}

async function onHostMessage(e) {
  if (e.source !== parent || e.origin !== st.parentOrigin || !e.data) return;
  const m = e.data;
  try {
    switch (m.kefu) {
      case 'open': setOpen(true); break;
      case 'close': setOpen(false); break;
      case 'locale': st.explicitLocale = m.locale || ''; applyLocale(); render(); break;
      case 'identify': await identify(m.user, [m.id]); break;
      case 'reset': st.user = null; st.visitorId = ''; persist(); await restart(); break;
    }
  } catch (err) {
    console.warn('[kefu]', err);
  }
}

// setOpen follows the launcher. Focus moves into the panel only when it
// opens, and never away from a field the visitor is already typing in:
// the host may repeat "open" (its own button, the JS API) at any time.
function setOpen(open) {
  const opening = open && !st.open;
  st.open = open;
  if (!open) return;
  st.unread = 0;
  toHost({ kefu: 'unread', count: 0 });
  markRead();
  if (opening) {
    setTimeout(autofocus, 50);
    refreshAvailability();
  }
}

function autofocus() {
  const a = document.activeElement;
  if (a && a !== document.body && a.matches('input, textarea, select')) return;
  ($('#composer') || $('form input, form textarea'))?.focus();
}

function labels() {
  const w = st.config.widget;
  return {
    color: st.config.inbox.color, position: w.position, launcherText: w.launcher_text,
    openLabel: st.t('openChat'), closeLabel: st.t('closeChat'), unreadLabel: st.t('unreadBadge'),
  };
}

// ---- API ------------------------------------------------------------------

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body, raw) {
  const headers = {};
  if (st.token) headers.Authorization = 'Bearer ' + st.token;
  let payload;
  if (raw) payload = raw;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(API + path, { method, headers, body: payload });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new APIError(res.status, err.code || 'internal', err.message || res.statusText);
  }
  return data;
}

async function startSession(user) {
  const req = { inbox_token: INBOX, visitor_id: st.visitorId, page_url: st.page.url.slice(0, 2048) };
  if (user) {
    req.identifier = user.id;
    req.identifier_hash = user.hash;
    if (user.name) req.name = user.name;
    if (user.email) req.email = user.email;
    if (user.phone) req.phone = user.phone;
  }
  const s = await api('POST', '/widget/sessions', req);
  st.token = s.token;
  st.visitorId = s.visitor_id;
  st.contact = s.contact;
  persist();
  if (user && user.attributes && typeof user.attributes === 'object') {
    st.contact = await api('PATCH', '/widget/me', { attributes: user.attributes }).catch(() => st.contact);
  }
  return s;
}

// ---- boot -------------------------------------------------------------------

async function boot() {
  const init = await waitInit();
  st.visitorId = (init.store && init.store.visitor_id) || '';
  st.explicitLocale = init.locale || '';
  st.page = init.page || st.page;
  st.user = init.user || null;
  try {
    st.config = await api('GET', '/widget/config?inbox=' + encodeURIComponent(INBOX));
  } catch (e) {
    return fail(e);
  }
  applyLocale();
  applyTheme();
  try {
    await sessionWithUser(st.user, init.ids || []);
    await loadConversation();
  } catch (e) {
    return fail(e);
  }
  st.view = 'chat';
  render();
  connect();
  toHost({ kefu: 'ready', config: labels(), open: !!init.open });
  if (st.unread) toHost({ kefu: 'unread', count: st.unread });
  if (MODE === 'page') setOpen(true);
  setInterval(() => { if (st.open && !document.hidden) refreshAvailability(); }, STATUS_POLL);
}

// refreshAvailability reads the config again and keeps only what says
// whether someone answers now (online agents, business hours, the bot),
// so the offline form comes and goes without a reload.
async function refreshAvailability() {
  if (st.view !== 'chat' || st.refreshing) return;
  st.refreshing = true;
  try {
    const c = await api('GET', '/widget/config?inbox=' + encodeURIComponent(INBOX));
    const before = available();
    for (const k of ['online', 'open', 'bot', 'queue', 'next_opening']) {
      if (k in c) st.config[k] = c[k];
      else delete st.config[k];
    }
    if (available() !== before) render();
  } catch { /* offline or down: the next round tries again */ } finally {
    st.refreshing = false;
  }
}

// sessionWithUser starts the session, identified when the host page gave
// a user; a refused identity is reported and the visitor goes on anonymous.
async function sessionWithUser(user, ids) {
  if (!user) return startSession(null);
  try {
    const s = await startSession(user);
    toHost({ kefu: 'identified', ids, ok: true, contact_id: s.contact.id });
    return s;
  } catch (e) {
    if (!(e instanceof APIError) || e.status >= 500) throw e;
    st.user = null;
    toHost({ kefu: 'identified', ids, ok: false, error: e.message });
    return startSession(null);
  }
}

async function identify(user, ids) {
  if (!user) return;
  const before = st.contact && st.contact.id;
  try {
    const s = await startSession(user);
    st.user = user;
    toHost({ kefu: 'identified', ids, ok: true, contact_id: s.contact.id });
  } catch (e) {
    toHost({ kefu: 'identified', ids, ok: false, error: e.message || String(e) });
    return; // the session in use is unchanged
  }
  if (st.contact.id !== before) await restart(true);
  else { closeSocket(); connect(); }
}

async function restart(keepSession) {
  closeSocket();
  if (!keepSession) await startSession(null);
  st.conv = null;
  resetMessages();
  await loadConversation();
  render();
  connect();
}

function fail(e) {
  console.warn('[kefu] unavailable:', e && e.message);
  if (MODE === 'frame') toHost({ kefu: 'fail' });
  st.view = 'down';
  render();
}

function applyLocale() {
  st.locale = pickLocale(st.explicitLocale, st.config && st.config.widget.locale, navigator.languages || [navigator.language]);
  st.t = translator(st.locale);
  document.documentElement.lang = st.locale;
  if (st.config) toHost({ kefu: 'labels', config: labels() });
}

function applyTheme() {
  const c = st.config.inbox.color;
  if (/^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(c || '')) document.documentElement.style.setProperty('--kefu-color', c);
}

function resetMessages() {
  st.msgs.clear();
  st.pending.clear();
  st.lastSeq = 0;
  st.firstSeq = 0;
  st.hasMore = false;
  st.agentRead = 0;
  st.queue = null;
  st.notice = '';
  st.rating = { score: 0, editing: false, done: false };
  st.toEnd = true;
  st.streams.clear();
  st.streamsDone.clear();
}

async function loadConversation() {
  const list = await api('GET', '/widget/conversations?limit=1');
  const conv = list.data && list.data[0];
  if (!conv) return;
  st.conv = conv;
  st.agentRead = conv.agent_last_read_seq;
  const page = await api('GET', `/widget/conversations/${conv.id}/messages?limit=${HISTORY_PAGE}`);
  st.hasMore = page.has_more;
  for (const m of page.data) addMessage(m, false);
  if (conv.assignee_id) agentName(conv.assignee_id).then(render);
  st.unread = page.data.filter((m) => m.seq > conv.contact_last_read_seq && fromStaff(m)).length;
}

async function loadEarlier() {
  if (!st.conv || !st.firstSeq) return;
  const page = await api('GET', `/widget/conversations/${st.conv.id}/messages?limit=${HISTORY_PAGE}&before_seq=${st.firstSeq}`);
  st.hasMore = page.has_more;
  for (const m of page.data) addMessage(m, false);
  st.keepView = true;
  render();
}

function agentName(id) {
  if (!id) return Promise.resolve('');
  if (st.agents.has(id)) return st.agents.get(id);
  const p = api('GET', '/widget/agents/' + id).then((a) => a.name, () => '');
  st.agents.set(id, p);
  p.then((n) => {
    st.names = { ...(st.names || {}), [id]: n };
    if (st.view === 'chat') render();
  });
  return p;
}

const fromStaff = (m) => m.sender_type === 'agent' || m.sender_type === 'bot';

// ---- messages ---------------------------------------------------------------

// addMessage stores m once (by seq) and reports whether it was new. The
// page hears of every new message once: one from the socket (live), or
// the visitor's own send, whichever of its ack or its echo comes first.
function addMessage(m, live) {
  if (!st.conv || m.conversation_id !== st.conv.id || m.kind === 'note') return false;
  const sent = !!m.client_msg_id && st.pending.has(m.client_msg_id);
  if (sent) st.pending.delete(m.client_msg_id);
  if (m.sender_type === 'bot') endStreams(m, !st.msgs.has(m.seq) && m.seq > st.lastSeq);
  if (st.msgs.has(m.seq)) return false;
  st.msgs.set(m.seq, m);
  st.lastSeq = Math.max(st.lastSeq, m.seq);
  st.firstSeq = st.firstSeq ? Math.min(st.firstSeq, m.seq) : m.seq;
  if (fromStaff(m)) {
    agentName(m.sender_id);
    st.typingFrom = 0;
  }
  if (live || sent) toHost({ kefu: 'message', message: { id: m.id, conversation_id: m.conversation_id, seq: m.seq, sender_type: m.sender_type, body: m.body, created_at: m.created_at } });
  if (live) {
    if (fromStaff(m) && !(st.open && !document.hidden)) {
      st.unread++;
      toHost({ kefu: 'unread', count: st.unread });
      ding();
    }
  }
  return true;
}

function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function ensureConversation(fields) {
  if (st.conv && st.conv.status !== 'resolved') return st.conv;
  const conv = await api('POST', '/widget/conversations', fields ? { fields } : {});
  resetMessages();
  st.conv = conv;
  closeSocket();
  connect();
  return conv;
}

async function send(text, attachment) {
  text = text.trim();
  if (!text && !attachment) return;
  await ensureConversation();
  const m = {
    client_msg_id: randomId(), conversation_id: st.conv.id, body: text, kind: attachment ? 'attachment' : 'text',
    attachments: attachment ? [attachment] : [], sender_type: 'contact', created_at: new Date().toISOString(), tries: 0,
  };
  st.pending.set(m.client_msg_id, m);
  st.toEnd = true; // the visitor wrote: show it, wherever they were reading
  render();
  transmit(m);
  typing(false);
}

// transmit sends a pending message over the socket when it is up, else
// over REST. Either way the same client_msg_id makes a repeat harmless.
function transmit(m) {
  m.tries++;
  const frame = { type: 'send', id: m.client_msg_id, conversation_id: m.conversation_id, client_msg_id: m.client_msg_id, kind: m.kind, body: m.body };
  if (m.attachments.length) frame.attachments = m.attachments.map((a) => a.id);
  if (st.wsOpen) {
    st.ws.send(JSON.stringify(frame));
    return;
  }
  api('POST', `/widget/conversations/${m.conversation_id}/messages`, { body: m.body, kind: m.kind, client_msg_id: m.client_msg_id, attachments: frame.attachments })
    .then((res) => { if (addMessage(res.message, false)) render(); },
      (e) => { if (e.status && e.status < 500 && e.status !== 429) dropPending(m, e.message); });
}

function dropPending(m, why) {
  m.failed = why || 'error';
  render();
}

function markRead() {
  if (!st.conv || !st.open || document.hidden || !st.lastSeq || st.lastSeq <= (st.conv.contact_last_read_seq || 0)) return;
  st.conv.contact_last_read_seq = st.lastSeq;
  if (st.wsOpen) st.ws.send(JSON.stringify({ type: 'read', conversation_id: st.conv.id, seq: st.lastSeq }));
  else api('POST', `/widget/conversations/${st.conv.id}/read`, { seq: st.lastSeq }).catch(() => {});
}

function typing(on) {
  clearTimeout(st.typingOffTimer);
  if (on) st.typingOffTimer = setTimeout(() => typing(false), 3000);
  if (on === st.typingOn || !st.conv || !st.wsOpen) return;
  st.typingOn = on;
  st.ws.send(JSON.stringify({ type: 'typing', conversation_id: st.conv.id, on }));
}

// ---- socket -----------------------------------------------------------------

function connect() {
  if (!st.token || st.ws) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let url = `${proto}//${location.host}/ws/visitor?token=${encodeURIComponent(st.token)}`;
  if (st.conv) url += `&resume=${st.conv.id}:${st.lastSeq}`;
  const ws = new WebSocket(url);
  st.ws = ws;
  ws.onmessage = (e) => {
    let f;
    try { f = JSON.parse(e.data); } catch { return; }
    if (f && typeof f.type === 'string') onFrame(f);
  };
  ws.onclose = (e) => {
    if (st.ws !== ws) return;
    st.ws = null;
    st.wsOpen = false;
    clearInterval(st.pingTimer);
    reconnectLater(e.code);
  };
}

function closeSocket() {
  const ws = st.ws;
  st.ws = null;
  st.wsOpen = false;
  clearInterval(st.pingTimer);
  clearTimeout(st.retryTimer);
  if (ws) try { ws.close(1000); } catch { /* already closed */ }
}

// reconnectLater retries with exponential back-off and jitter. A revoked
// or expired session (4001), or repeated failures that may be a refused
// token, get a fresh session first.
function reconnectLater(code) {
  st.failures++;
  render();
  const delay = Math.min(MAX_BACKOFF, st.backoff) * (0.5 + Math.random() / 2);
  st.backoff = Math.min(MAX_BACKOFF, st.backoff * 2);
  clearTimeout(st.retryTimer);
  st.retryTimer = setTimeout(async () => {
    if (code === 4001 || st.failures % 4 === 0) {
      try { await startSession(st.user); } catch { /* server still down: next round */ }
    }
    connect();
  }, delay);
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome':
      if (st.welcomed) refreshAvailability(); // a reconnect: things may have changed meanwhile
      st.welcomed = true;
      st.wsOpen = true;
      st.failures = 0;
      st.backoff = 500;
      clearInterval(st.pingTimer);
      st.pingTimer = setInterval(() => st.wsOpen && st.ws.send('{"type":"ping"}'), Math.max(5, (f.heartbeat_interval || 25) - 5) * 1000);
      for (const m of st.pending.values()) if (!m.failed) transmit(m);
      render();
      break;
    case 'message': {
      const streams = st.streams.size;
      if (f.message && (addMessage(f.message, true) || st.streams.size !== streams)) { render(); markRead(); }
      break;
    }
    case 'ack':
      onAck(f);
      break;
    case 'typing':
      if (st.conv && f.conversation_id === st.conv.id && f.sender_type !== 'contact') {
        st.typingFrom = f.on ? f.sender_id || -1 : 0;
        if (f.on) agentName(f.sender_id);
        clearTimeout(st.typingTimer);
        if (f.on) st.typingTimer = setTimeout(() => { st.typingFrom = 0; render(); }, 6000);
        render();
      }
      break;
    case 'read':
      if (st.conv && f.conversation_id === st.conv.id && f.reader_type !== 'contact') { st.agentRead = Math.max(st.agentRead, f.seq); render(); }
      break;
    case 'conversation':
      onConversation(f);
      break;
    case 'bot_delta':
      onBotDelta(f);
      break;
    case 'queue':
      if (st.conv && f.conversation_id === st.conv.id) { st.queue = f.position > 0 ? f : null; render(); }
      break;
    case 'error':
      if (f.id && st.pending.has(f.id)) {
        const m = st.pending.get(f.id);
        if (['invalid', 'too_large', 'forbidden', 'not_found'].includes(f.code)) dropPending(m, f.message);
        else setTimeout(() => st.pending.has(f.id) && transmit(m), 2000);
      }
      break;
    default:
      // resumed, pong and frames this widget does not know yet.
  }
}

// onBotDelta grows the provisional bubble of a streamed bot answer. The
// text goes in as text nodes only; the stored message replaces it.
function onBotDelta(f) {
  if (!st.conv || f.conversation_id !== st.conv.id || typeof f.stream_id !== 'string' || typeof f.text !== 'string') return;
  if (st.streamsDone.has(f.stream_id)) return;
  let s = st.streams.get(f.stream_id);
  if (!s) {
    s = { id: f.stream_id, text: '', el: null, textEl: null };
    st.streams.set(s.id, s);
    st.typingFrom = 0;
  }
  s.text += f.text;
  // The bubble exists after the first render: grow it in place instead of
  // rebuilding every bubble of the conversation for each piece.
  if (!s.textEl || !s.el.isConnected) { render(); return; }
  const list = st.parts && st.parts.list;
  const before = list && scrollState(list, false);
  s.textEl.append(document.createTextNode(f.text));
  if (list) restoreScroll(list, before);
}

// endStreams retires provisional bubbles once a stored bot message is
// here, however it came (live, resume replay, history): the one with its
// stream id, and, when the message is newer than any seen (not history
// loaded while scrolling back), any other still open, since the bot
// answers one turn at a time and a turn that gave up on its stream
// (deadline) ends with a stored message of its own.
function endStreams(m, newest) {
  const id = m.meta && typeof m.meta.stream_id === 'string' ? m.meta.stream_id : '';
  if (id) {
    st.streamsDone.add(id);
    st.streams.delete(id);
  }
  if (!newest || (m.meta && m.meta.source === 'greeting')) return; // greeting: sent before the turn's answer
  for (const s of st.streams.values()) st.streamsDone.add(s.id);
  st.streams.clear();
}

function onAck(f) {
  const m = st.pending.get(f.client_msg_id || f.id);
  if (!m) return;
  const stored = { ...m, id: f.message_id, seq: f.seq, created_at: f.created_at };
  delete stored.tries;
  if (addMessage(stored, false)) render();
}

async function onConversation(f) {
  const c = f.conversation;
  if (!c || !st.conv || c.id !== st.conv.id) return;
  const before = st.conv;
  st.conv = { ...before, ...c };
  const changed = f.changed || [];
  if (changed.includes('assignee_id') && c.assignee_id && c.assignee_id !== before.assignee_id) {
    const name = await agentName(c.assignee_id);
    st.notice = st.t('joined', { name: name || st.t('agent') });
    st.queue = null;
  }
  if (c.status === 'resolved' && before.status !== 'resolved') st.rating = { score: 0, editing: false, done: false };
  render();
}

// ---- sound ------------------------------------------------------------------

// ding is a short two-tone chime made with WebAudio: no audio file to
// download, and it plays only when the panel is not in view.
function ding() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    st.audio = st.audio || new Ctx();
    const ctx = st.audio;
    if (ctx.state === 'suspended') ctx.resume();
    const t = ctx.currentTime;
    const o = ctx.createOscillator();
    const g = ctx.createGain();
    o.type = 'sine';
    o.frequency.setValueAtTime(880, t);
    o.frequency.setValueAtTime(1320, t + 0.1);
    g.gain.setValueAtTime(0.0001, t);
    g.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, t + 0.4);
    o.connect(g).connect(ctx.destination);
    o.start(t);
    o.stop(t + 0.45);
    st.sounds++;
    body.dataset.sounds = String(st.sounds);
  } catch { /* no sound is better than a broken widget */ }
}

// ---- rendering --------------------------------------------------------------

const $ = (sel) => document.querySelector(sel);

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) el.append(k instanceof Node ? k : String(k));
  return el;
}

// linkify turns text into text nodes and links; only http and https URLs
// become links, and they open in a new tab without an opener.
function linkify(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"']+/gi;
  let last = 0;
  for (const m of text.matchAll(re)) {
    let url = m[0].replace(/[.,;:!?)\]}'"。，！？）]+$/u, '');
    out.push(text.slice(last, m.index));
    try {
      const u = new URL(url);
      if (u.protocol === 'http:' || u.protocol === 'https:') out.push(h('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer' }, url));
      else out.push(url);
    } catch { out.push(url); }
    last = m.index + url.length;
  }
  out.push(text.slice(last));
  return out;
}

// render redraws the panel from st. The header and the message items are
// rebuilt each time; the footer (composer) and the form or rating card at
// the end of the list are rebuilt only when their shape changes, so a
// visitor typing there (often through an IME composing Chinese) keeps the
// very element they are typing in when a message or typing frame arrives.
function render() {
  const root = $('#kefu');
  const t = st.t;
  if (st.view === 'loading') return;
  if (st.view === 'down') {
    st.parts = null;
    root.replaceChildren(h('div', { class: 'down', role: 'alert' }, t('unavailable')));
    return;
  }
  const keep = captureInputs(root);
  let p = st.parts;
  let fresh = false;
  if (!p || !root.contains(p.list)) {
    p = st.parts = { head: h('header'), list: null, items: h('div', { class: 'items' }), tail: h('div', { class: 'tail' }), foot: h('footer'), tailKey: null, footKey: null };
    p.list = h('div', { id: 'messages', class: 'messages', role: 'log', tabindex: '0' }, p.items, p.tail);
    root.replaceChildren(p.head, p.list, p.foot);
    fresh = true;
  }
  const scroll = scrollState(p.list, fresh);
  p.list.setAttribute('aria-label', t('title'));
  p.head = swap(p.head, header());
  p.items.replaceChildren(...items());
  const tk = tailKey();
  if (tk !== p.tailKey) {
    p.tailKey = tk;
    p.tail.replaceChildren(...[tail()].filter(Boolean));
  }
  const fk = footKey();
  if (fk !== p.footKey) {
    p.footKey = fk;
    p.foot = swap(p.foot, footer());
  }
  restoreInputs(root, keep);
  restoreScroll(p.list, scroll);
}

// Within this many pixels of the end, the visitor is following the
// conversation rather than reading back.
const NEAR_END = 80;

// scrollState notes, before a render, where the visitor is in the list.
function scrollState(list, fresh) {
  return { top: list.scrollTop, height: list.scrollHeight, atEnd: fresh || list.scrollHeight - list.scrollTop - list.clientHeight <= NEAR_END };
}

// restoreScroll follows the end only when the visitor was already there
// or has just sent something (st.toEnd); after earlier messages were put
// in above (st.keepView) what was in view stays in place; otherwise the
// list stays where the visitor left it, whatever frames arrived.
function restoreScroll(list, before) {
  if (st.keepView) list.scrollTop = before.top + list.scrollHeight - before.height;
  else if (before.atEnd || st.toEnd) list.scrollTop = list.scrollHeight;
  else list.scrollTop = before.top;
  st.keepView = false;
  st.toEnd = false;
}

function swap(old, next) {
  old.replaceWith(next);
  return next;
}

// captureInputs keeps what the visitor is typing across re-renders.
function captureInputs(root) {
  const out = { focus: document.activeElement && document.activeElement.id };
  for (const el of root.querySelectorAll('input[id], textarea[id], select[id]')) out[el.id] = el.value;
  return out;
}

function restoreInputs(root, keep) {
  for (const el of root.querySelectorAll('input[id], textarea[id], select[id]')) {
    if (keep[el.id] !== undefined && el.type !== 'file' && el.value !== keep[el.id]) el.value = keep[el.id];
  }
  const f = keep.focus && document.getElementById(keep.focus);
  if (f && document.activeElement !== f) f.focus();
}

// Someone answers now: the bot, or an online agent while the inbox is
// within its business hours. Otherwise the widget offers the offline form.
function available() {
  const c = st.config;
  return !!c.bot || (('open' in c ? !!c.open : true) && !!c.online);
}

function header() {
  const t = st.t;
  const w = st.config.widget;
  const assignee = st.conv && st.conv.assignee_id && st.names && st.names[st.conv.assignee_id];
  const sub = assignee || (available() ? t('online') : t('offline'));
  return h('header', { class: 'head' },
    h('div', { class: 'titles' },
      h('h1', { id: 'title' }, w.title || st.config.inbox.name || t('title')),
      h('p', { class: 'sub' }, h('span', { class: available() ? 'dot on' : 'dot' }), sub)),
    MODE === 'frame' ? h('button', { type: 'button', class: 'icon close', 'aria-label': t('closeChat'), title: t('closeChat'), onclick: () => toHost({ kefu: 'close' }) }, '×') : null);
}

function needsForm() {
  if (st.conv && st.conv.status !== 'resolved') return '';
  if (st.conv && st.msgs.size) return '';
  if (!available()) return 'offline';
  const w = st.config.widget;
  if (w.prechat_enabled && w.prechat_fields.some((f) => !answered(f.name))) return 'prechat';
  return '';
}

function answered(name) {
  const c = st.contact || {};
  if (name === 'name' || name === 'email' || name === 'phone') return !!c[name];
  return !!(c.attributes && c.attributes[name]);
}

function items() {
  const t = st.t;
  const out = [];
  if (st.hasMore) out.push(h('button', { type: 'button', class: 'link earlier', onclick: () => loadEarlier() }, t('loadEarlier')));
  if (st.config.inbox.greeting) out.push(bubble({ sender_type: 'agent', body: st.config.inbox.greeting, greeting: true }));
  const all = [...st.msgs.values()].sort((a, b) => a.seq - b.seq);
  const lastOwn = [...all].reverse().find((m) => m.sender_type === 'contact');
  const lastBot = [...all].reverse().find((m) => m.sender_type !== 'system');
  for (const m of all) {
    if (m.kind === 'event' || m.sender_type === 'system') continue;
    out.push(bubble(m, m === lastOwn, m === lastBot));
  }
  for (const s of st.streams.values()) out.push(streamBubble(s));
  for (const m of st.pending.values()) out.push(bubble(m));
  if (st.notice) out.push(h('p', { class: 'notice', role: 'status' }, st.notice));
  if (st.queue) {
    const q = st.queue;
    const text = (q.estimated_wait ?? q.estimated_wait_seconds) > 0
      ? t('queue', { position: q.position, minutes: Math.max(1, Math.round((q.estimated_wait ?? q.estimated_wait_seconds) / 60)) })
      : t('queueSoon', { position: q.position });
    out.push(h('p', { class: 'notice queue', role: 'status' }, text));
  }
  if (st.thanks) out.push(h('p', { class: 'notice', role: 'status' }, t('offlineThanks')));
  if (st.conv && st.conv.status === 'resolved') out.push(h('p', { class: 'notice' }, t('resolved')));
  if (st.typingFrom) {
    const n = (st.names && st.names[st.typingFrom]) || t('agent');
    out.push(h('p', { class: 'typing', role: 'status' }, h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), t('typing', { name: n })));
  }
  return out;
}

// The end of the list holds at most one card with inputs: the rating
// card after a resolve, or the pre-chat / offline form.
function tail() {
  const form = needsForm();
  if (form) return formView(form);
  if (st.conv && st.conv.status === 'resolved') return ratingCard();
  return null;
}

function tailKey() {
  const form = needsForm();
  if (form) return JSON.stringify(['form', st.locale, form, formFields(form), st.contact || null, st.config.widget.offline_message || '']);
  if (st.conv && st.conv.status === 'resolved') return JSON.stringify(['rating', st.locale, st.conv.id, st.conv.rating || null, st.rating]);
  return '';
}

function footKey() {
  const a = st.attachment;
  return JSON.stringify([st.locale, !!needsForm(), st.failures > 0 && !st.wsOpen,
    a ? [a.file.name, a.url, !!a.uploading] : null]);
}

function bubble(m, lastOwn, lastBot) {
  const t = st.t;
  const own = m.sender_type === 'contact';
  const bot = m.sender_type === 'bot';
  const el = h('div', { class: `msg ${own ? 'own' : 'them'}${bot ? ' bot' : ''}${m.seq || m.greeting ? '' : ' pending'}`, 'data-seq': m.seq || null });
  if (!own && !m.greeting) {
    const name = (st.names && st.names[m.sender_id]) || (bot ? t('bot') : t('agent'));
    el.append(h('span', { class: 'who' }, name, bot ? h('span', { class: 'badge' }, t('bot')) : null));
  }
  const b = h('div', { class: 'bubble' });
  if (m.body) b.append(h('p', { class: 'text' }, ...linkify(m.body)));
  for (const a of m.attachments || []) b.append(attachmentView(a));
  el.append(b);
  if (m.seq == null && !m.greeting) el.append(h('span', { class: 'state' }, m.failed ? m.failed : st.wsOpen ? t('sending') : t('notSent')));
  if (own && lastOwn && m.seq && st.agentRead >= m.seq) el.append(h('span', { class: 'state seen' }, t('seen')));
  const qr = bot && lastBot && m.meta && Array.isArray(m.meta.quick_replies) ? m.meta.quick_replies.filter((x) => typeof x === 'string' && x) : [];
  if (qr.length) {
    el.append(h('div', { class: 'quick', role: 'group' }, qr.slice(0, 10).map((text) => h('button', { type: 'button', class: 'chip', onclick: () => send(text) }, text))));
  }
  if (bot && m.id && m.seq && answerSource(m)) el.append(feedbackView(m));
  return el;
}

// answerSource reports whether a bot message is an answer the visitor can
// rate (not a greeting, fallback or hand-off line).
function answerSource(m) {
  const src = m.meta && typeof m.meta.source === 'string' ? m.meta.source : '';
  return ['kb', 'llm', 'intent', 'plugin'].includes(src) || src.startsWith('plugin:');
}

// feedbackView asks whether a bot answer helped. A choice is sent once:
// from then on it is shown and the buttons are disabled.
function feedbackView(m) {
  const t = st.t;
  const f = st.feedback.get(m.id);
  const choice = (helpful, label) => h('button', {
    type: 'button', class: f && f.helpful === helpful ? 'vote on' : 'vote', 'aria-pressed': f && f.helpful === helpful ? 'true' : 'false',
    'data-helpful': String(helpful), disabled: !!f, onclick: () => sendFeedback(m, helpful),
  }, label);
  return h('div', { class: 'feedback', role: 'group', 'aria-label': t('feedbackPrompt') },
    f ? h('span', { class: 'feedback-done', role: 'status' }, f.helpful ? t('feedbackThanksHelpful') : t('feedbackThanksNotHelpful'))
      : h('span', { class: 'feedback-ask' }, t('feedbackPrompt')),
    choice(true, t('feedbackHelpful')), choice(false, t('feedbackNotHelpful')));
}

async function sendFeedback(m, helpful) {
  if (st.feedback.has(m.id) || !st.conv) return;
  st.feedback.set(m.id, { helpful, sending: true });
  render();
  try {
    await api('POST', `/widget/conversations/${m.conversation_id}/messages/${m.id}/feedback`, { helpful });
    st.feedback.set(m.id, { helpful, sending: false });
  } catch (e) {
    st.feedback.delete(m.id);
    st.notice = st.t('feedbackFailed', { reason: e.message });
  }
  render();
}

// streamBubble is the provisional bubble of a streamed answer; the same
// element is kept across renders so deltas are appended to it.
function streamBubble(s) {
  if (!s.el) {
    const t = st.t;
    s.textEl = h('p', { class: 'text' }, s.text);
    s.el = h('div', { class: 'msg them bot streaming', 'data-stream': s.id, 'aria-busy': 'true' },
      h('span', { class: 'who' }, t('bot'), h('span', { class: 'badge' }, t('bot'))),
      h('div', { class: 'bubble' }, s.textEl));
  }
  return s.el;
}

function attachmentView(a) {
  const t = st.t;
  const isImage = /^image\//.test(a.content_type || '');
  if (isImage) {
    const img = h('img', { class: 'thumb', alt: t('image', { name: a.file_name || '' }) });
    blobURL(a).then((u) => { if (u) img.src = u; });
    return h('a', { class: 'file', href: '#', onclick: (e) => { e.preventDefault(); openBlob(a); } }, img);
  }
  return h('a', { class: 'file', href: '#', 'aria-label': t('download', { name: a.file_name }), onclick: (e) => { e.preventDefault(); openBlob(a, true); } },
    '📎 ', a.file_name || 'file');
}

// blobURL fetches an attachment with the visitor token (downloads need
// it) and keeps one object URL per attachment.
function blobURL(a) {
  if (a.localURL) return Promise.resolve(a.localURL);
  if (!st.blobs.has(a.id)) {
    st.blobs.set(a.id, fetch(`${API}/widget/attachments/${a.id}`, { headers: { Authorization: 'Bearer ' + st.token } })
      .then((r) => (r.ok ? r.blob() : null)).then((b) => (b ? URL.createObjectURL(b) : '')).catch(() => ''));
  }
  return st.blobs.get(a.id);
}

async function openBlob(a, download) {
  const u = await blobURL(a);
  if (!u) return;
  const link = h('a', { href: u, target: '_blank', rel: 'noopener noreferrer' });
  if (download) link.download = a.file_name || 'file';
  link.click();
}

function footer() {
  const t = st.t;
  const banner = st.failures > 0 && !st.wsOpen ? h('p', { class: 'banner', role: 'status' }, t('reconnecting')) : null;
  if (needsForm()) return h('footer', { class: 'foot' }, banner);
  const a = st.attachment;
  const preview = a ? h('div', { class: 'preview' },
    a.url ? h('img', { src: a.url, alt: '' }) : null,
    h('span', { class: 'name' }, a.uploading ? t('uploading') : a.file.name),
    h('button', { type: 'button', class: 'icon', 'aria-label': t('removeAttachment'), onclick: () => { clearAttachment(); render(); } }, '×')) : null;
  const input = h('textarea', {
    id: 'composer', rows: '1', placeholder: t('messagePlaceholder'), 'aria-label': t('messageLabel'), maxlength: '16000',
    onkeydown: (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
    },
    oninput: (e) => typing(e.target.value.trim() !== ''),
    onpaste: (e) => {
      const f = [...(e.clipboardData?.files || [])][0];
      if (f) { e.preventDefault(); pickFile(f); }
    },
  });
  const file = h('input', { type: 'file', id: 'file', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', onchange: (e) => e.target.files[0] && pickFile(e.target.files[0]) });
  return h('footer', { class: 'foot' }, banner, preview,
    h('div', { class: 'composer' },
      h('button', { type: 'button', class: 'icon attach', 'aria-label': t('attach'), title: t('attach'), onclick: () => file.click() }, '📎'),
      file, input,
      h('button', { type: 'button', class: 'send', id: 'send', 'aria-label': t('send'), onclick: submit }, t('send'))),
    h('p', { class: 'brand' }, t('poweredBy')));
}

function pickFile(file) {
  clearAttachment();
  st.attachment = { file, url: /^image\//.test(file.type) ? URL.createObjectURL(file) : '' };
  render();
  $('#composer')?.focus();
}

// clearAttachment drops the picked file, and the notice of its failed
// upload with it: the error is about that file, not the conversation.
function clearAttachment() {
  const a = st.attachment;
  if (a && a.url && !a.sent) URL.revokeObjectURL(a.url);
  if (a && a.error && st.notice === a.error) st.notice = '';
  st.attachment = null;
}

async function submit() {
  const input = $('#composer');
  const text = input ? input.value : '';
  const a = st.attachment;
  if (!text.trim() && !a) return;
  let uploaded = null;
  if (a) {
    a.uploading = true;
    if (a.error && st.notice === a.error) st.notice = ''; // a retry: the last failure is not news
    render();
    try {
      const fd = new FormData();
      fd.append('file', a.file, a.file.name);
      uploaded = await api('POST', '/widget/attachments', undefined, fd);
      uploaded.localURL = a.url;
      a.sent = true;
    } catch (e) {
      a.uploading = false;
      st.notice = a.error = st.t('uploadFailed', { reason: e.message });
      render();
      return;
    }
    st.attachment = null;
  }
  if (input) input.value = '';
  st.notice = '';
  try {
    await send(text, uploaded);
  } catch (e) {
    if (input) input.value = text;
    st.notice = e.message;
    render();
  }
  $('#composer')?.focus();
}

// ---- forms ------------------------------------------------------------------

function fieldLabel(f) {
  const key = 'field_' + f.name;
  const known = st.t(key);
  return f.label || (known !== key ? known : f.name);
}

function formFields(kind) {
  const w = st.config.widget;
  let fields = w.prechat_enabled ? w.prechat_fields.map((f) => ({ ...f })) : [];
  if (kind === 'offline') {
    const has = (n) => fields.some((f) => f.name === n);
    if (!has('name')) fields.unshift({ name: 'name', type: 'text', required: false });
    if (!has('email')) fields.splice(1, 0, { name: 'email', type: 'email', required: true });
    else fields.find((f) => f.name === 'email').required = true;
    fields.push({ name: 'message', type: 'textarea', required: true, isMessage: true });
  }
  return fields;
}

function formView(kind) {
  const t = st.t;
  const fields = formFields(kind);
  const intro = kind === 'offline' ? st.config.widget.offline_message || t('offlineIntro') : t('prechatIntro');
  const form = h('form', { class: 'card form', id: kind + '-form', novalidate: true, 'aria-labelledby': kind + '-intro', onsubmit: (e) => { e.preventDefault(); submitForm(kind, fields, form); } },
    h('p', { id: kind + '-intro' }, intro));
  const c = st.contact || {};
  for (const f of fields) {
    const id = 'f-' + f.name;
    const prefill = f.name in c && typeof c[f.name] === 'string' ? c[f.name] : (c.attributes && c.attributes[f.name]) || '';
    let input;
    if (f.type === 'select') {
      input = h('select', { id, name: f.name, required: f.required }, h('option', { value: '' }, t('choose')), f.options.map((o) => h('option', { value: o }, o)));
    } else if (f.type === 'textarea') {
      input = h('textarea', { id, name: f.name, required: f.required, rows: '3' });
    } else {
      input = h('input', { id, name: f.name, type: f.type === 'tel' ? 'tel' : f.type === 'email' ? 'email' : 'text', required: f.required, autocomplete: { name: 'name', email: 'email', phone: 'tel' }[f.name] || 'off' });
    }
    if (prefill && !input.value) input.value = prefill;
    form.append(h('label', { for: id }, fieldLabel(f), f.required ? h('span', { class: 'req' }, ' *', h('span', { class: 'visually-hidden' }, t('required'))) : null), input);
  }
  form.append(h('p', { class: 'error', id: kind + '-error', role: 'alert' }));
  form.append(h('button', { type: 'submit', class: 'send wide' }, kind === 'offline' ? t('sendMessage') : t('start')));
  return form;
}

async function submitForm(kind, fields, form) {
  const t = st.t;
  const err = form.querySelector('.error');
  const values = {};
  let message = '';
  for (const f of fields) {
    const el = form.elements[f.name];
    const v = (el.value || '').trim();
    if (f.required && !v) { err.textContent = t('fieldRequired', { field: fieldLabel(f) }); el.focus(); return; }
    if (f.type === 'email' && v && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) { err.textContent = t('fieldEmail'); el.focus(); return; }
    if (f.isMessage) message = v;
    else if (v) values[f.name] = v;
  }
  form.querySelector('button[type=submit]').disabled = true;
  try {
    await ensureConversation(values);
    st.contact = await api('GET', '/widget/me').catch(() => st.contact);
    if (message) {
      const res = await api('POST', `/widget/conversations/${st.conv.id}/messages`, { body: message, client_msg_id: randomId() });
      addMessage(res.message, false);
      st.thanks = true;
    }
  } catch (e) {
    err.textContent = e.message;
    form.querySelector('button[type=submit]').disabled = false;
    return;
  }
  render();
  $('#composer')?.focus();
}

function ratingCard() {
  const t = st.t;
  const r = st.conv.rating;
  if (r && !st.rating.editing) {
    return h('div', { class: 'card rating done', id: 'rating' },
      h('p', {}, st.rating.done ? t('rateThanks') : t('rated', { n: r.score })),
      h('button', { type: 'button', class: 'link', onclick: () => { st.rating = { score: r.score, editing: true }; render(); } }, t('rateChange')),
      h('button', { type: 'button', class: 'link', onclick: newConversation }, t('newConversation')));
  }
  const stars = h('div', { class: 'stars', role: 'radiogroup', 'aria-labelledby': 'rate-title' });
  for (let n = 1; n <= 5; n++) {
    stars.append(h('button', {
      type: 'button', class: n <= st.rating.score ? 'star on' : 'star', role: 'radio', 'aria-checked': n === st.rating.score ? 'true' : 'false',
      'aria-label': t('rateStar', { n }), 'data-score': n, onclick: () => { st.rating.score = n; render(); $(`.star[data-score="${n}"]`)?.focus(); },
    }, '★'));
  }
  return h('form', { class: 'card rating', id: 'rating', onsubmit: async (e) => {
    e.preventDefault();
    if (!st.rating.score) return;
    try {
      const c = await api('POST', `/widget/conversations/${st.conv.id}/rating`, { score: st.rating.score, comment: $('#rate-comment').value });
      st.conv = { ...st.conv, ...c };
      st.rating = { score: 0, editing: false, done: true };
    } catch (err) {
      st.notice = err.message;
    }
    render();
  } },
  h('p', { id: 'rate-title' }, t('rateTitle')), stars,
  h('label', { for: 'rate-comment', class: 'visually-hidden' }, t('rateComment')),
  h('textarea', { id: 'rate-comment', rows: '2', placeholder: t('rateComment'), maxlength: '2000' }),
  h('button', { type: 'submit', class: 'send wide', disabled: !st.rating.score }, t('rateSubmit')));
}

function newConversation() {
  st.conv = null;
  resetMessages();
  closeSocket();
  connect();
  render();
  $('#composer')?.focus();
}

// ---- keyboard and visibility ----------------------------------------------

addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && MODE === 'frame') toHost({ kefu: 'close' });
});
document.addEventListener('visibilitychange', () => {
  markRead();
  if (!document.hidden && st.open) refreshAvailability();
});

boot().catch((e) => fail(e));
