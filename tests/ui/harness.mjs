// The harness of the web UI's end-to-end tests (tests/ui/*.test.mjs): a `weft serve` on a
// free port with a fresh home (and, when asked, a weft.yaml), Debian's headless Chromium
// through playwright-core (no browser is downloaded), the UI's source served as it is in
// the repository, and what a person does on the pages (upload, launch, wait).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TARGET = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
export const WEFT = process.env.WEFT_BIN || join(TARGET, 'release/weft');
export const GUESTS = join(TARGET, 'wasm/wasm32-wasip2/guest');
export const NUMBERS = join(GUESTS, 'numbers.wasm');
export const HOSTILE = join(GUESTS, 'hostile.wasm');
export const CONFORMANCE = join(GUESTS, 'conformance_rust.wasm');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export const UI_DIR = join(ROOT, 'runtime/api/ui');
export const TEST_TIMEOUT = 120_000;
export const RUN_TIMEOUT = 30_000; // a run of these jobs takes well under a second (slow_job: 3 s)

for (const f of [WEFT, NUMBERS, HOSTILE, CONFORMANCE, CHROMIUM]) {
  if (!existsSync(f)) throw new Error(`${f} is missing: build weft and the guests first (see tests/ui/run.sh)`);
}

export const sha256 = bytes => createHash('sha256').update(bytes).digest('hex');
export const short = digest => digest.slice(0, 12);

export function leb128(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return Buffer.from(out);
}

/** The same component with a custom section appended: same code, a new digest. */
export function withCustomSection(bytes, name, data) {
  const nameBytes = Buffer.from(name, 'utf8');
  const payload = Buffer.concat([leb128(nameBytes.length), nameBytes, Buffer.from(data)]);
  return Buffer.concat([bytes, Buffer.from([0x00]), leb128(payload.length), payload]);
}

// --- the server ----------------------------------------------------------------------------

export function withoutToken(env) {
  delete env.WEFT_TOKEN;
  return env;
}

/** Starts `weft serve` on a free port with a fresh home (holding `weftYaml` as its
 *  weft.yaml, when given); resolves when it says it listens. A `--token` among `extraArgs`
 *  is the one `getJson` sends. */
export async function startServer(extraArgs = [], weftYaml = undefined) {
  const home = mkdtempSync(join(tmpdir(), 'weft-ui-home-'));
  if (weftYaml !== undefined) writeFileSync(join(home, 'weft.yaml'), weftYaml);
  const tokenAt = extraArgs.indexOf('--token');
  const token = tokenAt >= 0 ? extraArgs[tokenAt + 1] : undefined;
  const proc = spawn(WEFT, ['serve', '--listen', '127.0.0.1:0', '--home', home, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: withoutToken({ ...process.env, WEFT_HOME: home }),
  });
  let output = '';
  proc.stderr.on('data', d => { output += d; });
  const base = await new Promise((resolveBase, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`weft serve did not say it listens within 60 s:\n${output}${out}`)), 60_000);
    proc.stdout.on('data', d => {
      out += d;
      output += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolveBase(m[1].replace(/\/$/, ''));
      }
    });
    proc.on('exit', code => {
      clearTimeout(timer);
      reject(new Error(`weft serve exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    base,
    home,
    token,
    output: () => output,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise(r => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** One pass of `weft daemon --once` on the server's home at the injected time `nowMs` (ms
 *  since the epoch); resolves with its `--json` report once it has exited 0 (it waits for the
 *  runs it launched). */
export async function daemonPass(server, nowMs) {
  const proc = spawn(WEFT, ['daemon', '--once', '--now', String(nowMs), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: withoutToken({ ...process.env, WEFT_HOME: server.home }),
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', d => { out += d; });
  proc.stderr.on('data', d => { err += d; });
  const code = await new Promise((resolveCode, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`weft daemon --once did not exit within 60 s:\n${err}${out}`));
    }, 60_000);
    proc.on('error', e => { clearTimeout(timer); reject(e); });
    proc.on('close', c => { clearTimeout(timer); resolveCode(c); });
  });
  assert.equal(code, 0, `weft daemon --once exited with ${code}:\n${err}${out}`);
  return JSON.parse(out);
}

// --- the web UI's files --------------------------------------------------------------------

// URL path -> [file under runtime/api/ui, content type]: the page shell, its style sheet and
// every ES module of ui/js (as runtime/api/src/ui.rs serves them).
export const UI_FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/ui/app.css': ['app.css', 'text/css; charset=utf-8'],
  ...Object.fromEntries(readdirSync(join(UI_DIR, 'js')).filter(f => f.endsWith('.js'))
    .map(f => [`/ui/js/${f}`, [`js/${f}`, 'text/javascript; charset=utf-8']])),
};
let uiSourceNoted = false;

/**
 * The UI is embedded in the binary when it is built. If the binary's copy differs from
 * runtime/api/ui (the files were edited after the last `cargo build`), the browser is given
 * the files of the source tree instead, so that the tests try the UI as it is written; a
 * diagnostic says so. After a build (as tests/all.sh does) both are the same and nothing is
 * replaced.
 */
export async function serveUiSource(t, server, context) {
  const stale = [];
  for (const [path, [file]] of Object.entries(UI_FILES)) {
    const served = await (await fetch(server.base + path)).text();
    if (served !== readFileSync(join(UI_DIR, file), 'utf8')) stale.push(file);
  }
  if (!stale.length) return;
  if (!uiSourceNoted) {
    uiSourceNoted = true;
    t.diagnostic(`the UI embedded in ${WEFT} differs from runtime/api/ui (${stale.join(', ')}): the browser gets the source files`);
  }
  const origin = new URL(server.base).origin;
  await context.route(url => url.origin === origin && Object.hasOwn(UI_FILES, url.pathname), route => {
    const [file, contentType] = UI_FILES[new URL(route.request().url()).pathname];
    return route.fulfill({
      status: 200, contentType, headers: { 'cache-control': 'no-cache' },
      body: readFileSync(join(UI_DIR, file)),
    });
  });
}

/** A fresh headless Chromium (its own user-data dir) on one page; uncaught page errors are kept. */
export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'weft-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(15_000);
  const pageErrors = [];
  const watch = p => p.on('pageerror', e => pageErrors.push(`${e.message}\n${e.stack ?? ''}`));
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs `body` with a fresh server (`serverArgs`, `weftYaml`: see startServer) and browser,
 *  and tears both down; on failure, prints the server's output. */
export async function withSetup(t, body, serverArgs, weftYaml) {
  const server = await startServer(serverArgs, weftYaml);
  const browser = await openBrowser();
  try {
    await serveUiSource(t, server, browser.context);
    await body({ server, ...browser });
    assert.deepEqual(browser.pageErrors, [], 'the page threw no uncaught error');
  } catch (e) {
    t.diagnostic(`weft serve output:\n${server.output().slice(-4000)}`);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
}

export async function getJson(server, path) {
  const headers = server.token ? { Authorization: `Bearer ${server.token}` } : {};
  const r = await fetch(server.base + path, { headers });
  assert.ok(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

// --- what a person does --------------------------------------------------------------------

/** Uploads a component through the upload form; resolves with the result text. */
export async function uploadThroughPage(page, name, file) {
  await page.getByTestId('upload-name').fill(name);
  await page.getByTestId('upload-file').setInputFiles(file);
  await page.getByTestId('upload-submit').click();
}

export async function uploadAndExpect(page, name, file, digest) {
  await uploadThroughPage(page, name, file);
  const result = page.getByTestId('upload-result');
  await result.filter({ hasText: short(digest) }).waitFor();
  assert.match(await result.innerText(), new RegExp(`Uploaded ${name}: digest ${short(digest)}`));
  // The list shows it, with this digest as current.
  await page.locator(`[data-testid=location-row][data-name="${name}"] [data-testid=location-digest]`)
    .filter({ hasText: new RegExp(`^${short(digest)}$`) }).waitFor();
}

export async function waitForRunStatus(page, status) {
  await page.getByTestId('run-status').filter({ hasText: new RegExp(`^${status}$`) }).waitFor({ timeout: RUN_TIMEOUT });
}

/** Launches the job shown on the job page with `config`; resolves with the new run's id. */
export async function launch(page, config) {
  if (config !== undefined) await page.getByTestId('run-config').fill(JSON.stringify(config));
  await page.getByTestId('launch').click();
  await page.waitForURL(/#\/runs\/[^/]+$/);
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/runs\//, ''));
  await page.getByTestId('run-status').waitFor();
  return id;
}

/** Waits until `fn` resolves truthy (polling), or fails with `what`. */
export async function until(what, fn, timeout = 15_000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise(r => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
