// Form editors for the router's flat sections. Each save sends the whole
// section; the server puts it into the router document, validates, and
// applies it to the running router without dropping a call.
import { h, api, clear, toast } from '../lib.js';

const list = s => s.split(',').map(x => x.trim()).filter(Boolean);

const attrsIn = s => {
  const out = {};
  for (const kv of list(s)) {
    const [k, v = 'true'] = kv.split('=').map(x => x.trim());
    out[k] = v === 'true' ? true : v === 'false' ? false : (/^\d+$/.test(v) ? Number(v) : v);
  }
  return Object.keys(out).length ? out : undefined;
};
const attrsOut = a => Object.entries(a || {}).map(([k, v]) => `${k}=${v}`).join(', ');

const steps = {
  in: s => s.split('\n').map(l => l.trim()).filter(Boolean).map(l => {
    const [expr, wait, consider_if] = l.split(';').map(x => (x || '').trim());
    return { expr, wait: wait || undefined, consider_if: consider_if || undefined };
  }),
  out: st => (st || []).map(x => [x.expr, x.wait || '', x.consider_if || ''].join(' ; ').replace(/( ; )+$/, '')).join('\n'),
};

// Each section: its columns (key, heading, how to read and write a cell).
const specs = {
  agents: { title: 'Agents', cols: [
    ['id', 'Id'], ['name', 'Name'], ['extension', 'Extension'],
    ['password', 'Password', { type: 'password', placeholder: 'unchanged' }],
    ['skill_groups', 'Skill groups', { in: list, out: v => (v || []).join(', '), placeholder: 'sales, support' }],
    ['attributes', 'Attributes', { in: attrsIn, out: attrsOut, placeholder: 'spanish=7, sales' }]] },
  skill_groups: { title: 'Skill groups', cols: [['name', 'Name']] },
  precision_queues: { title: 'Precision queues', cols: [['name', 'Name'],
    ['steps', 'Steps (one a line: expression ; wait ; consider if)', { area: true, in: steps.in, out: steps.out, placeholder: 'spanish >= 7 ; 30s' }]] },
  dialed_numbers: { title: 'Dialed numbers', cols: [['number', 'Dialed number'], ['call_type', 'Call type']] },
  call_types: { title: 'Call types', cols: [['name', 'Name'], ['script', 'Routing script']] },
};

const pageSections = {
  '/config/agents': ['agents'], '/config/skill-groups': ['skill_groups'],
  '/config/precision-queues': ['precision_queues'], '/config/dialed-numbers': ['dialed_numbers', 'call_types'],
};

export const title = 'Configuration';

export async function render(app, path) {
  app.append(h('h1', {}, 'Configuration'), h('p', { class: 'muted' }, 'Saving applies to the running router at once; calls in progress keep the script version they started on.'));
  for (const name of pageSections[path]) app.append(await editor(name));
}

async function editor(name) {
  const spec = specs[name];
  const card = h('section', { class: 'card', id: 'section-' + name });
  let version = 0;
  const body = h('tbody');
  const problems = h('div', { class: 'error' });
  const addRow = item => {
    const tr = h('tr', {});
    for (const [key, , o = {}] of spec.cols) {
      const val = o.out ? o.out(item[key]) : (item[key] ?? '');
      const input = o.area ? h('textarea', { rows: 3, cols: 50, 'data-key': key, placeholder: o.placeholder }, val)
        : h('input', { 'data-key': key, value: val, type: o.type || 'text', placeholder: o.placeholder, name: `${name}-${key}` });
      tr.append(h('td', {}, input));
    }
    tr.append(h('td', {}, h('button', { class: 'danger', type: 'button', title: 'Remove', onclick: () => tr.remove() }, '✕')));
    body.append(tr);
  };
  const load = async () => {
    const doc = await api('GET', '/api/config/sections/' + name);
    version = doc.version;
    clear(body);
    (doc.items || []).forEach(addRow);
  };
  const save = async () => {
    clear(problems);
    const items = [...body.rows].map(tr => {
      const it = {};
      for (const [key, , o = {}] of spec.cols) {
        const raw = tr.querySelector(`[data-key="${key}"]`).value;
        const v = o.in ? o.in(raw) : raw.trim();
        if (v !== '' && v !== undefined) it[key] = v;
      }
      return it;
    });
    try {
      const r = await api('PUT', '/api/config/sections/' + name, { version, items });
      toast(`${spec.title} saved: router configuration v${r.version}`);
      await load();
    } catch (e) {
      problems.append(h('p', {}, e.message), h('ul', {}, (e.body?.problems || []).map(p => h('li', {}, `${p.path}: ${p.msg}`))));
    }
  };
  card.append(h('h2', {}, spec.title),
    h('table', {}, h('thead', {}, h('tr', {}, spec.cols.map(c => h('th', {}, c[1])), h('th', {}))), body),
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => addRow({}), id: `add-${name}` }, 'Add'),
      h('button', { type: 'button', class: 'primary', onclick: save, id: `save-${name}` }, 'Save')),
    problems);
  await load();
  return card;
}
