// Weft web UI: one run's page, #/runs/{id}: its header (status, Cancel, Re-execute), the
// Gantt chart, what each step cost, the event log streamed live over server-sent events
// (polled if the stream cannot be used) and a step's outputs (with their metadata),
// compute logs and log events.

import { api, enc, eventStream } from './api.js';
import { gantt } from './gantt.js';
import {
  FINISHED, app, assetKeyText, badge, clear, digestEl, errorBox, facts, fmtBytes, fmtClock, fmtDuration, fmtTime,
  h, link, runDuration, section, show, tagChips,
} from './render.js';
import { metadataList, metadataText } from './metadata.js';
import { go } from './router.js';
import { jobName } from './runs.js';

/** A short, readable line for one run event. */
/** An output's name as shown: a dynamic output's value with its key, `result[k1]`. */
function outputName(e) {
  return e.mapping_key == null ? e.output : `${e.output}[${e.mapping_key}]`;
}

function eventSummary(e) {
  switch (e.type) {
    case 'RUN_FAILURE': return e.message ?? '';
    case 'STEP_START': return e.attempt > 1 ? `started (attempt ${e.attempt})` : 'started';
    case 'STEP_OUTPUT': return `output ${outputName(e)} (${e.codec}, ${fmtBytes(e.size)}): ${e.preview ?? ''}${withMetadata(e)}`;
    case 'ASSET_MATERIALIZATION': return `materialized ${assetKeyText(e.asset_key)}${withMetadata(e)}`;
    case 'ASSET_CHECK_EVALUATION': return `check ${e.check} of ${assetKeyText(e.asset_key)} ${e.passed ? 'passed' : e.severity === 'WARN' ? 'failed (WARN)' : 'failed'}${e.description ? `: ${e.description}` : ''}${withMetadata(e)}`;
    case 'STEP_SUCCESS': return `succeeded in ${fmtDuration(e.duration_ms)}`;
    case 'STEP_FAILURE': return `${e.kind ? `${e.kind}: ` : ''}${e.message ?? ''}${e.attempt ? ` (attempt ${e.attempt})` : ''}`;
    case 'STEP_UP_FOR_RETRY': return `attempt ${e.attempt} failed, retrying in ${fmtDuration(e.delay_ms)}: ${e.message ?? ''}`;
    case 'STEP_SKIPPED': return e.reason ?? 'skipped';
    case 'LOG': return `[${e.level ?? 'info'}] ${e.message ?? ''}`;
    case 'LOGS_CAPTURED': return `compute logs: stdout ${fmtBytes(e.stdout_bytes)}, stderr ${fmtBytes(e.stderr_bytes)}`;
    case 'HOOK_COMPLETED': return `hook ${e.hook} completed`;
    case 'HOOK_ERRORED': return `hook ${e.hook} failed: ${e.message ?? ''}`;
    case 'HOOK_SKIPPED': return `hook ${e.hook} skipped`;
    case 'RUN_STARTING': return 'the launcher took the run';
    case 'RUN_START': return 'the executor began the run';
    case 'RUN_SUCCESS': return 'the run succeeded';
    case 'RUN_CANCELING': return 'cancel requested: no new step starts';
    case 'RUN_CANCELED': return 'the run was canceled';
    default: return '';
  }
}

function withMetadata(e) {
  const text = metadataText(e.metadata);
  return text ? ` · ${text}` : '';
}

/** Whether a run under way is alive and making progress: its last heartbeat and last event. */
function liveness(run) {
  const ago = at => at == null ? 'never' : `${fmtDuration(Math.max(0, Date.now() - at))} ago`;
  return `heartbeat ${ago(run.heartbeat_ms)}, last progress ${ago(run.progress_ms)}`;
}

/** A step's network use: requests and connections, bytes in and out, and how many were refused. */
function network(c) {
  if (!c.network_requests && !c.network_refused) return '—';
  const refused = c.network_refused ? `, ${c.network_refused} refused` : '';
  return `${c.network_requests} (in ${fmtBytes(c.network_bytes_in)}, out ${fmtBytes(c.network_bytes_out)})${refused}`;
}

/** What each step's last attempt cost (wall time and time in guest code, peak memory, host calls, bytes
 * logged and output, network), for the steps a guest ran. */
function costTable(steps) {
  const rows = (steps || []).filter(st => st.cost);
  if (!rows.length) return h('p', { class: 'muted' }, 'No step has ended yet.');
  const head = ['Step', 'Wall', 'Guest', 'Peak memory', 'Host calls', 'Logged', 'Output', 'Network'];
  return h('table', { class: 'table', testid: 'step-costs' },
    h('thead', null, h('tr', null, head.map(x => h('th', null, x)))),
    h('tbody', null, rows.map(st => {
      const c = st.cost;
      return h('tr', { testid: 'step-cost', dataset: { step: st.key } },
        h('td', { class: 'mono' }, st.key),
        h('td', null, fmtDuration(c.wall_ms)),
        h('td', { testid: 'cost-guest' }, fmtDuration(c.guest_ms)),
        h('td', { testid: 'cost-memory' }, fmtBytes(c.peak_memory_bytes)),
        h('td', null, `${c.host_calls} (${fmtDuration(c.host_call_ms)})`),
        h('td', null, fmtBytes(c.log_bytes)),
        h('td', null, fmtBytes(c.output_bytes)),
        h('td', { testid: 'cost-network' }, network(c)));
    })));
}

export async function pageRun(page, runId) {
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
  const costHost = h('div');
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
  show(header, config, actionFeedback, section('Timeline', ganttHost), section('Cost', costHost), stepPanel,
    section('Event log', logWrap));

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
        ['Duration', h('span', { testid: 'run-duration' }, fmtDuration(runDuration(run)))],
        FINISHED.has(run.status) ? null : ['Alive', h('span', { testid: 'run-liveness' }, liveness(run))]]));
  };

  let planned = [];
  const drawGantt = () => {
    const width = ganttHost.clientWidth || app.clientWidth || 900;
    clear(ganttHost, gantt(run, selectedStep, selectStep, width, planned));
  };
  const drawCosts = () => clear(costHost, costTable(run.steps));
  drawCosts();
  // The plan of the run's job, when the location's current version is the run's: rows for
  // the steps that have not reported yet (a step's events come when its attempt ends).
  if (run.job && !run.job.startsWith('__') && run.location && !String(run.location).includes('+')) {
    api('GET', `/api/locations/${enc(run.location)}/jobs/${enc(run.job)}`).then(job => {
      if (page.alive() && job.digest === run.digest) {
        // A step mapped over a dynamic output runs as `key[mapping key]`: `key[?]` until then.
        planned = (job.steps || []).map(st => (st.mapped ? `${st.key}[?]` : st.key));
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
      drawCosts();
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
      if (e.type === 'STEP_OUTPUT' && e.step_key === selectedStep) drawStepOutputs();
    }
    logBody.append(frag);
    if (atBottom) logWrap.scrollTop = logWrap.scrollHeight;
    logTable.dataset.count = String(events.length);
    if (stepChanged) refreshSoon();
  };

  // Streamed (server-sent events read over fetch, with the token); if the stream cannot be
  // opened, polled instead.
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
  // The server's own `event: error` (it could not read the events), a stream that could
  // not be opened, or one that the server closed without an `end` event: poll what is left.
  let ended = false;
  const fallBack = () => {
    if (logTable.dataset.ended !== 'true' && !polling) {
      polling = true;
      logTable.dataset.source = 'poll';
      poll();
      page.every(1000, poll);
    }
  };
  const stopStream = eventStream(`/api/runs/${enc(runId)}/events/stream`, {
    event(data, id) {
      let e;
      try { e = JSON.parse(data); } catch { return; }
      if (e.id == null && id) e.id = Number(id);
      if (typeof e.id === 'number') cursor = Math.max(cursor, e.id);
      addEvents([e]);
    },
    end(data) {
      ended = true;
      logTable.dataset.ended = 'true';
      try {
        const { status } = JSON.parse(data);
        if (status) run.status = status;
      } catch { /* the record tells */ }
      refresh();
    },
    error(data) {
      let serverError;
      try { serverError = JSON.parse(data).error; } catch { serverError = data; }
      clear(actionFeedback, errorBox(`Event stream: ${serverError || 'error'}`, 'stream-error'));
      stopStream();
      fallBack();
    },
    closed() { if (!ended) fallBack(); },
    failed() { fallBack(); },
  });
  page.onLeave(() => stopStream());

  // Compute logs of one step, its outputs, and its LOG events.
  const stepLogEvents = h('div');
  const stepOutputs = h('div');
  function drawStepOutputs() {
    const outs = events.filter(e => e.step_key === selectedStep && e.type === 'STEP_OUTPUT');
    clear(stepOutputs, outs.length
      ? h('table', { class: 'table', testid: 'step-outputs' },
        h('thead', null, h('tr', null, ['Output', 'Value', 'Metadata'].map(x => h('th', null, x)))),
        h('tbody', null, outs.map(e => h('tr', { testid: 'step-output', dataset: { output: outputName(e) } },
          h('td', { class: 'mono' }, outputName(e)), h('td', { class: 'mono' }, e.preview ?? ''),
          h('td', null, metadataList(e.metadata, 'output-metadata'))))))
      : h('p', { class: 'muted', testid: 'step-outputs' }, 'No outputs from this step.'));
  }
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
      h('h3', null, 'Outputs'), stepOutputs,
      h('h3', null, 'stdout'), out, h('h3', null, 'stderr'), err, h('h3', null, 'Log events'), stepLogEvents);
    clear(stepPanel, panel);
    drawStepOutputs();
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
