// Calls in progress and where each is, with the scripts drawn and the calls
// at each node counted. Polled every second. Each call has a Clear button
// (admins and supervisors): a first press arms it for a few seconds as
// "Confirm clear", a second ends the call on every leg (POST
// /api/calls/{id}/clear) - two presses, so a misclick on a table that
// redraws every second ends nobody's call.
import { h, api, clear, poll, age, pill, toast } from '../lib.js';
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
  const armed = new Map(); // call id → until when its Clear is armed
  const clearButton = c => {
    const on = (armed.get(c.id) || 0) > Date.now();
    return h('button', {
      class: on ? 'danger' : '', 'data-clear': c.id, title: 'End this call on every leg',
      onclick: async () => {
        if (!((armed.get(c.id) || 0) > Date.now())) {
          armed.set(c.id, Date.now() + 5000);
          paint();
          return;
        }
        armed.delete(c.id);
        try {
          const r = await api('POST', `/api/calls/${encodeURIComponent(c.id)}/clear`);
          toast(`Call ${c.id.slice(0, 12)} cleared (${r.cleared_by})`);
        } catch (e) { toast(e.message, true); }
        paint();
      },
    }, on ? 'Confirm clear' : 'Clear');
  };
  const paint = () => {
    if (!last) return;
    const now = new Date(last.time).getTime();
    clear(calls);
    for (const c of last.calls) calls.append(h('tr', { 'data-call': c.id, 'data-where': c.where },
      h('td', {}, c.id.slice(0, 12)), h('td', {}, c.ani), h('td', {}, c.dnis), h('td', {}, c.call_type),
      h('td', {}, pill(c.where)), h('td', {}, `${c.script} / ${c.node}`),
      h('td', {}, c.agent || (c.queues || []).join(', ')), h('td', {}, age(c.started, now)), h('td', {}, clearButton(c))));
    if (!last.calls.length) calls.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No calls.')));
  };
  app.append(h('h1', {}, 'Live'), summary,
    h('div', { class: 'split' },
      h('div', {}, h('h2', {}, 'Calls in progress'),
        h('table', {}, h('thead', {}, h('tr', {}, ['Call', 'ANI', 'DNIS', 'Call type', 'Where', 'Node', 'Queue / agent', 'Age', ''].map(x => h('th', {}, x)))), calls)),
      h('div', {}, h('h2', {}, 'Script'), h('div', { class: 'row' }, pick), diagram)));
  poll(async () => {
    last = await api('GET', '/api/live');
    paint();
    const by = w => last.calls.filter(c => c.where === w).length;
    clear(summary).append(`${last.calls.length} call(s): `, pill(`IVR ${by('ivr')}`, 'ivr'), pill(`queue ${by('queue')}`, 'queue'),
      pill(`ringing ${by('offered')}`, 'offered'), pill(`agent ${by('agent')}`, 'agent'));
    draw();
  }, 1000);
}
