// Weft web UI: the page of one schedule or sensor, #/automation/{schedule|sensor}/{loc}/{name}:
// its state and Start/Stop, what it runs and when, and its ticks with the runs they launched.

import { api, enc } from './api.js';
import {
  INSTIGATORS, defaultStatus, instigatorApi, instigatorToggle, intervalText, jobLinkOf, stateBadge, watchesText,
} from './automation.js';
import {
  badge, clear, errorBox, facts, fmtClock, fmtTime, h, link, section, show, table, tagChips, timeEl, truncate,
} from './render.js';

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
export async function pageInstigator(page, kind, loc, name) {
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
