// End-to-end tests of the Weft web UI (runtime/api/ui) in real headless Chromium: each test
// starts its own `weft serve` on a free port with a fresh home, drives Debian's Chromium
// (/usr/bin/chromium, through playwright-core over CDP; no browser is downloaded) through
// the pages as a person would, and asserts what the page shows.
//
// Needs: weft (release) and the guest components (wasm/) built in $CARGO_TARGET_DIR, else in
// target/ (see tests/ui/run.sh).
// Run:   tests/ui/run.sh  (or: node --test tests/ui/*.test.mjs)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  NUMBERS,
  HOSTILE,
  TEST_TIMEOUT,
  RUN_TIMEOUT,
  sha256,
  short,
  withCustomSection,
  daemonPass,
  withSetup,
  getJson,
  uploadThroughPage,
  uploadAndExpect,
  waitForRunStatus,
  launch,
  until,
} from './harness.mjs';

// --- scenarios -----------------------------------------------------------------------------

const PROCESS_NUMBERS_STEPS = [
  'generate_numbers', 'filter_even_numbers', 'filter_odd_numbers',
  'sum_even_numbers', 'sum_odd_numbers', 'sum_two_sums',
];

test('upload numbers, see its job graph, launch process_numbers and watch the run succeed', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    const digest = sha256(readFileSync(NUMBERS));
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Code locations' }).waitFor();
    await page.getByTestId('locations-table').getByText('No code locations yet').waitFor();

    await uploadAndExpect(page, 'numbers', NUMBERS, digest);
    assert.equal(await page.getByTestId('location-row').count(), 1);

    // The Jobs page lists process_numbers; its page draws the op graph: 6 nodes, 6 edges.
    await page.getByTestId('nav-jobs').click();
    const jobRow = page.locator('[data-testid=job-row][data-location=numbers][data-name=process_numbers]');
    await jobRow.waitFor();
    await jobRow.getByTestId('job-link').click();
    await page.waitForURL(/#\/locations\/numbers\/jobs\/process_numbers$/);
    const graph = page.getByTestId('op-graph');
    await graph.waitFor();
    assert.equal(await graph.getByTestId('graph-node').count(), 6);
    assert.deepEqual((await graph.getByTestId('graph-node').evaluateAll(ns => ns.map(n => n.dataset.key))).sort(),
      [...PROCESS_NUMBERS_STEPS].sort());
    assert.equal(await graph.getByTestId('graph-edge').count(), 6);
    assert.equal(await page.getByTestId('job-digest').innerText(), short(digest));

    // The run config is checked as JSON before anything is sent.
    await page.getByTestId('run-config').fill('{"ops": ');
    await page.getByTestId('config-error').filter({ hasText: 'Invalid' }).waitFor();
    assert.equal(await page.getByTestId('launch').isDisabled(), true);
    await page.getByTestId('run-config').fill('{}');
    await page.getByTestId('config-error').waitFor({ state: 'hidden' });
    await page.getByTestId('run-tags').fill('team=data');

    const runId = await launch(page);
    await waitForRunStatus(page, 'SUCCESS');
    assert.equal(await page.getByTestId('run-digest').innerText(), short(digest));
    assert.match(await page.getByTestId('run-tags').innerText(), /team=data/);

    // The Gantt chart: one bar per step, all successful.
    const bars = page.getByTestId('gantt').getByTestId('gantt-bar');
    await until('6 Gantt bars', async () => (await bars.count()) === 6);
    assert.deepEqual(await bars.evaluateAll(bs => bs.map(b => b.dataset.status)), Array(6).fill('SUCCESS'));

    // The live event log came through the stream, up to the end of the run.
    const log = page.getByTestId('event-log');
    await log.locator('[data-testid=event-row][data-type=RUN_SUCCESS]').waitFor({ timeout: RUN_TIMEOUT });
    assert.equal(await log.locator('[data-testid=event-row][data-type=STEP_SUCCESS]').count(), 6);
    // What each step cost: one row per step, its peak memory the guest's.
    const cost = page.locator('[data-testid=step-cost][data-step=sum_two_sums]');
    await cost.waitFor();
    assert.equal(await page.locator('[data-testid=step-cost]').count(), 6);
    assert.match(await cost.locator('[data-testid=cost-memory]').textContent(), /(KiB|MiB)$/);
    // Its network use: none for the numbers ops.
    assert.equal(await cost.locator('[data-testid=cost-network]').textContent(), '—');
    assert.equal(await log.getAttribute('data-source'), 'stream', 'events were streamed, not polled');
    await page.locator('[data-testid=event-log][data-ended=true]').waitFor();
    const apiEvents = await getJson(server, `/api/runs/${encodeURIComponent(runId)}/events?after=0&limit=1000`);
    assert.equal(await log.getByTestId('event-row').count(), apiEvents.events.length, 'the log shows every event once');

    // A step's compute logs open from its bar.
    await page.locator('[data-testid=gantt-bar][data-step=sum_two_sums]').click();
    const panel = page.locator('[data-testid=step-logs][data-step=sum_two_sums][data-loaded=true]');
    await panel.waitFor();
    assert.match(await panel.locator('h2').innerText(), /sum_two_sums/);
    await panel.getByTestId('step-stdout').waitFor();
    await panel.getByTestId('step-stderr').waitFor();
    const logs = await getJson(server, `/api/runs/${encodeURIComponent(runId)}/logs/sum_two_sums`);
    const shown = await panel.getByTestId('step-stdout').innerText();
    assert.equal(shown, logs.stdout || '(empty)');
    // ... and from the step column of the event log.
    await log.locator('[data-testid=event-row][data-step=generate_numbers] [data-testid=event-step]').first().click();
    await page.locator('[data-testid=step-logs][data-step=generate_numbers][data-loaded=true]').waitFor();

    // Re-execute: a new run of the same job, which succeeds too.
    await page.getByTestId('reexecute').click();
    await page.waitForURL(url => !url.hash.endsWith(encodeURIComponent(runId)) && /#\/runs\/[^/]+$/.test(url.hash));
    const rerunId = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/runs\//, ''));
    assert.notEqual(rerunId, runId);
    await waitForRunStatus(page, 'SUCCESS');
    assert.equal(await page.getByTestId('run-job').innerText(), 'process_numbers');

    // The Runs page lists both runs as SUCCESS, and filters by status.
    await page.getByTestId('nav-runs').click();
    const row = page.locator(`[data-testid=run-row][data-run-id="${runId}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId('status-badge').innerText(), 'SUCCESS');
    assert.equal(await page.getByTestId('run-row').count(), 2);
    await page.getByTestId('runs-status-filter').selectOption('FAILURE');
    await page.getByTestId('runs-table').getByText('No runs.').waitFor();
    assert.equal(await page.getByTestId('run-row').count(), 0);
    await page.getByTestId('runs-status-filter').selectOption('SUCCESS');
    await until('2 successful runs listed', async () => (await page.getByTestId('run-row').count()) === 2);

    // A page at a time: the newest run, then the older one after it, then back.
    const only = async id => {
      await page.locator(`[data-testid=run-row][data-run-id="${id}"]`).waitFor();
      assert.equal(await page.getByTestId('run-row').count(), 1);
    };
    await page.goto(`${server.base}/#/runs?limit=1`);
    await only(rerunId);
    await page.getByTestId('runs-older').click();
    await only(runId);
    assert.equal(await page.getByTestId('runs-older').count(), 1, 'a full page offers the next');
    await page.getByTestId('runs-older').click();
    await page.getByTestId('runs-table').getByText('No runs.').waitFor();
    await page.getByTestId('runs-newest').click();
    await only(rerunId);
  });
});

test('a bad upload shows the server\'s error and leaves the list unchanged', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    const digest = sha256(readFileSync(NUMBERS));
    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'numbers', NUMBERS, digest);
    const before = await page.getByTestId('location-row').allInnerTexts();

    const dir = mkdtempSync(join(tmpdir(), 'weft-ui-bad-'));
    try {
      const bad = join(dir, 'bad.wasm');
      writeFileSync(bad, 'this is a text file, not a WebAssembly component\n');
      // What the server says of these bytes (the page must show the same message).
      const r = await fetch(`${server.base}/api/locations/bad`, {
        method: 'POST', headers: { 'Content-Type': 'application/wasm' }, body: readFileSync(bad),
      });
      assert.ok(r.status >= 400 && r.status < 500, `the server refuses a text file (${r.status})`);
      const { error } = await r.json();
      assert.ok(error, 'the refusal has an error message');

      await uploadThroughPage(page, 'bad', bad);
      const shown = page.getByTestId('upload-error');
      await shown.waitFor();
      assert.ok((await shown.innerText()).includes(error), `the page shows "${error}"`);
      assert.equal(await page.getByTestId('upload-result').count(), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Nothing changed: the same rows, on the page and after a reload.
    assert.deepEqual(await page.getByTestId('location-row').allInnerTexts(), before);
    await page.reload();
    await page.locator('[data-testid=location-row][data-name=numbers]').waitFor();
    assert.equal(await page.getByTestId('location-row').count(), 1);
    assert.deepEqual((await getJson(server, '/api/locations')).map(l => l.name), ['numbers']);

    // Remove (after a confirmation) empties the list.
    page.once('dialog', d => d.accept());
    await page.locator('[data-testid=location-row][data-name=numbers] [data-testid=remove-location]').click();
    await page.getByTestId('locations-table').getByText('No code locations yet').waitFor();
    assert.deepEqual(await getJson(server, '/api/locations'), []);
  });
});

test('a new version uploaded while a run is in flight: the run keeps its digest, new runs take the new one', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page, context }) => {
    const v1 = readFileSync(HOSTILE);
    const v2 = withCustomSection(v1, 'weft-ui-test', 'version 2');
    const d1 = sha256(v1);
    const d2 = sha256(v2);
    assert.notEqual(d1, d2);

    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'hostile', HOSTILE, d1);

    await page.goto(`${server.base}/#/locations/hostile/jobs/slow_job`);
    await page.getByTestId('op-graph').getByTestId('graph-node').first().waitFor();
    assert.equal(await page.getByTestId('job-digest').innerText(), short(d1));
    const slowRun = await launch(page, { ops: { sleepy: { config: { ms: 3000 } } } });
    // The run is in flight: the step's bar is drawn as running, and grows, as does the run's.
    await page.getByTestId('run-status').filter({ hasText: /^STARTED$/ }).waitFor({ timeout: RUN_TIMEOUT });
    const running = page.locator('[data-testid=gantt-bar][data-step=sleepy][data-status=RUNNING]');
    await running.waitFor({ timeout: RUN_TIMEOUT });
    const w1 = Number(await running.getAttribute('width'));
    await until('the running bar to grow', async () => Number(await running.getAttribute('width')) > w1 + 1, 2000);
    const runBar = page.locator('[data-testid=gantt-run-bar][data-status=STARTED]');
    const r1 = Number(await runBar.getAttribute('width'));
    await until('the run\'s bar to grow', async () => Number(await runBar.getAttribute('width')) > r1 + 1, 2000);

    // In a second tab, upload version 2 while the run is still going.
    const other = await context.newPage();
    await other.goto(`${server.base}/#/locations`);
    await other.getByTestId('upload-name').fill('hostile');
    await other.getByTestId('upload-file').setInputFiles({ name: 'hostile.wasm', mimeType: 'application/wasm', buffer: v2 });
    await other.getByTestId('upload-submit').click();
    await other.getByTestId('upload-result').filter({ hasText: short(d2) }).waitFor();
    const inFlight = await getJson(server, `/api/runs/${encodeURIComponent(slowRun)}`);
    assert.ok(!['SUCCESS', 'FAILURE', 'CANCELED'].includes(inFlight.status),
      `the run was still in flight when version 2 was uploaded (it was ${inFlight.status})`);
    // The page shows version 2 as current, version 1 as older with a Roll back button.
    const row = other.locator('[data-testid=location-row][data-name=hostile]');
    // (The list is refreshed after the upload's result is shown: wait for it.)
    await row.getByTestId('location-digest').filter({ hasText: new RegExp(`^${short(d2)}$`) }).waitFor();
    await row.getByTestId('versions-toggle').click();
    const versions = other.getByTestId('version-row');
    await until('2 versions', async () => (await versions.count()) === 2);
    const current = other.locator('[data-testid=version-row][data-current=true]');
    assert.equal(await current.count(), 1);
    assert.equal(await current.getByTestId('version-digest').innerText(), short(d2));
    await current.getByTestId('current-marker').waitFor();
    const older = other.locator(`[data-testid=version-row][data-digest="${d1}"]`);
    await older.getByTestId('rollback').waitFor();
    await other.close();

    // The run in flight finishes on the old version.
    await waitForRunStatus(page, 'SUCCESS');
    assert.equal(await page.getByTestId('run-digest').innerText(), short(d1));
    assert.equal(await page.getByTestId('run-digest').getAttribute('title'), d1);
    await page.locator('[data-testid=gantt-bar][data-step=sleepy][data-status=SUCCESS]').waitFor();

    // A run launched now takes the new version.
    await page.goto(`${server.base}/#/locations/hostile/jobs/slow_job`);
    await page.getByTestId('job-digest').filter({ hasText: short(d2) }).waitFor();
    const newRun = await launch(page, { ops: { sleepy: { config: { ms: 10 } } } });
    assert.notEqual(newRun, slowRun);
    await waitForRunStatus(page, 'SUCCESS');
    assert.equal(await page.getByTestId('run-digest').innerText(), short(d2));
    assert.equal(await page.getByTestId('run-digest').getAttribute('title'), d2);

    // Roll back to version 1 from the location's page.
    await page.goto(`${server.base}/#/locations/hostile`);
    await page.locator(`[data-testid=version-row][data-digest="${d1}"] [data-testid=rollback]`).click();
    await page.locator(`[data-testid=version-row][data-digest="${d1}"][data-current=true] [data-testid=current-marker]`).waitFor();
    assert.equal(await page.getByTestId('location-digest').innerText(), short(d1));
    assert.equal((await getJson(server, '/api/locations/hostile')).digest, d1);
  });
});

test('the asset graph draws the lineage and materializes a selection', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'numbers', NUMBERS, sha256(readFileSync(NUMBERS)));

    await page.getByTestId('nav-assets').click();
    const graph = page.getByTestId('asset-graph');
    await graph.getByTestId('asset-node').first().waitFor();
    assert.equal(await graph.getByTestId('asset-node').count(), 6);
    assert.equal(await graph.getByTestId('graph-edge').count(), 6);
    const node = key => graph.locator(`[data-testid=asset-node][data-key="${key}"]`);
    assert.match(await node('summed_two_sums').textContent(), /never materialized/);
    assert.equal(await page.getByTestId('materialize-selected').isDisabled(), true);

    await node('generated_numbers').click();
    await node('filtered_even_numbers').click();
    await page.getByTestId('selection-count').filter({ hasText: '2 selected' }).waitFor();
    await page.getByTestId('materialize-selected').click();
    await page.waitForURL(/#\/runs\/[^/]+$/);
    await waitForRunStatus(page, 'SUCCESS');
    const bars = page.getByTestId('gantt-bar');
    await until('2 Gantt bars', async () => (await bars.count()) === 2);
    assert.deepEqual((await bars.evaluateAll(bs => bs.map(b => b.dataset.step))).sort(),
      ['filtered_even_numbers', 'generated_numbers']);

    await page.getByTestId('nav-assets').click();
    await node('filtered_even_numbers').filter({ hasText: /materialized (just now|\d+ s ago)/ }).waitFor();
    assert.match(await node('summed_two_sums').textContent(), /never materialized/);
  });
});

test('the automation page lists the schedules and the sensors', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'numbers', NUMBERS, sha256(readFileSync(NUMBERS)));
    await page.getByTestId('nav-automation').click();
    const schedule = page.locator('[data-testid=schedule-row][data-name=process_numbers_every_minute]');
    await schedule.waitFor();
    assert.match(await schedule.innerText(), /numbers\s+process_numbers\s+\* \* \* \* \*/);
    assert.equal(await page.getByTestId('schedule-row').count(), 2);
    const sensor = page.locator('[data-testid=sensor-row][data-name=check_file_sensor]');
    assert.match(await sensor.innerText(), /process_numbers\s+its function\s+5 s/);
    // A run-status sensor says which runs it reacts to.
    const onSuccess = page.locator('[data-testid=sensor-row][data-name=materialize_after_process_numbers]');
    assert.match(await onSuccess.innerText(), /process_numbers_asset\s+runs of process_numbers that end SUCCESS\s+30 s/);
    // Nothing is on by default (the location asks for none): each is STOPPED, with a Start button.
    for (const row of [...await page.getByTestId('schedule-row').all(), sensor]) {
      assert.equal(await row.getByTestId('instigator-status').innerText(), 'STOPPED');
      assert.equal(await row.getByTestId('instigator-toggle').innerText(), 'Start');
      assert.equal(await row.getByTestId('last-tick').innerText(), 'never');
    }
  });
});

const SCHEDULE = 'process_numbers_every_minute';
const SENSOR = 'check_file_sensor';
const stateOf = async (server, kind, name) =>
  (await getJson(server, `/api/${kind}s`)).find(x => x.location === 'numbers' && x.name === name)?.status;

test('a schedule turned on in the page ticks at a daemon pass: its tick links the run; Stop turns it off', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'numbers', NUMBERS, sha256(readFileSync(NUMBERS)));
    await page.getByTestId('nav-automation').click();
    const row = page.locator(`[data-testid=schedule-row][data-name=${SCHEDULE}]`);
    await row.getByTestId('instigator-status').filter({ hasText: /^STOPPED$/ }).waitFor();

    // Start, from the list.
    await row.getByTestId('instigator-toggle').filter({ hasText: /^Start$/ }).click();
    await row.getByTestId('instigator-status').filter({ hasText: /^RUNNING$/ }).waitFor();
    await row.getByTestId('instigator-toggle').filter({ hasText: /^Stop$/ }).waitFor();
    assert.equal(await stateOf(server, 'schedule', SCHEDULE), 'RUNNING');
    const other = page.locator('[data-testid=schedule-row][data-name=process_numbers_asset_every_minute]');
    assert.equal(await other.getByTestId('instigator-status').innerText(), 'STOPPED', 'the other schedule stays off');

    // Its page: running, no tick yet.
    await row.getByTestId('instigator-link').click();
    await page.waitForURL(new RegExp(`#/automation/schedule/numbers/${SCHEDULE}$`));
    const state = page.locator('h1 [data-testid=instigator-status]');
    await state.filter({ hasText: /^RUNNING$/ }).waitFor();
    assert.equal(await page.getByTestId('instigator-cron').innerText(), '* * * * *');
    const ticks = page.getByTestId('ticks');
    await ticks.getByText('No ticks yet').waitFor();

    // One daemon pass, 90 s from now: a minute has begun since Start, so the schedule ticks.
    const report = await daemonPass(server, Date.now() + 90_000);
    const mine = report.ticks.filter(x => x.kind === 'SCHEDULE' && x.name === SCHEDULE);
    assert.ok(mine.length >= 1 && mine.every(x => x.status === 'SUCCESS' && x.run_ids.length === 1),
      `the pass ticked the schedule and launched a run: ${JSON.stringify(report)}`);
    assert.ok(!report.ticks.some(x => x.name !== SCHEDULE), 'nothing that is stopped ticked');

    // The page shows the tick at its next refresh (every 2 s), with the run it launched.
    const tick = ticks.locator('[data-testid=tick-row][data-status=SUCCESS]').first();
    await tick.waitFor({ timeout: 5000 });
    await until(`${mine.length} tick(s) shown`, async () => (await ticks.getByTestId('tick-row').count()) === mine.length, 5000);
    assert.equal(await tick.getByTestId('tick-status').innerText(), 'SUCCESS');
    assert.match(await tick.getByTestId('tick-scheduled').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:00$/, 'a schedule tick is for a whole minute');
    const runLink = tick.getByTestId('tick-run');
    assert.equal(await runLink.count(), 1);
    const runId = await runLink.getAttribute('data-run-id');
    assert.ok(mine.some(x => x.run_ids.includes(runId)), `the tick links run ${runId} of the pass`);
    await tick.getByTestId('tick-run-status').filter({ hasText: /^SUCCESS$/ }).waitFor({ timeout: 5000 });

    // The run's page: a successful run of the schedule's job, tagged with the schedule.
    await runLink.click();
    await page.waitForURL(url => url.hash === `#/runs/${encodeURIComponent(runId)}`);
    await waitForRunStatus(page, 'SUCCESS');
    assert.equal(await page.getByTestId('run-job').innerText(), 'process_numbers');
    assert.match(await page.getByTestId('run-tags').innerText(), new RegExp(`weft/schedule_name=${SCHEDULE}`));

    // Back on the schedule's page, Stop turns it off; the tick stays.
    await page.goBack();
    await page.waitForURL(new RegExp(`#/automation/schedule/numbers/${SCHEDULE}$`));
    await state.filter({ hasText: /^RUNNING$/ }).waitFor();
    await page.getByTestId('instigator-toggle').filter({ hasText: /^Stop$/ }).click();
    await state.filter({ hasText: /^STOPPED$/ }).waitFor();
    await page.getByTestId('instigator-toggle').filter({ hasText: /^Start$/ }).waitFor();
    assert.equal(await stateOf(server, 'schedule', SCHEDULE), 'STOPPED');
    await ticks.locator('[data-testid=tick-row][data-status=SUCCESS]').first().waitFor();

    // ... and the list says so.
    await page.getByTestId('nav-automation').click();
    await row.getByTestId('instigator-status').filter({ hasText: /^STOPPED$/ }).waitFor();
    assert.equal(await row.getByTestId('instigator-toggle').innerText(), 'Start');
    assert.notEqual(await row.getByTestId('last-tick').innerText(), 'never');
  });
});

test('a sensor turned on in its page is evaluated at a daemon pass: a SKIPPED tick says why', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'numbers', NUMBERS, sha256(readFileSync(NUMBERS)));
    await page.getByTestId('nav-automation').click();
    const row = page.locator(`[data-testid=sensor-row][data-name=${SENSOR}]`);
    await row.getByTestId('instigator-link').click();
    await page.waitForURL(new RegExp(`#/automation/sensor/numbers/${SENSOR}$`));
    const state = page.locator('h1 [data-testid=instigator-status]');
    await state.filter({ hasText: /^STOPPED$/ }).waitFor();
    const ticks = page.getByTestId('ticks');
    await ticks.getByText('No ticks yet').waitFor();

    // Start, from its page.
    await page.getByTestId('instigator-toggle').filter({ hasText: /^Start$/ }).click();
    await state.filter({ hasText: /^RUNNING$/ }).waitFor();
    await page.getByTestId('instigator-toggle').filter({ hasText: /^Stop$/ }).waitFor();
    assert.equal(await stateOf(server, 'sensor', SENSOR), 'RUNNING');

    // A pass evaluates it: the location has no grant to the file it checks, so it skips.
    const report = await daemonPass(server, Date.now() + 90_000);
    const mine = report.ticks.filter(x => x.kind === 'SENSOR' && x.name === SENSOR);
    assert.equal(mine.length, 1, JSON.stringify(report));
    assert.equal(mine[0].status, 'SKIPPED');

    const tick = ticks.locator('[data-testid=tick-row][data-status=SKIPPED]');
    await tick.waitFor({ timeout: 5000 });
    assert.equal(await ticks.getByTestId('tick-row').count(), 1);
    assert.equal(await tick.getByTestId('tick-status').innerText(), 'SKIPPED');
    assert.equal(await tick.getByTestId('tick-skip-reason').innerText(), 'check file not exists');
    assert.equal(await tick.getByTestId('tick-run').count(), 0, 'a skipped tick launched no run');
    assert.equal(await tick.getByTestId('tick-error').count(), 0);

    // The list: running, evaluated; Stop from there turns it off.
    await page.getByTestId('nav-automation').click();
    await row.getByTestId('instigator-status').filter({ hasText: /^RUNNING$/ }).waitFor();
    assert.notEqual(await row.getByTestId('last-tick').innerText(), 'never');
    await row.getByTestId('instigator-toggle').filter({ hasText: /^Stop$/ }).click();
    await row.getByTestId('instigator-status').filter({ hasText: /^STOPPED$/ }).waitFor();
    assert.equal(await stateOf(server, 'sensor', SENSOR), 'STOPPED');
  });
});

test('Cancel stops a run in flight; the page follows it to its end', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/#/locations`);
    await uploadAndExpect(page, 'hostile', HOSTILE, sha256(readFileSync(HOSTILE)));
    await page.goto(`${server.base}/#/locations/hostile/jobs/slow_job`);
    await page.getByTestId('op-graph').waitFor();
    const runId = await launch(page, { ops: { sleepy: { config: { ms: 3000 } } } });
    await page.getByTestId('run-status').filter({ hasText: /^STARTED$/ }).waitFor({ timeout: RUN_TIMEOUT });
    assert.equal(await page.getByTestId('reexecute').count(), 0, 'no Re-execute while the run goes on');
    // Under way, the header says whether it is alive and making progress (its last event).
    assert.match(await page.getByTestId('run-liveness').innerText(), /^heartbeat .+, last progress .+ ago$/);
    await page.getByTestId('cancel').click();
    // The step under way is stopped where it is, so CANCELING may show only for a moment.
    await page.getByTestId('run-status').filter({ hasText: /^CANCEL(ING|ED)$/ }).waitFor();
    await page.getByTestId('run-status').filter({ hasText: /^CANCELED$/ }).waitFor({ timeout: RUN_TIMEOUT });
    await page.getByTestId('reexecute').waitFor();
    assert.equal(await page.getByTestId('cancel').count(), 0, 'no Cancel once the run has ended');
    assert.equal(await page.getByTestId('run-liveness').count(), 0, 'no liveness once the run has ended');
    const status = await page.getByTestId('run-status').innerText();
    assert.equal(status, (await getJson(server, `/api/runs/${encodeURIComponent(runId)}`)).status);
    await page.locator(`[data-testid=event-row][data-type=RUN_${status}]`).waitFor();
  });
});
