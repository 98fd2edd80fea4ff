// Weft web UI: the Assets page, #/assets: the asset graph of every location, coloured by
// group, where clicking assets selects them for "Materialize selected", and the table of
// all assets with their latest materialization.

import { api, enc } from './api.js';
import { dagSvg } from './graph.js';
import { assetHref, clear, errorBox, fmtAgo, fmtTime, h, link, section, show, table, timeEl } from './render.js';
import { go } from './router.js';

/** A stable, calm colour per group name. */
const PALETTE = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ef4444', '#14b8a6', '#ec4899', '#64748b'];
function groupColor(group, groups) {
  const i = groups.indexOf(group);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

export async function pageAssets(page) {
  const selected = new Set();
  const count = h('span', { class: 'muted', testid: 'selection-count' }, 'Click assets to select them.');
  const mat = h('button', { class: 'primary', testid: 'materialize-selected', disabled: true }, 'Materialize selected');
  const clearSel = h('button', { testid: 'clear-selection', disabled: true }, 'Clear');
  const feedback = h('div');
  const host = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const legend = h('div', { class: 'legend' });
  const list = h('div');
  show(
    h('div', { class: 'title-row' }, h('h1', null, 'Assets'), h('div', { class: 'actions' }, count, clearSel, mat)),
    feedback, section(null, legend, host), section('All assets', list));
  const assets = await api('GET', '/api/assets');
  if (!page.alive()) return;
  if (!assets.length) {
    clear(host, h('p', { class: 'muted', testid: 'asset-graph' }, 'No assets: upload a code location that defines some.'));
    clear(list);
    return;
  }
  const groups = [...new Set(assets.map(a => a.group || 'default'))].sort();
  const byKey = new Map();
  for (const a of assets) if (!byKey.has(a.key)) byKey.set(a.key, a);
  const keys = [...byKey.keys()];
  const draw = () => {
    const items = keys.map(k => {
      const a = byKey.get(k);
      const g = a.group || 'default';
      const m = a.latest_materialization;
      return {
        id: k, deps: a.deps || [], testid: 'asset-node', color: groupColor(g, groups), rank: groups.indexOf(g),
        lines: [k, `${g} · ${a.location}`, m ? `materialized ${fmtAgo(m.timestamp_ms)}` : 'never materialized'],
        title: `${k}\n${a.description ?? ''}\ngroup ${g}, location ${a.location}\n${m ? `latest: ${fmtTime(m.timestamp_ms)} (run ${m.run_id})` : 'never materialized'}`,
      };
    });
    clear(host, dagSvg(items, {
      testid: 'asset-graph', nodeH: 58,
      nodeClass: n => (selected.has(n.id) ? 'selected' : ''),
      onClick: id => { selected.has(id) ? selected.delete(id) : selected.add(id); draw(); },
    }));
    const rows = keys.map(k => {
      const a = byKey.get(k);
      const box = h('input', { type: 'checkbox', checked: selected.has(k), 'aria-label': `select ${k}` });
      box.addEventListener('change', () => { box.checked ? selected.add(k) : selected.delete(k); draw(); });
      const m = a.latest_materialization;
      return h('tr', { testid: 'asset-row', dataset: { key: k } },
        h('td', null, box),
        h('td', null, link(assetHref(k), h('code', null, k), { testid: 'asset-link' })),
        h('td', null, h('span', { class: 'dot', style: `background:${groupColor(a.group || 'default', groups)}` }), a.group || 'default'),
        h('td', null, link(`#/locations/${enc(a.location)}`, a.location)),
        h('td', null, (a.kinds || []).join(', ')),
        h('td', null, m ? h('span', null, timeEl(m.timestamp_ms), ' ', link(`#/runs/${enc(m.run_id)}`, 'run')) : h('span', { class: 'muted' }, 'never')),
        h('td', { class: 'muted' }, a.description ?? ''));
    });
    clear(list, table('assets-table', ['', 'Key', 'Group', 'Location', 'Kinds', 'Latest materialization', 'Description'], rows));
    count.textContent = selected.size ? `${selected.size} selected` : 'Click assets to select them.';
    mat.disabled = selected.size === 0;
    clearSel.disabled = selected.size === 0;
  };
  clear(legend, groups.map(g => h('span', { class: 'legend-item' }, h('span', { class: 'dot', style: `background:${groupColor(g, groups)}` }), g)));
  clearSel.addEventListener('click', () => { selected.clear(); draw(); });
  mat.addEventListener('click', async () => {
    const sel = keys.filter(k => selected.has(k));
    const body = { selection: sel.join(',') };
    const locs = new Set(sel.map(k => byKey.get(k).location));
    if (locs.size === 1) body.location = [...locs][0];
    mat.disabled = true;
    clear(feedback);
    try {
      const { run_id } = await api('POST', '/api/runs', body);
      go(`#/runs/${enc(run_id)}`);
    } catch (e) {
      mat.disabled = false;
      if (page.alive()) clear(feedback, errorBox(`Materialize failed: ${e.message}`, 'materialize-error'));
    }
  });
  draw();
  page.every(30_000, draw); // keep "materialized N min ago" honest
}
