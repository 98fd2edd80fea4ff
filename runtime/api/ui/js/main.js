// Weft web UI: the entry module that index.html loads. The UI is a single-page app over the
// JSON API of `weft serve`, written as native ES modules: no build step, nothing loaded from
// outside. This module wires the left navigation (the API token kept for this tab, the
// server's health) and maps each hash to its page:
//
//   #/locations, #/locations/{loc}                 locations.js
//   #/jobs, #/locations/{loc}/jobs/{job}           jobs.js
//   #/assets                                       assets.js
//   #/assets/{key...}                              asset.js (an asset key's parts as segments)
//   #/runs                                         runs.js
//   #/runs/{id}                                    run.js (its timeline: gantt.js)
//   #/automation                                   automation.js
//   #/automation/{schedule|sensor}/{loc}/{name}    instigator.js
//
// Shared by the pages: api.js (the API), render.js (elements and formatting), router.js
// (`go`), graph.js (a DAG as SVG). Elements that tests look for carry data-testid.

import { TOKEN_KEY, api } from './api.js';
import { pageAsset } from './asset.js';
import { pageAssets } from './assets.js';
import { INSTIGATORS, pageAutomation } from './automation.js';
import { pageInstigator } from './instigator.js';
import { pageJob, pageJobs } from './jobs.js';
import { pageLocation, pageLocations } from './locations.js';
import { go, startRouter } from './router.js';
import { pageRun } from './run.js';
import { pageRuns } from './runs.js';

/** The page for a hash, or null (Not found). */
function pageFor({ top, parts, params, page }) {
  if (parts.length === 0 || (top === 'locations' && parts.length === 1)) return () => pageLocations(page);
  if (top === 'locations' && parts.length === 2) return () => pageLocation(page, parts[1]);
  if (top === 'locations' && parts.length === 4 && parts[2] === 'jobs') return () => pageJob(page, parts[1], parts[3]);
  if (top === 'jobs' && parts.length === 1) return () => pageJobs(page);
  if (top === 'assets' && parts.length === 1) return () => pageAssets(page);
  if (top === 'assets' && parts.length > 1) return () => pageAsset(page, parts.slice(1).join('/'));
  if (top === 'runs' && parts.length === 1) return () => pageRuns(page, params);
  if (top === 'runs' && parts.length === 2) return () => pageRun(page, parts[1]);
  if (top === 'automation' && parts.length === 1) return () => pageAutomation(page);
  if (top === 'automation' && parts.length === 4 && Object.hasOwn(INSTIGATORS, parts[1])) {
    return () => pageInstigator(page, parts[1], parts[2], parts[3]);
  }
  return null;
}

function setupNav() {
  const token = document.getElementById('token');
  token.value = sessionStorage.getItem(TOKEN_KEY) || '';
  // Kept for this tab, and sent from the next request on; Enter draws the page again with it
  // (one drawn without it says so).
  token.addEventListener('input', () => {
    const v = token.value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
    token.classList.remove('needed');
  });
  document.getElementById('token-form').addEventListener('submit', e => e.preventDefault());
  token.addEventListener('keydown', e => {
    if (e.key === 'Enter') go(location.hash || '#/locations');
  });
  window.addEventListener('weft:token-needed', () => {
    token.classList.add('needed');
    if (document.activeElement !== token) token.focus();
  });
  const health = document.querySelector('.health');
  const banner = document.getElementById('banner');
  const check = async () => {
    try {
      const r = await api('GET', '/api/health');
      health.textContent = r?.ok ? 'server ok' : 'server not ok';
      health.className = `health ${r?.ok ? 'up' : 'down'}`;
      banner.hidden = true;
    } catch (e) {
      health.textContent = 'server unreachable';
      health.className = 'health down';
      banner.textContent = `The server does not answer: ${e.message}`;
      banner.hidden = false;
    }
  };
  check();
  setInterval(check, 15_000);
}

setupNav();
startRouter(pageFor);
