// Weft web UI: the rendering helpers every page shares: building HTML and SVG elements
// (`h`, `s`), the page's <main id="app"> (`show`, `clear`), small widgets (tables, cards,
// badges, facts, tag chips, errors) and how times, durations, sizes and digests are written.
// Imports nothing: every other module may use it.

export const app = document.getElementById('app');
export const FINISHED = new Set(['SUCCESS', 'FAILURE', 'CANCELED']);

// ---------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'multiple']);

/** h('div', {class, testid, onclick, ...}, children...) — builds an HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  if (attrs && 'value' in attrs && attrs.value != null) el.value = attrs.value;
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** s('rect', {...}, children...) — builds an SVG element. */
export function s(tag, attrs, ...children) {
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
export function show(...children) {
  append(app, children);
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

export function errorBox(message, testid = 'page-error') {
  return h('div', { class: 'error', testid, role: 'alert' }, message);
}

export function badge(status, testid) {
  const st = String(status || 'UNKNOWN');
  return h('span', { class: `badge st-${st.toLowerCase()}`, testid }, st);
}

export function table(testid, headers, rows, empty = 'Nothing yet.') {
  return h('table', { class: 'table', testid },
    h('thead', null, h('tr', null, headers.map(x => h('th', null, x)))),
    h('tbody', null, rows.length ? rows
      : h('tr', { class: 'empty' }, h('td', { colspan: headers.length, class: 'muted' }, empty))));
}

export function section(title, ...children) {
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

export function digestEl(d, testid) {
  return h('code', { class: 'digest', title: d || '', testid }, shortDigest(d));
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

export function fmtTime(ms) {
  if (ms == null) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtClock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtAgo(ms) {
  if (ms == null) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  const a = Math.abs(s);
  if (a < 5) return 'just now';
  if (a >= 86400) return fmtTime(ms);
  const span = a < 60 ? `${a} s` : a < 3600 ? `${Math.floor(a / 60)} min` : `${Math.floor(a / 3600)} h`;
  return s < 0 ? `in ${span}` : `${span} ago`; // in the future: a daemon pass at an injected time
}

export function timeEl(ms) {
  return h('time', { title: ms == null ? '' : new Date(ms).toISOString() }, fmtAgo(ms));
}

export function fmtDuration(ms) {
  if (ms == null || Number.isNaN(ms)) return '—';
  if (ms === 0) return '0';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m}m ${pad(Math.floor((ms % 60_000) / 1000))}s`;
  return `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
}

export function fmtBytes(n) {
  if (n == null) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function runDuration(run) {
  if (run.started_ms == null) return null;
  return (run.finished_ms ?? (FINISHED.has(run.status) ? run.started_ms : Date.now())) - run.started_ms;
}

/** A row of labelled facts: [[label, value], ...] (null entries are left out). */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))));
}

export function tagChips(tags, testid) {
  const entries = Object.entries(tags || {});
  if (!entries.length) return h('span', { class: 'muted', testid }, 'no tags');
  return h('span', { class: 'tags', testid }, entries.map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)));
}

export function assetKeyText(k) {
  return Array.isArray(k) ? k.join('/') : String(k ?? '');
}

/** The hash of an asset's page: its key's parts as path segments (`#/assets/a/b`). */
export function assetHref(k) {
  return `#/assets/${assetKeyText(k).split('/').map(encodeURIComponent).join('/')}`;
}

// ---------------------------------------------------------------------------------------
// Labels in SVG: measured and shortened
// ---------------------------------------------------------------------------------------

/** How wide a label is in the UI font (measured on a canvas: no layout pass needed). */
let measure = null;
export function textWidth(text, px = 13, weight = 400, mono = false) {
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

export function truncate(text, max) {
  text = String(text);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
