// Draws a routing script as a top-down flow diagram in inline SVG: nodes in
// rows by their distance from start, exits as labelled curves, and, when
// counts are given, a red badge with the calls at each node now.
import { h } from './lib.js';

const W = 170, H = 46, GX = 30, GY = 56;

export function drawFlow(script, counts = {}) {
  const byId = new Map(script.nodes.map(n => [n.id, n]));
  const depth = new Map();
  const start = script.nodes.find(n => n.type === 'start') || script.nodes[0];
  if (start) {
    depth.set(start.id, 0);
    const q = [start.id];
    while (q.length) {
      const id = q.shift();
      for (const e of byId.get(id)?.exits || []) {
        if (byId.has(e.to) && !depth.has(e.to)) { depth.set(e.to, depth.get(id) + 1); q.push(e.to); }
      }
    }
  }
  let maxD = Math.max(0, ...depth.values());
  for (const n of script.nodes) if (!depth.has(n.id)) depth.set(n.id, ++maxD); // unreachable: drawn below
  const rows = [];
  for (const n of script.nodes) (rows[depth.get(n.id)] ||= []).push(n);
  const pos = new Map();
  const widest = Math.max(1, ...rows.map(r => r?.length || 0));
  const width = widest * (W + GX) + GX;
  rows.forEach((r, d) => (r || []).forEach((n, i) => {
    const off = (width - r.length * (W + GX) + GX) / 2;
    pos.set(n.id, { x: off + i * (W + GX), y: GY / 2 + d * (H + GY) });
  }));
  const height = rows.length * (H + GY) + GY / 2;
  const svg = h('svg', { class: 'flow', viewBox: `0 0 ${width} ${height}`, width, height, 'data-script': script.name, role: 'img', 'aria-label': 'routing script ' + script.name });
  const edges = h('g', {}), boxes = h('g', {});
  for (const n of script.nodes) {
    const p = pos.get(n.id);
    n.exits.forEach((e, k) => {
      const t = pos.get(e.to);
      if (!t) return;
      const x1 = p.x + W / 2 + (k - (n.exits.length - 1) / 2) * 24, y1 = p.y + H;
      const x2 = t.x + W / 2, y2 = t.y;
      const d = y2 > y1 ? `M${x1},${y1} C${x1},${y1 + 30} ${x2},${y2 - 30} ${x2},${y2}`
        : `M${x1},${y1} C${x1 + 90},${y1 + 60} ${x2 + 90},${y2 - 60} ${x2},${y2}`; // back edge: loop round
      edges.append(h('path', { d, 'marker-end': 'url(#arrow)' }));
      if (e.name !== 'next') edges.append(h('text', { class: 'exit', x: x1 + 3, y: y1 + 13 }, e.name));
    });
    const c = counts[n.id] || 0;
    boxes.append(h('g', { class: 'node', 'data-node': n.id, transform: `translate(${p.x},${p.y})` },
      h('rect', { class: n.type, width: W, height: H, rx: 6 }),
      h('text', { x: 8, y: 18 }, `${n.id} · ${n.type}`),
      h('text', { class: 'sub', x: 8, y: 36 }, (n.label || '').slice(0, 26)),
      c ? h('g', { class: 'badge' }, h('circle', { class: 'count', cx: W - 4, cy: 4, r: 11 }),
        h('text', { class: 'count', x: W - 4, y: 8, 'text-anchor': 'middle', 'data-count': c }, c)) : null,
      h('title', {}, `${n.id} (${n.type}) ${n.label || ''}${c ? ` — ${c} call(s) here` : ''}`)));
  }
  svg.append(h('defs', {}, h('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
    h('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#94a3b8' }))), edges, boxes);
  return svg;
}
