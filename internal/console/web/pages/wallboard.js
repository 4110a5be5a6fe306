// The queue wallboard: calls waiting, the oldest, agents by state, and the
// service level today when the reporting API is there.
import { h, api, clear, poll, age } from '../lib.js';

export const title = 'Wallboard';

// today reads the reporting API's realtime figures: "today" holds, per
// "kind/name", the sum of today's interval rows. null when the API is not
// there (report.driver off), and the wallboard shows dashes.
async function today() {
  try {
    const r = await api('GET', '/v1/reports/realtime', undefined, { noRedirect: true });
    return r.today || {};
  } catch { return null; }
}

// serviceLevel is UCCE's default formula (abandons ignored) over today's
// sums; "—" until a call counts toward it.
function serviceLevel(row) {
  if (!row) return '—';
  const den = row.sl_offered - row.abandoned_in_sl;
  return den > 0 ? Math.round(100 * row.answered_in_sl / den) + '%' : '—';
}

export function render(app) {
  const wall = h('div', { class: 'wall', id: 'wall' });
  app.append(h('h1', {}, 'Queue wallboard'), wall);
  // The day's figures change when a call ends, so they are read every
  // 10 s, not at every 2 s poll of the live figures.
  let day = null, dayAt = 0;
  poll(async () => {
    const live = await api('GET', '/api/live');
    if (Date.now() - dayAt > 10000) { day = await today(); dayAt = Date.now(); }
    const now = new Date(live.time).getTime();
    clear(wall);
    for (const q of live.queues) {
      const s = day?.['skill_group/' + q.name];
      const states = Object.entries(q.agents).map(([k, v]) => `${k.replace('_', ' ')} ${v}`).join(' · ') || 'no agents logged in';
      wall.append(h('div', { class: 'card', 'data-queue': q.name },
        h('h2', {}, q.name),
        h('div', { class: 'figs' },
          h('div', {}, h('div', { class: 'muted' }, 'Waiting'), h('div', { class: 'big', 'data-fig': 'waiting' }, q.waiting)),
          h('div', {}, h('div', { class: 'muted' }, 'Oldest'), h('div', { class: 'big' }, q.oldest ? age(q.oldest, now) : '—')),
          h('div', {}, h('div', { class: 'muted' }, 'Service level today'), h('div', { class: 'big', 'data-fig': 'sl-today' }, serviceLevel(s))),
          h('div', {}, h('div', { class: 'muted' }, 'Handled today'), h('div', { class: 'big', 'data-fig': 'handled-today' }, s ? s.handled : day ? 0 : '—')),
          h('div', {}, h('div', { class: 'muted' }, 'Abandoned today'), h('div', { class: 'big', 'data-fig': 'abandoned-today' }, s ? s.abandoned : day ? 0 : '—'))),
        h('p', { class: 'muted' }, states)));
    }
  }, 2000);
}
