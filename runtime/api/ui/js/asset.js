// Weft web UI: one asset's page, #/assets/{key...}: its definition (location, group, kinds,
// upstream assets), a "Materialize" button, its checks with what each last found, a plot
// over time of each number its materializations carry in their metadata (as Dagster's
// asset page has), and the materializations, newest first, with their metadata.

import { api, enc } from './api.js';
import { metadataList } from './metadata.js';
import { assetHref, clear, errorBox, facts, fmtTime, h, link, s, section, show, table, timeEl } from './render.js';
import { go } from './router.js';

/** The numeric metadata keys of the materializations, each with its points, oldest first. */
function series(materializations) {
  const byKey = new Map();
  for (const m of [...materializations].reverse()) {
    for (const [k, v] of Object.entries(m.metadata || {})) {
      if (v?.type !== 'int' && v?.type !== 'float') continue;
      if (!byKey.has(k)) byKey.set(k, []);
      byKey.get(k).push({ t: m.timestamp_ms, y: Number(v.value), run: m.run_id });
    }
  }
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** A line of `points` (y over materialization order), with its min and max labelled. */
function plot(key, points) {
  const W = 420, H = 120, pad = 28;
  const ys = points.map(p => p.y);
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const x = i => pad + (points.length === 1 ? (W - 2 * pad) / 2 : (i * (W - 2 * pad)) / (points.length - 1));
  const y = v => (hi === lo ? H / 2 : H - pad / 2 - ((v - lo) * (H - pad)) / (hi - lo));
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
  const svg = s('svg', { class: 'metadata-plot', width: W, height: H, role: 'img', 'aria-label': `${key} over materializations` },
    s('text', { x: 2, y: 12, class: 'sub' }, String(hi)),
    s('text', { x: 2, y: H - 4, class: 'sub' }, String(lo)),
    s('path', { d: path, class: 'line' }),
    points.map((p, i) => s('circle', { cx: x(i), cy: y(p.y), r: 3, class: 'point', 'data-value': p.y },
      s('title', null, `${key} = ${p.y}\n${fmtTime(p.t)}\nrun ${p.run}`))));
  return h('figure', { class: 'card plot', testid: 'metadata-plot', dataset: { key, points: String(points.length) } },
    h('figcaption', null, h('strong', null, key), ` — ${points.length} materialization${points.length === 1 ? '' : 's'}`), svg);
}

/** What a check found, as a word: passed, failed, or warned (a failure at severity WARN). */
function verdict(e) {
  if (!e) return 'not evaluated';
  if (e.passed) return 'passed';
  return e.severity === 'WARN' ? 'warned' : 'failed';
}

/** The asset's checks, each with its latest evaluation; none when the asset has no checks. */
async function checksOf(key) {
  try {
    return (await api('GET', `/api/assets/${enc(key)}/checks`)).checks || [];
  } catch (e) {
    if (e.status === 404) return [];
    throw e;
  }
}

function checkRows(checks) {
  return checks.map(c => {
    const e = c.latest;
    return h('tr', { testid: 'check-row', dataset: { check: c.name, verdict: verdict(e) } },
      h('td', null, h('code', null, c.name), c.description ? h('div', { class: 'sub' }, c.description) : null),
      h('td', null, c.blocking ? 'blocking' : '—'),
      h('td', { class: `verdict-${verdict(e).replace(' ', '-')}` }, verdict(e), e?.description ? h('div', { class: 'sub' }, e.description) : null),
      h('td', null, e ? link(`#/runs/${enc(e.run_id)}`, e.run_id.slice(0, 8)) : '—'),
      h('td', null, e ? metadataList(e.metadata, 'check-metadata') : '—'));
  });
}

export async function pageAsset(page, key) {
  show(h('p', { class: 'crumbs' }, link('#/assets', 'Assets'), ' / ', h('code', null, key)));
  let asset, checks;
  try {
    [asset, checks] = await Promise.all([api('GET', `/api/asset?key=${enc(key)}&limit=200`), checksOf(key)]);
  } catch (e) {
    if (page.alive()) show(h('h1', null, key), errorBox(e.message));
    return;
  }
  if (!page.alive()) return;
  const d = asset.definition;
  const feedback = h('div');
  const mat = h('button', { class: 'primary', testid: 'materialize-asset', disabled: !d }, 'Materialize');
  mat.addEventListener('click', async () => {
    mat.disabled = true;
    try {
      const { run_id } = await api('POST', '/api/runs', { selection: key, location: d.location });
      go(`#/runs/${enc(run_id)}`);
    } catch (e) {
      mat.disabled = false;
      if (page.alive()) clear(feedback, errorBox(`Materialize failed: ${e.message}`, 'materialize-error'));
    }
  });
  const ms = asset.materializations || [];
  const plots = series(ms).map(([k, points]) => plot(k, points));
  const rows = ms.map(m => h('tr', { testid: 'materialization-row', dataset: { run: m.run_id } },
    h('td', null, timeEl(m.timestamp_ms)),
    h('td', null, link(`#/runs/${enc(m.run_id)}`, m.run_id.slice(0, 8))),
    h('td', null, metadataList(m.metadata, 'materialization-metadata'))));
  show(
    h('p', { class: 'crumbs' }, link('#/assets', 'Assets'), ' / ', h('code', null, key)),
    h('div', { class: 'title-row' }, h('h1', null, h('code', { testid: 'asset-key' }, key)), h('div', { class: 'actions' }, mat)),
    feedback,
    d ? facts([
      ['Location', link(`#/locations/${enc(d.location)}`, d.location)],
      ['Group', d.group],
      ['Kinds', (d.kinds || []).join(', ') || '—'],
      ['Upstream', (d.deps || []).length ? h('span', null, d.deps.map((k, i) => [i ? ', ' : '', link(assetHref(k), k)])) : '—'],
      ['Description', d.description ?? '—'],
    ]) : h('p', { class: 'muted' }, 'No code location defines this asset now; its history stays.'),
    section('Checks', table('checks', ['Check', 'Blocking', 'Latest', 'Run', 'Metadata'], checkRows(checks), 'No checks.')),
    section('Metadata over time', plots.length ? h('div', { class: 'plots', testid: 'metadata-plots' }, plots)
      : h('p', { class: 'muted', testid: 'metadata-plots' }, 'No numeric metadata yet.')),
    section('Materializations', table('materializations', ['When', 'Run', 'Metadata'], rows, 'Never materialized.')));
}
