// The web UI against a server with tokens (tests/ui/harness.mjs starts it and Chromium): the
// UI asks for the token once per tab and sends it with every request, its live event stream
// included; without one even reading is refused, and a viewer token may read but not change.
//
// Run:   tests/ui/run.sh  (or: node --test tests/ui/*.test.mjs)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { NUMBERS, TEST_TIMEOUT, sha256, uploadAndExpect, uploadThroughPage, waitForRunStatus, launch, withSetup } from './harness.mjs';

const ADMIN = 's3cret-ui-token';
const VIEWER = 'viewer-ui-token';

/** Gives the page `token` in the left navigation (Enter draws the page again with it). */
async function logIn(page, token) {
  const input = page.getByTestId('token-input');
  await input.fill(token);
  await input.press('Enter');
}

test('with tokens, the UI asks for one per tab and sends it with every request; a viewer reads but cannot change', { timeout: TEST_TIMEOUT }, async t => {
  const weftYaml = `api_tokens: [{ role: viewer, sha256: ${sha256(Buffer.from(VIEWER))} }]\n`;
  await withSetup(t, async ({ server, page, context }) => {
    // Without a token even the list is refused, and the page says where to give one.
    await page.goto(`${server.base}/#/locations`);
    await page.getByTestId('page-error').filter({ hasText: 'a token is required' }).waitFor();
    assert.match(await page.getByTestId('token-input').getAttribute('class') ?? '', /needed/);

    await logIn(page, ADMIN);
    await page.getByTestId('locations-table').getByText('No code locations yet').waitFor();
    await uploadAndExpect(page, 'numbers', NUMBERS, sha256(readFileSync(NUMBERS)));

    // A run's live events come through the stream, which carries the token too.
    await page.goto(`${server.base}/#/locations/numbers/jobs/process_numbers`);
    await launch(page);
    await waitForRunStatus(page, 'SUCCESS');
    const log = page.getByTestId('event-log');
    await log.locator('[data-testid=event-row][data-type=RUN_SUCCESS]').waitFor();
    assert.equal(await log.getAttribute('data-source'), 'stream', 'events were streamed, not polled');

    // Kept for this tab (a reload), not given to another.
    await page.reload();
    assert.equal(await page.getByTestId('token-input').inputValue(), ADMIN);
    const other = await context.newPage();
    await other.goto(`${server.base}/#/locations`);
    assert.equal(await other.getByTestId('token-input').inputValue(), '');
    await other.getByTestId('page-error').filter({ hasText: 'a token is required' }).waitFor();
    await other.close();

    // A viewer token reads, and is refused a change with a message that says why.
    await page.goto(`${server.base}/#/locations`);
    await logIn(page, VIEWER);
    await page.locator('[data-testid=location-row][data-name=numbers]').waitFor();
    await uploadThroughPage(page, 'numbers', NUMBERS);
    await page.getByTestId('upload-error').filter({ hasText: 'a viewer token may not do this' }).waitFor();
    await page.goto(`${server.base}/#/automation`);
    const row = page.locator('[data-testid=sensor-row][data-name=check_file_sensor]');
    await row.getByTestId('instigator-toggle').filter({ hasText: /^Start$/ }).click();
    await page.getByTestId('action-error').filter({ hasText: 'a viewer token may not do this' }).waitFor();
    assert.equal(await row.getByTestId('instigator-status').innerText(), 'STOPPED');
    await logIn(page, ADMIN);
    await row.getByTestId('instigator-toggle').filter({ hasText: /^Start$/ }).click();
    await row.getByTestId('instigator-status').filter({ hasText: /^RUNNING$/ }).waitFor();
  }, ['--token', ADMIN], weftYaml);
});
