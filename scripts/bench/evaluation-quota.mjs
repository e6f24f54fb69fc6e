#!/usr/bin/env node
// Evaluation-under-quota benchmark driver (scripts/bench-evaluation.sh starts what it talks to). Drops a support-ticket
// dataset with CASES held-out tickets, lets the run train, and times its Evaluating stage: every case is answered by the
// candidate and by the baseline through the simulator's chat, which enforces the quota given. Prints the stage's wall
// time next to the quota's floor (calls / RPM or charged tokens / TPM, whichever is larger) and the 429s the quota sent.
// Usage: node evaluation-quota.mjs READY_JSON WORK_DIR --cases 1000 --rpm 600 --tpm 200000 [--max-output-tokens 64] [--seed 11]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [readyJson, work, ...rest] = process.argv.slice(2);
const opt = (name, fallback) => { const i = rest.indexOf(`--${name}`); return i >= 0 && i + 1 < rest.length ? rest[i + 1] : fallback; };
const cases = Number(opt('cases', 1000)), rpm = Number(opt('rpm', 600)), tpm = Number(opt('tpm', 200000));
const maxOutput = Number(opt('max-output-tokens', 64)), seed = Number(opt('seed', 11));
const ready = JSON.parse(readyJson);
const here = new URL('.', import.meta.url).pathname;

// The dataset: the demo's generator, with the evaluation set this benchmark wants. Overlap is only reported: the
// benchmark measures the calls, and 1,000 templated tickets share phrasing with the training set.
const dir = join(work, 'dataset');
execFileSync('node', [join(here, '../dataset/gen-support-tickets.mjs'), dir, '--train', '300', '--eval', String(cases), '--seed', String(seed), '--alias', 'bench-evaluation'], { stdio: 'inherit' });
const config = JSON.parse(readFileSync(join(dir, 'finetune.json'), 'utf8'));
delete config.evaluation.maxParallelism; // the pace is the quota's, not a fixed width
Object.assign(config.evaluation, { maxCases: cases, maxOutputTokens: maxOutput, maxOverlapShare: 1 });
writeFileSync(join(dir, 'finetune.json'), JSON.stringify(config, null, 2));
const uploads = execFileSync('node', [join(here, '../dataset/upload-blobs.mjs'), ready.storage, 'datasets',
  `bench/finetune.json=${join(dir, 'finetune.json')}`, `bench/eval.jsonl=${join(dir, 'eval.jsonl')}`, `bench/train.jsonl=${join(dir, 'train.jsonl')}`], { encoding: 'utf8' });
const etag = uploads.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.blob.endsWith('train.jsonl')).etag;
const { createHash } = await import('node:crypto');
const runId = 'ds-bench-' + createHash('sha256').update(`datasets/bench/train.jsonl@${etag}`).digest('hex').slice(0, 16);

const headers = { 'x-functions-key': ready.functionKey };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stats = async () => (await fetch(`${ready.simulator}/_simulator/stats`)).json();

let stage = '', status, evalStart = 0, evalEnd = 0, before = null;
const deadline = Date.now() + 60 * 60 * 1000;
for (;;) {
  if (Date.now() > deadline) { console.error('the run did not end within an hour'); process.exit(1); }
  const res = await fetch(`${ready.url}/api/pipelines/${runId}`, { headers });
  if (res.status === 404) { await sleep(200); continue; }
  status = await res.json();
  const now = performance.now();
  if (status.stage !== stage) {
    if (status.stage === 'Evaluating') { evalStart = now; before = await stats(); }
    if (stage === 'Evaluating') evalEnd = now;
    console.log(`${new Date().toISOString().slice(11, 19)}  ${status.runtimeStatus}  ${status.stage ?? ''}`);
    stage = status.stage;
  }
  if (!['Running', 'Pending', 'Suspended'].includes(status.runtimeStatus)) { if (!evalEnd && stage === 'Evaluating') evalEnd = now; break; }
  await sleep(100);
}
const after = await stats();
if (!evalStart || !before) { console.error(`the run never reached Evaluating: ${status.runtimeStatus} ${status.failure ?? ''}`); process.exit(1); }

const calls = after.chatCompletions - before.chatCompletions;
const refused = after.quotaRateLimits - before.quotaRateLimits;
const tokens = after.quotaChargedTokens - before.quotaChargedTokens;
const wall = (evalEnd - evalStart) / 1000;
// One quota for every call (Account), or one per model (Deployment: Azure's quota is per deployment, and the candidate and
// the baseline answer the same cases, so each has half the calls and tokens).
const scope = (process.env.BENCH_QUOTA_SCOPE || 'Account').toLowerCase() === 'deployment' ? 'Deployment' : 'Account';
const share = scope === 'Deployment' ? 2 : 1;
const floor = Math.max(calls / share / rpm, tokens / share / tpm) * 60;
const e = status.evaluation ?? {};
console.log(`\nrun ${runId}: ${status.runtimeStatus}, outcome ${status.outcome ?? '?'}; ${e.caseCount ?? '?'} cases per model`);
console.log(`quota: ${rpm} requests/min, ${tpm} tokens/min (${scope === 'Deployment' ? 'one quota per model' : 'one quota for every call'}); max output tokens ${maxOutput}`);
console.log(`calls answered: ${calls}; tokens charged: ${tokens} (${(tokens / Math.max(1, calls)).toFixed(0)} a call)`);
console.log(`floor: calls / RPM = ${(calls / share / rpm * 60).toFixed(1)} s, tokens / TPM = ${(tokens / share / tpm * 60).toFixed(1)} s -> ${floor.toFixed(1)} s${share > 1 ? ' (per model)' : ''}`);
console.log(`Evaluating stage wall time: ${wall.toFixed(1)} s = ${(wall / floor).toFixed(3)} x the floor (goal <= 1.15)`);
console.log(`429s from the quota: ${refused} = ${(100 * refused / Math.max(1, calls + refused)).toFixed(2)} % of calls sent (goal < 1 %)`);
if (e.comparison) console.log(`comparison: ${JSON.stringify(e.comparison)}`);
