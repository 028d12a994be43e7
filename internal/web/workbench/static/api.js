// The REST client. The session token lives in localStorage (shared by the
// agent's tabs, gone on logout) and travels as a bearer header; the API
// uses no cookies, so there is nothing for another site to forge.

const KEY = 'kefu.token';

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export class API {
  constructor(onUnauthorized) { this.onUnauthorized = onUnauthorized; }

  get token() { return localStorage.getItem(KEY) || ''; }
  set token(v) { if (v) localStorage.setItem(KEY, v); else localStorage.removeItem(KEY); }

  async req(method, path, body, opts = {}) {
    const headers = {};
    if (this.token) headers.Authorization = 'Bearer ' + this.token;
    let payload;
    if (opts.contentType) { headers['Content-Type'] = opts.contentType; payload = body; } // a file's bytes as they are
    else if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    const res = await fetch(path, { method, headers, body: payload });
    if (opts.blob && res.ok) return res.blob();
    const text = res.status === 204 ? '' : await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) {
      const e = data && data.error ? data.error : { code: 'http_' + res.status, message: res.statusText };
      if (res.status === 401 && this.onUnauthorized && !opts.noLogout) this.onUnauthorized();
      throw new ApiError(res.status, e.code, e.message);
    }
    return data;
  }
  get(p, o) { return this.req('GET', p, undefined, o); }
  post(p, b) { return this.req('POST', p, b); }
  patch(p, b) { return this.req('PATCH', p, b); }
  put(p, b) { return this.req('PUT', p, b); }
  del(p) { return this.req('DELETE', p); }

  // blob fetches a file with the token, for attachments (a plain link
  // could not carry the header).
  async blobURL(p) { return URL.createObjectURL(await this.req('GET', p, undefined, { blob: true })); }
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
