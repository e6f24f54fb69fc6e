#!/usr/bin/env bash
# The main job, on a fresh machine: installs the npm tools, starts a private Azurite and the fine-tuning simulator (fast
# clock), builds and starts the app on the Azure Storage durable backend, generates a support-ticket dataset and drops it
# into blob storage (datasets/support-tickets/), follows the run the drop starts until it ends (stage, job status, step,
# loss), then prints the evaluation and the promoted model (GET /api/models/support-classifier). Stops what it started.
# Usage: scripts/run.sh            Env: RUN_SEED (7), RUN_TRAIN (300), RUN_EVAL (60), SIM_TIME_SCALE (100), APP_PORT (7071),
#                                       RUN_AZURITE_PORT (10100; uses it and the next two), SIMULATOR_PORT (5199)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work="$root/.artifacts/run"
mkdir -p "$work"

[ -f node_modules/azurite/dist/src/azurite.js ] || npm ci --no-audit --no-fund --loglevel=error
[ -f local.settings.json ] || { cp local.settings.sample.json local.settings.json; echo "created local.settings.json from local.settings.sample.json"; }
setting() { node -e "const s=require('./local.settings.json').Values||{}; process.stdout.write(String(s[process.argv[1]]??''))" "$1"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A private Azurite with fresh data, so every run starts from the same state (a developer's own Azurite is left alone).
az_port="${RUN_AZURITE_PORT:-10100}"
export AZURITE_BLOB_PORT=$az_port AZURITE_QUEUE_PORT=$((az_port + 1)) AZURITE_TABLE_PORT=$((az_port + 2)) AZURITE_DATA_DIR="$work/azurite"
export SIMULATOR_PORT="${SIMULATOR_PORT:-5199}" SIMULATOR_DIR="$work/simulator"
for p in "$AZURITE_BLOB_PORT" "$SIMULATOR_PORT" "${APP_PORT:-7071}"; do
  if port_open "$p"; then echo "port $p is in use; set RUN_AZURITE_PORT / SIMULATOR_PORT / APP_PORT to free ports" >&2; exit 1; fi
done

app_pid=""
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; fi
  scripts/simulator.sh stop >/dev/null 2>&1 || true
  scripts/azurite.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

rm -rf "$AZURITE_DATA_DIR"
scripts/azurite.sh start
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$AZURITE_QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1;"

# The simulator's clock runs SIM_TIME_SCALE times faster than real time, so training takes seconds.
scripts/simulator.sh start "--Simulator:TimeScale=${SIM_TIME_SCALE:-100}" "--Simulator:Seed=${RUN_SEED:-7}"

dotnet build -c Release src/FineTuneOrchestrator.App -nologo -clp:ErrorsOnly -v quiet
port="${APP_PORT:-7071}"
base="http://127.0.0.1:$port"
fkey="$(setting FunctionKeys__Default)"
[ -n "$fkey" ] || { echo "local.settings.json has no FunctionKeys__Default" >&2; exit 1; }
# Command-line settings win over local.settings.json: this job always runs on its own Azurite and simulator.
AzureWebJobsStorage="$storage" dotnet src/FineTuneOrchestrator.App/bin/Release/net10.0/FineTuneOrchestrator.App.dll \
  --contentRoot "$root" --FineTune:LocalSettingsPath="$root/local.settings.json" --urls "$base" \
  --FineTune:DurableBackend=AzureStorage --FineTune:BlobTrigger:Enabled=true \
  --FineTuning:Provider:Kind=OpenAICompatible --FineTuning:Provider:Endpoint="http://127.0.0.1:$SIMULATOR_PORT/v1" \
  --FineTuning:Provider:ApiKey=sk-local-simulator --FineTuning:Provider:PollInterval=00:00:00.200 \
  --extensions:durableTask:storageProvider:maxQueuePollingInterval=00:00:00.500 \
  >"$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 150); do
  curl -fs "$base/api/health" >/dev/null 2>&1 && break
  kill -0 "$app_pid" 2>/dev/null || { echo "the app exited; its log:"; cat "$work/app.log"; exit 1; }
  sleep 0.2
done
curl -fs "$base/api/health" >/dev/null || { echo "the app did not answer on $base; log: $work/app.log"; exit 1; }
echo "app listening on $base (log: $work/app.log)"

# The dataset: generated, deterministic for a seed. finetune.json and eval.jsonl go first: train.jsonl triggers the run.
node scripts/dataset/gen-support-tickets.mjs "$work/support-tickets" --seed "${RUN_SEED:-7}" --train "${RUN_TRAIN:-300}" --eval "${RUN_EVAL:-60}"
uploads="$(node scripts/dataset/upload-blobs.mjs "$storage" datasets \
  "support-tickets/finetune.json=$work/support-tickets/finetune.json" \
  "support-tickets/eval.jsonl=$work/support-tickets/eval.jsonl" \
  "support-tickets/train.jsonl=$work/support-tickets/train.jsonl")"
etag="$(node -e "const l=process.argv[1].trim().split('\n').map(JSON.parse); process.stdout.write(l.find(x=>x.blob.endsWith('train.jsonl')).etag)" "$uploads")"
echo "dropped datasets/support-tickets/train.jsonl (version $etag)"

# The run id is derived from the blob version (ds-{dataset}-{first 16 hex of sha256("container/blob@etag")}).
run_id="$(node -e "const c=require('crypto'); process.stdout.write('ds-support-tickets-'+c.createHash('sha256').update('datasets/support-tickets/train.jsonl@'+process.argv[1]).digest('hex').slice(0,16))" "$etag")"
api() { curl -s -H "x-functions-key: $fkey" "$@"; }
for _ in $(seq 1 100); do
  [ "$(api -o /dev/null -w '%{http_code}' "$base/api/pipelines/$run_id")" = 200 ] && break
  sleep 0.1
done
echo "run $run_id started by the blob trigger; following it (GET /api/pipelines/$run_id)"

last=""
while true; do
  api -o "$work/run.json" "$base/api/pipelines/$run_id"
  line="$(node -e "
    const s=require('$work/run.json'); const j=s.job||{};
    const parts=[s.runtimeStatus, s.stage||''];
    if (j.id) parts.push('job '+j.id+' '+(j.status||''));
    if (j.step!=null) parts.push('step '+j.step+(j.totalSteps?'/'+j.totalSteps:''));
    if (j.trainLoss!=null) parts.push('loss '+j.trainLoss.toFixed(4));
    if (j.validLoss!=null) parts.push('valid loss '+j.validLoss.toFixed(4));
    if (s.message && !j.step) parts.push('- '+s.message);
    process.stdout.write(parts.join('  '));")"
  [ "$line" != "$last" ] && echo "$(date +%H:%M:%S)  $line" && last="$line"
  status="$(node -e "process.stdout.write(require('$work/run.json').runtimeStatus)")"
  case "$status" in Running|Pending|Suspended|ContinuedAsNew) sleep 0.5 ;; *) break ;; esac
done

node -e "
  const s=require('$work/run.json');
  console.log('\nrun ' + s.runId + ': ' + s.runtimeStatus + ', outcome ' + (s.outcome||'?') + (s.failure ? ' (' + s.failure + ')' : ''));
  (s.reasons||[]).forEach(r => console.log('  reason: ' + r));
  if (s.validation) console.log('validation: ' + s.validation.exampleCount + ' examples, ' + s.validation.totalTokens + ' tokens, ' + s.validation.errorCount + ' errors, est. cost \$' + s.validation.estimatedCostUsd);
  if (s.job) console.log('job: ' + s.job.id + ' ' + s.job.status + ', model ' + s.job.fineTunedModel + ', trained tokens ' + s.job.trainedTokens);
  const e=s.evaluation;
  if (e) {
    console.log('evaluation on ' + e.caseCount + ' held-out tickets:');
    const pct = v => v==null ? '-' : (100*v).toFixed(1)+'%';
    for (const [name, m] of [['candidate', e.candidate], ['baseline', e.baseline]]) {
      if (!m) continue;
      console.log('  ' + name.padEnd(9) + ' ' + m.model.padEnd(60) + ' accuracy ' + pct(m.accuracy) + '  macro-F1 ' + pct(m.macroF1) + '  JSON valid ' + pct(m.jsonValidRate) + '  schema ' + pct(m.schemaAdherence) + '  p50 ' + Math.round(m.latencyP50Ms) + ' ms' + (m.costUsd!=null ? '  cost \$' + m.costUsd : ''));
    }
  }
  if (s.promotion) console.log('promoted: ' + s.promotion.alias + ' -> ' + s.promotion.model + ' (revision ' + s.promotion.revision + ')');
"
echo
echo "GET /api/models/support-classifier:"
api "$base/api/models/support-classifier"; echo
outcome="$(node -e "process.stdout.write(require('$work/run.json').outcome||'')")"
[ "$outcome" = Promoted ]
