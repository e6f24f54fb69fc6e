// Model aliases: each alias with its current model, metrics and history, and a rollback that asks first; on Azure OpenAI
// the deployment that serves it, and for every alias the lifecycle sweep's findings: when the base model retires (a
// countdown), the re-training run started for it and what the sweep did.
import { h, clear, fmt, badge } from './dom.js';
import { api, enc } from './api.js';
import { errorBox, notice, confirmDialog, field } from './ui.js';

export function modelsView(root, onAuthError) {
  const controller = new AbortController();
  const signal = controller.signal;
  let disposed = false;
  const body = h('div', { class: 'aliases' }, h('p', { class: 'muted' }, 'Loading aliases…'));
  clear(root, h('div', { class: 'toolbar' }, h('h1', {}, 'Models'), h('button', { type: 'button', onclick: () => load() }, 'Refresh')), body);

  async function load() {
    let aliases;
    try {
      aliases = (await api('/models', { signal })).json.aliases;
    } catch (error) {
      if (disposed || error.name === 'AbortError') return;
      if (error.status === 401) onAuthError(error);
      clear(body, errorBox(error, 'Loading the aliases failed'));
      return;
    }

    if (disposed) return;
    if (!aliases.length) {
      clear(body, h('p', { class: 'empty', 'data-testid': 'no-aliases' }, 'No aliases yet: a run that passes its gates promotes its alias.'));
      return;
    }

    clear(body, aliases.map((alias) => {
      const card = h('section', { class: 'alias', 'data-alias': alias }, h('h2', {}, alias), h('p', { class: 'muted' }, 'Loading…'));
      loadAlias(alias, card);
      return card;
    }));
  }

  async function loadAlias(alias, card, message) {
    try {
      const doc = (await api(`/models/${enc(alias)}`, { signal })).json;
      if (!disposed) renderAlias(card, doc, message);
    } catch (error) {
      if (disposed || error.name === 'AbortError') return;
      if (error.status === 401) onAuthError(error);
      clear(card, h('h2', {}, alias), message ?? null, errorBox(error, `Loading alias ${alias} failed`));
    }
  }

  function renderAlias(card, doc, message) {
    const previous = doc.history?.[0];
    const result = h('div', { class: 'result' }, message ?? null);
    const rollback = h('button', {
      type: 'button',
      class: 'danger outline',
      'data-testid': 'rollback',
      disabled: !previous,
      title: previous ? `Point ${doc.alias} back at ${previous.model}` : 'No earlier model to roll back to',
      onclick: async () => {
        const ok = await confirmDialog({
          title: `Roll ${doc.alias} back?`,
          body: `${doc.alias} will point at ${previous.model} instead of ${doc.current.model}. Applications following the alias switch at their next refresh.`,
          confirm: 'Roll back',
          cancel: 'Keep the current model',
          danger: true,
        });
        if (!ok) return;
        rollback.disabled = true;
        try {
          const updated = (await api(`/models/${enc(doc.alias)}/rollback`, { method: 'POST', signal })).json;
          renderAlias(card, updated, notice(`${doc.alias} now points at ${updated.current.model} (revision ${updated.revision}).`));
        } catch (error) {
          if (error.name === 'AbortError') return;
          const needsAdmin = error.status === 401;
          clear(result, errorBox(error, needsAdmin ? 'Rolling back needs the master (admin) key' : 'Rolling back failed'));
          rollback.disabled = false;
        }
      },
    }, previous ? `Roll back to ${previous.model}…` : 'Roll back');

    const c = doc.current;
    clear(card,
      h('div', { class: 'alias-head' }, h('h2', {}, doc.alias), h('span', { class: 'muted' }, `revision ${doc.revision} · changed ${fmt.time(doc.updatedAt)}`), rollback),
      result,
      h('dl', { class: 'meta' },
        field('Current model', h('code', { 'data-testid': 'current-model' }, c.model)),
        field('Provider', c.provider),
        field('Base model', c.baseModel),
        c.rootBaseModel ? field('Root base model', c.rootBaseModel) : null,
        field('From run', c.runId ? h('a', { href: `#/runs/${enc(c.runId)}` }, c.runId) : '—'),
        field('Promoted', fmt.time(c.promotedAt)),
        doc.deployment ? field('Deployment', h('span', { 'data-testid': 'deployment' },
          h('code', {}, doc.deployment.name), ` → ${doc.deployment.model}${doc.deployment.sku ? ` (${doc.deployment.sku})` : ''}`,
          doc.deployment.model !== c.model ? h('span', {}, ' ', badge('serves another model', 'bad')) : null)) : null,
        ...lifecycleFields(doc.lifecycle)),
      metricChips(c.metrics),
      lifecycleEvents(doc.lifecycle),
      history('History', 'Earlier models, most recent first (a rollback returns to the first).', doc.history, 'history'),
      history('Rolled back', 'Models taken off the alias by rollbacks.', doc.rolledBack, 'rolled-back'));
  }

  load();
  return {
    dispose() {
      disposed = true;
      controller.abort();
    },
  };
}

/** Days from now to an instant (negative once past), rounded up: "retires in 3 days" until the day it happens. */
export function daysUntil(iso, now = Date.now()) {
  return Math.ceil((Date.parse(iso) - now) / 86400000);
}

/** The base model's retirement as a countdown pill: red inside a month (the default re-training window), amber inside a quarter. */
export function retirementCountdown(iso, now = Date.now()) {
  const days = daysUntil(iso, now);
  const text = days < 0 ? `retired ${-days} day${days === -1 ? '' : 's'} ago` : days === 0 ? 'retires today' : `in ${days} day${days === 1 ? '' : 's'}`;
  return badge(text, days <= 30 ? 'bad' : days <= 90 ? 'warn' : 'ok');
}

function lifecycleFields(lifecycle) {
  if (!lifecycle) return [];
  return [
    lifecycle.retiresAt
      ? field('Base retires', h('span', { 'data-testid': 'retirement' }, `${fmt.time(lifecycle.retiresAt)} `, retirementCountdown(lifecycle.retiresAt)))
      : field('Base retires', 'no date published'),
    lifecycle.retrainRunId
      ? field('Re-training', h('span', { 'data-testid': 'retrain' }, h('a', { href: `#/runs/${enc(lifecycle.retrainRunId)}` }, lifecycle.retrainRunId), ` on ${lifecycle.successorBaseModel ?? '?'}`))
      : null,
    field('Last checked', fmt.time(lifecycle.checkedAt)),
  ];
}

function lifecycleEvents(lifecycle) {
  const events = lifecycle?.events ?? [];
  if (!events.length) return null;
  return h('details', { class: 'history', 'data-testid': 'lifecycle' },
    h('summary', {}, `Lifecycle (${events.length})`),
    h('ul', { 'data-testid': 'lifecycle-events' }, events.map((e) =>
      h('li', {}, badge(e.kind, e.kind === 'error' || e.kind === 'no-successor' ? 'warn' : 'neutral'), ' ', fmt.time(e.at), ' ', e.detail))));
}

function metricChips(metrics) {
  const entries = Object.entries(metrics ?? {});
  if (!entries.length) return null;
  return h('ul', { class: 'chips', 'data-testid': 'metrics' }, entries.map(([name, value]) =>
    h('li', {}, h('span', { class: 'muted' }, name), ' ', name === 'macroF1' ? fmt.num(value, 3) : fmt.pct(value))));
}

function history(title, hint, list, testid) {
  if (!list?.length) return null;
  return h('details', { class: 'history', open: testid === 'history' },
    h('summary', {}, `${title} (${list.length})`),
    h('p', { class: 'muted' }, hint),
    h('table', { 'data-testid': testid },
      h('thead', {}, h('tr', {}, ['Model', 'Trained from', 'Run', 'Promoted', 'Retired', 'Why', 'Metrics'].map((t) => h('th', {}, t)))),
      h('tbody', {}, list.map((m) => h('tr', {},
        h('td', {}, h('code', {}, m.model)),
        // Continuous fine-tuning: the parent model, so the history reads as a chain back to the root base.
        h('td', {}, m.baseModel ? h('code', {}, m.baseModel) : '—', m.rootBaseModel ? h('span', { class: 'muted' }, ` (root ${m.rootBaseModel})`) : null),
        h('td', {}, m.runId ? h('a', { href: `#/runs/${enc(m.runId)}` }, m.runId) : '—'),
        h('td', {}, fmt.time(m.promotedAt)),
        h('td', {}, fmt.time(m.retiredAt)),
        h('td', {}, m.retiredBy ?? '—'),
        h('td', {}, metricChips(m.metrics)))))));
}
