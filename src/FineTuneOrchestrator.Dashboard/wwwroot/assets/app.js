// Entry point: takes the key from the address bar, shows which key is in use, and routes #/runs, #/runs/{id} and
// #/models (hash routes, so the page needs no server routes and works under any base path).
import { h, clear } from './dom.js';
import { takeKeyFromAddress, getKey, setKey, forgetKey } from './api.js';
import { runsView } from './runs.js';
import { runView } from './run.js';
import { modelsView } from './models.js';

const main = document.getElementById('main');
const banner = document.getElementById('banner');
const keybox = document.getElementById('keybox');
let view = null;

function showBanner(...content) {
  clear(banner, ...content);
  banner.hidden = content.length === 0;
}

/** A 401 from any call: say the key was refused, in words, and offer to enter another. */
function onAuthError(error) {
  showBanner(
    h('strong', {}, 'The key was refused. '),
    error.detail ?? '',
    ' ',
    h('button', { type: 'button', class: 'link', 'data-testid': 'change-key', onclick: () => { forgetKey(); route(); } }, 'Enter another key'));
}

function renderKeybox() {
  const key = getKey();
  clear(keybox, key
    ? [h('span', { class: 'muted', 'data-testid': 'key-state' }, `key …${key.slice(-4)}`), ' ',
      h('button', { type: 'button', class: 'link', 'data-testid': 'forget-key', onclick: () => { forgetKey(); route(); } }, 'Forget key')]
    : h('span', { class: 'muted', 'data-testid': 'key-state' }, 'no key'));
}

function keyPrompt() {
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', 'aria-label': 'Key', 'data-testid': 'key-input', placeholder: 'function key or master key' });
  const submit = (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    setKey(key);
    showBanner();
    route();
  };
  clear(main, h('section', { class: 'key-prompt', 'data-testid': 'key-prompt' },
    h('h1', {}, 'Enter your key'),
    h('p', {}, 'The dashboard calls this app\'s HTTP API with your key. The function key reads runs and takes decisions; the master key can also roll back model aliases. ',
      'The key is kept in this browser tab only (session storage), sent only as the x-functions-key header, and never stored in a cookie. ',
      'You can also open the dashboard once with ?code=<key> in the address.'),
    h('form', { onsubmit: submit }, input, h('button', { type: 'submit', class: 'primary', 'data-testid': 'key-submit' }, 'Use this key'))));
  input.focus();
}

function route() {
  view?.dispose();
  view = null;
  renderKeybox();
  const hash = window.location.hash.replace(/^#/, '') || '/runs';
  const [path, query] = hash.split('?');
  // A malformed escape in the address (#/runs/%E0%A4%A) must not throw out of the page: it reads as the text it is.
  const parts = path.split('/').filter(Boolean).map(part => {
    try { return decodeURIComponent(part); } catch { return part; }
  });
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.dataset.nav === parts[0]);

  if (!getKey()) {
    keyPrompt();
    return;
  }

  if (parts[0] === 'runs' && parts.length === 2) view = runView(main, parts[1], onAuthError);
  else if (parts[0] === 'models') view = modelsView(main, onAuthError);
  else view = runsView(main, new URLSearchParams(query ?? ''), onAuthError);
}

takeKeyFromAddress();
window.addEventListener('hashchange', () => {
  showBanner();
  route();
});
route();
