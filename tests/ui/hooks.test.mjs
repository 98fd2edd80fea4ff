// The web UI and hooks (Dagster's @success_hook, @failure_hook), in headless Chromium, with
// the conformance location (see tests/guests/conformance-rust/src/hooks.rs): the run page's
// event log shows, under each step, its hooks completed, skipped or failed, and what they
// logged.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  CONFORMANCE, TEST_TIMEOUT, launch, sha256, uploadAndExpect, waitForRunStatus, withSetup,
} from './harness.mjs';

test('a run\'s event log shows the hooks of each step', { timeout: TEST_TIMEOUT }, async t => {
  await withSetup(t, async ({ server, page }) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Code locations' }).waitFor();
    await uploadAndExpect(page, 'conformance', CONFORMANCE, sha256(readFileSync(CONFORMANCE)));

    await page.goto(`${server.base}/#/locations/conformance/jobs/hooks_job`);
    await page.getByTestId('launch').waitFor();
    await launch(page);
    await waitForRunStatus(page, 'FAILURE');

    const row = (type, step) => page.locator(`[data-testid=event-row][data-type=${type}][data-step=${step}]`);
    const text = async locator => (await locator.innerText()).replace(/\s+/g, ' ');
    await row('HOOK_COMPLETED', 'fine').waitFor();
    assert.match(await text(row('HOOK_COMPLETED', 'fine')), /hook announce completed/);
    assert.match(await text(row('HOOK_SKIPPED', 'fine')), /hook alarm skipped/);
    assert.match(await text(row('HOOK_COMPLETED', 'broken')), /hook alarm completed/);
    assert.match(await text(row('HOOK_ERRORED', 'broken')), /hook grumpy failed: grumpy hook fails/);
    const logged = await page.locator('[data-testid=event-row][data-type=LOG][data-step=broken]').allInnerTexts();
    assert.ok(logged.some(l => l.includes('alarm: broken failed')), logged.join('\n'));
    // A failing hook failed nothing more: one step failed, the other succeeded.
    assert.equal(await row('STEP_SUCCESS', 'fine').count(), 1);
    assert.equal(await row('STEP_FAILURE', 'broken').count(), 1);
  });
});
