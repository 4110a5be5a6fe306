// Reports over the reporting API (/v1/reports/..., docs/report-api.md),
// reached through the console's session: interval charts (offered,
// handled, abandoned; service level, ASA, AHT) per call type or skill
// group over a chosen range, a call search (number, agent, time) whose
// calls open as a timeline of their whole journey, and CSV downloads of
// every table shown.
import { h, api, clear, toast } from '../lib.js';

export const title = 'Reports';

// datetime-local wants local time without a zone.
const local = d => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
const sec = ns => ns / 1e9;
const pct = x => (x === null ? '—' : Math.round(x * 1000) / 10 + '%');
const num = x => (x === null || x === undefined || Number.isNaN(x) ? '—' : (Math.round(x * 10) / 10).toFixed(1));
const hhmm = t => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

// The three service-level formulas of docs/report-api.md; a zero
// denominator gives null ("no calls"), not 0 %.
const slFormulas = {
  ignored: c => ratio(c.answered_in_sl, c.sl_offered - c.abandoned_in_sl),
  negative: c => ratio(c.answered_in_sl, c.sl_offered),
  positive: c => ratio(c.answered_in_sl + c.abandoned_in_sl, c.sl_offered),
};
const ratio = (a, b) => (b > 0 ? a / b : null);
const counters = ['offered', 'handled', 'abandoned', 'short_abandoned', 'sl_offered', 'answered_in_sl', 'abandoned_in_sl', 'rona',
  'answer_wait_ns', 'talk_ns', 'hold_ns', 'wrapup_ns'];

// sum adds interval rows' counters; the rates are computed from the sums
// (an average of rates would weigh a quiet interval like a busy one).
function sum(rows) {
  const s = Object.fromEntries(counters.map(k => [k, 0]));
  for (const r of rows) for (const k of counters) s[k] += r[k] || 0;
  return s;
}
const asa = c => (c.handled ? sec(c.answer_wait_ns) / c.handled : null);
const aht = c => (c.handled ? sec(c.talk_ns + c.hold_ns + c.wrapup_ns) / c.handled : null);

export async function render(app) {
  const today = new Date(); today.setHours(0, 0, 0, 0);
  const tomorrow = new Date(today.getTime() + 86400000);
  const from = h('input', { type: 'datetime-local', id: 'rep-from', value: local(today) });
  const to = h('input', { type: 'datetime-local', id: 'rep-to', value: local(tomorrow) });
  const kind = h('select', { id: 'rep-kind' }, h('option', { value: 'call_type' }, 'call type'), h('option', { value: 'skill_group' }, 'skill group'));
  const name = h('select', { id: 'rep-name' }, h('option', { value: '' }, '(all)'));
  const sl = h('select', { id: 'rep-sl', title: 'service level formula' },
    h('option', { value: 'ignored' }, 'abandons ignored'), h('option', { value: 'negative' }, 'abandons negative'), h('option', { value: 'positive' }, 'abandons positive'));
  const volume = h('div', { id: 'rep-chart' });
  const rates = h('div', { id: 'rep-rates' });
  const table = h('div', { id: 'rep-table' });
  const csvLinks = h('span', { class: 'row', id: 'rep-csv' });
  const number = h('input', { id: 'search-number', placeholder: 'ANI or DNIS', size: 12 });
  const agent = h('input', { id: 'search-agent', placeholder: 'agent id', size: 10 });
  const results = h('div', { id: 'search-results' });
  const journey = h('div', { id: 'journey' });

  // range is the common from/to; an empty or reversed range is refused
  // here with the same words the API would use.
  const range = () => {
    const f = new Date(from.value), t = new Date(to.value);
    if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime())) throw new Error('choose a from and a to time');
    if (t <= f) throw new Error('to must be after from');
    return `from=${encodeURIComponent(f.toISOString())}&to=${encodeURIComponent(t.toISOString())}`;
  };
  const csv = (path, qs, label, id) => h('a', { href: `/v1/reports/${path}?${qs}&format=csv`, id, download: '' }, label);

  const show = async () => {
    let qs;
    try { qs = `kind=${kind.value}&${range()}&limit=100000`; } catch (e) { toast(e.message, true); return; }
    const picked = name.value;
    let rows;
    try {
      rows = await api('GET', `/v1/reports/intervals?${qs}`);
    } catch (e) {
      clear(volume).append(h('p', { class: 'error' }, e.status === 404 ? 'The reporting API is not running in this process (report.driver off).' : e.message));
      clear(rates); clear(table);
      return;
    }
    // The name list comes from the rows of the range, so it offers what
    // has figures; the choice is kept when still there.
    const names = [...new Set(rows.map(r => r.name))].sort();
    clear(name).append(h('option', { value: '' }, '(all)'), names.map(n => h('option', { value: n, selected: n === picked }, n)));
    if (picked && names.includes(picked)) rows = rows.filter(r => r.name === picked);
    const byStart = new Map();
    for (const r of rows) (byStart.get(r.start) || byStart.set(r.start, []).get(r.start)).push(r);
    const points = [...byStart.keys()].sort().map(t => ({ t, c: sum(byStart.get(t)) }));
    const f = slFormulas[sl.value];
    clear(volume).append(drawVolume(points, `${kind.value.replace('_', ' ')} ${name.value || '(all)'}`));
    clear(rates).append(drawRates(points, f));
    const total = sum(rows);
    const line = (label, c, attrs = {}) => h('tr', attrs, label,
      h('td', {}, c.offered), h('td', {}, c.handled), h('td', {}, c.abandoned), h('td', {}, c.rona),
      h('td', {}, pct(f(c))), h('td', {}, num(asa(c))), h('td', {}, num(aht(c))));
    clear(table).append(h('table', { id: 'rep-rows' },
      h('thead', {}, h('tr', {}, ['Interval', kind.value.replace('_', ' '), 'Offered', 'Handled', 'Abandoned', 'RONA', 'Service level', 'ASA s', 'AHT s'].map(x => h('th', {}, x)))),
      h('tbody', {},
        rows.map(r => line([h('td', {}, new Date(r.start).toLocaleString()), h('td', {}, r.name)], r, { 'data-name': r.name, 'data-start': r.start })),
        rows.length ? line([h('th', {}, 'Total'), h('td', {}, rows.length === 1 ? '1 row' : rows.length + ' rows')], total, { class: 'total', id: 'rep-total' })
          : h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No calls ended in this range.')))));
    const nq = picked ? `&name=${encodeURIComponent(picked)}` : '';
    clear(csvLinks).append('CSV:', csv('intervals', qs + nq, 'intervals', 'csv-intervals'), csv('tcd', range(), 'call detail (TCD)', 'csv-tcd'),
      csv('rcd', range(), 'route detail (RCD)', 'csv-rcd'), csv('agent_state', range(), 'agent states', 'csv-agent-state'));
  };

  const search = async () => {
    let qs;
    try { qs = range(); } catch (e) { toast(e.message, true); return; }
    const n = number.value.trim(), a = agent.value.trim();
    if (n) qs += `&number=${encodeURIComponent(n)}`;
    if (a) qs += `&agent=${encodeURIComponent(a)}`;
    let legs;
    try { legs = await api('GET', `/v1/reports/tcd?${qs}&limit=5000`); } catch (e) { toast(e.message, true); return; }
    const calls = callsOf(legs);
    clear(results).append(
      h('div', { class: 'row' }, `${calls.length} call${calls.length === 1 ? '' : 's'}`, csv('tcd', qs, 'CSV', 'csv-search')),
      h('table', { id: 'search-table' },
        h('thead', {}, h('tr', {}, ['Start', 'ANI', 'DNIS', 'Call type', 'Agents', 'Queue s', 'Talk s', 'Outcome', ''].map(x => h('th', {}, x)))),
        h('tbody', {}, calls.map(c => h('tr', { 'data-call': c.id },
          h('td', {}, new Date(c.start).toLocaleString()), h('td', {}, c.ani), h('td', {}, c.dnis), h('td', {}, c.callType),
          h('td', {}, c.agents.join(', ')), h('td', {}, num(c.queue)), h('td', {}, num(c.talk)), h('td', {}, c.outcome),
          h('td', {}, h('button', { class: 'open-journey', onclick: () => open(c.id) }, 'Journey')))))));
  };

  const open = async id => {
    let evs;
    try { evs = await api('GET', `/v1/reports/calls/${encodeURIComponent(id)}/journey`); } catch (e) { toast(e.message, true); return; }
    clear(journey).append(drawJourney(id, evs),
      h('div', { class: 'row' }, csv(`calls/${encodeURIComponent(id)}/journey`, '', 'journey CSV', 'csv-journey')));
    journey.scrollIntoView({ block: 'nearest' });
  };

  for (const el of [kind, name, sl]) el.addEventListener('change', show);
  app.append(h('h1', {}, 'Reports'),
    h('div', { class: 'card' },
      h('div', { class: 'row' }, 'From', from, 'to', to, 'per', kind, name, 'service level', sl,
        h('button', { class: 'primary', id: 'rep-show', onclick: show }, 'Show')),
      h('div', { class: 'charts' }, volume, rates), table, csvLinks),
    h('div', { class: 'card' }, h('h2', {}, 'Find a call'),
      h('div', { class: 'row' }, 'Number', number, 'agent', agent, h('span', { class: 'muted' }, 'in the range above'),
        h('button', { id: 'search-go', onclick: search }, 'Search')),
      results, journey));
  await show();
}

// callsOf folds TCD legs into calls: the caller leg gives the call's
// start, numbers, call type, queue and talk time and outcome; agent legs
// name the agents. A search by agent returns agent legs only, which then
// stand in.
function callsOf(legs) {
  const by = new Map();
  for (const l of legs) {
    let c = by.get(l.call_id);
    if (!c) by.set(l.call_id, c = { id: l.call_id, start: l.start, ani: '', dnis: '', callType: '', agents: [], queue: null, talk: null, agentTalk: 0, outcome: '' });
    const d = l.data || {};
    c.ani ||= d.ani || ''; c.dnis ||= d.dnis || ''; c.callType ||= l.call_type || '';
    if (l.start < c.start) c.start = l.start;
    if (l.leg_kind === 'caller') {
      Object.assign(c, { start: l.start, queue: sec(l.queue_ns), talk: sec(l.talk_ns), outcome: l.disposition });
      if (l.call_type) c.callType = l.call_type;
    } else if (l.leg_kind === 'agent') {
      if (l.agent && !c.agents.includes(l.agent)) c.agents.push(l.agent);
      c.outcome ||= l.disposition;
      c.agentTalk += sec(l.talk_ns);
    }
  }
  // Without the caller leg (a search by agent) the talk is the agents'
  // legs' and the queue time is not known.
  for (const c of by.values()) if (c.talk === null) c.talk = c.agentTalk;
  return [...by.values()].sort((a, b) => (a.start < b.start ? 1 : -1));
}

// Colours of the journey's event kinds, by what part of the call they are.
const phase = k => (k.startsWith('leg.') ? 'sip'
  : k.startsWith('ivr') ? 'ivr'
    : k.startsWith('queue') || k.startsWith('route') ? 'route'
      : k.startsWith('agent') ? 'agent' : 'call');

// describe says what an event is about in a few words: its agent, queue,
// script node, target, state, outcome, SIP code and peer.
function describe(e) {
  const bits = [];
  if (e.Agent) bits.push('agent ' + e.Agent);
  if (e.Queue) bits.push('queue ' + e.Queue);
  if (e.CallType) bits.push('call type ' + e.CallType);
  if (e.Script) bits.push((e.Kind === 'ivr.result' ? 'micro-app ' : 'script ') + e.Script);
  if (e.Node) bits.push('at ' + e.Node);
  if (e.Target) bits.push('→ ' + e.Target);
  if (e.State) bits.push(e.State);
  if (e.ReasonCode) bits.push('reason ' + e.ReasonCode);
  if (e.Outcome) bits.push(e.Outcome);
  if (e.Leg) bits.push('leg ' + e.Leg);
  // Code is a SIP status on call and leg events, a priority on queue.enter.
  if (e.Code) bits.push((e.Kind === 'queue.enter' ? 'priority ' : e.Kind.startsWith('leg.') || e.Kind.startsWith('call.') ? 'SIP ' : 'code ') + e.Code);
  if (e.Reason) bits.push(e.Reason);
  if (e.Peer) bits.push(e.Peer);
  if (e.Data?.ani) bits.push(`${e.Data.ani} → ${e.Data.dnis}`);
  return bits.join(' · ');
}

// drawJourney: a strip with every event at its time, then the list in
// Seq order with the time since the call began.
function drawJourney(id, evs) {
  const t0 = new Date(evs[0].Time).getTime();
  const t1 = Math.max(t0 + 1000, ...evs.map(e => new Date(e.Time).getTime()));
  const W = 900, H = 46, x = t => 10 + (W - 20) * (new Date(t).getTime() - t0) / (t1 - t0);
  const strip = h('svg', { class: 'chart journey-strip', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'the call over time' },
    h('line', { x1: 10, x2: W - 10, y1: 20, y2: 20 }),
    evs.map(e => h('circle', { class: phase(e.Kind), cx: x(e.Time), cy: 20, r: 5 }, h('title', {}, `${e.Kind} ${describe(e)}`))),
    h('text', { x: 10, y: 42 }, new Date(t0).toLocaleTimeString()), h('text', { x: W - 10, y: 42, 'text-anchor': 'end' }, `+${((t1 - t0) / 1000).toFixed(1)} s`));
  return h('div', { class: 'journey', 'data-call': id },
    h('h2', {}, 'Journey of call ', h('code', {}, id)), strip,
    h('ol', { class: 'timeline', id: 'journey-events' }, evs.map(e => h('li', { class: phase(e.Kind), 'data-kind': e.Kind, 'data-seq': e.Seq },
      h('span', { class: 'at' }, `+${((new Date(e.Time).getTime() - t0) / 1000).toFixed(2)} s`), ' ',
      h('strong', {}, e.Kind), ' ', h('span', { class: 'muted' }, describe(e))))));
}

// drawVolume: offered, handled and abandoned per interval as grouped bars.
function drawVolume(points, label) {
  const W = Math.max(420, points.length * 46 + 70), H = 230, top = 24, bottom = H - 40;
  // The axis goes to a multiple of 4, so its five marks are whole calls.
  const max = 4 * Math.ceil(Math.max(1, ...points.map(p => Math.max(p.c.offered, p.c.handled, p.c.abandoned))) / 4);
  const svg = h('svg', { class: 'chart', id: 'chart-volume', width: W, height: H, viewBox: `0 0 ${W} ${H}`, 'data-points': points.length,
    role: 'img', 'aria-label': `calls per interval, ${label}` });
  for (let i = 0; i <= 4; i++) {
    const y = top + (bottom - top) * i / 4;
    svg.append(h('line', { x1: 40, x2: W - 10, y1: y, y2: y }), h('text', { x: 4, y: y + 4 }, Math.round(max * (4 - i) / 4)));
  }
  points.forEach((p, i) => {
    const x = 50 + i * 46;
    ['offered', 'handled', 'abandoned'].forEach((k, j) => {
      const hg = (bottom - top) * p.c[k] / max;
      svg.append(h('rect', { class: k, x: x + j * 12, y: bottom - hg, width: 11, height: hg, 'data-start': p.t, 'data-value': p.c[k] },
        h('title', {}, `${hhmm(p.t)} ${k} ${p.c[k]}`)));
    });
    svg.append(h('text', { x, y: bottom + 16 }, hhmm(p.t)));
  });
  svg.append(h('text', { x: 50, y: 14 }, `offered · handled · abandoned — ${label}`));
  if (!points.length) svg.append(h('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no calls in this range'));
  return svg;
}

// drawRates: service level (%) per interval as a line on the left axis,
// ASA and AHT (seconds) as lines on the right one.
function drawRates(points, f) {
  const W = Math.max(420, points.length * 46 + 90), H = 230, top = 24, bottom = H - 40, left = 44, right = W - 46;
  const series = points.map(p => ({ t: p.t, sl: f(p.c), asa: asa(p.c), aht: aht(p.c) }));
  const maxS = 4 * Math.ceil(Math.max(1, ...series.flatMap(s => [s.asa || 0, s.aht || 0])) / 4);
  const X = i => (points.length < 2 ? (left + right) / 2 : left + 10 + (right - left - 20) * i / (points.length - 1));
  const Y = (v, max) => bottom - (bottom - top) * v / max;
  const svg = h('svg', { class: 'chart', id: 'chart-rates', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'service level, ASA and AHT per interval' });
  for (let i = 0; i <= 4; i++) {
    const y = top + (bottom - top) * i / 4;
    svg.append(h('line', { x1: left, x2: right, y1: y, y2: y }),
      h('text', { x: 4, y: y + 4 }, `${100 * (4 - i) / 4}%`),
      h('text', { x: right + 4, y: y + 4 }, `${Math.round(maxS * (4 - i) / 4)} s`));
  }
  const line = (key, max, cls) => {
    const pts = series.map((s, i) => [i, s[key]]).filter(([, v]) => v !== null);
    if (!pts.length) return;
    svg.append(h('polyline', { class: cls, points: pts.map(([i, v]) => `${X(i)},${Y(v, max)}`).join(' ') }),
      ...pts.map(([i, v]) => h('circle', { class: cls, cx: X(i), cy: Y(v, max), r: 3, 'data-value': v }, h('title', {}, `${hhmm(series[i].t)} ${key} ${key === 'sl' ? pct(v) : num(v) + ' s'}`))));
  };
  line('sl', 1, 'sl'); line('asa', maxS, 'asa'); line('aht', maxS, 'aht');
  series.forEach((s, i) => { if (points.length < 12 || i % Math.ceil(points.length / 12) === 0) svg.append(h('text', { x: X(i) - 14, y: bottom + 16 }, hhmm(s.t))); });
  svg.append(h('text', { x: left, y: 14, class: 'sl' }, 'service level (%, left)'),
    h('text', { x: left + 140, y: 14, class: 'asa' }, 'ASA'), h('text', { x: left + 175, y: 14, class: 'aht' }, 'AHT (s, right)'));
  return svg;
}
