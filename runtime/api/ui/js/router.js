// Weft web UI: the hash router. It draws one page at a time into <main id="app">: on each
// hash change it closes what the page being left opened (timers, event streams), marks the
// navigation's active entry and calls the page that main.js's table names for the hash.
// Pages navigate with `go(hash)`. It imports no page (main.js hands it the table), so that
// the pages can import `go` without an import cycle.

import { app, clear, errorBox, h, show } from './render.js';

let generation = 0;
let leaving = [];
let pageFor = () => null;

/** The state of the page being shown: timers and streams to close when it is left. */
function newPage() {
  const gen = ++generation;
  return {
    alive: () => gen === generation,
    onLeave: fn => leaving.push(fn),
    every(ms, fn) {
      const t = setInterval(() => { if (gen === generation) fn(); }, ms);
      leaving.push(() => clearInterval(t));
    },
  };
}

function route() {
  for (const fn of leaving.splice(0)) { try { fn(); } catch { /* closing */ } }
  const page = newPage();
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(p => { try { return decodeURIComponent(p); } catch { return p; } });
  const params = new URLSearchParams(query);
  const top = parts[0] || 'locations';
  document.querySelectorAll('.nav [data-nav]').forEach(a => a.classList.toggle('active', a.dataset.nav === top));
  clear(app);
  const render = pageFor({ top, parts, params, page })
    ?? (() => show(h('h1', null, 'Not found'), h('p', null, 'No page at ', h('code', null, `#/${raw}`), '.')));
  Promise.resolve().then(render).catch(e => {
    if (page.alive()) show(errorBox(e.message || String(e)));
  });
}

/** Shows the page at `hash` (drawn again if it is the one shown). */
export function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

/**
 * Starts routing: `pages({top, parts, params, page})` returns the function that draws the
 * page for the hash (`parts` are its decoded path segments, `top` the first or
 * "locations"), or null for "Not found". Draws the current hash at once.
 */
export function startRouter(pages) {
  pageFor = pages;
  window.addEventListener('hashchange', route);
  route();
}
