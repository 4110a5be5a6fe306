// The supervisor's team: every agent live (over the CTI event WebSocket),
// forcing not ready or logout, and the queue figures.
import { h, api, clear, poll, age, pill, toast } from '../lib.js';

export const title = 'Team';

export async function render(app) {
  const rows = h('tbody', { id: 'team' });
  const queues = h('tbody', { id: 'team-queues' });
  const agents = new Map();
  const reasons = await api('GET', '/api/reason-codes');
  const paint = () => {
    clear(rows);
    for (const a of [...agents.values()].sort((x, y) => x.id.localeCompare(y.id))) {
      const why = h('select', {}, h('option', { value: 0 }, '(no reason)'), reasons.filter(r => r.kind === 'not_ready').map(r => h('option', { value: r.code }, r.label)));
      const force = async state => {
        try { await api('POST', `/cti/v1/agents/${encodeURIComponent(a.id)}/state`, { state, reason: state === 'not_ready' ? Number(why.value) : 0 }); }
        catch (e) { toast(e.message, true); }
      };
      rows.append(h('tr', { 'data-agent': a.id }, h('td', {}, a.id), h('td', {}, a.name || ''), h('td', {}, a.extension || ''),
        h('td', {}, pill(a.state)), h('td', {}, a.reason || ''), h('td', {}, age(a.since)), h('td', {}, a.call || ''),
        h('td', {}, a.state === 'logged_out' ? '' : h('span', { class: 'row' }, why,
          h('button', { onclick: () => force('not_ready') }, 'Force not ready'), h('button', { class: 'danger', onclick: () => force('logged_out') }, 'Force logout')))));
    }
  };
  const reload = async () => { for (const a of await api('GET', '/cti/v1/agents')) agents.set(a.id, a); paint(); };
  await reload();
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/cti/v1/events`);
  ws.onmessage = m => {
    const ev = JSON.parse(m.data);
    if (ev.type === 'agent_state' && ev.agent) {
      const a = agents.get(ev.agent) || { id: ev.agent };
      Object.assign(a, { state: ev.state, reason: ev.reason, since: ev.time });
      agents.set(ev.agent, a);
      paint();
    }
  };
  ws.onclose = () => setTimeout(reload, 2000);
  app.append(h('h1', {}, 'Team'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Agent', 'Name', 'Extension', 'State', 'Reason', 'In state', 'Call', ''].map(x => h('th', {}, x)))), rows),
    h('h2', {}, 'Queues'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Queue', 'Waiting', 'Oldest', 'Expected wait', 'Agents'].map(x => h('th', {}, x)))), queues));
  poll(async () => {
    const qs = await api('GET', '/cti/v1/queues');
    clear(queues).append(...qs.map(q => h('tr', {}, h('td', {}, q.name), h('td', {}, q.waiting), h('td', {}, q.oldest ? age(q.oldest) : '—'),
      h('td', {}, Math.round(q.expected_wait) + ' s'), h('td', {}, Object.entries(q.agents).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ')))));
    paint(); // the timers
  }, 3000);
}
