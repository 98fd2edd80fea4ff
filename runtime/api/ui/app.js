// Weft web UI: a single-page app over the JSON API of `weft serve` (see the API contract).
// Plain modern JavaScript, no build step, nothing loaded from outside. A hash router
// (#/locations, #/locations/{loc}, #/locations/{loc}/jobs/{job}, #/jobs, #/assets, #/runs,
// #/runs/{id}, #/automation, #/automation/{schedule|sensor}/{loc}/{name}) draws one page at
// a time into <main id="app">; graphs and the run's Gantt chart are hand-written SVG.
// Elements that tests look for carry data-testid.

const app = document.getElementById('app');
const TOKEN_KEY = 'weft.token';
const FINISHED = new Set(['SUCCESS', 'FAILURE', 'CANCELED']);
const RUN_STATUSES = ['QUEUED', 'NOT_STARTED', 'STARTING', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELING', 'CANCELED'];

// ---------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API; JSON in and out. A Blob body is sent as is (an upload). Throws ApiError
 *  with the server's {"error"} message on a 4xx/5xx. */
async function api(method, path, body) {
  const headers = {};
  const token = localStorage.getItem(TOKEN_KEY);
  if (method !== 'GET' && token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = 'application/wasm';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    let message = (data && typeof data === 'object' && data.error) ||
      (typeof data === 'string' && data.trim()) || `${res.status} ${res.statusText}`;
    if (res.status === 401) {
      message = `a token is required: set the API token in the left navigation (server: ${message})`;
    }
    throw new ApiError(res.status, message);
  }
  return data;
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'multiple']);

/** h('div', {class, testid, onclick, ...}, children...) — builds an HTML element. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  if (attrs && 'value' in attrs && attrs.value != null) el.value = attrs.value;
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** s('rect', {...}, children...) — builds an SVG element. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k) && !(el instanceof SVGElement)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** Appends to the page being shown. */
function show(...children) {
  append(app, children);
}

function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

function errorBox(message, testid = 'page-error') {
  return h('div', { class: 'error', testid, role: 'alert' }, message);
}

function badge(status, testid) {
  const st = String(status || 'UNKNOWN');
  return h('span', { class: `badge st-${st.toLowerCase()}`, testid }, st);
}

function table(testid, headers, rows, empty = 'Nothing yet.') {
  return h('table', { class: 'table', testid },
    h('thead', null, h('tr', null, headers.map(x => h('th', null, x)))),
    h('tbody', null, rows.length ? rows
      : h('tr', { class: 'empty' }, h('td', { colspan: headers.length, class: 'muted' }, empty))));
}

function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, children);
}

// ---------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------

/** A digest as a person reads it: 12 hex digits (each part of a pinned `a+b` digest). */
function shortDigest(d) {
  if (!d) return '—';
  return String(d).split('+').map(p => p.slice(0, 12)).join('+');
}

function digestEl(d, testid) {
  return h('code', { class: 'digest', title: d || '', testid }, shortDigest(d));
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

function fmtTime(ms) {
  if (ms == null) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fmtClock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function fmtAgo(ms) {
  if (ms == null) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  const a = Math.abs(s);
  if (a < 5) return 'just now';
  if (a >= 86400) return fmtTime(ms);
  const span = a < 60 ? `${a} s` : a < 3600 ? `${Math.floor(a / 60)} min` : `${Math.floor(a / 3600)} h`;
  return s < 0 ? `in ${span}` : `${span} ago`; // in the future: a daemon pass at an injected time
}

function timeEl(ms) {
  return h('time', { title: ms == null ? '' : new Date(ms).toISOString() }, fmtAgo(ms));
}

function fmtDuration(ms) {
  if (ms == null || Number.isNaN(ms)) return '—';
  if (ms === 0) return '0';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m}m ${pad(Math.floor((ms % 60_000) / 1000))}s`;
  return `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
}

function fmtBytes(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function runDuration(run) {
  if (run.started_ms == null) return null;
  return (run.finished_ms ?? (FINISHED.has(run.status) ? run.started_ms : Date.now())) - run.started_ms;
}

/** A row of labelled facts: [[label, value], ...] (null entries are left out). */
function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))));
}

function tagChips(tags, testid) {
  const entries = Object.entries(tags || {});
  if (!entries.length) return h('span', { class: 'muted', testid }, 'no tags');
  return h('span', { class: 'tags', testid }, entries.map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)));
}

function assetKeyText(k) {
  return Array.isArray(k) ? k.join('/') : String(k ?? '');
}

/** A short, readable line for one run event. */
function eventSummary(e) {
  switch (e.type) {
    case 'RUN_FAILURE': return e.message ?? '';
    case 'STEP_START': return e.attempt > 1 ? `started (attempt ${e.attempt})` : 'started';
    case 'STEP_OUTPUT': return `output ${e.output} (${e.codec}, ${fmtBytes(e.size)}): ${e.preview ?? ''}`;
    case 'ASSET_MATERIALIZATION': return `materialized ${assetKeyText(e.asset_key)}`;
    case 'STEP_SUCCESS': return `succeeded in ${fmtDuration(e.duration_ms)}`;
    case 'STEP_FAILURE': return `${e.kind ? `${e.kind}: ` : ''}${e.message ?? ''}${e.attempt ? ` (attempt ${e.attempt})` : ''}`;
    case 'STEP_UP_FOR_RETRY': return `attempt ${e.attempt} failed, retrying in ${fmtDuration(e.delay_ms)}: ${e.message ?? ''}`;
    case 'STEP_SKIPPED': return e.reason ?? 'skipped';
    case 'LOG': return `[${e.level ?? 'info'}] ${e.message ?? ''}`;
    case 'LOGS_CAPTURED': return `compute logs: stdout ${fmtBytes(e.stdout_bytes)}, stderr ${fmtBytes(e.stderr_bytes)}`;
    case 'RUN_STARTING': return 'the launcher took the run';
    case 'RUN_START': return 'the executor began the run';
    case 'RUN_SUCCESS': return 'the run succeeded';
    case 'RUN_CANCELING': return 'cancel requested: no new step starts';
    case 'RUN_CANCELED': return 'the run was canceled';
    default: return '';
  }
}

/** A stable, calm colour per group name. */
const PALETTE = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ef4444', '#14b8a6', '#ec4899', '#64748b'];
function groupColor(group, groups) {
  const i = groups.indexOf(group);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

// ---------------------------------------------------------------------------------------
// A layered DAG layout and its SVG
// ---------------------------------------------------------------------------------------

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

/** How wide a label is in the UI font (measured on a canvas: no layout pass needed). */
let measure = null;
function textWidth(text, px = 13, weight = 400, mono = false) {
  if (!measure) {
    const style = getComputedStyle(document.body);
    measure = {
      ctx: document.createElement('canvas').getContext('2d'),
      sans: style.fontFamily || 'sans-serif',
      mono: style.getPropertyValue('--mono').trim() || 'monospace',
    };
  }
  measure.ctx.font = `${weight} ${px}px ${mono ? measure.mono : measure.sans}`;
  return measure.ctx.measureText(String(text)).width;
}

function truncate(text, max) {
  text = String(text);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Draws a DAG as SVG. items: [{id, deps, lines: [main, sub, ...], color?, testid, data}].
 * onClick(id, event) is called when a node is clicked.
 */
function dagSvg(items, { testid, nodeH = 44, onClick, nodeClass } = {}) {
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

// ---------------------------------------------------------------------------------------
// The router
// ---------------------------------------------------------------------------------------

let generation = 0;
let leaving = [];

/** The state of the page being shown: timers and streams to close when it is left. */
function newPage() {
  const gen = ++generation;
  return {
    alive: () => gen === generation,
    onLeave: fn => leaving.push(fn),
    every(ms, fn) {
      const t = setInterval(() => { if (gen === generation) fn(); }, ms);
      leaving.push(() => clearInterval(t));
    },
  };
}

function route() {
  for (const fn of leaving.splice(0)) { try { fn(); } catch { /* closing */ } }
  const page = newPage();
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(p => { try { return decodeURIComponent(p); } catch { return p; } });
  const params = new URLSearchParams(query);
  const top = parts[0] || 'locations';
  document.querySelectorAll('.nav [data-nav]').forEach(a => a.classList.toggle('active', a.dataset.nav === top));
  clear(app);
  let render;
  if (parts.length === 0 || (top === 'locations' && parts.length === 1)) render = () => pageLocations(page);
  else if (top === 'locations' && parts.length === 2) render = () => pageLocation(page, parts[1]);
  else if (top === 'locations' && parts.length === 4 && parts[2] === 'jobs') render = () => pageJob(page, parts[1], parts[3]);
  else if (top === 'jobs' && parts.length === 1) render = () => pageJobs(page);
  else if (top === 'assets' && parts.length === 1) render = () => pageAssets(page);
  else if (top === 'runs' && parts.length === 1) render = () => pageRuns(page, params);
  else if (top === 'runs' && parts.length === 2) render = () => pageRun(page, parts[1]);
  else if (top === 'automation' && parts.length === 1) render = () => pageAutomation(page);
  else if (top === 'automation' && parts.length === 4 && Object.hasOwn(INSTIGATORS, parts[1])) render = () => pageInstigator(page, parts[1], parts[2], parts[3]);
  else render = () => show(h('h1', null, 'Not found'), h('p', null, 'No page at ', h('code', null, `#/${raw}`), '.'));
  Promise.resolve().then(render).catch(e => {
    if (page.alive()) show(errorBox(e.message || String(e)));
  });
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

// ---------------------------------------------------------------------------------------
// Code locations
// ---------------------------------------------------------------------------------------

async function pageLocations(page) {
  const result = h('div', { class: 'upload-feedback' });
  const name = h('input', {
    type: 'text', id: 'upload-name', name: 'name', placeholder: 'numbers', required: true,
    autocomplete: 'off', spellcheck: 'false', testid: 'upload-name',
  });
  const file = h('input', { type: 'file', id: 'upload-file', accept: '.wasm,application/wasm', testid: 'upload-file' });
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'upload-submit' }, 'Upload');
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f && !name.value.trim()) name.value = f.name.replace(/\.wasm$/i, '').replace(/[^A-Za-z0-9_-]/g, '_');
  });
  const form = h('form', { class: 'upload', testid: 'upload-form' },
    h('label', { for: 'upload-name' }, 'Location name', name),
    h('label', { for: 'upload-file' }, 'Component (.wasm)', file),
    submit);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const n = name.value.trim();
    const f = file.files[0];
    if (!n) return clear(result, errorBox('Give the location a name.', 'upload-error'));
    if (!f) return clear(result, errorBox('Choose a .wasm file to upload.', 'upload-error'));
    submit.disabled = true;
    clear(result, h('p', { class: 'muted', testid: 'upload-pending' }, `Uploading ${f.name} (${fmtBytes(f.size)})…`));
    try {
      const loc = await api('POST', `/api/locations/${enc(n)}`, f);
      if (!page.alive()) return;
      clear(result, h('div', { class: 'ok', testid: 'upload-result', role: 'status' },
        'Uploaded ', h('strong', null, loc.name ?? n), ': digest ', digestEl(loc.digest, 'upload-digest'),
        loc.current === false ? '' : ' (current)', ` — ${countsText(loc.counts)}.`));
      await refresh();
    } catch (err) {
      if (page.alive()) clear(result, errorBox(`Upload failed: ${err.message}`, 'upload-error'));
    } finally {
      submit.disabled = false;
    }
  });

  const list = h('div', { testid: 'locations' }, h('p', { class: 'muted' }, 'Loading…'));
  show(
    h('h1', null, 'Code locations'),
    section('Upload a component', h('p', { class: 'muted' },
      'A code location is one WebAssembly component exporting the weft:plugin world. Uploading to an existing name adds a version and makes it current; runs in flight keep theirs.'),
      form, result),
    section('Locations', list));

  const open = new Set();
  async function refresh() {
    let locs;
    try {
      locs = await api('GET', '/api/locations');
    } catch (e) {
      if (page.alive()) clear(list, errorBox(e.message));
      return;
    }
    if (!page.alive()) return;
    locs.sort((a, b) => a.name.localeCompare(b.name));
    const rows = [];
    for (const l of locs) {
      const c = l.counts || {};
      const toggle = h('button', { class: 'small', testid: 'versions-toggle', 'aria-expanded': String(open.has(l.name)) },
        open.has(l.name) ? 'Versions ▾' : 'Versions ▸');
      const remove = h('button', { class: 'small danger', testid: 'remove-location' }, 'Remove');
      rows.push(h('tr', { testid: 'location-row', dataset: { name: l.name } },
        h('td', null, link(`#/locations/${enc(l.name)}`, l.name, { class: 'strong', testid: 'location-name' })),
        h('td', null, digestEl(l.digest, 'location-digest')),
        h('td', null, timeEl(l.updated_ms)),
        h('td', { class: 'num' }, fmtBytes(l.wasm_size)),
        h('td', { class: 'num' }, c.jobs ?? 0, c.asset_jobs ? h('span', { class: 'muted' }, ` + ${c.asset_jobs} asset`) : ''),
        h('td', { class: 'num' }, c.assets ?? 0),
        h('td', { class: 'num' }, c.ops ?? 0),
        h('td', { class: 'num' }, c.schedules ?? 0),
        h('td', { class: 'num' }, c.sensors ?? 0),
        h('td', { class: 'actions' }, toggle, remove)));
      toggle.addEventListener('click', () => { open.has(l.name) ? open.delete(l.name) : open.add(l.name); refresh(); });
      remove.addEventListener('click', () => removeLocation(l.name, refresh, list));
      if (open.has(l.name)) {
        const cell = h('td', { colspan: 10 });
        rows.push(h('tr', { class: 'subrow' }, cell));
        versionsPanel(page, l.name, cell, refresh);
      }
    }
    clear(list, table('locations-table',
      ['Name', 'Digest', 'Updated', 'Size', 'Jobs', 'Assets', 'Ops', 'Schedules', 'Sensors', ''],
      rows, 'No code locations yet: upload a component above.'));
  }
  await refresh();
}

function countsText(c = {}) {
  const part = (n, one, many = `${one}s`) => `${n ?? 0} ${(n ?? 0) === 1 ? one : many}`;
  return [part(c.jobs, 'job'), part(c.asset_jobs, 'asset job'), part(c.assets, 'asset'), part(c.ops, 'op'),
    part(c.schedules, 'schedule'), part(c.sensors, 'sensor')].join(', ');
}

async function removeLocation(name, after, errorHost) {
  if (!confirm(`Remove code location "${name}"? Its runs and their history stay.`)) return;
  try {
    await api('DELETE', `/api/locations/${enc(name)}`);
    await after();
  } catch (e) {
    errorHost.prepend(errorBox(`Could not remove ${name}: ${e.message}`, 'action-error'));
  }
}

/** The versions of a location, newest first, with "Roll back" on the older ones. */
async function versionsPanel(page, name, host, onChange, title = true) {
  clear(host, h('p', { class: 'muted' }, 'Loading versions…'));
  let versions;
  try {
    versions = await api('GET', `/api/locations/${enc(name)}/versions`);
  } catch (e) {
    if (page.alive()) clear(host, errorBox(e.message));
    return;
  }
  if (!page.alive()) return;
  const feedback = h('div');
  const rows = versions.map(v => {
    const back = v.current ? null : h('button', { class: 'small', testid: 'rollback' }, 'Roll back');
    back?.addEventListener('click', async () => {
      back.disabled = true;
      try {
        await api('POST', `/api/locations/${enc(name)}/rollback`, { digest: v.digest });
        await onChange();
      } catch (e) {
        back.disabled = false;
        clear(feedback, errorBox(`Roll back failed: ${e.message}`, 'action-error'));
      }
    });
    return h('tr', { testid: 'version-row', dataset: { digest: v.digest, current: String(!!v.current) }, class: v.current ? 'current' : '' },
      h('td', null, digestEl(v.digest, 'version-digest')),
      h('td', null, h('time', { title: v.created_ms ? new Date(v.created_ms).toISOString() : '' }, fmtTime(v.created_ms))),
      h('td', { class: 'num' }, fmtBytes(v.wasm_size)),
      h('td', null, countsText(v.counts)),
      h('td', null, v.current ? h('span', { class: 'badge st-success', testid: 'current-marker' }, 'current') : back));
  });
  clear(host, h('div', { class: 'versions', testid: 'versions' },
    title ? h('h3', null, `Versions of ${name}`) : null, feedback,
    table('versions-table', ['Digest', 'Uploaded', 'Size', 'Definitions', ''], rows, 'No versions.')));
}

async function pageLocation(page, name) {
  show(h('p', { class: 'crumbs' }, link('#/locations', 'Code locations'), ' / ', name));
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  show(body);
  async function refresh() {
    const loc = await api('GET', `/api/locations/${enc(name)}`);
    if (!page.alive()) return;
    const defs = loc.definitions || {};
    const versions = h('div');
    const remove = h('button', { class: 'danger', testid: 'remove-location' }, 'Remove location');
    remove.addEventListener('click', () => removeLocation(name, async () => go('#/locations'), body));
    const names = (xs, f) => (xs || []).map(x => (typeof x === 'string' ? x : f(x)));
    const jobLinks = [...names(defs.jobs, x => x.name), ...names(defs.asset_jobs, x => x.name)]
      .map(j => h('li', null, link(`#/locations/${enc(name)}/jobs/${enc(j)}`, j, { testid: 'location-job' })));
    const assets = names(defs.assets, x => assetKeyText(x.key ?? x.name));
    const ops = names(defs.ops, x => x.name);
    clear(body,
      h('div', { class: 'title-row' },
        h('h1', null, loc.name ?? name),
        h('div', { class: 'actions' }, remove)),
      facts([
        ['Current digest', digestEl(loc.digest, 'location-digest')],
        ['Updated', fmtTime(loc.updated_ms)],
        ['Size', fmtBytes(loc.wasm_size)],
        ['Definitions', countsText(loc.counts)]]),
      section('Versions', versions),
      section('Jobs', jobLinks.length ? h('ul', { class: 'plain' }, jobLinks) : h('p', { class: 'muted' }, 'No jobs.')),
      section('Assets', assets.length ? h('p', null, assets.map(a => h('code', { class: 'chip' }, a))) : h('p', { class: 'muted' }, 'No assets.')),
      section('Ops', ops.length ? h('p', null, ops.map(o => h('code', { class: 'chip' }, o))) : h('p', { class: 'muted' }, 'No ops.')),
      section('Grants', grantsView(loc.grants)));
    await versionsPanel(page, name, versions, refresh, false);
  }
  await refresh();
}

function grantsView(g) {
  if (!g) return h('p', { class: 'muted' }, 'None.');
  const dirs = (g.dirs || []).map(d => `${d.host} → ${d.guest}${d.read_only ? ' (read-only)' : ''}`);
  const rows = [
    ['Directories', dirs], ['Environment variables', g.env || []], ['Hosts', g.hosts || []],
    ['Environment', Object.entries(g.environment || {}).map(([k, v]) => `${k}=${v}`)],
  ];
  return facts(rows.map(([k, xs]) => [k, xs.length ? xs.map(x => h('code', { class: 'chip' }, x)) : h('span', { class: 'muted' }, 'none')]));
}

// ---------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------

async function pageJobs(page) {
  const filter = h('input', { type: 'search', placeholder: 'Filter jobs', testid: 'jobs-filter' });
  const host = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  show(h('div', { class: 'title-row' }, h('h1', null, 'Jobs'), filter), section(null, host));
  const jobs = await api('GET', '/api/jobs');
  if (!page.alive()) return;
  jobs.sort((a, b) => a.location.localeCompare(b.location) || a.name.localeCompare(b.name));
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = jobs.filter(j => !q || `${j.location} ${j.name} ${j.description ?? ''}`.toLowerCase().includes(q)).map(j =>
      h('tr', { testid: 'job-row', dataset: { location: j.location, name: j.name } },
        h('td', null, link(`#/locations/${enc(j.location)}/jobs/${enc(j.name)}`, j.name, { class: 'strong', testid: 'job-link' })),
        h('td', null, link(`#/locations/${enc(j.location)}`, j.location)),
        h('td', null, h('span', { class: 'kind' }, j.kind)),
        h('td', { class: 'num' }, j.step_count ?? '—'),
        h('td', { class: 'muted' }, j.description ?? '')));
    clear(host, table('jobs-table', ['Job', 'Location', 'Kind', 'Steps', 'Description'], rows,
      jobs.length ? 'No job matches.' : 'No jobs: upload a code location first.'));
  };
  filter.addEventListener('input', draw);
  draw();
}

function parseTags(text) {
  const tags = {};
  for (const part of text.split(/[,\n]/).map(x => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`"${part}" is not key=value`);
    tags[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return tags;
}

async function pageJob(page, loc, name) {
  show(h('p', { class: 'crumbs' }, link('#/jobs', 'Jobs'), ' / ', link(`#/locations/${enc(loc)}`, loc), ' / ', name));
  const job = await api('GET', `/api/locations/${enc(loc)}/jobs/${enc(name)}`);
  if (!page.alive()) return;
  const steps = job.steps || [];
  const graph = steps.length
    ? dagSvg(steps.map(st => {
      const sub = st.kind === 'asset' ? `asset ${assetKeyText(st.asset)}` : (st.op && st.op !== st.key ? `op ${st.op}` : 'op');
      return { id: st.key, deps: st.upstream || [], lines: [st.key, sub] };
    }), { testid: 'op-graph' })
    : h('p', { class: 'muted', testid: 'op-graph' }, 'This job has no steps.');

  const config = h('textarea', { id: 'run-config', rows: 8, spellcheck: 'false', testid: 'run-config', value: '{}' });
  const configError = h('div', { class: 'field-error', testid: 'config-error', hidden: true });
  const tags = h('input', { id: 'run-tags', type: 'text', placeholder: 'team=data, priority=high', testid: 'run-tags' });
  const launch = h('button', { class: 'primary', testid: 'launch' }, 'Launch run');
  const launchError = h('div');
  const parsed = () => {
    const text = config.value.trim();
    if (!text) return null;
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('run config must be a JSON object');
    return v;
  };
  const validate = () => {
    try {
      parsed();
      parseTags(tags.value);
      configError.hidden = true;
      config.classList.remove('invalid');
      launch.disabled = false;
      return true;
    } catch (e) {
      configError.textContent = `Invalid: ${e.message}`;
      configError.hidden = false;
      config.classList.add('invalid');
      launch.disabled = true;
      return false;
    }
  };
  config.addEventListener('input', validate);
  tags.addEventListener('input', validate);
  launch.addEventListener('click', async () => {
    if (!validate()) return;
    const body = { location: loc, job: name };
    const cfg = parsed();
    if (cfg && Object.keys(cfg).length) body.config = cfg;
    const t = parseTags(tags.value);
    if (Object.keys(t).length) body.tags = t;
    launch.disabled = true;
    clear(launchError);
    try {
      const { run_id } = await api('POST', '/api/runs', body);
      go(`#/runs/${enc(run_id)}`);
    } catch (e) {
      launch.disabled = false;
      if (page.alive()) clear(launchError, errorBox(`Launch failed: ${e.message}`, 'launch-error'));
    }
  });

  const recent = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  show(
    h('div', { class: 'title-row' }, h('h1', null, job.name ?? name), h('span', { class: 'kind' }, job.kind)),
    job.description ? h('p', { class: 'lead' }, job.description) : null,
    facts([
      ['Location', link(`#/locations/${enc(loc)}`, loc)],
      ['Digest', digestEl(job.digest, 'job-digest')],
      ['Steps', String(steps.length)],
      ['Tags', tagChips(job.tags, 'job-tags')]]),
    section('Graph', graph),
    section('Launch',
      h('div', { class: 'launch' },
        h('label', { for: 'run-config' }, 'Run config (JSON)', config, configError),
        h('label', { for: 'run-tags' }, 'Tags (key=value, comma separated)', tags),
        h('div', null, launch), launchError)),
    section('Recent runs', recent));

  try {
    const runs = await api('GET', `/api/runs?job=${enc(name)}&location=${enc(loc)}&limit=10`);
    if (page.alive()) clear(recent, runsTable(runs, 'job-runs'));
  } catch (e) {
    if (page.alive()) clear(recent, errorBox(e.message));
  }
}

// ---------------------------------------------------------------------------------------
// Assets
// ---------------------------------------------------------------------------------------

async function pageAssets(page) {
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
        h('td', null, h('code', null, k)),
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

// ---------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------

/** A run's job as a link to its page; an ad-hoc materialization (`__asset_job`) or a
 *  run across locations (`a+b`) has no job page. */
function jobName(run, testid) {
  const adhoc = !run.job || run.job.startsWith('__');
  const label = adhoc ? `materialize ${run.asset_selection ?? ''}`.trim() : run.job;
  if (adhoc || !run.location || String(run.location).includes('+')) {
    return h('span', { testid, title: run.asset_selection ?? '' }, label);
  }
  return link(`#/locations/${enc(run.location)}/jobs/${enc(run.job)}`, label, { testid });
}

function runsTable(runs, testid = 'runs-table') {
  const rows = runs.map(r => h('tr', { testid: 'run-row', dataset: { runId: r.run_id, status: r.status } },
    h('td', null, link(`#/runs/${enc(r.run_id)}`, r.run_id.slice(0, 8), { class: 'mono', title: r.run_id, testid: 'run-link' })),
    h('td', null, badge(r.status, 'status-badge')),
    h('td', null, jobName(r)),
    h('td', null, r.location ?? '—'),
    h('td', null, timeEl(r.started_ms ?? r.created_ms)),
    h('td', { class: 'num' }, fmtDuration(runDuration(r))),
    h('td', null, tagChips(r.tags))));
  return table(testid, ['Run', 'Status', 'Job', 'Location', 'Started', 'Duration', 'Tags'], rows, 'No runs.');
}

async function pageRuns(page, params) {
  const status = h('select', { testid: 'runs-status-filter', 'aria-label': 'Filter by status' },
    h('option', { value: '' }, 'All statuses'),
    RUN_STATUSES.map(st => h('option', { value: st, selected: params.get('status') === st }, st)));
  status.addEventListener('change', () => {
    const q = new URLSearchParams(params);
    status.value ? q.set('status', status.value) : q.delete('status');
    go(`#/runs${q.toString() ? `?${q}` : ''}`);
  });
  const stamp = h('span', { class: 'muted', testid: 'runs-updated' });
  const host = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const scope = ['job', 'location'].filter(k => params.get(k)).map(k => `${k} ${params.get(k)}`).join(', ');
  show(
    h('div', { class: 'title-row' }, h('h1', null, 'Runs', scope ? h('small', null, ` (${scope})`) : ''),
      h('div', { class: 'actions' }, stamp, status)),
    section(null, host));
  const query = new URLSearchParams({ limit: '100' });
  for (const k of ['status', 'job', 'location', 'tag']) if (params.get(k)) query.set(k, params.get(k));
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const runs = await api('GET', `/api/runs?${query}`);
      if (!page.alive()) return;
      clear(host, runsTable(runs));
      stamp.textContent = `auto-refresh every 2 s · updated ${fmtClock(Date.now())}`;
    } catch (e) {
      if (page.alive()) clear(host, errorBox(e.message));
    } finally {
      busy = false;
    }
  };
  await refresh();
  page.every(2000, refresh);
}

// ---------------------------------------------------------------------------------------
// One run: header, Gantt chart, live event log, step logs
// ---------------------------------------------------------------------------------------

/** The smallest of 1, 2, 5 × 10^k (ms) that is at least `x`, and at least `min`. */
function niceCeil(x, min = 0) {
  x = Math.max(x, min, 1);
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map(m => m * p).find(v => v >= x);
}

/** An axis label: as many decimals as the tick spacing needs. */
function fmtTick(t, tick) {
  if (t === 0) return '0';
  if (tick < 100) return `${+t.toFixed(Math.max(0, -Math.floor(Math.log10(tick))))} ms`;
  if (tick < 60_000) return `${+(t / 1000).toFixed(Math.max(0, 3 - Math.floor(Math.log10(tick))))} s`;
  return fmtDuration(t);
}

function niceStep(span) {
  const raw = span / 6;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 0.001)));
  return [1, 2, 5, 10].map(m => m * p).find(x => x >= raw) ?? 10 * p;
}

/**
 * The step timeline: a row for the whole run, then one row per step with a bar from its
 * start_ms to its end_ms (to now while it runs). `planned` (the job's step keys, when the
 * plan of the run's version is known) adds rows for the steps that have not started.
 */
function gantt(run, selectedStep, onSelect, width, planned = []) {
  const live = !FINISHED.has(run.status);
  const known = new Set((run.steps || []).map(st => st.key));
  const planIndex = new Map(planned.map((k, i) => [k, i]));
  const steps = [...(run.steps || []), ...planned.filter(k => !known.has(k)).map(key => ({ key, status: null }))];
  const order = new Map(steps.map((st, i) => [st.key, planIndex.get(st.key) ?? planned.length + i]));
  steps.sort((a, b) => (a.start_ms ?? Infinity) - (b.start_ms ?? Infinity) || order.get(a.key) - order.get(b.key));
  const now = Date.now();
  const endOf = st => st.end_ms ?? (st.start_ms != null && live ? Math.max(now, st.start_ms) : st.start_ms);
  const starts = steps.map(st => st.start_ms).filter(x => x != null);
  const t0 = run.started_ms ?? (starts.length ? Math.min(...starts) : run.created_ms ?? now);
  const ends = steps.map(endOf).filter(x => x != null);
  let t1 = Math.max(t0 + 1, ...ends, run.finished_ms ?? 0);
  // While the run goes on, the axis ends at the next round span past now, so that running
  // bars visibly grow (the scale steps up 1 s, 2 s, 5 s, 10 s... as time passes).
  if (live) t1 = t0 + niceCeil(Math.max(t1, now) - t0, 1000);
  const labelW = Math.ceil(Math.min(280, Math.max(120, ...steps.map(st => textWidth(truncate(st.key, 34), 12, 400, true) + 24))));
  const rowH = 24, top = 26, chartW = Math.max(200, width - labelW - 16);
  const height = top + (steps.length + 1) * rowH + 8;
  const x = t => labelW + ((t - t0) / (t1 - t0)) * chartW;
  const svg = s('svg', { class: 'gantt', testid: 'gantt', width: labelW + chartW + 16, height, role: 'img', 'aria-label': 'step timeline' });
  const tick = niceStep(t1 - t0);
  for (let t = 0; t <= t1 - t0 + 1e-9; t += tick) {
    const px = x(t0 + t);
    svg.append(s('line', { class: 'tick', x1: px, x2: px, y1: top - 6, y2: height - 4 }));
    svg.append(s('text', { class: 'tick-label', x: px, y: 12, 'text-anchor': 'middle' }, fmtTick(t, tick)));
  }
  const label = (text, y, cls = 'gantt-label') =>
    s('text', { class: cls, x: 8, y: y + rowH / 2, 'dominant-baseline': 'central' }, truncate(text, 34));
  const bar = (attrs, from, to, title) => s('rect', {
    ...attrs, x: x(from), y: attrs.y + 4, width: Math.max(3, x(to) - x(from)), height: rowH - 8, rx: 3,
  }, s('title', null, title));

  // The run as a whole.
  const runEnd = run.finished_ms ?? (live ? now : t1);
  svg.append(label('run', top, 'gantt-label run-label'));
  if (run.started_ms != null) {
    svg.append(bar({ class: `bar run-bar st-${String(run.status).toLowerCase()}`, testid: 'gantt-run-bar', 'data-status': run.status, y: top },
      run.started_ms, runEnd, `run: ${run.status}, ${fmtDuration(runEnd - run.started_ms)}`));
  } else {
    svg.append(s('text', { class: 'sub', x: labelW + 4, y: top + rowH / 2, 'dominant-baseline': 'central' }, String(run.status).toLowerCase()));
  }
  steps.forEach((st, i) => {
    const y = top + (i + 1) * rowH;
    const row = s('g', { class: `gantt-row ${st.key === selectedStep ? 'selected' : ''}`, 'data-step': st.key, testid: 'gantt-row' });
    row.append(s('rect', { class: 'row-bg', x: 0, y, width: labelW + chartW + 16, height: rowH }));
    row.append(label(st.key, y));
    if (st.start_ms != null) {
      const end = endOf(st);
      row.append(bar({ class: `bar st-${(st.status || 'RUNNING').toLowerCase()}`, testid: 'gantt-bar', 'data-step': st.key, 'data-status': st.status, y },
        st.start_ms, end, `${st.key}: ${st.status}, ${fmtDuration(end - st.start_ms)}${st.attempts > 1 ? `, ${st.attempts} attempts` : ''}`));
    } else {
      const what = st.status ? st.status.toLowerCase() : live ? 'not reported yet' : 'did not run';
      row.append(s('text', { class: 'sub', x: labelW + 4, y: y + rowH / 2, 'dominant-baseline': 'central' }, what));
    }
    row.addEventListener('click', () => onSelect(st.key));
    svg.append(row);
  });
  return svg;
}

async function pageRun(page, runId) {
  show(h('p', { class: 'crumbs' }, link('#/runs', 'Runs'), ' / ', h('span', { class: 'mono' }, runId)));
  let run = await api('GET', `/api/runs/${enc(runId)}`);
  if (!page.alive()) return;
  const events = [];
  const seen = new Set();
  let selectedStep = null;

  const header = h('div');
  const actions = h('div', { class: 'actions' });
  const actionFeedback = h('div');
  const ganttHost = h('div', { class: 'gantt-wrap' });
  const stepPanel = h('div');
  const logBody = h('tbody');
  const logTable = h('table', { class: 'table log', testid: 'event-log', 'data-source': 'stream' },
    h('thead', null, h('tr', null, ['Time', 'Step', 'Type', 'Message'].map(x => h('th', null, x)))), logBody);
  const logWrap = h('div', { class: 'log-wrap' }, logTable);
  // The config does not change: drawn once, so that it stays open when the header is redrawn.
  const config = run.config && Object.keys(run.config).length
    ? h('details', { class: 'config' }, h('summary', null, 'Run config'),
      h('pre', { class: 'code', testid: 'run-config-shown' }, JSON.stringify(run.config, null, 2)))
    : null;
  show(header, config, actionFeedback, section('Timeline', ganttHost), stepPanel, section('Event log', logWrap));

  const drawHeader = () => {
    const cancel = FINISHED.has(run.status) ? null : h('button', { class: 'danger', testid: 'cancel', disabled: run.status === 'CANCELING' }, run.status === 'CANCELING' ? 'Canceling…' : 'Cancel');
    cancel?.addEventListener('click', async () => {
      cancel.disabled = true;
      try {
        const r = await api('POST', `/api/runs/${enc(runId)}/cancel`);
        if (r?.status) run.status = r.status;
        drawHeader();
        refresh();
      } catch (e) {
        cancel.disabled = false;
        clear(actionFeedback, errorBox(`Cancel failed: ${e.message}`, 'action-error'));
      }
    });
    const reexec = (fromFailure, label, testid) => {
      const b = h('button', { testid }, label);
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          const r = await api('POST', `/api/runs/${enc(runId)}/reexecute`, { from_failure: fromFailure });
          go(`#/runs/${enc(r.run_id)}`);
        } catch (e) {
          b.disabled = false;
          clear(actionFeedback, errorBox(`Re-execute failed: ${e.message}`, 'action-error'));
        }
      });
      return b;
    };
    clear(actions, cancel,
      FINISHED.has(run.status) ? reexec(false, 'Re-execute', 'reexecute') : null,
      run.status === 'FAILURE' ? reexec(true, 'Re-execute from failure', 'reexecute-from-failure') : null);
    clear(header,
      h('div', { class: 'title-row' },
        h('h1', null, 'Run ', h('span', { class: 'mono' }, runId.slice(0, 8)), ' ', badge(run.status, 'run-status')),
        actions),
      facts([
        ['Job', jobName(run, 'run-job')],
        ['Location', run.location ?? '—'],
        ['Digest', digestEl(run.digest, 'run-digest')],
        run.asset_selection ? ['Asset selection', h('code', null, String(run.asset_selection))] : null,
        ['Tags', tagChips(run.tags, 'run-tags')],
        ['Created', fmtTime(run.created_ms)],
        ['Started', fmtTime(run.started_ms)],
        ['Finished', fmtTime(run.finished_ms)],
        ['Duration', h('span', { testid: 'run-duration' }, fmtDuration(runDuration(run)))]]));
  };

  let planned = [];
  const drawGantt = () => {
    const width = ganttHost.clientWidth || app.clientWidth || 900;
    clear(ganttHost, gantt(run, selectedStep, selectStep, width, planned));
  };
  // The plan of the run's job, when the location's current version is the run's: rows for
  // the steps that have not reported yet (a step's events come when its attempt ends).
  if (run.job && !run.job.startsWith('__') && run.location && !String(run.location).includes('+')) {
    api('GET', `/api/locations/${enc(run.location)}/jobs/${enc(run.job)}`).then(job => {
      if (page.alive() && job.digest === run.digest) {
        planned = (job.steps || []).map(st => st.key);
        drawGantt();
      }
    }).catch(() => { /* the location changed or is gone: the run's own steps suffice */ });
  }

  // The record: refreshed on step events (debounced) and every second until the run ends.
  let refreshing = null;
  const refresh = () => {
    refreshing ??= api('GET', `/api/runs/${enc(runId)}`).then(r => {
      if (!page.alive()) return;
      const wasFinished = FINISHED.has(run.status);
      run = r;
      drawHeader();
      drawGantt();
      if (!wasFinished && FINISHED.has(run.status) && selectedStep) loadStepLogs(selectedStep);
    }).catch(e => {
      if (page.alive()) clear(actionFeedback, errorBox(e.message));
    }).finally(() => { refreshing = null; });
    return refreshing;
  };
  let soon = null;
  const refreshSoon = () => { soon ??= setTimeout(() => { soon = null; if (page.alive()) refresh(); }, 120); };
  page.onLeave(() => clearTimeout(soon));
  page.every(1000, () => { if (!FINISHED.has(run.status)) refresh(); });
  // Running bars grow between record refreshes.
  page.every(250, () => { if (!FINISHED.has(run.status)) drawGantt(); });
  const onResize = () => drawGantt();
  window.addEventListener('resize', onResize);
  page.onLeave(() => window.removeEventListener('resize', onResize));

  // The event log.
  const logRow = e => {
    const step = e.step_key ? h('button', { class: 'linkish', testid: 'event-step' }, e.step_key) : h('span', { class: 'muted' }, '—');
    if (e.step_key) step.addEventListener('click', () => selectStep(e.step_key));
    const level = e.type === 'LOG' ? ` lvl-${String(e.level || '').toLowerCase()}` : '';
    return h('tr', { testid: 'event-row', dataset: { type: e.type, step: e.step_key ?? '', id: e.id ?? '' }, class: `ev-${String(e.type).toLowerCase()}${level}` },
      h('td', { class: 'mono nowrap' }, h('time', { title: new Date(e.timestamp_ms).toISOString() }, fmtClock(e.timestamp_ms))),
      h('td', null, step),
      h('td', null, h('span', { class: 'evtype' }, e.type)),
      h('td', { class: 'msg' }, eventSummary(e)));
  };
  const addEvents = list => {
    const atBottom = logWrap.scrollTop + logWrap.clientHeight >= logWrap.scrollHeight - 8;
    const frag = document.createDocumentFragment();
    let stepChanged = false;
    for (const e of list) {
      const key = e.id ?? `${e.timestamp_ms}:${e.type}:${e.step_key ?? ''}:${events.length}`;
      if (seen.has(key)) continue;
      seen.add(key);
      events.push(e);
      frag.append(logRow(e));
      if (e.type.startsWith('STEP_') || e.type.startsWith('RUN_')) stepChanged = true;
      if (e.type === 'LOG' && e.step_key === selectedStep) drawStepLogEvents();
    }
    logBody.append(frag);
    if (atBottom) logWrap.scrollTop = logWrap.scrollHeight;
    logTable.dataset.count = String(events.length);
    if (stepChanged) refreshSoon();
  };

  // Streamed with EventSource; if the stream cannot be opened, polled instead.
  let cursor = 0;
  let polling = false;
  const poll = async () => {
    if (!polling) return;
    try {
      const r = await api('GET', `/api/runs/${enc(runId)}/events?after=${cursor}&limit=500`);
      if (!page.alive()) return;
      addEvents(r.events || []);
      if (r.cursor != null) cursor = r.cursor;
      if ((r.events || []).length === 500) return poll();
      if (FINISHED.has(run.status) && !(r.events || []).length) { polling = false; logTable.dataset.ended = 'true'; }
    } catch { /* the next tick tries again */ }
  };
  const es = new EventSource(`/api/runs/${enc(runId)}/events/stream`);
  let opened = false;
  es.addEventListener('open', () => { opened = true; });
  es.addEventListener('event', m => {
    let e;
    try { e = JSON.parse(m.data); } catch { return; }
    if (e.id == null && m.lastEventId) e.id = Number(m.lastEventId);
    if (typeof e.id === 'number') cursor = Math.max(cursor, e.id);
    addEvents([e]);
  });
  es.addEventListener('end', m => {
    es.close();
    logTable.dataset.ended = 'true';
    try {
      const { status } = JSON.parse(m.data);
      if (status) run.status = status;
    } catch { /* the record tells */ }
    refresh();
  });
  es.addEventListener('error', m => {
    // The server's own `event: error` (it could not read the events), a stream that was
    // never opened, or one that the server closed after the run ended without an `end`
    // event: stop reconnecting and poll what is left.
    let serverError = null;
    if (typeof m.data === 'string') {
      try { serverError = JSON.parse(m.data).error; } catch { serverError = m.data; }
      clear(actionFeedback, errorBox(`Event stream: ${serverError || 'error'}`, 'stream-error'));
    }
    if (serverError != null || !opened || es.readyState === EventSource.CLOSED || FINISHED.has(run.status)) {
      es.close();
      if (logTable.dataset.ended !== 'true' && !polling) {
        polling = true;
        logTable.dataset.source = 'poll';
        poll();
        page.every(1000, poll);
      }
    }
  });
  page.onLeave(() => es.close());

  // Compute logs of one step, and its LOG events.
  const stepLogEvents = h('div');
  function drawStepLogEvents() {
    const logs = events.filter(e => e.step_key === selectedStep && e.type === 'LOG');
    clear(stepLogEvents, logs.length
      ? h('ul', { class: 'log-lines', testid: 'step-log-events' }, logs.map(e =>
        h('li', { class: `lvl-${String(e.level || '').toLowerCase()}` }, h('span', { class: 'mono muted' }, fmtClock(e.timestamp_ms)), ' ', h('strong', null, e.level ?? ''), ' ', e.message ?? '')))
      : h('p', { class: 'muted', testid: 'step-log-events' }, 'No log lines from this step.'));
  }
  async function loadStepLogs(key) {
    const out = h('pre', { class: 'code', testid: 'step-stdout' }, '…');
    const err = h('pre', { class: 'code', testid: 'step-stderr' }, '…');
    const close = h('button', { class: 'small', testid: 'step-logs-close' }, 'Close');
    close.addEventListener('click', () => { selectedStep = null; clear(stepPanel); drawGantt(); });
    const reload = h('button', { class: 'small', testid: 'step-logs-refresh' }, 'Refresh');
    reload.addEventListener('click', () => loadStepLogs(key));
    const panel = h('section', { class: 'card step-logs', testid: 'step-logs', dataset: { step: key, loaded: 'false' } },
      h('div', { class: 'title-row' }, h('h2', null, 'Step ', h('code', null, key)), h('div', { class: 'actions' }, reload, close)),
      h('h3', null, 'stdout'), out, h('h3', null, 'stderr'), err, h('h3', null, 'Log events'), stepLogEvents);
    clear(stepPanel, panel);
    drawStepLogEvents();
    try {
      const logs = await api('GET', `/api/runs/${enc(runId)}/logs/${enc(key)}`);
      if (!page.alive() || selectedStep !== key) return;
      const fill = (el, text) => { if (text) el.textContent = text; else clear(el, h('span', { class: 'muted' }, '(empty)')); };
      fill(out, logs?.stdout);
      fill(err, logs?.stderr);
      panel.dataset.loaded = 'true';
    } catch (e) {
      if (!page.alive() || selectedStep !== key) return;
      out.textContent = '';
      err.textContent = '';
      panel.insertBefore(errorBox(`Compute logs: ${e.message}`, 'step-logs-error'), panel.children[1]);
      panel.dataset.loaded = 'error';
    }
  }
  function selectStep(key) {
    selectedStep = key;
    drawGantt();
    loadStepLogs(key);
    stepPanel.scrollIntoView({ block: 'nearest' });
  }

  drawHeader();
  drawGantt();
}

// ---------------------------------------------------------------------------------------
// Automation
// ---------------------------------------------------------------------------------------

/**
 * What a sensor watches: for a run-status sensor, the runs that end with its status
 * ("runs of process_numbers that end SUCCESS"); a plain sensor's function decides.
 */
function watchesText(sensor) {
  const k = sensor.kind;
  if (!k || k.type !== 'run_status') return 'its function';
  const jobs = k.monitored_jobs && k.monitored_jobs.length ? k.monitored_jobs.join(', ') : 'every job';
  const where = k.all_locations ? ' of every location' : '';
  return `runs of ${jobs}${where} that end ${k.status}`;
}

/** Schedules and sensors ("instigators"): where their state, controls and ticks live. */
const INSTIGATORS = {
  schedule: { title: 'Schedule', list: '/api/schedules', api: '/api/schedules', tag: 'weft/schedule_name' },
  sensor: { title: 'Sensor', list: '/api/sensors', api: '/api/sensors', tag: 'weft/sensor_name' },
};
const instigatorApi = (kind, loc, name) => `${INSTIGATORS[kind].api}/${enc(loc)}/${enc(name)}`;
const instigatorHash = (kind, loc, name) => `#/automation/${kind}/${enc(loc)}/${enc(name)}`;

/** RUNNING or STOPPED, as the daemon follows it (the location's default in the tooltip). */
function stateBadge(status, defaultStatus) {
  const b = badge(status || 'UNKNOWN', 'instigator-status');
  if (defaultStatus) b.title = `default: ${defaultStatus}`;
  return b;
}

/**
 * The Start/Stop button of one schedule or sensor. `set(status)` shows a state read from
 * the server (ignored while a change is under way); a click POSTs .../start or .../stop and
 * calls onChange(newState), or onError(error, action). onBusy() is called when a change
 * begins and when it ends, so that a refresh begun meanwhile is not drawn over it.
 */
function instigatorToggle(kind, loc, name, { onChange, onError, onBusy }) {
  let status = null;
  let pending = null;
  const button = h('button', { type: 'button', testid: 'instigator-toggle' });
  const draw = () => {
    const on = status === 'RUNNING';
    button.textContent = pending === 'start' ? 'Starting…' : pending === 'stop' ? 'Stopping…' : on ? 'Stop' : 'Start';
    button.className = `small ${on ? 'danger' : 'primary'}`;
    button.disabled = pending != null || status == null;
    button.dataset.action = on ? 'stop' : 'start';
    button.title = on ? `Turn this ${kind} off` : `Turn this ${kind} on: the daemon ticks it from now`;
  };
  button.addEventListener('click', async () => {
    if (pending || status == null) return;
    pending = status === 'RUNNING' ? 'stop' : 'start';
    const action = pending;
    onBusy?.();
    draw();
    let state = null;
    let error = null;
    try {
      state = await api('POST', `${instigatorApi(kind, loc, name)}/${action}`);
      status = state?.status ?? (action === 'start' ? 'RUNNING' : 'STOPPED');
    } catch (e) {
      error = e;
    }
    pending = null;
    onBusy?.();
    draw();
    if (error) onError?.(error, action); else onChange?.(state ?? { status });
  });
  draw();
  return { el: button, set(st) { if (!pending) { status = st; draw(); } } };
}

const jobLinkOf = (loc, job) => (job ? link(`#/locations/${enc(loc)}/jobs/${enc(job)}`, job) : h('span', { class: 'muted' }, '—'));
const defaultStatus = st => h('span', { class: 'muted', testid: 'default-status' }, st ?? '—');
const intervalText = x => (x.minimum_interval_seconds != null ? `${x.minimum_interval_seconds} s` : '—');

/**
 * One table of schedules or sensors whose rows are updated in place (a refresh does not take
 * the focus off a Start/Stop button). columns: [[header, item => content, cell class?], ...],
 * between the name and the state, last tick and Start/Stop columns.
 */
function instigatorTable(page, kind, columns, { feedback, onBusy, onChange }) {
  const testid = `${kind}s-table`;
  const headers = [INSTIGATORS[kind].title, ...columns.map(c => c[0]), 'State', kind === 'sensor' ? 'Last evaluation' : 'Last tick', ''];
  const el = table(testid, headers, [], kind === 'sensor' ? 'No sensors.' : 'No schedules.');
  const body = el.tBodies[0];
  const empty = body.firstElementChild;
  const rows = new Map();
  const rowOf = x => {
    const key = `${x.location}\u0000${x.name}`;
    let row = rows.get(key);
    if (!row) {
      const toggle = instigatorToggle(kind, x.location, x.name, {
        onBusy,
        onChange: state => { clear(feedback); onChange(x, state); },
        onError: (e, action) => {
          if (page.alive()) clear(feedback, errorBox(`Could not ${action} ${x.name}: ${e.message}`, 'action-error'));
        },
      });
      const cells = columns.map(([, , cls]) => h('td', { class: cls }));
      const state = h('td');
      const last = h('td', { class: 'nowrap' });
      const tr = h('tr', { testid: `${kind}-row`, dataset: { location: x.location, name: x.name } },
        h('td', null, link(instigatorHash(kind, x.location, x.name), x.name, { class: 'strong', testid: 'instigator-link' })),
        cells, state, last, h('td', { class: 'actions' }, toggle.el));
      row = {
        tr,
        update(item) {
          columns.forEach(([, f], i) => clear(cells[i], f(item)));
          clear(state, stateBadge(item.status, item.default_status));
          clear(last, h('span', { testid: 'last-tick' }, timeEl(item.last_tick_ms)));
          tr.dataset.status = item.status ?? '';
          toggle.set(item.status);
        },
      };
      rows.set(key, row);
    }
    row.update(x);
    return row.tr;
  };
  return {
    el,
    draw(items) {
      items = [...items].sort((a, b) => a.location.localeCompare(b.location) || a.name.localeCompare(b.name));
      const want = items.map(rowOf);
      const keep = new Set(items.map(x => `${x.location}\u0000${x.name}`));
      for (const k of [...rows.keys()]) if (!keep.has(k)) rows.delete(k);
      const shown = want.length ? want : [empty];
      const same = body.children.length === shown.length && shown.every((tr, i) => body.children[i] === tr);
      if (!same) body.replaceChildren(...shown);
    },
  };
}

async function pageAutomation(page) {
  const sched = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const sens = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const feedback = h('div');
  const stamp = h('span', { class: 'muted', testid: 'automation-updated' });
  show(h('div', { class: 'title-row' }, h('h1', null, 'Automation'), stamp),
    h('p', { class: 'muted' }, 'Schedules and sensors of every code location. The daemon (',
      h('code', null, 'weft daemon'), ', or ', h('code', null, 'weft dev'),
      ') ticks those that are running; Start and Stop take effect at its next pass. Click a name for its ticks.'),
    feedback, section('Schedules', sched), section('Sensors', sens));

  let epoch = 0; // bumped when a Start/Stop begins or ends: a refresh begun before is not drawn
  const onBusy = () => { epoch++; };
  let items = { schedule: [], sensor: [] };
  const onChange = kind => (x, state) => {
    items[kind] = items[kind].map(y => (y.location === x.location && y.name === x.name
      ? { ...y, status: state.status ?? y.status, last_tick_ms: 'last_tick_ms' in state ? state.last_tick_ms : y.last_tick_ms } : y));
    tables[kind].draw(items[kind]);
  };
  const tables = {
    schedule: instigatorTable(page, 'schedule', [
      ['Location', x => x.location], ['Job', x => jobLinkOf(x.location, x.job)],
      ['Cron', x => h('code', null, x.cron), 'nowrap'], ['Timezone', x => x.timezone || 'UTC'],
    ], { feedback, onBusy, onChange: onChange('schedule') }),
    sensor: instigatorTable(page, 'sensor', [
      ['Location', x => x.location], ['Job', x => jobLinkOf(x.location, x.job)],
      ['Watches', x => watchesText(x)], ['Minimum interval', intervalText, 'nowrap'],
    ], { feedback, onBusy, onChange: onChange('sensor') }),
  };
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    const at = epoch;
    try {
      const [schedules, sensors] = await Promise.allSettled([api('GET', '/api/schedules'), api('GET', '/api/sensors')]);
      if (!page.alive() || at !== epoch) return;
      for (const [kind, res, host] of [['schedule', schedules, sched], ['sensor', sensors, sens]]) {
        if (res.status === 'rejected') {
          clear(host, errorBox(res.reason.message));
          continue;
        }
        items[kind] = res.value;
        tables[kind].draw(items[kind]);
        if (host.firstChild !== tables[kind].el) clear(host, tables[kind].el);
      }
      stamp.textContent = `auto-refresh every 2 s · updated ${fmtClock(Date.now())}`;
    } finally {
      busy = false;
    }
  };
  await refresh();
  page.every(2000, refresh);
}

/** A tick's runs: links to their pages, with each run's status when it is known. */
function tickRuns(runIds, statuses) {
  if (!runIds?.length) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'tick-runs' }, runIds.map(id => h('span', { class: 'tick-run' },
    link(`#/runs/${enc(id)}`, id.slice(0, 8), { class: 'mono', title: id, testid: 'tick-run', dataset: { runId: id } }),
    statuses.has(id) ? [' ', badge(statuses.get(id), 'tick-run-status')] : null)));
}

function tickRow(kind, t, statuses) {
  const why = t.error
    ? h('span', { class: 'tick-error', testid: 'tick-error' }, t.error)
    : t.skip_reason ? h('span', { testid: 'tick-skip-reason' }, t.skip_reason) : h('span', { class: 'muted' }, '');
  const at = ms => h('time', { title: ms == null ? '' : new Date(ms).toISOString() }, fmtTime(ms));
  return h('tr', { testid: 'tick-row', dataset: { status: t.status, timestamp: t.timestamp_ms } },
    h('td', { class: 'nowrap', testid: 'tick-time' }, at(t.timestamp_ms)),
    kind === 'schedule' ? h('td', { class: 'nowrap', testid: 'tick-scheduled' }, at(t.scheduled_ms)) : null,
    h('td', null, badge(t.status, 'tick-status')),
    h('td', null, tickRuns(t.run_ids, statuses)),
    h('td', { class: 'msg' }, why),
    kind === 'sensor' ? h('td', null, t.cursor != null ? h('code', { title: String(t.cursor), testid: 'tick-cursor' }, truncate(t.cursor, 48)) : h('span', { class: 'muted' }, '—')) : null);
}

/** #/automation/{schedule|sensor}/{location}/{name}: its state, Start/Stop, and its ticks. */
async function pageInstigator(page, kind, loc, name) {
  const K = INSTIGATORS[kind];
  show(h('p', { class: 'crumbs' }, link('#/automation', 'Automation'), ' / ', link(`#/locations/${enc(loc)}`, loc), ' / ', name));
  const status = h('span');
  const feedback = h('div');
  const about = h('div');
  const stamp = h('span', { class: 'muted', testid: 'ticks-updated' });
  const ticksHost = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const allRuns = link(`#/runs?${new URLSearchParams({ tag: `${K.tag}=${name}` })}`, 'all its runs', { testid: 'instigator-runs' });
  let epoch = 0;
  let item = null;
  const toggle = instigatorToggle(kind, loc, name, {
    onBusy: () => { epoch++; },
    onChange: state => {
      clear(feedback);
      if (item) item = { ...item, status: state.status ?? item.status, last_tick_ms: 'last_tick_ms' in state ? state.last_tick_ms : item.last_tick_ms };
      drawAbout();
      refresh();
    },
    onError: (e, action) => { if (page.alive()) clear(feedback, errorBox(`Could not ${action} ${name}: ${e.message}`, 'action-error')); },
  });
  show(
    h('div', { class: 'title-row' },
      h('h1', null, name, ' ', h('small', null, K.title.toLowerCase()), ' ', status),
      h('div', { class: 'actions' }, toggle.el)),
    feedback, about,
    section(null, h('div', { class: 'title-row card-head' }, h('h2', null, 'Ticks'), h('span', { class: 'actions' }, stamp, allRuns)), ticksHost));

  let latestCursor = null;
  function drawAbout() {
    if (!item) return;
    clear(status, stateBadge(item.status, item.default_status));
    toggle.set(item.status);
    clear(about, facts([
      ['Location', link(`#/locations/${enc(loc)}`, loc)],
      ['Job', jobLinkOf(loc, item.job)],
      kind === 'schedule' ? ['Cron', h('code', { testid: 'instigator-cron' }, item.cron)] : null,
      kind === 'schedule' ? ['Timezone', item.timezone || 'UTC'] : null,
      kind === 'sensor' ? ['Watches', h('span', { testid: 'sensor-watches' }, watchesText(item))] : null,
      kind === 'sensor' ? ['Minimum interval', intervalText(item)] : null,
      ['Default status', defaultStatus(item.default_status)],
      [kind === 'sensor' ? 'Last evaluation' : 'Last tick', h('span', { testid: 'last-tick', title: item.last_tick_ms == null ? '' : fmtTime(item.last_tick_ms) }, timeEl(item.last_tick_ms))],
      kind === 'sensor' && latestCursor != null ? ['Cursor', h('code', { title: String(latestCursor) }, truncate(latestCursor, 48))] : null,
      item.description ? ['Description', item.description] : null,
      item.tags && Object.keys(item.tags).length ? ['Run tags', tagChips(item.tags)] : null]));
  }

  let drawn = null;
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    const at = epoch;
    try {
      const runQuery = new URLSearchParams({ tag: `${K.tag}=${name}`, location: loc, limit: '200' });
      const [list, ticks, runs] = await Promise.allSettled([
        api('GET', K.list), api('GET', `${instigatorApi(kind, loc, name)}/ticks?limit=50`), api('GET', `/api/runs?${runQuery}`)]);
      if (!page.alive()) return;
      if (list.status === 'fulfilled' && at === epoch) {
        const found = list.value.find(x => x.location === loc && x.name === name);
        if (found) {
          item = found;
        } else {
          item = null;
          clear(status);
          toggle.set(null);
          clear(about, errorBox(`Code location ${loc} has no ${kind} named ${name}: there is nothing to start or stop. Ticks recorded for it, if any, are listed below.`, 'instigator-missing'));
        }
      } else if (list.status === 'rejected') {
        clear(feedback, errorBox(list.reason.message));
      }
      if (ticks.status === 'rejected') {
        clear(ticksHost, errorBox(ticks.reason.message, 'ticks-error'));
        drawn = null;
      } else {
        latestCursor = ticks.value.find(t => t.cursor != null)?.cursor ?? null;
        const statuses = new Map((runs.status === 'fulfilled' ? runs.value : []).map(r => [r.run_id, r.status]));
        const sig = JSON.stringify([ticks.value, [...statuses]]);
        if (sig !== drawn) {
          drawn = sig;
          const headers = ['Time', kind === 'schedule' ? 'Scheduled for' : null, 'Status', 'Runs', 'Skip reason / error',
            kind === 'sensor' ? 'Cursor' : null].filter(Boolean);
          clear(ticksHost, table('ticks', headers, ticks.value.map(t => tickRow(kind, t, statuses)),
            item?.status === 'RUNNING' ? 'No ticks yet: the daemon ticks it at its next pass.'
              : `No ticks yet: Start the ${kind}, and run the daemon (weft daemon).`));
        }
      }
      drawAbout();
      stamp.textContent = `auto-refresh every 2 s · updated ${fmtClock(Date.now())}`;
    } finally {
      busy = false;
    }
  };
  await refresh();
  page.every(2000, refresh);
}

// ---------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------

function setupNav() {
  document.getElementById('token-form').addEventListener('submit', e => e.preventDefault());
  const token = document.getElementById('token');
  token.value = localStorage.getItem(TOKEN_KEY) || '';
  token.addEventListener('input', () => {
    const v = token.value.trim();
    if (v) localStorage.setItem(TOKEN_KEY, v); else localStorage.removeItem(TOKEN_KEY);
  });
  const health = document.querySelector('.health');
  const banner = document.getElementById('banner');
  const check = async () => {
    try {
      const r = await api('GET', '/api/health');
      health.textContent = r?.ok ? 'server ok' : 'server not ok';
      health.className = `health ${r?.ok ? 'up' : 'down'}`;
      banner.hidden = true;
    } catch (e) {
      health.textContent = 'server unreachable';
      health.className = 'health down';
      banner.textContent = `The server does not answer: ${e.message}`;
      banner.hidden = false;
    }
  };
  check();
  setInterval(check, 15_000);
}

setupNav();
window.addEventListener('hashchange', route);
route();
