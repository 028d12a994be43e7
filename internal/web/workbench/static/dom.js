// DOM helpers. Everything a person typed (visitors above all) reaches the
// page through text nodes or safeURL; nothing here parses HTML.

// h builds an element. props: class, on<event> handlers, dataset, aria-*
// and other attributes; children: nodes or strings (strings become text).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') el[k] = v;
    else if (k === 'href' || k === 'src') { const u = safeURL(v, true); if (u) el.setAttribute(k, u); }
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// safeURL returns u as an absolute URL if it is http(s) (or, with
// sameOrigin, a path or blob: URL of this page), else "".
export function safeURL(u, sameOrigin = false) {
  try {
    const url = new URL(u, location.href);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
    if (sameOrigin && url.protocol === 'blob:') return url.href;
  } catch { /* not a URL */ }
  return '';
}

const linkRE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

// linkify turns text into text nodes and links: only http and https
// addresses become links, opened in a new tab without an opener or referrer.
export function linkify(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of String(text).matchAll(linkRE)) {
    let raw = m[0].replace(/[.,;:!?)\]}'"，。！？）]+$/u, '');
    const href = safeURL(raw);
    if (!href) continue;
    frag.append(text.slice(last, m.index));
    frag.append(h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, raw));
    last = m.index + raw.length;
  }
  frag.append(text.slice(last));
  return frag;
}

export function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
  return (n / 1048576).toFixed(1) + ' MB';
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
