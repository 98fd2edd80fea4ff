// Weft web UI: the Code locations pages: #/locations (upload a component, the list, each
// location's versions with Roll back, Remove) and #/locations/{loc} (one location: its
// versions, jobs, assets, ops and grants).

import { api, enc } from './api.js';
import {
  assetKeyText, clear, digestEl, errorBox, facts, fmtBytes, fmtTime, h, link, section, show, table, timeEl,
} from './render.js';
import { go } from './router.js';

export async function pageLocations(page) {
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

export async function pageLocation(page, name) {
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
