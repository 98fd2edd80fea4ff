// The web UI and asset checks (Dagster's @asset_check), in headless Chromium, with the
// conformance location (see tests/guests/conformance-rust/src/checks.rs): after a run whose
// blocking check failed, the asset's page lists its checks with what each last found, the
// run's event log has the evaluations, and the step downstream was skipped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  CONFORMANCE, TEST_TIMEOUT, launch, sha256, uploadAndExpect, waitForRunStatus, withSetup,
} from './harness.mjs';

test('an asset\'s page lists its checks with what each last found', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Code locations' }).waitFor();
    await uploadAndExpect(page, 'conformance', CONFORMANCE, sha256(readFileSync(CONFORMANCE)));

    await page.goto(`${server.base}/#/locations/conformance/jobs/checked_job`);
    await page.getByTestId('launch').waitFor();
    await launch(page, { ops: { scored: { config: { score: -1 } } } });
    await waitForRunStatus(page, 'FAILURE');
    const row = (type, step) => page.locator(`[data-testid=event-row][data-type=${type}][data-step=${step}]`);
    await row('ASSET_CHECK_EVALUATION', 'scored_scored_is_positive').waitFor();
    assert.match(await row('ASSET_CHECK_EVALUATION', 'scored_scored_is_positive').innerText(),
      /check scored_is_positive of scored failed/);
    assert.match(await row('STEP_SKIPPED', 'scored_twice').innerText(), /scored_scored_is_positive failed/);

    await page.goto(`${server.base}/#/assets/scored`);
    const check = name => page.locator(`[data-testid=check-row][data-check=${name}]`);
    await check('scored_is_positive').waitFor();
    assert.equal(await check('scored_is_positive').getAttribute('data-verdict'), 'failed');
    assert.match(await check('scored_is_positive').innerText(), /blocking/);
    const md = check('scored_is_positive').getByTestId('check-metadata');
    assert.equal(await md.locator('dd[data-key=score]').innerText(), '-1');
    assert.equal(await check('scored_is_small').getAttribute('data-verdict'), 'passed');
  });
});
