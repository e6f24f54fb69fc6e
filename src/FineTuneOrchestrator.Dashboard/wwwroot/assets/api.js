// The HTTP API of the host that served this page, and the operator's key.
//
// The key arrives once as ?code=… (like a Functions route), is moved to sessionStorage (this tab only, gone when it
// closes) and taken out of the address bar, and is sent only as the x-functions-key header of calls to this API. It is
// never put in a cookie, and fetches omit credentials, so no cookie of this origin travels with it either.

const KEY_ITEM = 'fto.dashboard.key';

function meta(name, fallback) {
  const el = document.querySelector(`meta[name="${name}"]`);
  return el ? el.getAttribute('content') ?? fallback : fallback;
}

/** Where the API is: given by the server in the page, so the page works under any base path and route prefix. */
export const config = {
  apiBase: meta('fto-api-base', '/api'),
  managementBase: meta('fto-management-base', '/runtime/webhooks/durabletask'),
};

/** Moves ?code= from the address bar into this tab's session storage. */
export function takeKeyFromAddress() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has('code')) return;
  const code = url.searchParams.get('code');
  if (code) sessionStorage.setItem(KEY_ITEM, code);
  url.searchParams.delete('code');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}

export const getKey = () => sessionStorage.getItem(KEY_ITEM);
export const setKey = (key) => sessionStorage.setItem(KEY_ITEM, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_ITEM);

/** An API call that did not succeed, with the problem details the API gave (or a description of what came instead). */
export class ApiError extends Error {
  constructor(status, title, detail, field) {
    super(`${title}: ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.field = field;
  }
}

/**
 * Calls the API: path is under the route prefix ('/pipelines?top=50'). Resolves to { json, headers, status }; rejects
 * with an ApiError that says what went wrong in words (problem details' title and detail when the API sent them).
 */
export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const key = getKey();
  if (!key) throw new ApiError(401, 'No key', 'Enter a function key (or the master key) to use the dashboard.');
  const init = {
    method,
    signal,
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
    headers: { Accept: 'application/json', 'x-functions-key': key, ...headers },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(config.apiBase + path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'The API cannot be reached', `${method} ${config.apiBase}${path} failed (${error.message}). Is the app running?`);
  }

  const text = await response.text();
  let json = null;
  let parsed = false;
  if (text) {
    try { json = JSON.parse(text); parsed = true; } catch { parsed = false; }
  }

  if (!response.ok) {
    const title = (parsed && json?.title) || `${response.status} ${response.statusText || 'Error'}`.trim();
    const detail = (parsed && json?.detail)
      || (text && !parsed ? `The API answered ${response.status} with: ${text.slice(0, 300)}` : `The API answered ${response.status} to ${method} ${path}.`);
    throw new ApiError(response.status, title, detail, parsed ? json?.field : undefined);
  }

  if (text && !parsed) {
    throw new ApiError(response.status, 'Unreadable answer', `${method} ${path} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }

  return { json, headers: response.headers, status: response.status };
}

export const enc = encodeURIComponent;
