// One run: its stages as a timeline, the loss chart, candidate vs baseline side by side with the worst cases, and the
// decisions an operator can take (approve or reject while it awaits approval, cancel while it runs).
import { h, clear, fmt, badge, runDuration, ACTIVE } from './dom.js';
import { api, enc } from './api.js';
import { errorBox, notice, confirmDialog, field, rememberedName, rememberName } from './ui.js';
import { lossChart } from './chart.js';

const REFRESH_MS = 2000;

const STEPS = [
  { key: 'validation', title: 'Validation' },
  { key: 'staging', title: 'Staging' },
  { key: 'upload', title: 'Upload' },
  { key: 'job', title: 'Training job' },
  { key: 'evaluation', title: 'Evaluation' },
  { key: 'gates', title: 'Gates' },
  { key: 'approval', title: 'Approval' },
  { key: 'promotion', title: 'Promotion' },
];

// Pipeline stage (custom status) → the timeline step it belongs to.
const STAGE_STEP = {
  Pending: 0, Validating: 0, Staging: 1, Uploading: 2, CreatingJob: 3, Training: 3, Evaluating: 4,
  AwaitingApproval: 6, Promoting: 7, Notifying: 8, Completed: 8,
};

// Outcomes that name the step that stopped the run.
const OUTCOME_STEP = { ValidationFailed: 0, BudgetExceeded: 0, JobFailed: 3, DeadlineExceeded: 3, NotPromoted: 5, Rejected: 6, ApprovalTimedOut: 6 };

/** The state of each timeline step: done, active, pending, failed, skipped (not reached) or notRequired. */
export function stepStates(run) {
  let states;
  if (ACTIVE.has(run.runtimeStatus)) {
    const at = STAGE_STEP[run.stage] ?? 0;
    states = STEPS.map((_, i) => (i < at ? 'done' : i === at ? 'active' : 'pending'));
  } else if (run.outcome === 'Promoted') {
    states = STEPS.map(() => 'done');
  } else {
    const at = OUTCOME_STEP[run.outcome] ?? failedStep(run);
    states = STEPS.map((_, i) => (i < at ? 'done' : i === at ? 'failed' : 'skipped'));
  }

  if (run.approvalRequired !== true && states[6] !== 'failed') states[6] = states[6] === 'done' ? 'notRequired' : states[6];
  return states;
}

/** Where a cancelled, failed or terminated run stopped: the stage its message names, else what it got to. */
function failedStep(run) {
  const text = [run.message, run.failure].filter(Boolean).join(' ');
  const named = /during (\w+)\./.exec(text)?.[1] ?? /Stage (\w+) failed/.exec(text)?.[1]
    ?? (run.stage && run.stage !== 'Failed' && run.stage !== 'Completed' ? run.stage : null);
  if (named && named in STAGE_STEP) return Math.min(STAGE_STEP[named], STEPS.length - 1);
  return run.job?.id ? 3 : 0;
}

export function runView(root, runId, onAuthError) {
  const controller = new AbortController();
  const signal = controller.signal;
  let disposed = false;
  let timer = 0;
  let run = null;
  let actionsMode = '';
  const metrics = { job: null, points: new Map(), lastEventId: null, totalSteps: null, final: false };
  const loaded = { validation: null, validationError: null, evaluation: null, validationFinal: false, evaluationFinal: false };

  const header = h('section', { class: 'run-header', 'data-testid': 'run-header' }, h('p', { class: 'muted' }, `Loading run ${runId}…`));
  const flash = h('div', { class: 'flash' });
  const actions = h('section', { class: 'actions', 'data-testid': 'actions' });
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'timeline' });
  const chartMeta = h('span', { class: 'muted', 'data-testid': 'chart-meta' });
  const chart = h('div', { class: 'chart', 'data-testid': 'loss-chart' }, h('p', { class: 'muted' }, 'No training job yet.'));
  const evaluation = h('div', { class: 'evaluation', 'data-testid': 'evaluation' }, h('p', { class: 'muted' }, 'Not evaluated yet.'));

  clear(root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/runs' }, '← Runs')),
    header,
    flash,
    actions,
    h('section', {}, h('h2', {}, 'Stages'), timeline),
    h('section', {}, h('h2', {}, 'Training and validation loss ', chartMeta), chart),
    h('section', {}, h('h2', {}, 'Evaluation: candidate vs baseline'), evaluation));

  const showFlash = (el) => clear(flash, el);

  async function refresh() {
    clearTimeout(timer);
    try {
      run = (await api(`/pipelines/${enc(runId)}`, { signal })).json;
    } catch (error) {
      if (disposed || error.name === 'AbortError') return;
      if (error.status === 401) onAuthError(error);
      clear(header, errorBox(error, `Loading run ${runId} failed`));
      if (run === null) {
        // Nothing to show but the error; a 404 will not get better by polling.
        for (const el of [actions, timeline, chart, evaluation]) el.closest('section')?.setAttribute('hidden', '');
        if (error.status !== 404 && error.status !== 400 && error.status !== 401) timer = setTimeout(refresh, REFRESH_MS * 2);
      } else {
        timer = setTimeout(refresh, REFRESH_MS * 2);
      }
      return;
    }

    for (const el of [actions, timeline, chart, evaluation]) el.closest('section')?.removeAttribute('hidden');
    const active = ACTIVE.has(run.runtimeStatus);
    renderHeader();
    renderActions(active);
    // Each part loads on its own: one that fails shows its error and the others still show.
    await Promise.all([loadValidation(active), loadMetrics(active), loadEvaluation(active)]);
    if (disposed) return;
    renderTimeline();
    if (active) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function part(load, show, doing) {
    try {
      await load();
    } catch (error) {
      if (disposed || error.name === 'AbortError') return;
      if (error.status === 401) onAuthError(error);
      show(errorBox(error, doing));
    }
  }

  function loadValidation(active) {
    if (loaded.validationFinal || run.stage === 'Validating' || run.stage === 'Pending') return Promise.resolve();
    return part(async () => {
      loaded.validation = (await api(`/pipelines/${enc(runId)}/validation`, { signal })).json;
      loaded.validationError = null;
      loaded.validationFinal = !active || loaded.validation.report != null;
    }, (box) => { loaded.validationError = box; }, 'Loading the validation report failed');
  }

  function loadMetrics(active) {
    const jobId = run.job?.id;
    if (!jobId && !active) clear(chart, h('p', { class: 'muted' }, 'This run created no training job.'));
    if (!jobId || metrics.final) return Promise.resolve();
    return part(async () => {
      if (metrics.job !== jobId) Object.assign(metrics, { job: jobId, points: new Map(), lastEventId: null, totalSteps: null });
      const after = metrics.lastEventId ? `?after=${enc(metrics.lastEventId)}` : '';
      const { json } = await api(`/pipelines/${enc(runId)}/metrics${after}`, { signal });
      for (const point of json.points) metrics.points.set(point.step, point);
      metrics.lastEventId = json.lastEventId ?? metrics.lastEventId;
      metrics.totalSteps = json.totalSteps ?? metrics.totalSteps;
      // One more read after the run ended catches the last steps; then the curve is complete.
      metrics.final = !active;
      renderChart();
    }, (box) => clear(chart, box), 'Loading the training metrics failed');
  }

  function loadEvaluation(active) {
    const reached = (STAGE_STEP[run.stage] ?? 0) > 4 || run.evaluation || !active;
    if (loaded.evaluationFinal || !reached) return Promise.resolve();
    return part(async () => {
      loaded.evaluation = (await api(`/pipelines/${enc(runId)}/evaluation`, { signal })).json;
      loaded.evaluationFinal = !active || loaded.evaluation.summary != null;
      renderEvaluation();
    }, (box) => clear(evaluation, box), 'Loading the evaluation failed');
  }

  function renderHeader() {
    const cost = run.cost ?? {};
    clear(header,
      h('h1', {}, 'Run ', h('code', {}, run.runId), ' ', h('span', { 'data-testid': 'run-status' }, badge(run.runtimeStatus)), ' ',
        run.outcome ? h('span', { 'data-testid': 'run-outcome' }, badge(run.outcome)) : null),
      // A failed run's message is its failure: shown once, as an error.
      run.failure
        ? h('div', { class: 'error', 'data-testid': 'run-failure' }, run.failure)
        : h('p', { class: 'message', 'data-testid': 'run-message' }, run.stage ? `${run.stage}${run.message ? ': ' + run.message : ''}` : run.message ?? ''),
      run.warnings?.length ? h('ul', { class: 'warnings' }, run.warnings.map((w) => h('li', {}, w))) : null,
      h('dl', { class: 'meta' },
        field('Dataset', run.dataset),
        field('Version', run.datasetVersion),
        field('Base model', run.baseModel),
        field('Alias', run.alias),
        field('Approval', run.approvalRequired ? 'required' : 'not required'),
        field('Started', h('span', { title: run.createdTime }, fmt.time(run.createdTime))),
        field(ACTIVE.has(run.runtimeStatus) ? 'Running for' : 'Took', runDuration(run)),
        field('Estimated cost', fmt.usd(cost.estimatedUsd), 'cost-estimated'),
        field('Actual cost', cost.actualUsd == null ? '—'
          : `${fmt.usd(cost.actualUsd)} (training ${fmt.usd(cost.trainingUsd)}${cost.evaluationUsd == null ? '' : `, evaluation ${fmt.usd(cost.evaluationUsd)}`})`, 'cost-actual')));
  }

  function renderActions(active) {
    const mode = !active ? '' : run.stage === 'AwaitingApproval' ? 'approval' : 'cancel';
    if (mode === actionsMode) return; // keep what the operator is typing
    actionsMode = mode;
    if (!mode) {
      clear(actions);
      return;
    }

    const cancel = h('button', { type: 'button', class: 'danger outline', 'data-testid': 'cancel-run', onclick: cancelRun }, 'Cancel run…');
    if (mode === 'cancel') {
      clear(actions, h('div', { class: 'buttons' }, cancel));
      return;
    }

    const by = h('input', { type: 'text', name: 'by', value: rememberedName(), placeholder: 'your name', 'data-testid': 'decision-by' });
    const comment = h('textarea', { name: 'comment', rows: 2, placeholder: 'why (recorded with the decision)', 'data-testid': 'decision-comment' });
    const result = h('div');
    const approve = h('button', { type: 'button', class: 'primary', 'data-testid': 'approve', onclick: () => decide(true) }, 'Approve and promote');
    const reject = h('button', { type: 'button', class: 'danger', 'data-testid': 'reject', onclick: () => decide(false) }, 'Reject');
    clear(actions,
      h('div', { class: 'approval', 'data-testid': 'approval-panel' },
        h('h2', {}, 'This run awaits your decision'),
        h('p', {}, `Promoting points the alias ${run.alias ?? ''} at the fine-tuned model ${run.job?.fineTunedModel ?? ''}. Look at the evaluation below first.`),
        h('label', {}, 'Decided by', by),
        h('label', {}, 'Comment', comment),
        h('div', { class: 'buttons' }, approve, reject, cancel),
        result));

    async function decide(approved) {
      const who = by.value.trim();
      if (!who) {
        clear(result, h('div', { class: 'error', role: 'alert', 'data-testid': 'error' }, 'Type your name: it is recorded with the decision.'));
        by.focus();
        return;
      }

      rememberName(who);
      approve.disabled = true;
      reject.disabled = true;
      try {
        await api(`/pipelines/${enc(runId)}/${approved ? 'approve' : 'reject'}`, { method: 'POST', body: { by: who, comment: comment.value.trim() || undefined } });
        showFlash(notice(approved ? `Approved by ${who}: promoting.` : `Rejected by ${who}.`));
        refresh();
      } catch (error) {
        if (error.status === 401) onAuthError(error);
        clear(result, errorBox(error, approved ? 'Approving failed' : 'Rejecting failed'));
        approve.disabled = false;
        reject.disabled = false;
      }
    }
  }

  async function cancelRun() {
    const job = run.job?.id;
    const answer = await confirmDialog({
      title: `Cancel run ${runId}?`,
      body: job ? `The provider job ${job} is cancelled and the run ends as Cancelled. This cannot be undone.` : 'The run ends as Cancelled. This cannot be undone.',
      confirm: 'Cancel the run',
      cancel: 'Keep it running',
      danger: true,
      fields: [{ name: 'by', label: 'Cancelled by', value: rememberedName() }, { name: 'reason', label: 'Reason', placeholder: 'why' }],
    });
    if (!answer) return;
    if (answer.by) rememberName(answer.by);
    try {
      await api(`/pipelines/${enc(runId)}/cancel`, { method: 'POST', body: { by: answer.by || undefined, reason: answer.reason || undefined } });
      showFlash(notice('Cancellation requested: the run cancels its provider job and ends.'));
      refresh();
    } catch (error) {
      if (error.status === 401) onAuthError(error);
      showFlash(errorBox(error, 'Cancelling failed'));
    }
  }

  function renderTimeline() {
    const states = stepStates(run);
    clear(timeline, STEPS.map((step, i) => h('li', { class: `step ${states[i]}`, 'data-step': step.key, 'data-state': states[i] },
      h('div', { class: 'step-head' }, h('span', { class: 'dot' }), h('strong', {}, step.title), h('span', { class: 'state' }, stateText(states[i]))),
      h('div', { class: 'step-body' }, stepDetails(step.key, states[i])))));
  }

  function stateText(state) {
    return { done: 'done', active: 'in progress', pending: 'waiting', failed: 'stopped here', skipped: 'not reached', notRequired: 'not required' }[state];
  }

  function stepDetails(key, state) {
    switch (key) {
      case 'validation': return validationDetails();
      case 'upload': return run.job?.id ? h('p', {}, 'Training data uploaded to the provider.') : null;
      case 'job': return jobDetails();
      case 'evaluation': return evaluationBrief();
      case 'gates':
        if (state === 'failed' || (state === 'skipped' && run.outcome === 'NotPromoted')) return reasons();
        return state === 'done' ? h('p', {}, 'The candidate passed the promotion gates.') : null;
      case 'approval':
        if (state === 'notRequired') return h('p', { class: 'muted' }, 'This run promotes without an approval.');
        if (state === 'active') return h('p', {}, run.message ?? 'Waiting for a decision.');
        if (run.outcome === 'Rejected' || run.outcome === 'ApprovalTimedOut' || (run.outcome === 'Promoted' && run.approvalRequired)) return reasons();
        return null;
      case 'promotion': {
        const p = run.promotion;
        if (!p) return null;
        return h('p', { 'data-testid': 'promotion' }, `${p.alias} → `, h('code', {}, p.model), ` (revision ${p.revision}${p.previousModel ? `, previously ${p.previousModel}` : ', a new alias'})`);
      }
      default: return null;
    }
  }

  function reasons() {
    return run.reasons?.length ? h('ul', { class: 'reasons', 'data-testid': 'reasons' }, run.reasons.map((r) => h('li', {}, r))) : null;
  }

  function jobDetails() {
    const j = run.job;
    if (!j) return null;
    return h('dl', { class: 'meta small' },
      field('Job', h('code', {}, j.id ?? '—')),
      field('Status', j.status, 'job-status'),
      field('Step', j.step ? `${j.step}${j.totalSteps ? ` of ${j.totalSteps}` : ''}` : '—'),
      field('Latest loss', j.trainLoss == null ? '—' : `train ${fmt.num(j.trainLoss)}${j.validLoss == null ? '' : `, validation ${fmt.num(j.validLoss)}`}`),
      field('Trained tokens', fmt.int(j.trainedTokens), 'trained-tokens'),
      j.estimatedFinish && ACTIVE.has(run.runtimeStatus) ? field('Estimated finish', fmt.time(j.estimatedFinish)) : null,
      j.fineTunedModel ? field('Fine-tuned model', h('code', {}, j.fineTunedModel)) : null,
      j.error ? field('Error', j.error) : null);
  }

  function validationDetails() {
    if (loaded.validationError) return loaded.validationError;
    const report = loaded.validation?.report;
    if (!report) {
      const v = run.validation;
      return v ? h('p', {}, `${fmt.int(v.exampleCount)} examples, ${v.errorCount} errors, ${v.warningCount} warnings`) : null;
    }

    const names = { train: 'Training file', validation: 'Validation file', eval: 'Evaluation file' };
    return h('div', { class: 'validation', 'data-testid': 'validation' }, ['train', 'validation', 'eval'].filter((k) => report[k]).map((k) => {
      const r = report[k];
      const errors = r.errorCount ?? Object.values(r.errorCounts ?? {}).reduce((a, b) => a + b, 0);
      const warnings = r.warningCount ?? Object.values(r.warningCounts ?? {}).reduce((a, b) => a + b, 0);
      return h('div', { class: 'file', 'data-file': k },
        h('h4', {}, `${names[k]} `, h('code', {}, r.blob ?? ''), ' ', badge(r.valid ? 'valid' : 'invalid', r.valid ? 'ok' : 'bad')),
        h('p', {}, `${fmt.int(r.exampleCount)} examples (${fmt.int(r.validExampleCount)} valid), ${fmt.int(r.tokens?.total)} tokens, `,
          h('span', { 'data-testid': 'error-count' }, `${errors} errors`), ', ', h('span', { 'data-testid': 'warning-count' }, `${warnings} warnings`),
          k === 'train' ? `; about ${r.estimatedEpochs} epochs, ${fmt.int(r.estimatedTrainedTokens)} trained tokens, estimated ${fmt.usd(r.estimatedCost)}` : ''),
        issues('Errors', r.errors, errors, 'errors'),
        issues('Warnings', r.warnings, warnings, 'warnings'));
    }));
  }

  function issues(title, list, total, cls) {
    if (!list?.length) return null;
    const shown = list.slice(0, 20);
    return h('details', { class: `issues ${cls}`, open: cls === 'errors' },
      h('summary', {}, `${title} (${total})`),
      h('ul', {}, shown.map((i) => h('li', {}, i.line ? `line ${i.line}` : 'file', ' · ', h('code', {}, i.code), `: ${i.message}`))),
      total > shown.length ? h('p', { class: 'muted' }, `…and ${total - shown.length} more in the stored report (${loaded.validation?.reportBlob ?? ''}).`) : null);
  }

  function evaluationBrief() {
    const s = loaded.evaluation?.summary ?? run.evaluation;
    if (!s) return null;
    if (s.inconclusive) return h('p', {}, `${s.caseCount} held-out cases: inconclusive, too many calls failed (details below).`);
    const cmp = s.comparison;
    if (!cmp) return h('p', {}, `${s.caseCount} held-out cases${s.primaryMetric ? `: candidate ${s.primaryMetric} ${fmt.num(s.candidate?.primaryScore, 3)}` : ''} (details below).`);
    return h('p', {}, `${s.caseCount} held-out cases: ${cmp.metric} ${fmt.num(cmp.candidate, 3)} vs baseline ${fmt.num(cmp.baseline, 3)}, `,
      `difference ${signed(cmp.difference)}, p = ${fmt.num(cmp.pValue, 4)} (details below).`);
  }

  function renderChart() {
    const points = [...metrics.points.values()].sort((a, b) => a.step - b.step);
    chartMeta.textContent = points.length
      ? `· ${points.length} step${points.length === 1 ? '' : 's'} reported${metrics.totalSteps ? ` of ${metrics.totalSteps}` : ''}`
      : '';
    clear(chart, lossChart(points, metrics.totalSteps));
  }

  function renderEvaluation() {
    const view = loaded.evaluation;
    const s = view?.summary;
    if (!s) {
      clear(evaluation, h('p', { class: 'muted' }, ACTIVE.has(run.runtimeStatus) ? 'Not evaluated yet.' : 'This run was not evaluated.'));
      return;
    }

    clear(evaluation, verdict(s), compareTable(s), regressionList(s), perClassTable(s), worstCases(view, s));
  }

  refresh();
  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
      controller.abort();
    },
  };
}

// Metric rows: label, field, format, and which direction is better.
const METRICS = [
  ['Cases', 'cases', fmt.int, 0],
  ['Failed calls', 'failedCalls', fmt.int, -1],
  ['JSON validity', 'jsonValidRate', fmt.pct, 1],
  ['Schema adherence', 'schemaAdherence', fmt.pct, 1],
  ['Accuracy', 'accuracy', fmt.pct, 1],
  ['Macro-F1', 'macroF1', (v) => fmt.num(v, 3), 1],
  ['Latency p50', 'latencyP50Ms', fmt.ms, -1],
  ['Latency p95', 'latencyP95Ms', fmt.ms, -1],
  ['Prompt tokens', 'promptTokens', fmt.int, 0],
  ['Completion tokens', 'completionTokens', fmt.int, 0],
  ['Cost', 'costUsd', fmt.usd, -1],
];

function signed(d) {
  if (d === null || d === undefined) return '—';
  return d === 0 ? '0' : `${d > 0 ? '+' : ''}${fmt.num(d, 4)}`;
}

/**
 * What the evaluation concluded, in words: inconclusive (too many failed calls), or the paired comparison on the primary
 * metric with its interval and p-value, and whether the gain is significant at the run's level.
 */
function verdict(s) {
  const parts = [];
  if (s.inconclusive) {
    parts.push(h('p', { class: 'verdict bad', 'data-testid': 'verdict' }, badge('inconclusive', 'bad'), ' ', s.inconclusive));
  } else if (s.comparison) {
    const c = s.comparison;
    const level = s.significanceLevel;
    const interval = `95 % interval [${signed(c.ci95?.[0])}, ${signed(c.ci95?.[1])}]`;
    const test = c.test === 'mcnemar-exact' ? 'exact McNemar test' : 'paired bootstrap';
    const numbers = `${c.metric}: candidate ${fmt.num(c.candidate, 4)} vs baseline ${fmt.num(c.baseline, 4)}, difference ${signed(c.difference)} (${interval}), p = ${fmt.num(c.pValue, 4)} by the ${test} on ${fmt.int(c.n)} paired cases.`;
    let kind = 'neutral', word = 'compared', text = '';
    if (c.difference <= 0) {
      kind = 'bad'; word = 'not better';
      text = ' The candidate is not better than the baseline.';
    } else if (level != null && c.pValue > level) {
      kind = 'warn'; word = 'not significant';
      text = ` The improvement is not statistically significant at ${fmt.num(level, 4)}: a gain this size on this many cases could be chance, so the gate refuses it.`;
    } else if (level != null) {
      kind = 'ok'; word = 'significant';
      text = ` The improvement is statistically significant at ${fmt.num(level, 4)}.`;
    } else {
      text = ' The significance gate is off (gates.maxPValue 1).';
    }

    parts.push(h('p', { class: `verdict ${kind}`, 'data-testid': 'verdict' }, badge(word, kind), ' ', numbers, text));
    if (c.unadjustedPValue != null) parts.push(h('p', { class: 'muted' }, `p before the adjustment for choosing among checkpoints: ${fmt.num(c.unadjustedPValue, 4)}.`));
  } else if (s.primaryMetric) {
    parts.push(h('p', { class: 'muted', 'data-testid': 'verdict' }, `No baseline was evaluated: ${s.primaryMetric} ${fmt.num(s.candidate?.primaryScore, 4)} for the candidate, nothing to compare with.`));
  } else {
    parts.push(h('p', { class: 'muted', 'data-testid': 'verdict' }, 'No metric judges these answers (no graders, no accuracy field, no schema): nothing says whether the candidate is better.'));
  }

  if (s.choice) parts.push(h('p', { 'data-testid': 'choice' }, s.choice));
  const notes = [];
  if (s.sampling) notes.push(`Cases: ${s.sampling}.`);
  if (s.overlap && (s.overlap.exact + s.overlap.near) > 0) notes.push(`${s.overlap.exact + s.overlap.near} held-out prompts (${fmt.pct(s.overlap.share)}) are also in the training data.`);
  if (notes.length) parts.push(h('p', { class: 'muted' }, notes.join(' ')));
  return h('div', { class: 'verdicts' }, parts);
}

function regressionList(s) {
  const list = s.regressions ?? [];
  if (!list.length) return null;
  return h('div', { class: 'regressions', 'data-testid': 'regressions' },
    h('h3', {}, 'Where the candidate is worse than the baseline'),
    h('ul', {}, list.map((r) => h('li', { 'data-slice': r.slice },
      h('code', {}, r.slice), `: ${r.metric} ${fmt.num(r.candidate, 3)} vs ${fmt.num(r.baseline, 3)} (${signed(r.difference)}, ${fmt.int(r.n)} cases, p = ${fmt.num(r.pValue, 4)})`))));
}

function compareTable(s) {
  const c = s.candidate ?? {};
  const b = s.baseline;
  const graderRows = Object.entries(c.graders ?? {}).map(([name, g]) => {
    const bg = b?.graders?.[name];
    const d = bg ? g.mean - bg.mean : null;
    return h('tr', { 'data-metric': `grader:${name}` },
      h('th', { scope: 'row' }, `${name} `, h('span', { class: 'muted' }, `(${g.type}${g.errors ? `, ${g.errors} ungraded` : ''})`)),
      h('td', { class: 'num', 'data-role': 'candidate' }, `${fmt.num(g.mean, 3)}${g.passRate != null ? ` · ${fmt.pct(g.passRate)} pass` : ''}`),
      h('td', { class: 'num', 'data-role': 'baseline' }, bg ? `${fmt.num(bg.mean, 3)}${bg.passRate != null ? ` · ${fmt.pct(bg.passRate)} pass` : ''}` : '—'),
      h('td', { class: `num delta ${d == null || d === 0 ? '' : d > 0 ? 'better' : 'worse'}` }, d == null ? '—' : signed(d)));
  });
  return h('table', { class: 'compare', 'data-testid': 'compare' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Metric'),
      h('th', {}, 'Candidate', h('br'), h('code', { class: 'model' }, c.model ?? '—')),
      h('th', {}, 'Baseline', h('br'), h('code', { class: 'model' }, b?.model ?? 'not evaluated')),
      h('th', {}, 'Difference'))),
    h('tbody', {}, METRICS.map(([label, key, format, better]) => {
      const cv = c[key];
      const bv = b?.[key];
      let delta = '—';
      let cls = '';
      if (typeof cv === 'number' && typeof bv === 'number') {
        const d = cv - bv;
        delta = d === 0 ? '0' : key.endsWith('Rate') || key === 'schemaAdherence' || key === 'accuracy'
          ? `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} pp`
          : `${d >= 0 ? '+' : ''}${format(d)}`;
        cls = better === 0 || d === 0 ? '' : (d > 0) === (better > 0) ? 'better' : 'worse';
      }
      return h('tr', { 'data-metric': key },
        h('th', { scope: 'row' }, label),
        h('td', { class: 'num', 'data-role': 'candidate' }, format(cv)),
        h('td', { class: 'num', 'data-role': 'baseline' }, b ? format(bv) : '—'),
        h('td', { class: `num delta ${cls}` }, delta));
    }), graderRows));
}

function perClassTable(s) {
  const c = s.candidate?.perClass ?? {};
  const b = s.baseline?.perClass ?? {};
  const classes = [...new Set([...Object.keys(c), ...Object.keys(b)])].sort();
  if (!classes.length) return null;
  const cells = (m) => (m ? [fmt.num(m.precision, 3), fmt.num(m.recall, 3), fmt.num(m.f1, 3)] : ['—', '—', '—']).map((v) => h('td', { class: 'num' }, v));
  return h('table', { class: 'per-class', 'data-testid': 'per-class' },
    h('thead', {},
      h('tr', {}, h('th', { rowspan: 2 }, 'Class'), h('th', { rowspan: 2 }, 'Support'), h('th', { colspan: 3 }, 'Candidate'), h('th', { colspan: 3 }, 'Baseline')),
      h('tr', {}, ['Precision', 'Recall', 'F1', 'Precision', 'Recall', 'F1'].map((t) => h('th', {}, t)))),
    h('tbody', {}, classes.map((name) => h('tr', { 'data-class': name },
      h('th', { scope: 'row' }, name),
      h('td', { class: 'num' }, fmt.int((c[name] ?? b[name])?.support)),
      cells(c[name]),
      cells(b[name])))));
}

function worstCases(view, s) {
  const list = view.worstCases ?? [];
  if (!list.length) {
    // Say only what was checked: with no grader of correctness, "no wrong answer" means nothing was judged wrong.
    const c = s.candidate ?? {};
    const judged = c.accuracy != null || c.schemaAdherence != null || Object.values(c.graders ?? {}).some((g) => g.passRate != null);
    return h('p', { class: 'muted', 'data-testid': 'no-worst-cases' }, judged
      ? 'No evaluated case failed a check: every answer passed the accuracy, schema and grader checks configured.'
      : 'No case is listed as wrong because nothing here checks correctness (no accuracy field, no schema, no grader with a pass threshold); read the scores above.');
  }

  const answer = (title, a) => h('div', { class: 'answer' },
    h('h5', {}, title, a ? h('span', { class: 'muted' }, ` · ${a.model}`) : null),
    !a ? h('p', { class: 'muted' }, 'not evaluated')
      : [
        a.error ? h('p', { class: 'error-text' }, a.error) : h('pre', {}, a.output ?? ''),
        a.schemaErrors ? h('p', { class: 'muted' }, `schema: ${a.schemaErrors}`) : null,
        a.refusal ? h('p', { class: 'error-text' }, `refused: ${a.refusal}`) : null,
        a.toolCalls ? h('pre', { class: 'muted' }, a.toolCalls) : null,
        a.grades ? h('p', { class: 'muted grades' }, Object.entries(a.grades).map(([name, g]) => `${name} ${g.error ? `ungraded (${g.error})` : `${fmt.num(g.score, 3)}${g.passed === true ? ' pass' : g.passed === false ? ' fail' : ''}`}`).join(' · ')) : null,
        h('p', { class: 'muted' }, `${a.correct === true ? 'right' : a.correct === false ? 'wrong' : ''}${a.predictedLabel ? ` (${a.predictedLabel})` : ''} · ${fmt.ms(a.latencyMs)}`),
      ]);

  return h('div', { class: 'worst' },
    h('h3', {}, `Worst cases: ${list.length} of ${view.failingCases} the candidate got wrong${s.candidate?.step != null ? ` (checkpoint at step ${s.candidate.step})` : ''}`),
    h('ol', { class: 'cases', 'data-testid': 'worst-cases' }, list.map((c) => h('li', { 'data-case-index': c.index },
      h('div', { class: 'case-head' }, h('strong', {}, `Case ${c.index}`), ' ', badge(c.problem, 'bad'), c.regression ? [' ', badge('regression', 'warn')] : null,
        c.expectedLabel ? h('span', { class: 'muted' }, ` · expected ${c.expectedLabel}`) : null),
      c.prompt ? h('p', { class: 'prompt' }, c.prompt) : null,
      h('div', { class: 'side-by-side' },
        h('div', { class: 'answer' }, h('h5', {}, 'Expected'), h('pre', {}, c.expected ?? '')),
        answer('Candidate', c.candidate),
        answer('Baseline', c.baseline))))));
}
