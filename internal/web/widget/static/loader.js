/* Kefu widget loader. A website includes it with
 *   <script src="https://KEFU/widget.js" data-inbox="TOKEN" async></script>
 * It draws the launcher in a shadow root and the chat panel in an iframe
 * served by Kefu, so neither the page's CSS nor its scripts can reach
 * them. Every step is guarded: whatever happens to Kefu, the host page
 * sees no exception and never waits on it. Plain ES5 on purpose: it runs
 * on whatever browser the website's visitors have. */
(function (w, d) {
  'use strict';
  var METHODS = ['identify', 'open', 'close', 'toggle', 'on', 'off', 'setLocale', 'reset'];
  var READY_TIMEOUT = 20000;

  function warn(e) {
    try { w.console && console.warn('[kefu]', (e && e.message) || e); } catch (_) { /* nothing to do */ }
  }
  function guard(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { warn(e); }
    };
  }
  function later(fn) {
    if (w.requestIdleCallback) w.requestIdleCallback(fn, { timeout: 2000 });
    else setTimeout(fn, 1);
  }

  try { main(); } catch (e) { warn(e); }

  function main() {
    var script = d.currentScript;
    if (!script) {
      var all = d.querySelectorAll('script[data-inbox]');
      script = all[all.length - 1];
    }
    if (!script) return warn('no <script data-inbox> found');
    var inbox = script.getAttribute('data-inbox');
    if (!inbox) return warn('data-inbox is missing');
    var prior = w.Kefu;
    if (prior && prior.loaded) return; // the snippet is on the page twice
    var base = new URL(script.src, location.href).origin;
    var storeKey = 'kefu:' + inbox;
    var s = {
      open: false, ready: false, dead: false, unread: 0,
      locale: script.getAttribute('data-locale') || '',
      user: null, waiters: {}, seq: 0, initIds: [], listeners: {}, outbox: [],
      host: null, root: null, frame: null, launcher: null, badge: null, config: null
    };

    var api = {
      loaded: true,
      version: 1,
      identify: function (user) {
        return new Promise(function (resolve, reject) {
          if (!user || typeof user !== 'object' || !user.id) return reject(new Error('Kefu.identify needs {id, hash}'));
          s.user = {
            id: String(user.id), hash: user.hash ? String(user.hash) : '', name: user.name || '', email: user.email || '',
            phone: user.phone || '', attributes: user.attributes || null
          };
          var id = ++s.seq;
          s.waiters[id] = { resolve: resolve, reject: reject };
          // Before the panel is up the user rides along with init, so the
          // first session is already the identified one.
          if (s.ready) post({ kefu: 'identify', user: s.user, id: id });
          else s.initIds.push(id);
        });
      },
      open: guard(function () { setOpen(true); }),
      close: guard(function () { setOpen(false); }),
      toggle: guard(function () { setOpen(!s.open); }),
      on: guard(function (ev, fn) {
        if (typeof fn !== 'function') return;
        (s.listeners[ev] = s.listeners[ev] || []).push(fn);
        if (ev === 'ready' && s.ready) call(fn, {});
      }),
      off: guard(function (ev, fn) {
        s.listeners[ev] = (s.listeners[ev] || []).filter(function (f) { return f !== fn; });
      }),
      setLocale: guard(function (l) {
        s.locale = String(l || '');
        post({ kefu: 'locale', locale: s.locale });
      }),
      reset: guard(function () {
        s.user = null;
        save(null);
        post({ kefu: 'reset' });
      })
    };
    w.Kefu = api;
    // Calls made through the queue stub before this script arrived.
    var queued = (prior && prior.q) || [];
    for (var i = 0; i < queued.length; i++) {
      try {
        var c = queued[i], name = c[0], args = [].slice.call(c[1] || []);
        if (METHODS.indexOf(name) >= 0) {
          var r = api[name].apply(api, args);
          if (r && r.catch) r.catch(warn);
        }
      } catch (e) { warn(e); }
    }

    if (d.readyState === 'complete') later(guard(boot));
    else w.addEventListener('load', function () { later(guard(boot)); });

    function call(fn, arg) {
      try { fn(arg); } catch (e) { warn(e); }
    }
    function emit(ev, arg) {
      var l = (s.listeners[ev] || []).slice();
      for (var i = 0; i < l.length; i++) call(l[i], arg);
    }
    function load() {
      try { return JSON.parse(w.localStorage.getItem(storeKey) || 'null'); } catch (_) { return null; }
    }
    function save(v) {
      try {
        if (v) w.localStorage.setItem(storeKey, JSON.stringify(v));
        else w.localStorage.removeItem(storeKey);
      } catch (_) { /* storage may be off; the visitor is then new each visit */ }
    }
    function openBefore() {
      try { return w.sessionStorage.getItem(storeKey + ':open') === '1'; } catch (_) { return false; }
    }
    function rememberOpen(v) {
      try { w.sessionStorage.setItem(storeKey + ':open', v ? '1' : '0'); } catch (_) { /* ignore */ }
    }

    function post(msg) {
      if (s.dead) return;
      if (!s.frame || !s.ready) { s.outbox.push(msg); return; }
      try { s.frame.contentWindow.postMessage(msg, base); } catch (e) { warn(e); }
    }

    function boot() {
      s.host = d.createElement('div');
      s.host.setAttribute('data-kefu', '');
      s.host.style.cssText = 'position:fixed;z-index:2147483000;bottom:0;right:0;width:0;height:0;';
      s.root = s.host.attachShadow ? s.host.attachShadow({ mode: 'open' }) : s.host;
      var style = d.createElement('style');
      style.textContent = CSS;
      s.root.appendChild(style);
      s.frame = d.createElement('iframe');
      s.frame.className = 'panel';
      s.frame.title = 'Chat';
      s.frame.setAttribute('allow', 'autoplay; clipboard-write');
      s.frame.src = base + '/widget/frame?inbox=' + encodeURIComponent(inbox);
      s.root.appendChild(s.frame);
      (d.body || d.documentElement).appendChild(s.host);
      w.addEventListener('message', guard(onMessage));
      // Kefu down, blocked or slow: give up quietly, leave no trace.
      s.timer = setTimeout(guard(function () { if (!s.ready) die(); }), READY_TIMEOUT);
    }

    function die() {
      s.dead = true;
      if (s.host && s.host.parentNode) s.host.parentNode.removeChild(s.host);
      for (var id in s.waiters) s.waiters[id].reject(new Error('Kefu is unavailable'));
      s.waiters = {};
    }

    function onMessage(e) {
      if (!s.frame || e.source !== s.frame.contentWindow || e.origin !== base) return;
      var m = e.data;
      if (!m || typeof m !== 'object' || typeof m.kefu !== 'string') return;
      switch (m.kefu) {
        case 'hello':
          s.frame.contentWindow.postMessage({
            kefu: 'init', store: load(), locale: s.locale, user: s.user, ids: s.initIds.splice(0),
            page: { url: location.href, title: d.title, referrer: d.referrer }, open: openBefore() || s.wantOpen
          }, base);
          break;
        case 'ready':
          clearTimeout(s.timer);
          s.config = m.config || {};
          drawLauncher();
          s.ready = true;
          var out = s.outbox.splice(0);
          for (var i = 0; i < out.length; i++) post(out[i]);
          if (m.open || s.wantOpen) setOpen(true);
          emit('ready', {});
          break;
        case 'store': save(m.store); break;
        case 'unread': setUnread(m.count | 0); break;
        case 'message': emit('message', m.message); break;
        case 'close': setOpen(false); if (s.launcher) s.launcher.focus(); break;
        case 'labels': s.config = m.config || s.config; if (s.launcher) drawLauncher(); break;
        case 'identified':
          var ids = m.ids || [];
          for (var j = 0; j < ids.length; j++) {
            var wt = s.waiters[ids[j]];
            if (!wt) continue;
            delete s.waiters[ids[j]];
            if (m.ok) wt.resolve({ contact_id: m.contact_id });
            else wt.reject(new Error(m.error || 'identify failed'));
          }
          break;
        case 'fail': die(); break;
      }
    }

    function drawLauncher() {
      var c = s.config || {};
      if (!s.launcher) {
        s.launcher = d.createElement('button');
        s.launcher.type = 'button';
        s.launcher.className = 'launcher';
        s.launcher.innerHTML = ICON;
        s.label = d.createElement('span');
        s.label.className = 'label';
        s.launcher.appendChild(s.label);
        s.badge = d.createElement('span');
        s.badge.className = 'badge';
        s.badge.hidden = true;
        s.launcher.appendChild(s.badge);
        s.launcher.addEventListener('click', guard(function () { setOpen(!s.open); }));
        s.launcher.addEventListener('keydown', guard(function (e) { if (e.key === 'Escape') setOpen(false); }));
        s.root.appendChild(s.launcher);
      }
      s.host.className = '';
      s.root.host && s.root.host.setAttribute('data-position', c.position === 'left' ? 'left' : 'right');
      s.host.style.left = c.position === 'left' ? '0' : '';
      s.host.style.right = c.position === 'left' ? '' : '0';
      s.launcher.style.background = /^#[0-9a-f]{3,6}$/i.test(c.color || '') ? c.color : '#1f6feb';
      s.label.textContent = c.launcherText || '';
      s.label.hidden = !c.launcherText;
      s.launcher.setAttribute('aria-label', s.open ? c.closeLabel || 'Close chat' : c.openLabel || 'Open chat');
      s.launcher.setAttribute('aria-expanded', s.open ? 'true' : 'false');
      s.badgeLabel = c.unreadLabel || '{n}';
      setUnread(s.unread);
    }

    function setUnread(n) {
      s.unread = n;
      if (!s.badge) return;
      s.badge.hidden = !n;
      s.badge.textContent = n > 99 ? '99+' : String(n);
      s.badge.setAttribute('aria-label', (s.badgeLabel || '{n}').replace('{n}', n));
    }

    function setOpen(open) {
      if (!s.ready) { s.wantOpen = open; return; }
      if (open === s.open) return;
      s.open = open;
      rememberOpen(open);
      s.frame.className = open ? 'panel open' : 'panel';
      if (s.launcher) s.launcher.className = open ? 'launcher is-open' : 'launcher';
      drawLauncher();
      post({ kefu: open ? 'open' : 'close' });
      if (open) {
        setUnread(0);
        try { s.frame.focus(); } catch (_) { /* ignore */ }
      }
      emit(open ? 'open' : 'close', {});
    }
  }

  var ICON = '<svg aria-hidden="true" width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 21l1.9-5.4A8 8 0 1 1 21 12z"/></svg>';
  var CSS = [
    ':host{all:initial}',
    '.launcher{position:fixed;bottom:20px;right:20px;min-width:56px;height:56px;padding:0 16px;border:0;border-radius:28px;',
    'color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;gap:8px;',
    'font:600 15px/1 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;',
    'box-shadow:0 4px 16px rgba(0,0,0,.25);transition:transform .15s}',
    '.launcher:hover{transform:scale(1.05)}',
    '.launcher:focus-visible{outline:3px solid #000;outline-offset:2px}',
    '.label[hidden],.badge[hidden]{display:none}',
    '.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;',
    'background:#d1242f;color:#fff;font:700 12px/20px system-ui,sans-serif;text-align:center}',
    '.panel{position:fixed;bottom:88px;right:20px;width:380px;height:min(640px,calc(100vh - 108px));border:0;border-radius:14px;',
    'box-shadow:0 8px 40px rgba(0,0,0,.25);background:#fff;visibility:hidden;opacity:0;pointer-events:none;',
    'transform:translateY(12px);transition:opacity .15s,transform .15s,visibility 0s .15s}',
    '.panel.open{visibility:visible;opacity:1;pointer-events:auto;transform:none;transition:opacity .15s,transform .15s}',
    ':host([data-position=left]) .launcher,:host([data-position=left]) .panel{right:auto;left:20px}',
    '@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}',
    '.launcher.is-open{display:none}}'
  ].join('');
})(window, document);
