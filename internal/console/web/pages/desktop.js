// The agent desktop (Finesse's place): state with a timer, state buttons
// with reason codes, the offered call's data popped, call control and
// wrap-up. Events come over the CTI WebSocket on the console's origin;
// requests go to /cti/v1/... with the session's CSRF token.
import { h, api, clear, session, pill, age, toast } from '../lib.js';

export const title = 'Agent desktop';

export async function render(app) {
  const me = session.agent;
  const A = `/cti/v1/agents/${encodeURIComponent(me)}`;
  const reasons = await api('GET', '/api/reason-codes');
  const of = kind => reasons.filter(r => r.kind === kind);
  const st = { state: 'logged_out', reason: 0, since: new Date().toISOString(), call: '', data: null, callState: '', consult: '', consultWith: '' };

  const stateEl = h('span', { id: 'agent-state' });
  const timer = h('span', { class: 'muted', id: 'state-timer' });
  const nrWhy = h('select', { id: 'not-ready-reason' }, h('option', { value: 0 }, '(no reason)'), of('not_ready').map(r => h('option', { value: r.code }, r.label)));
  const outWhy = h('select', { id: 'logout-reason' }, h('option', { value: 0 }, '(no reason)'), of('logout').map(r => h('option', { value: r.code }, r.label)));
  const wrapWhy = h('select', { id: 'wrapup-reason' }, h('option', { value: 0 }, '(choose)'), of('wrap_up').map(r => h('option', { value: r.code }, r.label)));
  const pop = h('div', { id: 'screen-pop' });
  const controls = h('div', { id: 'call-controls' });
  const wrap = h('div', { id: 'wrapup' });
  const queues = h('tbody', { id: 'my-queues' });

  // The answer to a state request is a snapshot that events may already
  // have overtaken (ready → reserved → talking arrive within milliseconds);
  // it is used only when no event came in the meantime.
  let evSeq = 0;
  const setState = async (state, reason = 0) => {
    const seq = evSeq;
    try {
      const v = await api('POST', A + '/state', { state, reason: Number(reason) });
      if (seq === evSeq) Object.assign(st, { state: v.state, reason: v.reason || 0, since: v.since || new Date().toISOString() });
      paint();
    } catch (e) { toast(e.message, true); }
  };
  const callAction = async (action, body) => {
    try { return await api('POST', `${A}/calls/${encodeURIComponent(st.call)}/${action}`, body); }
    catch (e) { toast(e.message, true); throw e; }
  };
  const act = action => () => callAction(action).catch(() => {});

  // The consult's own state, which the router's agent state does not show
  // (the agent stays talking or on hold): '' (none), 'pending' (the
  // request is out: the target is being rung), 'active' (the target
  // answered: complete, cancel or conference), 'conference' (all three
  // joined). The consult's 200 starts it; complete, cancel and the call's
  // end finish it. A 409 means the call server has no consult any more
  // (the target hung up, say), so the desktop forgets it too.
  const consultAction = action => async () => {
    try {
      await callAction(action);
      st.consult = action === 'conference' ? 'conference' : '';
    } catch (e) {
      if (e.status === 409) st.consult = '';
    }
    paint();
  };
  const startConsult = async () => {
    const to = consultTo.value, dest = consultDest.value.trim();
    st.consult = 'pending';
    paint();
    try {
      const r = await callAction('consult', { to, dest });
      st.consult = 'active';
      st.consultWith = (r && r.agent) || dest;
    } catch {
      st.consult = '';
    }
    paint();
  };

  // The call controls are built once, so that a destination being typed
  // survives the events that repaint the desktop; paint only enables and
  // disables them.
  const callState = h('span', { id: 'call-state' });
  const consultState = h('span', { id: 'consult-state' });
  const transferTo = h('select', { id: 'transfer-to' }, ['queue', 'agent', 'number'].map(x => h('option', { value: x }, x)));
  const transferDest = h('input', { id: 'transfer-dest', placeholder: 'skill group, agent id or number' });
  const consultTo = h('select', { id: 'consult-to' }, ['agent', 'queue', 'number'].map(x => h('option', { value: x }, x)));
  const consultDest = h('input', { id: 'consult-dest', placeholder: 'agent id, skill group or number' });
  const btn = {
    hold: h('button', { id: 'hold', onclick: act('hold') }, 'Hold'),
    retrieve: h('button', { id: 'retrieve', onclick: act('retrieve') }, 'Retrieve'),
    release: h('button', { id: 'release', class: 'danger', onclick: act('release') }, 'Release'),
    transfer: h('button', { id: 'transfer', onclick: () => callAction('transfer', { to: transferTo.value, dest: transferDest.value.trim() }).catch(() => {}) }, 'Transfer'),
    consult: h('button', { id: 'consult', onclick: startConsult }, 'Consult'),
    complete: h('button', { id: 'consult-complete', class: 'primary', onclick: consultAction('complete'), title: 'the caller goes to the consulted party' }, 'Complete transfer'),
    cancel: h('button', { id: 'consult-cancel', onclick: consultAction('cancel'), title: 'back to the caller' }, 'Cancel consult'),
    conference: h('button', { id: 'conference', onclick: consultAction('conference'), title: 'the caller, you and the consulted party together' }, 'Conference'),
  };
  const callCard = h('div', { class: 'card' }, h('h2', {}, 'Call ', callState),
    h('div', { class: 'row' }, btn.hold, btn.retrieve, btn.release),
    h('div', { class: 'row' }, 'Transfer to', transferTo, transferDest, btn.transfer),
    h('div', { class: 'row', id: 'consult-row' }, 'Consult', consultTo, consultDest, btn.consult, consultState),
    h('div', { class: 'row' }, btn.complete, btn.cancel, btn.conference));

  const paint = () => {
    clear(stateEl).append(pill(st.state), st.reason ? ` (${(reasons.find(r => r.code === st.reason) || {}).label || st.reason})` : '');
    stateEl.dataset.state = st.state;
    const talking = ['talking', 'hold'].includes(st.state);
    const onCall = st.call && (talking || st.state === 'reserved');
    if (!onCall) st.consult = '';
    clear(controls);
    if (onCall) {
      const c = st.consult;
      // During a consult the caller is held by the call server, whatever
      // the router's agent state says.
      const shown = c === 'pending' || c === 'active' ? 'caller held' : st.callState;
      clear(callState).append(shown ? pill(shown, st.state) : '');
      clear(consultState).append(
        c === 'pending' ? pill('ringing ' + consultDest.value.trim(), 'reserved')
          : c === 'active' ? pill('consulting ' + st.consultWith, 'talking')
            : c === 'conference' ? pill('conference with ' + st.consultWith, 'talking') : '');
      consultState.dataset.consult = c;
      callCard.classList.toggle('consult', !!c);
      btn.hold.disabled = st.state !== 'talking' || !!c;
      btn.retrieve.disabled = st.state !== 'hold' || !!c;
      btn.release.disabled = !talking || c === 'pending' || c === 'active';
      btn.transfer.disabled = !talking || !!c;
      btn.consult.disabled = !talking || !!c;
      btn.complete.disabled = btn.cancel.disabled = btn.conference.disabled = c !== 'active';
      controls.append(callCard);
    }
    clear(wrap);
    if (st.state === 'work_ready' || st.state === 'work_not_ready') {
      wrap.append(h('div', { class: 'card' }, h('h2', {}, 'Wrap-up'),
        h('div', { class: 'row' }, h('label', { for: 'wrapup-reason' }, 'Reason'), wrapWhy,
          h('button', { class: 'primary', id: 'wrapup-ready', onclick: () => setState('ready', wrapWhy.value) }, 'Done: ready'),
          h('button', { id: 'wrapup-not-ready', onclick: () => setState('not_ready', 0) }, 'Done: not ready'))));
    }
  };

  const showPop = (call, d) => {
    clear(pop);
    if (!d) return;
    const vars = Object.entries(d.call_variables || {}).filter(([, v]) => v);
    const ecc = Object.entries(d.ecc || {});
    pop.append(h('div', { class: 'card pop', 'data-call': call },
      h('h2', {}, 'Caller'),
      h('table', {},
        h('tr', {}, h('th', {}, 'ANI'), h('td', { id: 'pop-ani' }, d.ani)),
        h('tr', {}, h('th', {}, 'DNIS'), h('td', { id: 'pop-dnis' }, d.dnis)),
        h('tr', {}, h('th', {}, 'Call type'), h('td', { id: 'pop-calltype' }, d.call_type)),
        vars.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { 'data-var': k }, v))),
        ecc.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { 'data-var': k }, v))))));
  };

  const onEvent = ev => {
    evSeq++;
    switch (ev.type) {
      case 'agent_state':
        Object.assign(st, { state: ev.state, reason: ev.reason || 0, since: ev.time });
        break;
      case 'call_offered':
        Object.assign(st, { call: ev.call, data: ev.data, callState: 'ringing' });
        transferDest.value = consultDest.value = ''; // a new call, new destinations
        showPop(ev.call, ev.data);
        break;
      case 'call_ringing': st.call = ev.call; st.callState = 'ringing'; break;
      case 'call_answered': st.call = ev.call; st.callState = 'connected'; break;
      case 'call_held': st.callState = 'held'; break;
      case 'call_retrieved': st.callState = 'connected'; break;
      case 'call_ended': st.callState = 'ended'; st.call = ''; st.consult = ''; break;
    }
    paint();
  };

  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/cti/v1/events`);
    ws.onopen = () => { document.body.dataset.events = 'open'; };
    ws.onmessage = m => onEvent(JSON.parse(m.data));
    ws.onclose = () => { document.body.dataset.events = 'closed'; setTimeout(connect, 2000); };
  };

  const v = await api('GET', A);
  Object.assign(st, { state: v.state, reason: v.reason || 0, since: v.since || st.since, call: v.call || '' });
  // A desktop opened (or reloaded) during a call shows where the call is,
  // from the agent's state, until the next event says more.
  if (st.call) st.callState = { reserved: 'ringing', talking: 'connected', hold: 'held' }[st.state] || '';
  // A desktop opened (or reloaded) during its own consult picks it up.
  if (v.consult) Object.assign(st, { consult: 'active', consultWith: v.consult });

  app.append(h('h1', {}, `Agent ${me}`),
    h('div', { class: 'card' },
      h('div', { class: 'row' }, h('span', { class: 'state-big' }, stateEl), timer),
      h('div', { class: 'row' },
        h('button', { id: 'ready', class: 'primary', onclick: () => setState('ready') }, 'Ready'),
        nrWhy, h('button', { id: 'not-ready', onclick: () => setState('not_ready', nrWhy.value) }, 'Not ready'),
        outWhy, h('button', { id: 'agent-logout', class: 'danger', onclick: () => setState('logged_out', outWhy.value) }, 'Log out'))),
    pop, controls, wrap,
    h('h2', {}, 'My queues'),
    h('table', {}, h('thead', {}, h('tr', {}, ['Queue', 'Waiting', 'Oldest'].map(x => h('th', {}, x)))), queues));
  paint();
  connect();
  setInterval(() => { timer.textContent = 'in state ' + age(st.since); }, 1000);
  const qpoll = async () => {
    try {
      const qs = await api('GET', '/cti/v1/queues');
      const mine = new Set(v.queues || []);
      clear(queues).append(...qs.filter(q => !mine.size || mine.has(q.name)).map(q => h('tr', {}, h('td', {}, q.name), h('td', {}, q.waiting), h('td', {}, q.oldest ? age(q.oldest) : '—'))));
    } catch { /* shown on the next round */ }
    setTimeout(qpoll, 5000);
  };
  qpoll();
}
