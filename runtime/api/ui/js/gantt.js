// Weft web UI: the Gantt chart of a run's page: the run's bar and one bar per step on a
// time axis, as SVG; while the run goes on, running bars reach to now.

import { FINISHED, fmtDuration, s, textWidth, truncate } from './render.js';

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
export function gantt(run, selectedStep, onSelect, width, planned = []) {
  const live = !FINISHED.has(run.status);
  const known = new Set((run.steps || []).map(st => st.key));
  // A mapped step's row `key[?]` stands for its keys until one of them has reported.
  const mappedKnown = k => k.endsWith('[?]') && [...known].some(x => x.startsWith(k.slice(0, -2)));
  planned = planned.filter(k => !mappedKnown(k));
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
