// Model aliases: each alias with its current model, metrics and history, and a rollback that asks first.
import { h, clear, fmt } from './dom.js';
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
        field('From run', c.runId ? h('a', { href: `#/runs/${enc(c.runId)}` }, c.runId) : '—'),
        field('Promoted', fmt.time(c.promotedAt))),
      metricChips(c.metrics),
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
      h('thead', {}, h('tr', {}, ['Model', 'Run', 'Promoted', 'Retired', 'Why', 'Metrics'].map((t) => h('th', {}, t)))),
      h('tbody', {}, list.map((m) => h('tr', {},
        h('td', {}, h('code', {}, m.model)),
        h('td', {}, m.runId ? h('a', { href: `#/runs/${enc(m.runId)}` }, m.runId) : '—'),
        h('td', {}, fmt.time(m.promotedAt)),
        h('td', {}, fmt.time(m.retiredAt)),
        h('td', {}, m.retiredBy ?? '—'),
        h('td', {}, metricChips(m.metrics)))))));
}
