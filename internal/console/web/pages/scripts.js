// The router document as text: validated as you type (problems marked at
// their lines), each script drawn as a flow diagram, saved as a whole.
import { h, api, clear, toast } from '../lib.js';
import { drawFlow } from '../flow.js';

export const title = 'Routing scripts';

export async function render(app) {
  let version = 0, scripts = [], timer;
  const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
  const text = h('textarea', { id: 'router-yaml', spellcheck: 'false', 'aria-label': 'router configuration (YAML)' });
  const problems = h('ul', { class: 'problems error', id: 'problems' });
  const status = h('span', { class: 'muted', id: 'check-status' });
  const pick = h('select', { id: 'script-pick' });
  const diagram = h('div', { id: 'diagram' });
  const bad = new Set();

  const paintGutter = () => {
    const n = text.value.split('\n').length;
    clear(gutter);
    for (let i = 1; i <= n; i++) gutter.append(h('span', { class: bad.has(i) ? 'bad' : '', 'data-line': i }, i + '\n'));
    gutter.scrollTop = text.scrollTop;
  };
  const goLine = line => {
    const lines = text.value.split('\n');
    const at = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
    text.focus();
    text.setSelectionRange(at, at + (lines[line - 1] || '').length);
    text.scrollTop = Math.max(0, (line - 5) * 19.5);
  };
  const showProblems = list => {
    bad.clear();
    clear(problems);
    for (const p of list) {
      if (p.line) bad.add(p.line);
      problems.append(h('li', { 'data-line': p.line, onclick: () => p.line && goLine(p.line) }, `line ${p.line || '?'}: ${p.path ? p.path + ': ' : ''}${p.msg}`));
    }
    paintGutter();
  };
  const draw = () => {
    const s = scripts.find(x => x.name === pick.value) || scripts[0];
    clear(diagram);
    if (s) diagram.append(drawFlow(s));
  };
  const check = async () => {
    const r = await api('POST', '/api/config/router/check', { yaml: text.value });
    showProblems(r.problems);
    status.textContent = r.ok ? 'valid' : `${r.problems.length} problem(s)`;
    if (r.scripts.length) {
      scripts = r.scripts;
      const keep = pick.value;
      clear(pick).append(...scripts.map(s => h('option', { value: s.name }, s.name)));
      if (scripts.some(s => s.name === keep)) pick.value = keep;
      draw();
    }
  };
  const load = async () => {
    const doc = await api('GET', '/api/config/router');
    version = doc.version;
    text.value = doc.yaml;
    await check();
  };
  const save = async () => {
    try {
      const r = await api('PUT', '/api/config/router', { version, yaml: text.value });
      version = r.version;
      toast(`Router configuration v${r.version} applied`);
      showProblems([]);
    } catch (e) {
      if (e.body?.problems) showProblems(e.body.problems);
      toast(e.message, true);
    }
  };
  text.addEventListener('input', () => { paintGutter(); clearTimeout(timer); timer = setTimeout(check, 400); });
  text.addEventListener('scroll', () => { gutter.scrollTop = text.scrollTop; });
  pick.addEventListener('change', draw);

  app.append(h('h1', {}, 'Routing scripts'),
    h('p', { class: 'muted' }, 'The whole router configuration as YAML. Problems are marked at their line; Save applies it to the running router without dropping calls.'),
    h('div', { class: 'split' },
      h('div', {}, h('div', { class: 'editor' }, gutter, text),
        h('div', { class: 'row' }, h('button', { class: 'primary', id: 'save-router', onclick: save }, 'Save and apply'),
          h('button', { id: 'check-router', onclick: check }, 'Check'), status), problems),
      h('div', {}, h('div', { class: 'row' }, h('label', { for: 'script-pick' }, 'Script'), pick), diagram)));
  await load();
}
