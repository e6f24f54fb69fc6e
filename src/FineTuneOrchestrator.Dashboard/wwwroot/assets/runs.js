// The runs list: status, stage, dataset, base model, alias, started, duration, estimated and actual cost; filter by
// status; refreshes while any listed run is active.
import { h, clear, fmt, badge, runDuration, ACTIVE } from './dom.js';
import { api, enc } from './api.js';
import { errorBox } from './ui.js';

const STATUSES = ['Running', 'Pending', 'Suspended', 'Completed', 'Failed', 'Terminated'];
const REFRESH_MS = 3000;
const PAGE_SIZE = 50;

export function runsView(root, params, onAuthError) {
  const status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
  let timer = 0;
  let disposed = false;
  let runs = [];
  let next = null;
  const controller = new AbortController();

  const filter = h('select', { 'aria-label': 'Filter by status', 'data-testid': 'status-filter', onchange: (e) => {
    window.location.hash = e.target.value ? `#/runs?status=${e.target.value}` : '#/runs';
  } }, h('option', { value: '' }, 'All statuses'), STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  const updated = h('span', { class: 'muted', 'data-testid': 'updated' });
  const body = h('div', { class: 'runs-body' });
  const more = h('button', { type: 'button', hidden: true, onclick: () => load(true) }, 'Load more');
  clear(root,
    h('div', { class: 'toolbar' },
      h('h1', {}, 'Runs'),
      filter,
      h('button', { type: 'button', onclick: () => load(false) }, 'Refresh'),
      updated),
    body,
    more);

  async function load(append) {
    clearTimeout(timer);
    try {
      const query = `?top=${PAGE_SIZE}${status ? `&status=${enc(status)}` : ''}`;
      const { json } = await api(`/pipelines${query}`, {
        signal: controller.signal,
        headers: append && next ? { 'x-ms-continuation-token': next } : {},
      });
      if (disposed) return;
      // Newest first within what is loaded (the engine lists instances in its own order).
      runs = (append ? runs.concat(json.runs) : json.runs).sort((a, b) => Date.parse(b.createdTime) - Date.parse(a.createdTime));
      next = json.continuationToken ?? null;
      render();
      updated.textContent = `updated ${fmt.time(new Date().toISOString())}`;
      if (runs.some((r) => ACTIVE.has(r.runtimeStatus))) {
        updated.textContent += ` · refreshing every ${REFRESH_MS / 1000} s while runs are active`;
        // Appended pages are not refreshed one by one: a refresh reloads the first page.
        timer = setTimeout(() => load(false), REFRESH_MS);
      }
    } catch (error) {
      if (disposed || error.name === 'AbortError') return;
      if (error.status === 401) onAuthError(error);
      clear(body, errorBox(error, 'Loading the runs failed'));
      more.hidden = true;
    }
  }

  function render() {
    more.hidden = !next;
    if (!runs.length) {
      clear(body, h('p', { class: 'empty', 'data-testid': 'no-runs' }, status ? `No ${status.toLowerCase()} runs.` : 'No runs yet. Start one with POST /api/pipelines or by dropping a dataset into blob storage.'));
      return;
    }

    clear(body, h('table', { class: 'runs', 'data-testid': 'runs-table', 'data-filter': status || 'all' },
      h('thead', {}, h('tr', {}, ['Run', 'Status', 'Stage', 'Outcome', 'Dataset', 'Base model', 'Alias', 'Started', 'Duration', 'Est. cost', 'Actual cost'].map((c) => h('th', {}, c)))),
      h('tbody', {}, runs.map(row))));
  }

  function row(run) {
    return h('tr', { 'data-run-id': run.runId, 'data-status': run.runtimeStatus },
      h('td', { 'data-col': 'run' }, h('a', { href: `#/runs/${enc(run.runId)}` }, run.runId)),
      h('td', { 'data-col': 'status' }, badge(run.runtimeStatus)),
      h('td', { 'data-col': 'stage' }, run.stage ?? '—', run.job?.step && ACTIVE.has(run.runtimeStatus) && run.stage === 'Training'
        ? h('span', { class: 'muted' }, ` · step ${run.job.step}${run.job.totalSteps ? `/${run.job.totalSteps}` : ''}`) : null),
      h('td', { 'data-col': 'outcome' }, run.outcome ? badge(run.outcome) : '—'),
      h('td', { 'data-col': 'dataset' }, run.dataset ?? '—'),
      h('td', { 'data-col': 'baseModel' }, run.baseModel ?? '—'),
      h('td', { 'data-col': 'alias' }, run.alias ?? '—'),
      h('td', { 'data-col': 'started', title: run.createdTime }, fmt.time(run.createdTime)),
      h('td', { 'data-col': 'duration' }, runDuration(run)),
      h('td', { 'data-col': 'estimatedCost', class: 'num' }, fmt.usd(run.cost?.estimatedUsd)),
      h('td', { 'data-col': 'actualCost', class: 'num' }, fmt.usd(run.cost?.actualUsd)));
  }

  load(false);
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
      controller.abort();
    },
  };
}
