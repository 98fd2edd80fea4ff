// The web UI and a step's outputs: several of them, one optional and left out, each with
// its typed metadata (a number, a link), from the conformance location's parity_job (see
// tests/guests/conformance-rust), in headless Chromium.

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
