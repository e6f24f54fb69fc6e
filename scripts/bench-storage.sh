#!/usr/bin/env bash
# Storage transactions of the in-process host on Azurite: per idle hour and per pipeline run, by service and billed
# operation class, then a monthly estimate at list prices. Runs scripts/serve.sh (Azurite with its debug log, the
# simulator, the host with host.json's production polling interval), waits IDLE_SECONDS with nothing to do, then drops one
# dataset and follows its run to the end. Transactions are counted from Azurite's debug log (one entry per request).
# Usage: scripts/bench-storage.sh   Env: IDLE_SECONDS (600), WARMUP_SECONDS (60), BENCH_TRAIN (120), BENCH_EVAL (30),
#        prices in USD per 10,000 transactions: PRICE_BLOB_WRITE, PRICE_BLOB_READ, PRICE_BLOB_LIST, PRICE_BLOB_OTHER,
#        PRICE_QUEUE_CLASS1, PRICE_QUEUE_CLASS2, PRICE_TABLE (defaults and their source: README, "Idle cost").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$root/.artifacts/bench-storage"
rm -rf "$work"; mkdir -p "$work"
export SERVE_DIR="$work/serve" AZURITE_PORT=20040 SIMULATOR_PORT=5240 APP_PORT=7140 SIM_TIME_SCALE=1000
export AZURITE_DEBUG_LOG="$work/azurite-debug.log"
idle="${IDLE_SECONDS:-600}" warmup="${WARMUP_SECONDS:-60}"

. scripts/lib/serve-background.sh
trap stop_serve EXIT
# host.json's maxQueuePollingInterval (serve.sh shortens it for a responsive demo; the bench measures what Azure runs).
poll="$(node -e "process.stdout.write(require('./host.json').extensions.durableTask.storageProvider.maxQueuePollingInterval)")"
# The blob watcher at its default interval too (serve.sh lists every second for the demo).
export PROVIDER="${PROVIDER:-openai}"
start_serve "$work" "--extensions:durableTask:storageProvider:maxQueuePollingInterval=$poll" "--FineTune:BlobTrigger:PollingInterval=00:00:05"
base="$(ready_field url)" fkey="$(ready_field functionKey)" storage="$(ready_field storage)"
offset() { stat -c %s "$AZURITE_DEBUG_LOG"; }
count() { node scripts/bench/storage-transactions.mjs "$AZURITE_DEBUG_LOG" "$1" "$2"; }

echo "host ready; warming up ${warmup}s, then ${idle}s idle (maxQueuePollingInterval $poll)"
sleep "$warmup"
t0="$(date +%s.%N)"; o0="$(offset)"
sleep "$idle"
t1="$(date +%s.%N)"; o1="$(offset)"

node scripts/dataset/gen-support-tickets.mjs "$work/tickets" --seed 11 --train "${BENCH_TRAIN:-120}" --eval "${BENCH_EVAL:-30}" >/dev/null
uploads="$(node scripts/dataset/upload-blobs.mjs "$storage" datasets \
  "bench-tickets/finetune.json=$work/tickets/finetune.json" "bench-tickets/eval.jsonl=$work/tickets/eval.jsonl" "bench-tickets/train.jsonl=$work/tickets/train.jsonl")"
etag="$(node -e "const l=process.argv[1].trim().split('\n').map(JSON.parse); process.stdout.write(l.find(x=>x.blob.endsWith('train.jsonl')).etag)" "$uploads")"
run_id="$(node -e "const c=require('crypto'); process.stdout.write('ds-bench-tickets-'+c.createHash('sha256').update('datasets/bench-tickets/train.jsonl@'+process.argv[1]).digest('hex').slice(0,16))" "$etag")"
status=""
for _ in $(seq 1 3000); do
  status="$(curl -s -H "x-functions-key: $fkey" "$base/api/pipelines/$run_id" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{try{const j=JSON.parse(s);process.stdout.write((j.runtimeStatus||'')+' '+(j.outcome||''))}catch{process.stdout.write('')}})")"
  case "$status" in Completed*|Failed*|Terminated*) break ;; esac
  sleep 0.5
done
t2="$(date +%s.%N)"; o2="$(offset)"
echo "run $run_id: $status"

node - "$(count "$o0" "$o1")" "$(count "$o1" "$o2")" "$t0" "$t1" "$t2" <<'JS'
const [idle, run] = [JSON.parse(process.argv[2]), JSON.parse(process.argv[3])];
const [t0, t1, t2] = process.argv.slice(4).map(Number);
const idleHours = (t1 - t0) / 3600, runHours = (t2 - t1) / 3600;
const env = (k, d) => Number(process.env[k] ?? d);
// USD per 10,000 transactions (see the README for the source and date of these defaults).
const price = {
  'blob write': env('PRICE_BLOB_WRITE', 0.055), 'blob write (lease)': env('PRICE_BLOB_WRITE', 0.055),
  'blob read': env('PRICE_BLOB_READ', 0.0044), 'blob list/create container': env('PRICE_BLOB_LIST', 0.055),
  'blob other': env('PRICE_BLOB_OTHER', 0.0044), 'blob delete (free)': 0,
  'queue class 1 (get messages)': env('PRICE_QUEUE_CLASS1', 0.004), 'queue class 1 (write)': env('PRICE_QUEUE_CLASS1', 0.004),
  'queue class 2 (peek)': env('PRICE_QUEUE_CLASS2', 0.004), 'queue class 2 (read)': env('PRICE_QUEUE_CLASS2', 0.004),
  'table transaction': env('PRICE_TABLE', 0.00036),
};
const usd = ops => Object.entries(ops).reduce((sum, [op, n]) => sum + n * (price[op] ?? 0) / 10000, 0);
const perHour = Object.fromEntries(Object.entries(idle.byOperation).map(([op, n]) => [op, n / idleHours]));
// A run's own transactions: what the run window counted, less the idle rate over the same time.
const runOwn = Object.fromEntries(Object.keys({ ...run.byOperation, ...perHour }).map(op => [op, Math.max(0, (run.byOperation[op] ?? 0) - (perHour[op] ?? 0) * runHours)]));
const fmt = n => Math.round(n).toLocaleString('en-US');
console.log(`\nidle: ${fmt(idle.total)} transactions in ${(idleHours * 60).toFixed(1)} min = ${fmt(idle.total / idleHours)} per hour`);
for (const [op, n] of Object.entries(perHour).sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(32)} ${fmt(n).padStart(8)} /h`);
const runTotal = Object.values(runOwn).reduce((a, b) => a + b, 0);
console.log(`one pipeline run: ${fmt(runTotal)} transactions of its own (${(runHours * 60).toFixed(1)} min; ${fmt(run.total)} counted in the window)`);
for (const [op, n] of Object.entries(runOwn).filter(([, n]) => n >= 1).sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(32)} ${fmt(n).padStart(8)}`);
const idleMonth = usd(perHour) * 730, perRun = usd(runOwn);
console.log(`\nat these prices: an always-running host idles at $${idleMonth.toFixed(2)} a month in storage transactions; a run costs $${perRun.toFixed(4)}`);
JS
