// The web UI and dynamic fan-out (Dagster's DynamicOut, .map, .collect), in headless
// Chromium, with the conformance location (see tests/guests/conformance-rust/src/fanout.rs):
// the run page's timeline has a row per mapped step (`square[k1]`...), the retried key's
// bar says so, the dynamic step's outputs are listed by mapping key, and a run whose
// dynamic step failed shows its mapped step as `square[?]`, skipped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  CONFORMANCE, TEST_TIMEOUT, launch, sha256, uploadAndExpect, waitForRunStatus, withSetup,
} from './harness.mjs';

test('a run\'s timeline shows a row per mapped step and the outputs by mapping key', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Code locations' }).waitFor();
    await uploadAndExpect(page, 'conformance', CONFORMANCE, sha256(readFileSync(CONFORMANCE)));

    await page.goto(`${server.base}/#/locations/conformance/jobs/fanout_job`);
    await page.getByTestId('launch').waitFor();
    await launch(page);
    await waitForRunStatus(page, 'SUCCESS');

    const bars = page.getByTestId('gantt').getByTestId('gantt-bar');
    await page.locator('[data-testid=gantt-bar][data-step="add_one[k3]"]').waitFor();
    const steps = (await bars.evaluateAll(bs => bs.map(b => b.dataset.step))).sort();
    assert.deepEqual(steps, [
      'add_one[k1]', 'add_one[k2]', 'add_one[k3]', 'fan_out',
      'square[k1]', 'square[k2]', 'square[k3]', 'total',
    ]);
    // The plan's `square[?]` stands for keys not known yet: none is left once they are.
    assert.equal(await page.locator('[data-testid=gantt-row][data-step="square[?]"]').count(), 0);
    const retried = page.locator('[data-testid=gantt-bar][data-step="square[k2]"] title');
    assert.match(await retried.textContent(), /2 attempts/);

    await page.locator('[data-testid=gantt-bar][data-step=fan_out]').click();
    const panel = page.locator('[data-testid=step-logs][data-step=fan_out]');
    const rows = panel.getByTestId('step-output');
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll(rs => rs.map(r => r.dataset.output)),
      ['result[k1]', 'result[k2]', 'result[k3]']);
    const total = page.locator('[data-testid=event-row][data-type=STEP_OUTPUT][data-step=total]');
    assert.match(await total.innerText(), /output result \(json, [^)]*\): 17/);
  });
});
