// The SIP edge's configuration: trunks, users, server groups and the dial
// plan, edited as forms and applied to the running edge at once (no call
// drops: calls in progress keep their legs). Each input carries the field
// path the server names in its problems (trunks[0].networks), so an error
// is shown at its field. Beside the form, the edge's live state: each
// destination up or down, and the registrations.
import { h, api, clear, toast, poll } from '../lib.js';

export const title = 'SIP';

const list = s => s.split(',').map(x => x.trim()).filter(Boolean);
const num = s => (s.trim() === '' ? undefined : Number(s));
const str = s => (s.trim() === '' ? undefined : s.trim());

export async function render(app) {
  let version = 0;
  let live = { server_groups: [], registrations: [] };
  const problems = h('div', { class: 'error', id: 'sip-problems' });
  const trunks = h('tbody', { id: 'sip-trunks' });
  const users = h('tbody', { id: 'sip-users' });
  const groups = h('div', { id: 'sip-groups' });
  const rules = h('tbody', { id: 'sip-rules' });
  const regs = h('tbody', { id: 'sip-registrations' });
  const note = h('p', { class: 'muted', id: 'sip-note' });

  const input = (key, value, attrs = {}) => h('input', { 'data-key': key, value: value ?? '', ...attrs });
  const remove = row => h('button', { class: 'danger', type: 'button', title: 'Remove', onclick: () => row.remove() }, '✕');

  const addTrunk = (t = {}) => {
    const tr = h('tr', { class: 'trunk' });
    tr.append(h('td', {}, input('name', t.name, { placeholder: 'gw' })),
      h('td', {}, input('networks', (t.networks || []).join(', '), { size: 40, placeholder: '192.0.2.0/24, 198.51.100.7' })),
      h('td', {}, remove(tr)));
    trunks.append(tr);
  };
  const addUser = (u = {}) => {
    const tr = h('tr', { class: 'user' });
    tr.append(h('td', {}, input('user', u.user, { placeholder: '1001' })),
      h('td', {}, input('password', '', { type: 'password', placeholder: u.user ? 'unchanged' : 'password', autocomplete: 'new-password' })),
      h('td', {}, remove(tr)));
    users.append(tr);
  };
  const stateOf = (group, addr) => {
    const g = (live.server_groups || []).find(x => x.Name === group);
    const d = g && (g.Destinations || []).find(x => x.Address === addr);
    return d ? (d.Up ? 'up' : 'down') : 'new';
  };
  const addDest = (body, d = {}) => {
    const tr = h('tr', { class: 'dest' });
    const transport = h('select', { 'data-key': 'transport' }, ['udp', 'tcp'].map(x => h('option', { value: x, selected: (d.transport || 'udp') === x }, x)));
    tr.append(h('td', {}, input('address', d.address, { placeholder: '127.0.0.1:5080' })),
      h('td', {}, transport),
      h('td', {}, input('priority', d.priority, { type: 'number', min: 1, placeholder: '1', style: 'width:5em' })),
      h('td', {}, input('weight', d.weight, { type: 'number', min: 1, placeholder: '1', style: 'width:5em' })),
      h('td', { class: 'state' }),
      h('td', {}, remove(tr)));
    body.append(tr);
  };
  const addGroup = (g = {}) => {
    const hb = g.heartbeat || {};
    const dests = h('tbody');
    const card = h('section', { class: 'card group' });
    card.append(
      h('div', { class: 'row' },
        h('label', {}, 'Server group ', input('name', g.name, { placeholder: 'branch' })),
        h('label', {}, h('input', { type: 'checkbox', 'data-key': 'hb-enabled', checked: hb.enabled !== false }), ' OPTIONS heartbeat'),
        h('label', {}, 'every ', input('hb-up', hb.up_interval, { placeholder: '30s', size: 5 }), ' while up'),
        h('label', {}, input('hb-down', hb.down_interval, { placeholder: '5s', size: 5 }), ' while down'),
        h('label', {}, 'timeout ', input('hb-timeout', hb.timeout, { placeholder: '2s', size: 5 })),
        h('label', {}, 'down after ', input('hb-failures', hb.failures, { type: 'number', min: 1, placeholder: '3', style: 'width:4em' }), ' failures'),
        h('button', { class: 'danger', type: 'button', onclick: () => card.remove() }, 'Remove group')),
      h('table', {}, h('thead', {}, h('tr', {}, ['Destination (host:port)', 'Transport', 'Priority', 'Weight', 'State', ''].map(x => h('th', {}, x)))), dests),
      h('button', { type: 'button', class: 'add-dest', onclick: () => addDest(dests) }, 'Add destination'));
    (g.destinations || []).forEach(d => addDest(dests, d));
    groups.append(card);
  };
  const addRule = (r = {}) => {
    const tr = h('tr', { class: 'rule' });
    const target = input('target', r.registered ? 'registered' : r.server_group, { placeholder: 'server group, or registered', list: 'sip-group-names' });
    const move = d => () => {
      const sib = d < 0 ? tr.previousElementSibling : tr.nextElementSibling;
      if (sib) (d < 0 ? sib.before(tr) : sib.after(tr));
    };
    tr.append(h('td', {}, input('pattern', r.pattern, { placeholder: '6XXX' })), h('td', {}, target),
      h('td', {}, h('button', { type: 'button', title: 'Up', onclick: move(-1) }, '↑'), h('button', { type: 'button', title: 'Down', onclick: move(1) }, '↓'), remove(tr)));
    rules.append(tr);
  };
  const groupNames = h('datalist', { id: 'sip-group-names' });

  // collect reads the form into the document and gives each input the
  // path the server will name it by.
  const collect = () => {
    const val = (el, key) => el.querySelector(`[data-key="${key}"]`);
    const tag = (el, key, path) => { const i = val(el, key); i.dataset.path = path; return i; };
    const doc = { version, trunks: [], users: [], server_groups: [], dial_plan: [] };
    [...trunks.rows].forEach((tr, i) => doc.trunks.push({
      name: tag(tr, 'name', `trunks[${i}].name`).value.trim(),
      networks: list(tag(tr, 'networks', `trunks[${i}].networks`).value),
    }));
    [...users.rows].forEach((tr, i) => {
      const u = { user: tag(tr, 'user', `users[${i}].user`).value.trim() };
      const pw = tag(tr, 'password', `users[${i}].password`).value;
      if (pw) u.password = pw;
      doc.users.push(u);
    });
    [...groups.querySelectorAll('section.group')].forEach((card, i) => {
      const p = `server_groups[${i}]`;
      const g = {
        name: tag(card, 'name', `${p}.name`).value.trim(),
        heartbeat: {
          enabled: val(card, 'hb-enabled').checked,
          up_interval: str(tag(card, 'hb-up', `${p}.heartbeat.up_interval`).value),
          down_interval: str(tag(card, 'hb-down', `${p}.heartbeat.down_interval`).value),
          timeout: str(tag(card, 'hb-timeout', `${p}.heartbeat.timeout`).value),
          failures: num(tag(card, 'hb-failures', `${p}.heartbeat.failures`).value),
        },
        destinations: [],
      };
      card.querySelector('table').dataset.path = `${p}.destinations`;
      [...card.querySelectorAll('tr.dest')].forEach((tr, j) => {
        const q = `${p}.destinations[${j}]`;
        g.destinations.push({
          address: tag(tr, 'address', `${q}.address`).value.trim(),
          transport: tag(tr, 'transport', `${q}.transport`).value,
          priority: num(tag(tr, 'priority', `${q}.priority`).value),
          weight: num(tag(tr, 'weight', `${q}.weight`).value),
        });
      });
      doc.server_groups.push(g);
    });
    [...rules.rows].forEach((tr, i) => {
      const target = tag(tr, 'target', `dial_plan[${i}].server_group`).value.trim();
      const r = { pattern: tag(tr, 'pattern', `dial_plan[${i}].pattern`).value.trim() };
      if (target === 'registered') r.registered = true; else if (target) r.server_group = target;
      doc.dial_plan.push(r);
    });
    return doc;
  };

  // showProblems puts each problem beside the input its path names: the
  // input itself, the nearest one above it (trunks[0].networks for
  // trunks[0].networks[1]) or the first one below it (dial_plan[2]).
  const showProblems = probs => {
    const fields = [...app.querySelectorAll('[data-path]')];
    const unplaced = [];
    for (const p of probs) {
      let el = null, best = -1;
      for (const f of fields) {
        const fp = f.dataset.path;
        if ((p.path === fp || p.path.startsWith(fp + '.') || p.path.startsWith(fp + '[')) && fp.length > best) { el = f; best = fp.length; }
      }
      el = el || fields.find(f => f.dataset.path.startsWith(p.path + '.') || f.dataset.path.startsWith(p.path + '['));
      if (!el) { unplaced.push(p); continue; }
      el.classList.add('invalid');
      el.after(h('div', { class: 'field-error', 'data-path': p.path }, p.msg));
    }
    if (unplaced.length) problems.append(h('ul', {}, unplaced.map(p => h('li', {}, `${p.path || 'line ' + p.line}: ${p.msg}`))));
  };
  const clearProblems = () => {
    clear(problems);
    app.querySelectorAll('.field-error').forEach(e => e.remove());
    app.querySelectorAll('.invalid').forEach(e => e.classList.remove('invalid'));
  };

  const showLive = () => {
    for (const card of groups.querySelectorAll('section.group')) {
      const name = card.querySelector('[data-key="name"]').value.trim();
      for (const tr of card.querySelectorAll('tr.dest')) {
        const st = stateOf(name, tr.querySelector('[data-key="address"]').value.trim());
        const cell = clear(tr.querySelector('td.state'));
        cell.className = 'state ' + st;
        cell.dataset.state = st;
        cell.append(st);
      }
    }
    clear(regs);
    for (const r of live.registrations || []) {
      regs.append(h('tr', { 'data-ext': r.Extension }, h('td', {}, r.Extension), h('td', {}, r.Contact), h('td', {}, r.Transport), h('td', {}, new Date(r.Expires).toLocaleTimeString())));
    }
    clear(groupNames);
    for (const g of groups.querySelectorAll('section.group [data-key="name"]')) groupNames.append(h('option', { value: g.value }));
    groupNames.append(h('option', { value: 'registered' }));
  };

  const load = async () => {
    const doc = await api('GET', '/api/config/sip');
    version = doc.version;
    live = doc.live;
    clear(note).append(doc.note);
    [trunks, users, groups, rules].forEach(clear);
    doc.trunks.forEach(addTrunk);
    doc.users.forEach(addUser);
    doc.server_groups.forEach(addGroup);
    doc.dial_plan.forEach(addRule);
    app.querySelector('#sip-version').textContent = `version ${version}`;
    showLive();
  };

  const save = async () => {
    clearProblems();
    const doc = collect();
    try {
      const r = await api('PUT', '/api/config/sip', doc);
      toast(`SIP configuration saved: version ${r.version}`);
      await load();
    } catch (e) {
      problems.append(h('p', {}, e.status === 409 ? `${e.message}` : e.message));
      if (e.status === 409) problems.append(h('button', { type: 'button', onclick: () => { clearProblems(); load(); } }, 'Reload'));
      showProblems(e.body?.problems || []);
    }
  };

  const addButton = (id, label, fn) => h('button', { type: 'button', id, onclick: () => { fn(); showLive(); } }, label);
  app.append(
    h('h1', {}, 'SIP trunks, server groups and registrations ', h('span', { class: 'muted', id: 'sip-version' })),
    note, groupNames,
    h('section', { class: 'card' }, h('h2', {}, 'Trunks (trusted by source address)'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Networks (CIDR or address, comma separated)'), h('th', {}))), trunks),
      addButton('sip-add-trunk', 'Add trunk', () => addTrunk())),
    h('section', { class: 'card' }, h('h2', {}, 'Users (digest credentials; the user is the extension)'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'User'), h('th', {}, 'Password'), h('th', {}))), users),
      addButton('sip-add-user', 'Add user', () => addUser())),
    h('h2', {}, 'Server groups'), groups,
    addButton('sip-add-group', 'Add server group', () => addGroup({ destinations: [{}] })),
    h('section', { class: 'card' }, h('h2', {}, 'Dial plan (the most specific pattern wins)'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Pattern'), h('th', {}, 'Goes to'), h('th', {}))), rules),
      addButton('sip-add-rule', 'Add rule', () => addRule())),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', id: 'sip-save', onclick: save }, 'Save and apply')),
    problems,
    h('h2', {}, 'Registrations'),
    h('table', { id: 'registrations' }, h('thead', {}, h('tr', {}, h('th', {}, 'Extension'), h('th', {}, 'Contact'), h('th', {}, 'Transport'), h('th', {}, 'Expires'))), regs));
  await load();
  // The live state refreshes; the form is left as it is being edited.
  let first = true;
  poll(async () => {
    if (first) { first = false; return; }
    if (!document.body.contains(regs)) return;
    const doc = await api('GET', '/api/config/sip');
    live = doc.live;
    showLive();
  }, 3000);
}
