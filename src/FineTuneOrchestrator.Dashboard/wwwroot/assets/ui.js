// Shared pieces of the views: readable errors, notices, the confirmation dialog, the operator's name.
import { h, clear } from './dom.js';
import { ApiError } from './api.js';

const BY_ITEM = 'fto.dashboard.by';

/** The last name typed for decisions in this tab. */
export const rememberedName = () => sessionStorage.getItem(BY_ITEM) ?? '';
export const rememberName = (name) => sessionStorage.setItem(BY_ITEM, name);

/** An error as a block of text: what failed, what the API said, and the HTTP status. Never a blank screen. */
export function errorBox(error, doing) {
  const status = error instanceof ApiError && error.status ? ` (HTTP ${error.status})` : '';
  const title = error instanceof ApiError ? error.title : 'Something went wrong';
  const detail = error instanceof ApiError ? error.detail : String(error?.message ?? error);
  return h('div', { class: 'error', role: 'alert', 'data-testid': 'error' },
    h('strong', {}, doing ? `${doing}: ${title}${status}` : `${title}${status}`),
    h('p', {}, detail),
    error instanceof ApiError && error.status === 401 ? h('p', {}, 'Check the key: function routes take the function key or the master key; rolling back an alias takes the master key.') : null);
}

/** A short confirmation of something done. */
export function notice(text) {
  return h('div', { class: 'notice', role: 'status', 'data-testid': 'notice' }, text);
}

/**
 * Asks for confirmation in a modal dialog. fields: [{ name, label, value, placeholder }] become text inputs whose values
 * are returned. Resolves to null when the operator backs out.
 */
export function confirmDialog({ title, body, confirm, cancel = 'Cancel', danger = false, fields = [] }) {
  const dialog = document.getElementById('dialog');
  return new Promise((resolve) => {
    const inputs = fields.map((f) => h('input', { type: 'text', name: f.name, value: f.value ?? '', placeholder: f.placeholder ?? '', 'aria-label': f.label }));
    const finish = (result) => {
      dialog.close();
      resolve(result);
    };
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', 'data-testid': 'dialog-confirm', onclick: () => finish(Object.fromEntries(inputs.map((i) => [i.name, i.value.trim()]))) }, confirm);
    const no = h('button', { type: 'button', 'data-testid': 'dialog-cancel', onclick: () => finish(null) }, cancel);
    clear(dialog,
      h('h2', {}, title),
      h('p', {}, body),
      fields.map((f, i) => h('label', {}, f.label, inputs[i])),
      h('div', { class: 'buttons' }, no, ok));
    dialog.onclose = () => resolve(null); // Escape key: same as cancel (a settled promise ignores the second call)
    dialog.showModal();
    (inputs[0] ?? no).focus();
  });
}

/** A label and its value in a detail grid (a dl whose pairs are wrapped in divs, one grid cell each). */
export function field(label, value, testid) {
  return h('div', {}, h('dt', {}, label), h('dd', testid ? { 'data-testid': testid } : {}, value ?? '—'));
}
