// Weft web UI: the Jobs pages: #/jobs (every job of every location, filtered as you type)
// and #/locations/{loc}/jobs/{job} (its op graph, the launch form with its run config and
// tags, its recent runs).

import { api, enc } from './api.js';
import { dagSvg } from './graph.js';
import {
  assetKeyText, clear, digestEl, errorBox, facts, h, link, section, show, table, tagChips,
} from './render.js';
import { go } from './router.js';
import { runsTable } from './runs.js';

export async function pageJobs(page) {
  const filter = h('input', { type: 'search', placeholder: 'Filter jobs', testid: 'jobs-filter' });
  const host = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  show(h('div', { class: 'title-row' }, h('h1', null, 'Jobs'), filter), section(null, host));
  const jobs = await api('GET', '/api/jobs');
  if (!page.alive()) return;
  jobs.sort((a, b) => a.location.localeCompare(b.location) || a.name.localeCompare(b.name));
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = jobs.filter(j => !q || `${j.location} ${j.name} ${j.description ?? ''}`.toLowerCase().includes(q)).map(j =>
      h('tr', { testid: 'job-row', dataset: { location: j.location, name: j.name } },
        h('td', null, link(`#/locations/${enc(j.location)}/jobs/${enc(j.name)}`, j.name, { class: 'strong', testid: 'job-link' })),
        h('td', null, link(`#/locations/${enc(j.location)}`, j.location)),
        h('td', null, h('span', { class: 'kind' }, j.kind)),
        h('td', { class: 'num' }, j.step_count ?? '—'),
        h('td', { class: 'muted' }, j.description ?? '')));
    clear(host, table('jobs-table', ['Job', 'Location', 'Kind', 'Steps', 'Description'], rows,
      jobs.length ? 'No job matches.' : 'No jobs: upload a code location first.'));
  };
  filter.addEventListener('input', draw);
  draw();
}

function parseTags(text) {
  const tags = {};
  for (const part of text.split(/[,\n]/).map(x => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`"${part}" is not key=value`);
    tags[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return tags;
}

export async function pageJob(page, loc, name) {
  show(h('p', { class: 'crumbs' }, link('#/jobs', 'Jobs'), ' / ', link(`#/locations/${enc(loc)}`, loc), ' / ', name));
  const job = await api('GET', `/api/locations/${enc(loc)}/jobs/${enc(name)}`);
  if (!page.alive()) return;
  const steps = job.steps || [];
  const graph = steps.length
    ? dagSvg(steps.map(st => {
      const sub = st.kind === 'asset' ? `asset ${assetKeyText(st.asset)}` : (st.op && st.op !== st.key ? `op ${st.op}` : 'op');
      return { id: st.key, deps: st.upstream || [], lines: [st.key, sub] };
    }), { testid: 'op-graph' })
    : h('p', { class: 'muted', testid: 'op-graph' }, 'This job has no steps.');

  const config = h('textarea', { id: 'run-config', rows: 8, spellcheck: 'false', testid: 'run-config', value: '{}' });
  const configError = h('div', { class: 'field-error', testid: 'config-error', hidden: true });
  const tags = h('input', { id: 'run-tags', type: 'text', placeholder: 'team=data, priority=high', testid: 'run-tags' });
  const launch = h('button', { class: 'primary', testid: 'launch' }, 'Launch run');
  const launchError = h('div');
  const parsed = () => {
    const text = config.value.trim();
    if (!text) return null;
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('run config must be a JSON object');
    return v;
  };
  const validate = () => {
    try {
      parsed();
      parseTags(tags.value);
      configError.hidden = true;
      config.classList.remove('invalid');
      launch.disabled = false;
      return true;
    } catch (e) {
      configError.textContent = `Invalid: ${e.message}`;
      configError.hidden = false;
      config.classList.add('invalid');
      launch.disabled = true;
      return false;
    }
  };
  config.addEventListener('input', validate);
  tags.addEventListener('input', validate);
  launch.addEventListener('click', async () => {
    if (!validate()) return;
    const body = { location: loc, job: name };
    const cfg = parsed();
    if (cfg && Object.keys(cfg).length) body.config = cfg;
    const t = parseTags(tags.value);
    if (Object.keys(t).length) body.tags = t;
    launch.disabled = true;
    clear(launchError);
    try {
      const { run_id } = await api('POST', '/api/runs', body);
      go(`#/runs/${enc(run_id)}`);
    } catch (e) {
      launch.disabled = false;
      if (page.alive()) clear(launchError, errorBox(`Launch failed: ${e.message}`, 'launch-error'));
    }
  });

  const recent = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  show(
    h('div', { class: 'title-row' }, h('h1', null, job.name ?? name), h('span', { class: 'kind' }, job.kind)),
    job.description ? h('p', { class: 'lead' }, job.description) : null,
    facts([
      ['Location', link(`#/locations/${enc(loc)}`, loc)],
      ['Digest', digestEl(job.digest, 'job-digest')],
      ['Steps', String(steps.length)],
      ['Tags', tagChips(job.tags, 'job-tags')]]),
    section('Graph', graph),
    section('Launch',
      h('div', { class: 'launch' },
        h('label', { for: 'run-config' }, 'Run config (JSON)', config, configError),
        h('label', { for: 'run-tags' }, 'Tags (key=value, comma separated)', tags),
        h('div', null, launch), launchError)),
    section('Recent runs', recent));

  try {
    const runs = await api('GET', `/api/runs?job=${enc(name)}&location=${enc(loc)}&limit=10`);
    if (page.alive()) clear(recent, runsTable(runs, 'job-runs'));
  } catch (e) {
    if (page.alive()) clear(recent, errorBox(e.message));
  }
}
