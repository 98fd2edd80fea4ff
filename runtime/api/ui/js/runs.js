// Weft web UI: the Runs page, #/runs (filtered by status, job, location or tag; a page of
// `limit` runs, 100 by default, then older ones `before` the last shown; the newest page
// refreshed every 2 s), and the runs table and job link that the job and run pages reuse.

import { api, enc } from './api.js';
import {
  badge, clear, errorBox, fmtClock, fmtDuration, h, link, runDuration, section, show, table, tagChips, timeEl,
} from './render.js';
import { go } from './router.js';

const RUN_STATUSES = ['QUEUED', 'NOT_STARTED', 'STARTING', 'STARTED', 'SUCCESS', 'FAILURE', 'CANCELING', 'CANCELED'];

/** A run's job as a link to its page; an ad-hoc materialization (`__asset_job`) or a
 *  run across locations (`a+b`) has no job page. */
export function jobName(run, testid) {
  const adhoc = !run.job || run.job.startsWith('__');
  const label = adhoc ? `materialize ${run.asset_selection ?? ''}`.trim() : run.job;
  if (adhoc || !run.location || String(run.location).includes('+')) {
    return h('span', { testid, title: run.asset_selection ?? '' }, label);
  }
  return link(`#/locations/${enc(run.location)}/jobs/${enc(run.job)}`, label, { testid });
}

export function runsTable(runs, testid = 'runs-table') {
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

export async function pageRuns(page, params) {
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
  const limit = Math.max(1, Number.parseInt(params.get('limit') ?? '', 10) || 100);
  const query = new URLSearchParams({ limit: String(limit) });
  for (const k of ['status', 'job', 'location', 'tag', 'before']) if (params.get(k)) query.set(k, params.get(k));
  // Links to the newest page and to the page after the last run shown.
  const pager = runs => {
    const older = new URLSearchParams(params);
    const newest = new URLSearchParams(params);
    newest.delete('before');
    const links = [];
    if (params.get('before')) links.push(link(`#/runs${newest.toString() ? `?${newest}` : ''}`, '← Newest runs', { testid: 'runs-newest' }));
    if (runs.length === limit) {
      older.set('before', runs[runs.length - 1].run_id);
      links.push(link(`#/runs?${older}`, 'Older runs →', { testid: 'runs-older' }));
    }
    return h('p', { class: 'pager' }, links);
  };
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const runs = await api('GET', `/api/runs?${query}`);
      if (!page.alive()) return;
      clear(host, runsTable(runs), pager(runs));
      stamp.textContent = params.get('before')
        ? `older runs · updated ${fmtClock(Date.now())}`
        : `auto-refresh every 2 s · updated ${fmtClock(Date.now())}`;
    } catch (e) {
      if (page.alive()) clear(host, errorBox(e.message));
    } finally {
      busy = false;
    }
  };
  await refresh();
  // An older page stays as it is; the newest one follows new runs.
  if (!params.get('before')) page.every(2000, refresh);
}
