// Reports over the reporting API (/v1/reports): interval charts per call
// type or skill group over a range, a call search opening one call's
// journey as a timeline, and CSV downloads.
import { h, api, clear, toast } from '../lib.js';

export const title = 'Reports';

const iso = d => d.toISOString().slice(0, 16);

export async function render(app) {
  const now = new Date();
  const from = h('input', { type: 'datetime-local', id: 'rep-from', value: iso(new Date(now.getTime() - 86400000 - now.getTimezoneOffset() * 60000)) });
  const to = h('input', { type: 'datetime-local', id: 'rep-to', value: iso(new Date(now.getTime() + 3600000 - now.getTimezoneOffset() * 60000)) });
  const by = h('select', { id: 'rep-by' }, h('option', { value: 'call_type' }, 'call type'), h('option', { value: 'skill_group' }, 'skill group'));
  const chart = h('div', { id: 'rep-chart' });
  const table = h('div', { id: 'rep-table' });
  const csv = h('a', { id: 'rep-csv', href: '#' }, 'Download CSV');
  const q = h('input', { id: 'search-q', placeholder: 'number (ANI/DNIS) or agent' });
  const results = h('div', { id: 'search-results' });
  const journey = h('div', { id: 'journey' });
  const range = () => `from=${new Date(from.value).toISOString()}&to=${new Date(to.value).toISOString()}`;

  const show = async () => {
    const qs = `by=${by.value}&${range()}`;
    csv.href = `/v1/reports/intervals?${qs}&format=csv`;
    try {
      const r = await api('GET', `/v1/reports/intervals?${qs}`);
      const rows = r.rows || r || [];
      clear(chart).append(drawChart(rows, by.value));
      clear(table).append(h('table', {}, h('tr', {}, ['Interval', by.value.replace('_', ' '), 'Offered', 'Handled', 'Abandoned', 'SL %', 'ASA s', 'AHT s'].map(x => h('th', {}, x))),
        rows.map(x => h('tr', {}, h('td', {}, new Date(x.interval || x.start).toLocaleString()), h('td', {}, x[by.value] || x.name || ''),
          h('td', {}, x.offered ?? 0), h('td', {}, x.handled ?? 0), h('td', {}, x.abandoned ?? 0),
          h('td', {}, fmt(x.service_level)), h('td', {}, fmt(x.asa)), h('td', {}, fmt(x.aht))))));
    } catch (e) {
      clear(chart).append(h('p', { class: 'error' }, e.status === 404 ? 'The reporting API is not running in this process.' : e.message));
    }
  };
  const search = async () => {
    try {
      const v = q.value.trim();
      const key = /^\d+$/.test(v) ? 'number' : 'agent';
      const r = await api('GET', `/v1/reports/calls?${key}=${encodeURIComponent(v)}&${range()}`);
      const calls = r.calls || r || [];
      clear(results).append(h('table', {}, h('tr', {}, ['Call', 'Start', 'ANI', 'DNIS', 'Call type', 'Agent', 'Outcome'].map(x => h('th', {}, x))),
        calls.map(c => h('tr', {}, h('td', {}, h('a', { href: '#', 'data-call': c.call || c.id, onclick: ev => { ev.preventDefault(); open(c.call || c.id); } }, (c.call || c.id || '').slice(0, 12))),
          h('td', {}, new Date(c.start || c.started).toLocaleString()), h('td', {}, c.ani), h('td', {}, c.dnis), h('td', {}, c.call_type), h('td', {}, c.agent || ''), h('td', {}, c.outcome || '')))));
    } catch (e) { toast(e.message, true); }
  };
  const open = async id => {
    const r = await api('GET', `/v1/reports/calls/${encodeURIComponent(id)}`);
    const evs = r.events || r.journey || [];
    clear(journey).append(h('h2', {}, 'Call ', id), h('ul', { class: 'timeline' },
      evs.map(e => h('li', {}, h('strong', {}, new Date(e.time || e.at).toLocaleTimeString()), ' ', e.kind || e.type, ' ', h('span', { class: 'muted' }, summary(e))))));
  };
  app.append(h('h1', {}, 'Reports'),
    h('div', { class: 'card' }, h('div', { class: 'row' }, 'From', from, 'to', to, 'by', by, h('button', { class: 'primary', id: 'rep-show', onclick: show }, 'Show'), csv), chart, table),
    h('div', { class: 'card' }, h('h2', {}, 'Find a call'), h('div', { class: 'row' }, q, h('button', { id: 'search-go', onclick: search }, 'Search')), results, journey));
  await show();
}

const fmt = v => (v === undefined || v === null ? '—' : Math.round(v * 10) / 10);

function summary(e) {
  const skip = new Set(['time', 'at', 'kind', 'type', 'call', 'id', 'seq']);
  return Object.entries(e).filter(([k, v]) => !skip.has(k) && v !== '' && v !== null && typeof v !== 'object').map(([k, v]) => `${k}=${v}`).join(' ');
}

// drawChart: offered, handled and abandoned per interval as grouped bars.
function drawChart(rows, key) {
  const byT = new Map();
  for (const r of rows) {
    const t = r.interval || r.start;
    const o = byT.get(t) || { offered: 0, handled: 0, abandoned: 0 };
    o.offered += r.offered || 0; o.handled += r.handled || 0; o.abandoned += r.abandoned || 0;
    byT.set(t, o);
  }
  const ts = [...byT.keys()].sort();
  const W = Math.max(400, ts.length * 42 + 60), H = 220, max = Math.max(1, ...[...byT.values()].map(o => o.offered));
  const svg = h('svg', { class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, 'data-points': ts.length, role: 'img', 'aria-label': `calls per interval by ${key}` });
  for (let i = 0; i <= 4; i++) {
    const y = 20 + (H - 60) * i / 4;
    svg.append(h('line', { x1: 40, x2: W - 10, y1: y, y2: y }), h('text', { x: 4, y: y + 4 }, Math.round(max * (4 - i) / 4)));
  }
  ts.forEach((t, i) => {
    const o = byT.get(t), x = 46 + i * 42;
    ['offered', 'handled', 'abandoned'].forEach((k, j) => {
      const hgt = (H - 60) * o[k] / max;
      svg.append(h('rect', { class: k, x: x + j * 12, y: H - 40 - hgt, width: 11, height: hgt, 'data-value': o[k] }, h('title', {}, `${k} ${o[k]}`)));
    });
    svg.append(h('text', { x, y: H - 24 }, new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
  });
  svg.append(h('text', { x: 46, y: 12 }, 'offered · handled · abandoned'));
  return svg;
}
