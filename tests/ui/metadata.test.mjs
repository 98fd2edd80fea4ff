// The web UI and typed metadata, in headless Chromium, with the conformance location (see
// tests/guests/conformance-rust): a step's outputs (parity_job: several of them, one
// optional and left out) with their metadata (a number, a link), and an asset's page
// plotting the numbers of its materializations (scored, materialized twice).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  CONFORMANCE, TEST_TIMEOUT, launch, sha256, uploadAndExpect, waitForRunStatus, withSetup,
} from './harness.mjs';

test('a step\'s outputs show with their metadata; an optional one left out skips its reader', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Code locations' }).waitFor();
    await uploadAndExpect(page, 'conformance', CONFORMANCE, sha256(readFileSync(CONFORMANCE)));

    await page.goto(`${server.base}/#/locations/conformance/jobs/parity_job`);
    await page.getByTestId('launch').waitFor();
    await launch(page, { ops: { evens_odds: { config: { odd: false } } } });
    await waitForRunStatus(page, 'SUCCESS');
    // The defaults the schema gives were filled in: the run's config shows them.
    assert.deepEqual(JSON.parse(await page.getByTestId('run-config-shown').textContent()),
      { ops: { evens_odds: { config: { odd: false, upto: 4 } } } });

    // total_odd never started: its row of the timeline says it was skipped.
    const skippedRow = page.locator('[data-testid=gantt-row][data-step=total_odd]');
    await skippedRow.waitFor();
    assert.match(await skippedRow.textContent(), /skipped/);

    await page.locator('[data-testid=gantt-bar][data-step=evens_odds]').click();
    const panel = page.locator('[data-testid=step-logs][data-step=evens_odds]');
    const rows = panel.getByTestId('step-output');
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll(rs => rs.map(r => r.dataset.output)), ['even']);
    const even = panel.locator('[data-testid=step-output][data-output=even]');
    assert.equal(await even.locator('td').nth(1).innerText(), '[2,4]');
    const md = even.getByTestId('output-metadata');
    assert.equal(await md.locator('dd[data-key=count]').innerText(), '4');
    assert.equal(await md.locator('dd[data-key=count]').getAttribute('data-type'), 'int');
    assert.equal(await md.locator('dd[data-key=ratio]').innerText(), '0.5');
    assert.equal(await md.locator('dd[data-key=doc] a').getAttribute('href'), 'https://docs.dagster.io');

    // The event log says why total_odd did not run.
    const skipped = page.locator('[data-testid=event-row][data-type=STEP_SKIPPED][data-step=total_odd]');
    await skipped.waitFor();
    assert.match(await skipped.innerText(), /reads evens_odds\.odd, which was not produced/);
  });
});

test('an asset\'s page plots each number of its materializations\' metadata', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Code locations' }).waitFor();
    await uploadAndExpect(page, 'conformance', CONFORMANCE, sha256(readFileSync(CONFORMANCE)));
    for (const score of [2.5, 4]) {
      await page.goto(`${server.base}/#/locations/conformance/jobs/scored_job`);
      await page.getByTestId('launch').waitFor();
      await launch(page, { ops: { scored: { config: { score } } } });
      await waitForRunStatus(page, 'SUCCESS');
    }

    // From the Assets page to the asset's.
    await page.goto(`${server.base}/#/assets`);
    await page.locator('[data-testid=asset-row][data-key=scored] [data-testid=asset-link]').click();
    await page.waitForURL(/#\/assets\/scored$/);
    assert.equal(await page.getByTestId('asset-key').innerText(), 'scored');

    const score = page.locator('[data-testid=metadata-plot][data-key=score]');
    await score.waitFor();
    assert.equal(await score.getAttribute('data-points'), '2');
    assert.deepEqual(await score.locator('circle').evaluateAll(cs => cs.map(c => c.dataset.value)), ['2.5', '4']);
    const rows = page.locator('[data-testid=metadata-plot][data-key=rows]');
    assert.equal(await rows.getAttribute('data-points'), '2');

    // The materializations, newest first, each with its metadata.
    const list = page.getByTestId('materialization-row');
    assert.equal(await list.count(), 2);
    const newest = list.first().getByTestId('materialization-metadata');
    assert.equal(await newest.locator('dd[data-key=score]').innerText(), '4');
    assert.equal(await newest.locator('dd[data-key=score]').getAttribute('data-type'), 'float');
    assert.equal(await newest.locator('dd[data-key=rows]').getAttribute('data-type'), 'int');
  });
});
