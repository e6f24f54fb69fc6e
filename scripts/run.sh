#!/usr/bin/env bash
# The main job, on a fresh machine: installs the npm tools, starts Azurite, the fine-tuning simulator (fast clock) and the
# host (scripts/serve.sh: Microsoft's Durable Task engine in-process on Azurite, the HTTP API, the blob-drop watcher),
# generates a support-ticket dataset and drops it into blob storage (datasets/support-tickets/) with the official Azure
# Storage client for JavaScript, follows the run the drop starts until it ends (stage, job status, step, loss), prints the
# evaluation and the promoted model (GET /api/models/support-classifier), then classifies a few unseen tickets through
# the sample app that follows the alias (samples/SupportClassifier). Stops everything it started.
# The provider is Azure OpenAI (the simulator's Azure face and ARM stand-in): the candidate is evaluated on a Developer-tier
# deployment that is gone after the run, and the alias's deployment is read back through ARM. PROVIDER=openai runs the
# OpenAI flavour instead.
# Usage: scripts/run.sh   Env: RUN_SEED (7), RUN_TRAIN (300), RUN_EVAL (60), SIM_TIME_SCALE (100), APP_PORT (7071),
#                              RUN_AZURITE_PORT (10100; uses it and the next two), SIMULATOR_PORT (5199), PROVIDER (azure)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work="$root/.artifacts/run"
rm -rf "$work"; mkdir -p "$work"
[ -f node_modules/azurite/dist/src/azurite.js ] && [ -d node_modules/@azure/storage-blob ] || npm ci --no-audit --no-fund --loglevel=error

. scripts/lib/serve-background.sh
trap stop_serve EXIT

export AZURITE_PORT="${RUN_AZURITE_PORT:-10100}" SIMULATOR_PORT="${SIMULATOR_PORT:-5199}" APP_PORT="${APP_PORT:-7071}"
export SIM_TIME_SCALE="${SIM_TIME_SCALE:-100}" SIM_ARGS="--Simulator:Seed=${RUN_SEED:-7}" SERVE_DIR="$work/serve" PROVIDER="${PROVIDER:-azure}"
echo "starting Azurite, the simulator and the host (scripts/serve.sh; logs in $SERVE_DIR)"
start_serve "$work"
base="$(ready_field url)" fkey="$(ready_field functionKey)" storage="$(ready_field storage)" simulator="$(ready_field simulator)"
provider_kind="$(ready_field provider)"
echo "host listening on $base (Durable management API under $base/runtime/webhooks/durabletask); provider $provider_kind"

# The dataset: generated, deterministic for a seed. finetune.json and eval.jsonl go first: train.jsonl triggers the run.
node scripts/dataset/gen-support-tickets.mjs "$work/support-tickets" --seed "${RUN_SEED:-7}" --train "${RUN_TRAIN:-300}" --eval "${RUN_EVAL:-60}"
uploads="$(node scripts/dataset/upload-blobs.mjs "$storage" datasets \
  "support-tickets/finetune.json=$work/support-tickets/finetune.json" \
  "support-tickets/eval.jsonl=$work/support-tickets/eval.jsonl" \
  "support-tickets/train.jsonl=$work/support-tickets/train.jsonl")"
etag="$(node -e "const l=process.argv[1].trim().split('\n').map(JSON.parse); process.stdout.write(l.find(x=>x.blob.endsWith('train.jsonl')).etag)" "$uploads")"
echo "dropped datasets/support-tickets/train.jsonl (version $etag) with @azure/storage-blob"

# The run id is derived from the blob version (ds-{dataset}-{first 16 hex of sha256("container/blob@etag")}).
run_id="$(node -e "const c=require('crypto'); process.stdout.write('ds-support-tickets-'+c.createHash('sha256').update('datasets/support-tickets/train.jsonl@'+process.argv[1]).digest('hex').slice(0,16))" "$etag")"
api() { curl -s -H "x-functions-key: $fkey" "$@"; }
for _ in $(seq 1 300); do
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
  case "$status" in Running|Pending|Suspended) sleep 0.5 ;; *) break ;; esac
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
    const c=e.comparison;
    if (c) {
      const pts = v => (v>0?'+':'') + (100*v).toFixed(1) + ' points';
      const p = c.pValue < 0.0001 ? c.pValue.toExponential(1) : c.pValue.toFixed(4);
      console.log('  ' + c.metric + ' compared on the same ' + c.n + ' cases: candidate ' + pct(c.candidate) + ', baseline ' + pct(c.baseline) + ', difference ' + pts(c.difference)
        + ', 95% interval [' + pts(c.ci95[0]) + ', ' + pts(c.ci95[1]) + '], p = ' + p + ' (' + c.test + (c.candidateOnly!=null ? ': ' + c.candidateOnly + ' cases only the candidate got right, ' + c.baselineOnly + ' only the baseline' : '') + ')');
      if (e.significanceLevel!=null) console.log('  ' + (c.pValue <= e.significanceLevel ? 'significant' : 'NOT significant') + ' at ' + e.significanceLevel);
    }
    if (e.choice) console.log('  chosen: ' + e.choice);
    (e.regressions||[]).forEach(r => console.log('  regression in ' + r.slice + ': ' + r.metric + ' ' + pct(r.candidate) + ' vs ' + pct(r.baseline) + ' on ' + r.n + ' cases (p ' + r.pValue + ')'));
  }
  if (s.promotion) console.log('promoted: ' + s.promotion.alias + ' -> ' + s.promotion.model + ' (revision ' + s.promotion.revision + ')');
"
echo
echo "GET /api/models/support-classifier:"
api "$base/api/models/support-classifier"; echo
outcome="$(node -e "process.stdout.write(require('$work/run.json').outcome||'')")"
[ "$outcome" = Promoted ] || exit 1

if [ "$provider_kind" = AzureOpenAI ]; then
  # What apps call: the deployment named after the alias, read through (the stand-in of) Azure Resource Manager.
  arm="$(node -e "const a=JSON.parse(process.argv[1]).azure; process.stdout.write(a.management+'/subscriptions/'+a.subscriptionId+'/resourceGroups/'+a.resourceGroup+'/providers/Microsoft.CognitiveServices/accounts/'+a.account+'/deployments')" "$ready")"
  token="$(node -e "process.stdout.write(JSON.parse(process.argv[1]).azure.token)" "$ready")"
  curl -s -H "Authorization: Bearer $token" "$arm?api-version=2025-09-01" -o "$work/deployments.json"
  node -e "
    const list=require('$work/deployments.json').value||[]; const s=require('$work/run.json');
    const alias=list.find(d=>d.name==='support-classifier');
    console.log('\nARM deployment support-classifier: ' + (alias ? alias.properties.model.name + ', ' + alias.sku.name + ' x' + alias.sku.capacity + ', ' + alias.properties.provisioningState : 'MISSING'));
    const evals=list.filter(d=>d.name.startsWith('fto-eval-'));
    console.log('evaluation deployments left: ' + (evals.length ? evals.map(d=>d.name).join(', ') : 'none (the Developer-tier deployment was removed after the evaluation)'));
    if (!alias || alias.properties.model.name !== (s.promotion||{}).model || evals.length) process.exit(1);"
  classify_endpoint="$simulator"
else
  classify_endpoint="$simulator/v1"
fi

echo
echo "classifying unseen tickets through the sample app, which follows the alias (samples/SupportClassifier):"
PROVIDER_KIND="$([ "$provider_kind" = AzureOpenAI ] && echo AzureOpenAI || echo OpenAICompatible)" \
  scripts/classify-sample.sh "$storage" "$classify_endpoint" sk-local-simulator models support-classifier
