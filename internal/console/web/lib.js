// Small helpers shared by every page: DOM building without innerHTML (so
// no data from the server is ever parsed as markup) and JSON calls that
// carry the session's CSRF token.

export function h(tag, attrs = {}, ...kids) {
  const svg = ['svg', 'g', 'rect', 'path', 'text', 'circle', 'line', 'title', 'defs', 'marker', 'polyline'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && !svg) { el.setAttribute('value', v); el.value = v; }
    else if (k === 'checked' && !svg) el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

export const session = { csrf: '', role: '', user: '', agent: '' };

export class APIError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body, opts = {}) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = session.csrf;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !opts.noRedirect) {
    location.href = '/login?next=' + encodeURIComponent(location.pathname);
    throw new APIError(401, { error: 'signed out' });
  }
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = text; } }
  if (!res.ok) throw new APIError(res.status, typeof data === 'object' ? data : { error: String(data) });
  return data;
}

export function toast(msg, bad = false) {
  const box = document.getElementById('toast');
  const el = h('div', { class: bad ? 'bad' : '' }, msg);
  box.append(el);
  setTimeout(() => el.remove(), bad ? 8000 : 3000);
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

export function age(t, now = Date.now()) {
  if (!t) return '';
  const s = Math.max(0, Math.floor((now - new Date(t).getTime()) / 1000));
  const m = Math.floor(s / 60), r = s % 60;
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(r).padStart(2, '0')}`;
}

export function pill(text, cls) { return h('span', { class: 'pill ' + (cls || text) }, text); }

// poll runs fn now and every ms until the page is left; errors are shown
// once and retried.
export function poll(fn, ms) {
  let stopped = false, timer;
  const tick = async () => {
    try { await fn(); } catch (e) { if (e.status !== 401) console.warn(e); }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
