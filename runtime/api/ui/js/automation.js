// Weft web UI: the Automation page, #/automation: every schedule and sensor with its state,
// last tick and Start/Stop, refreshed every 2 s; and what a schedule's or sensor's own page
// (instigator.js) shares with it: the API paths, the state badge, the Start/Stop button.

import { api, enc } from './api.js';
import { badge, clear, errorBox, fmtClock, h, link, section, show, table, timeEl } from './render.js';

/**
 * What a sensor watches: for a run-status sensor, the runs that end with its status
 * ("runs of process_numbers that end SUCCESS"); a plain sensor's function decides.
 */
export function watchesText(sensor) {
  const k = sensor.kind;
  if (!k || k.type !== 'run_status') return 'its function';
  const jobs = k.monitored_jobs && k.monitored_jobs.length ? k.monitored_jobs.join(', ') : 'every job';
  const where = k.all_locations ? ' of every location' : '';
  return `runs of ${jobs}${where} that end ${k.status}`;
}

/** Schedules and sensors ("instigators"): where their state, controls and ticks live. */
export const INSTIGATORS = {
  schedule: { title: 'Schedule', list: '/api/schedules', api: '/api/schedules', tag: 'weft/schedule_name' },
  sensor: { title: 'Sensor', list: '/api/sensors', api: '/api/sensors', tag: 'weft/sensor_name' },
};
export const instigatorApi = (kind, loc, name) => `${INSTIGATORS[kind].api}/${enc(loc)}/${enc(name)}`;
const instigatorHash = (kind, loc, name) => `#/automation/${kind}/${enc(loc)}/${enc(name)}`;

/** RUNNING or STOPPED, as the daemon follows it (the location's default in the tooltip). */
export function stateBadge(status, defaultStatus) {
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
export function instigatorToggle(kind, loc, name, { onChange, onError, onBusy }) {
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

export const jobLinkOf = (loc, job) => (job ? link(`#/locations/${enc(loc)}/jobs/${enc(job)}`, job) : h('span', { class: 'muted' }, '—'));
export const defaultStatus = st => h('span', { class: 'muted', testid: 'default-status' }, st ?? '—');
export const intervalText = x => (x.minimum_interval_seconds != null ? `${x.minimum_interval_seconds} s` : '—');

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

export async function pageAutomation(page) {
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
