// Weft web UI: a DAG drawn as hand-written SVG, laid out in layers left to right; the op
// graph of a job's page and the asset graph of the Assets page.

import { h, s, textWidth, truncate } from './render.js';

/**
 * Lays out a DAG left to right. nodes: [{id, deps: [id], width, rank?}]. Each node's layer
 * is the longest path from a source to it; within a layer nodes are ordered by `rank`
 * (e.g. the group) and then by the mean position of their neighbours (a few sweeps, to
 * untangle edges). Returns {pos: Map(id -> {x, y, layer}), width, height}.
 */
function layoutDag(nodes, { nodeH = 44, gapX = 56, gapY = 14, pad = 16 } = {}) {
  const byId = new Map(nodes.map(n => [n.id, n]));
  const deps = new Map(nodes.map(n => [n.id, (n.deps || []).filter(d => byId.has(d) && d !== n.id)]));
  const layer = new Map();
  const visiting = new Set();
  const layerOf = id => {
    if (layer.has(id)) return layer.get(id);
    if (visiting.has(id)) return 0; // a cycle: should not happen in a plan; do not loop
    visiting.add(id);
    const l = deps.get(id).reduce((m, d) => Math.max(m, layerOf(d) + 1), 0);
    visiting.delete(id);
    layer.set(id, l);
    return l;
  };
  nodes.forEach(n => layerOf(n.id));

  const layers = [];
  nodes.forEach(n => (layers[layer.get(n.id)] ??= []).push(n.id));
  const children = new Map(nodes.map(n => [n.id, []]));
  deps.forEach((ds, id) => ds.forEach(d => children.get(d).push(id)));

  const index = new Map();
  const reindex = () => layers.forEach(ids => ids.forEach((id, i) => index.set(id, i)));
  const rank = id => byId.get(id).rank ?? 0;
  layers.forEach(ids => ids.sort((a, b) => rank(a) - rank(b)));
  reindex();
  const mean = (ids, self) => ids.length ? ids.reduce((t, x) => t + index.get(x), 0) / ids.length : index.get(self);
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const ids of order) {
      const key = new Map(ids.map(id => [id, mean(down ? deps.get(id) : children.get(id), id)]));
      ids.sort((a, b) => rank(a) - rank(b) || key.get(a) - key.get(b));
      ids.forEach((id, i) => index.set(id, i));
    }
  }

  const colW = layers.map(ids => Math.max(...ids.map(id => byId.get(id).width)));
  const tallest = Math.max(1, ...layers.map(ids => ids.length));
  const height = pad * 2 + tallest * nodeH + (tallest - 1) * gapY;
  const pos = new Map();
  let x = pad;
  layers.forEach((ids, l) => {
    const used = ids.length * nodeH + (ids.length - 1) * gapY;
    let y = (height - used) / 2;
    for (const id of ids) {
      const w = byId.get(id).width;
      pos.set(id, { x: x + (colW[l] - w) / 2, y, w, h: nodeH, layer: l });
      y += nodeH + gapY;
    }
    x += colW[l] + gapX;
  });
  return { pos, deps, width: Math.max(x - gapX + pad, 200), height };
}

/**
 * Draws a DAG as SVG. items: [{id, deps, lines: [main, sub, ...], color?, testid, data}].
 * onClick(id, event) is called when a node is clicked.
 */
export function dagSvg(items, { testid, nodeH = 44, onClick, nodeClass } = {}) {
  const MAX = 34;
  const nodes = items.map(it => ({
    ...it,
    width: Math.ceil(Math.max(120, Math.min(320, Math.max(...it.lines.map((l, i) => textWidth(truncate(l, MAX), i ? 11 : 13, i ? 400 : 600))) + 30))),
  }));
  const lay = layoutDag(nodes, { nodeH });
  const svg = s('svg', {
    class: 'dag', testid, width: lay.width, height: lay.height,
    viewBox: `0 0 ${lay.width} ${lay.height}`, role: 'img',
  });
  svg.append(s('defs', null, s('marker', {
    id: `arrow-${testid}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }))));
  const edges = s('g', { class: 'edges' });
  for (const n of nodes) {
    const to = lay.pos.get(n.id);
    for (const d of lay.deps.get(n.id)) {
      const from = lay.pos.get(d);
      const x1 = from.x + from.w, y1 = from.y + from.h / 2, x2 = to.x, y2 = to.y + to.h / 2;
      const dx = Math.max(24, (x2 - x1) / 2);
      edges.append(s('path', {
        class: 'edge', testid: 'graph-edge', 'data-from': d, 'data-to': n.id,
        d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2 - 1} ${y2}`,
        'marker-end': `url(#arrow-${testid})`,
      }));
    }
  }
  svg.append(edges);
  for (const n of nodes) {
    const p = lay.pos.get(n.id);
    const g = s('g', {
      class: `node ${nodeClass ? nodeClass(n) : ''}`, testid: n.testid || 'graph-node',
      transform: `translate(${p.x} ${p.y})`, 'data-key': n.id, tabindex: onClick ? 0 : null,
      role: onClick ? 'button' : null,
    });
    g.append(s('title', null, n.title || n.lines.join('\n')));
    g.append(s('rect', { width: p.w, height: p.h, rx: 8, ry: 8, style: n.color ? `--node-color: ${n.color}` : null }));
    if (n.color) g.append(s('rect', { class: 'stripe', width: 5, height: p.h - 2, x: 1, y: 1, rx: 3, fill: n.color }));
    const lineH = (p.h - 8) / n.lines.length;
    n.lines.forEach((line, i) => {
      g.append(s('text', {
        x: 14, y: 4 + lineH * i + lineH / 2, 'dominant-baseline': 'central',
        class: i === 0 ? 'label' : 'sub',
      }, truncate(line, MAX)));
    });
    if (onClick) {
      g.addEventListener('click', e => onClick(n.id, e));
      g.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onClick(n.id, e); } });
    }
    svg.append(g);
  }
  return h('div', { class: 'graph-wrap' }, svg);
}
