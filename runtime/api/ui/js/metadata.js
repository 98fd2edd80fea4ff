// Weft web UI: typed metadata (Dagster's MetadataValue) as a person reads it — a link for
// a url, a number for an int or float, a small table for a table schema — for outputs,
// materializations and check results.

import { h } from './render.js';

/** The value of one entry, `{type, value}` (a plain string from older runs reads as text). */
function valueEl(v) {
  if (v == null || typeof v !== 'object') return h('span', null, String(v ?? ''));
  switch (v.type) {
    case 'url': {
      const safe = /^https?:\/\//i.test(String(v.value));
      return safe ? h('a', { href: String(v.value), target: '_blank', rel: 'noopener noreferrer' }, String(v.value)) : h('span', null, String(v.value));
    }
    case 'int': case 'float': return h('span', { class: 'mono' }, String(v.value));
    case 'bool': return h('span', { class: 'mono' }, v.value ? 'true' : 'false');
    case 'path': return h('code', null, String(v.value));
    case 'json': return h('code', null, JSON.stringify(v.value));
    case 'markdown': return h('pre', { class: 'md' }, String(v.value));
    case 'table_schema':
      return h('table', { class: 'table small' },
        h('thead', null, h('tr', null, ['Column', 'Type', 'Description'].map(x => h('th', null, x)))),
        h('tbody', null, (v.value || []).map(c => h('tr', null,
          h('td', { class: 'mono' }, c.name), h('td', null, c.type), h('td', null, c.description ?? '')))));
    default: return h('span', null, String(v.value ?? ''));
  }
}

/** One line per key, for an event's summary: `rows 3 · path /tmp/x`. */
export function metadataText(md) {
  return Object.entries(md || {}).map(([k, v]) => {
    const value = v && typeof v === 'object' ? v.value : v;
    return `${k} ${typeof value === 'object' ? JSON.stringify(value) : value}`;
  }).join(' · ');
}

/** A definition list of the entries, or nothing when there are none. */
export function metadataList(md, testid = 'metadata') {
  const entries = Object.entries(md || {});
  if (!entries.length) return null;
  return h('dl', { class: 'metadata', testid },
    entries.flatMap(([k, v]) => [h('dt', null, k), h('dd', { dataset: { key: k, type: v?.type ?? 'text' } }, valueEl(v))]));
}
