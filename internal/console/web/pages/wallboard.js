// The queue wallboard: calls waiting, the oldest, agents by state, and the
// service level today when the reporting API is there.
import { h, api, clear, poll, age } from '../lib.js';

export const title = 'Wallboard';

async function serviceLevels() {
  // Today's figures per skill group from the reporting API, when it runs.
  const from = new Date(); from.setHours(0, 0, 0, 0);
  try {
    const r = await api('GET', `/v1/reports/intervals?by=skill_group&from=${from.toISOString()}&to=${new Date().toISOString()}`, undefined, { noRedirect: true });
    const out = {};
    for (const row of r.rows || r || []) {
      const k = row.skill_group || row.name;
      const o = (out[k] ||= { offered: 0, within: 0 });
      o.offered += row.offered || 0; o.within += row.answered_within_sl || row.within_sl || 0;
    }
    return out;
  } catch { return null; }
}

export function render(app) {
  const wall = h('div', { class: 'wall', id: 'wall' });
  app.append(h('h1', {}, 'Queue wallboard'), wall);
  let sl = null, slAt = 0;
  poll(async () => {
    const live = await api('GET', '/api/live');
    if (Date.now() - slAt > 30000) { sl = await serviceLevels(); slAt = Date.now(); }
    const now = new Date(live.time).getTime();
    clear(wall);
    for (const q of live.queues) {
      const s = sl?.[q.name];
      const states = Object.entries(q.agents).map(([k, v]) => `${k.replace('_', ' ')} ${v}`).join(' · ') || 'no agents logged in';
      wall.append(h('div', { class: 'card', 'data-queue': q.name },
        h('h2', {}, q.name),
        h('div', { class: 'figs' },
          h('div', {}, h('div', { class: 'muted' }, 'Waiting'), h('div', { class: 'big', 'data-fig': 'waiting' }, q.waiting)),
          h('div', {}, h('div', { class: 'muted' }, 'Oldest'), h('div', { class: 'big' }, q.oldest ? age(q.oldest, now) : '—')),
          h('div', {}, h('div', { class: 'muted' }, 'Service level today'), h('div', { class: 'big' }, s && s.offered ? Math.round(100 * s.within / s.offered) + '%' : '—'))),
        h('p', { class: 'muted' }, states)));
    }
  }, 2000);
}
