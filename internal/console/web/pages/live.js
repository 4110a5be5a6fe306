// Calls in progress and where each is, with the scripts drawn and the calls
// at each node counted. Polled every second.
import { h, api, clear, poll, age, pill } from '../lib.js';
import { drawFlow } from '../flow.js';

export const title = 'Live';

export async function render(app) {
  const calls = h('tbody', { id: 'live-calls' });
  const pick = h('select', { id: 'live-script' });
  const diagram = h('div', { id: 'live-diagram' });
  const summary = h('div', { class: 'row', id: 'live-summary' });
  let scripts = await api('GET', '/api/scripts');
  pick.append(...scripts.map(s => h('option', { value: s.name }, s.name)));
  let last = null;
  const draw = () => {
    const s = scripts.find(x => x.name === pick.value);
    clear(diagram);
    if (s) diagram.append(drawFlow(s, last?.nodes?.[s.name] || {}));
  };
  pick.addEventListener('change', draw);
  app.append(h('h1', {}, 'Live'), summary,
    h('div', { class: 'split' },
      h('div', {}, h('h2', {}, 'Calls in progress'),
        h('table', {}, h('thead', {}, h('tr', {}, ['Call', 'ANI', 'DNIS', 'Call type', 'Where', 'Node', 'Queue / agent', 'Age'].map(x => h('th', {}, x)))), calls)),
      h('div', {}, h('h2', {}, 'Script'), h('div', { class: 'row' }, pick), diagram)));
  poll(async () => {
    last = await api('GET', '/api/live');
    const now = new Date(last.time).getTime();
    clear(calls);
    for (const c of last.calls) calls.append(h('tr', { 'data-call': c.id, 'data-where': c.where },
      h('td', {}, c.id.slice(0, 12)), h('td', {}, c.ani), h('td', {}, c.dnis), h('td', {}, c.call_type),
      h('td', {}, pill(c.where)), h('td', {}, `${c.script} / ${c.node}`),
      h('td', {}, c.agent || (c.queues || []).join(', ')), h('td', {}, age(c.started, now))));
    if (!last.calls.length) calls.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No calls.')));
    const by = w => last.calls.filter(c => c.where === w).length;
    clear(summary).append(`${last.calls.length} call(s): `, pill(`IVR ${by('ivr')}`, 'ivr'), pill(`queue ${by('queue')}`, 'queue'),
      pill(`ringing ${by('offered')}`, 'offered'), pill(`agent ${by('agent')}`, 'agent'));
    draw();
  }, 1000);
}
