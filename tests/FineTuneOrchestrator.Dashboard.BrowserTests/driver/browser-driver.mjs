// Drives one headless Chromium for the dashboard's browser tests: JSON requests on stdin, one per line
// ({"id":1,"op":"goto","url":"…"}), JSON answers on stdout ({"id":1,"ok":true,"value":…} or {"id":1,"ok":false,"error":"…"}).
// Logs go to stderr. The test process owns this process: it closes stdin (or kills it) when done.
//
// Chromium is Debian's (/usr/bin/chromium, or --chromium PATH), driven by npm's playwright-core; nothing is downloaded.
// It runs with a fresh user-data-dir and without background networking, so it never tries to reach the internet.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const args = process.argv.slice(2);
const chromiumPath = args.includes('--chromium') ? args[args.indexOf('--chromium') + 1] : '/usr/bin/chromium';
const DEFAULT_TIMEOUT = 30_000;

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fto-dashboard-chromium-'));
let context;
let page = null;
let pageErrors = [];
let consoleErrors = [];
let requests = [];

function log(...parts) {
  process.stderr.write(`[driver ${new Date().toISOString()}] ${parts.join(' ')}\n`);
}

async function launch() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  context.setDefaultTimeout(DEFAULT_TIMEOUT);
  log('chromium', context.browser()?.version() ?? '(persistent context)', 'from', chromiumPath);
}

async function newPage({ width, height } = {}) {
  if (page) await page.close();
  // A new tab: a new sessionStorage, so no key carries over from an earlier test.
  page = await context.newPage();
  if (width && height) await page.setViewportSize({ width, height });
  pageErrors = [];
  consoleErrors = [];
  requests = [];
  page.on('pageerror', (e) => { pageErrors.push(String(e?.message ?? e)); log('pageerror', e?.message ?? e); });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('request', (r) => {
    const headers = r.headers();
    requests.push({ url: r.url(), method: r.method(), key: headers['x-functions-key'] ?? null, cookie: headers.cookie ?? null });
  });
  return true;
}

const requirePage = () => {
  if (!page) throw new Error('no page: call newPage first');
  return page;
};

const timeoutOf = (req) => req.timeoutMs ?? DEFAULT_TIMEOUT;

async function waitUntil(check, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last.done) return last.value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe}; last seen: ${JSON.stringify(last?.value)}`);
}

const ops = {
  newPage: (req) => newPage(req),
  goto: async (req) => { await requirePage().goto(req.url, { waitUntil: 'load', timeout: timeoutOf(req) }); return requirePage().url(); },
  url: async () => requirePage().url(),
  click: async (req) => { await requirePage().locator(req.selector).first().click({ timeout: timeoutOf(req) }); return true; },
  fill: async (req) => { await requirePage().locator(req.selector).first().fill(req.value, { timeout: timeoutOf(req) }); return true; },
  select: async (req) => { await requirePage().locator(req.selector).first().selectOption(req.value, { timeout: timeoutOf(req) }); return true; },
  text: async (req) => requirePage().locator(req.selector).first().innerText({ timeout: timeoutOf(req) }),
  texts: async (req) => requirePage().locator(req.selector).allInnerTexts(),
  count: async (req) => requirePage().locator(req.selector).count(),
  attrs: async (req) => requirePage().locator(req.selector).evaluateAll((els, name) => els.map((e) => e.getAttribute(name)), req.name),
  visible: async (req) => requirePage().locator(req.selector).first().isVisible(),
  waitVisible: async (req) => { await requirePage().locator(req.selector).first().waitFor({ state: 'visible', timeout: timeoutOf(req) }); return true; },
  waitHidden: async (req) => { await requirePage().locator(req.selector).first().waitFor({ state: 'hidden', timeout: timeoutOf(req) }); return true; },
  waitText: (req) => waitUntil(async () => {
    const loc = requirePage().locator(req.selector).first();
    const text = (await loc.count()) ? await loc.innerText() : null;
    return { done: text !== null && text.includes(req.contains), value: text };
  }, timeoutOf(req), `${req.selector} to contain ${JSON.stringify(req.contains)}`),
  waitCount: (req) => waitUntil(async () => {
    const n = await requirePage().locator(req.selector).count();
    return { done: (req.min == null || n >= req.min) && (req.max == null || n <= req.max), value: n };
  }, timeoutOf(req), `${req.selector} count in [${req.min ?? '0'}, ${req.max ?? '∞'}]`),
  storage: async () => {
    const inPage = await requirePage().evaluate(() => ({
      session: Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)])),
      local: Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])),
      documentCookie: document.cookie,
    }));
    return { ...inPage, cookies: await context.cookies() };
  },
  requests: async () => requests,
  errors: async () => ({ pageErrors, consoleErrors }),
  screenshot: async (req) => {
    fs.mkdirSync(path.dirname(req.path), { recursive: true });
    await requirePage().screenshot({ path: req.path, fullPage: req.fullPage ?? true, timeout: timeoutOf(req) });
    return req.path;
  },
  ping: async () => 'pong',
};

async function shutdown(code) {
  try { await context?.close(); } catch (e) { log('close failed', e.message); }
  fs.rmSync(userDataDir, { recursive: true, force: true });
  process.exit(code);
}

function reply(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

try {
  await launch();
} catch (e) {
  reply({ id: 0, ok: false, error: `Chromium did not start: ${e.message}` });
  await shutdown(1);
}
reply({ id: 0, ok: true, value: 'ready' });

// Requests run one at a time, in order.
let queue = Promise.resolve();
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  queue = queue.then(async () => {
    let req;
    try {
      req = JSON.parse(line);
      const op = ops[req.op];
      if (!op) throw new Error(`unknown op '${req.op}'`);
      reply({ id: req.id, ok: true, value: (await op(req)) ?? null });
    } catch (e) {
      reply({ id: req?.id ?? -1, ok: false, error: String(e?.message ?? e) });
    }
  });
});
lines.on('close', () => { queue.then(() => shutdown(0)); });
process.on('SIGTERM', () => shutdown(143));
