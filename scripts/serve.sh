#!/usr/bin/env bash
# Serves the whole thing locally, in the foreground: a private Azurite (its data under .artifacts/serve/, or SERVE_DIR, kept
# across restarts: runs, the registry and dropped datasets survive; --reset starts empty), the fine-tuning simulator and the host (Microsoft's Durable Task engine in-process, the HTTP
# API, the Durable management API, the blob-drop watcher on the "datasets" container). When the host answers it prints
# one line:
#   READY {"url":"http://127.0.0.1:7071","functionKey":"…","masterKey":"…","systemKey":"…","storage":"<connection string>","simulator":"http://127.0.0.1:5199",
#          "provider":"AzureOpenAI","azure":{"management":"http://127.0.0.1:5199","subscriptionId":"…","resourceGroup":"…","account":"…","token":"…"}}
# and then waits; SIGINT/SIGTERM (Ctrl+C) stops exactly the processes it started.
# The provider is Azure OpenAI by default (the simulator's Azure face: /openai/v1 and its stand-in of the ARM deployments
# API, which the host reaches with a fixed local token); PROVIDER=openai serves the OpenAI face (/v1) instead, and the
# READY line then has "provider":"OpenAICompatible" and no "azure".
# Usage: scripts/serve.sh [--reset] [extra host settings, e.g. --FineTune:BlobTrigger:Enabled=false]
# Secrets (the keys, the provider key) reach the host through its environment, never its command line (ps shows that).
# Env:   AZURITE_PORT (10100; blob, queue and table on it and the next two), SIMULATOR_PORT (5199), APP_PORT (7071),
#        SIM_TIME_SCALE (100: simulated training runs 100x faster), SIM_ARGS (extra simulator arguments),
#        FTO_FUNCTION_KEY / FTO_MASTER_KEY / FTO_SYSTEM_KEY (random per run when unset), SERVE_DIR, SERVE_NO_BUILD=1,
#        PROVIDER (azure, the default, or openai).
set -euo pipefail
reset=""
if [ "${1:-}" = "--reset" ]; then reset=1; shift; fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work="${SERVE_DIR:-$root/.artifacts/serve}"
mkdir -p "$work"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random_key() { node -e "process.stdout.write(require('crypto').randomBytes(24).toString('base64url'))"; }

az_port="${AZURITE_PORT:-10100}"
export AZURITE_BLOB_PORT=$az_port AZURITE_QUEUE_PORT=$((az_port + 1)) AZURITE_TABLE_PORT=$((az_port + 2)) AZURITE_DATA_DIR="$work/azurite"
export SIMULATOR_PORT="${SIMULATOR_PORT:-5199}" SIMULATOR_DIR="$work/simulator"
app_port="${APP_PORT:-7071}"
provider="${PROVIDER:-azure}"
case "$provider" in azure|openai) ;; *) echo "PROVIDER is '$provider'; use azure (the default) or openai" >&2; exit 2 ;; esac
for p in "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT" "$SIMULATOR_PORT" "$app_port"; do
  if port_open "$p"; then echo "port $p is in use; set AZURITE_PORT / SIMULATOR_PORT / APP_PORT to free ports" >&2; exit 1; fi
done
[ -f node_modules/azurite/dist/src/azurite.js ] || npm ci --no-audit --no-fund --loglevel=error

app_pid=""
stopping=""
cleanup() {
  [ -n "$stopping" ] && return; stopping=1
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill -TERM "$app_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$app_pid" 2>/dev/null || true
  fi
  scripts/simulator.sh stop >/dev/null 2>&1 || true
  scripts/azurite.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -n "$reset" ] && rm -rf "$AZURITE_DATA_DIR"
scripts/azurite.sh start >"$work/azurite.out"
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$AZURITE_QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1;"
# shellcheck disable=SC2086
scripts/simulator.sh start "--Simulator:TimeScale=${SIM_TIME_SCALE:-100}" ${SIM_ARGS:-} >"$work/simulator.out"

if [ "${SERVE_NO_BUILD:-}" != 1 ]; then
  dotnet build -c Release src/FineTuneOrchestrator.Host -nologo -clp:ErrorsOnly -v quiet >"$work/build.log" 2>&1 || { echo "build failed; see $work/build.log" >&2; exit 1; }
fi
fkey="${FTO_FUNCTION_KEY:-$(random_key)}" mkey="${FTO_MASTER_KEY:-$(random_key)}" skey="${FTO_SYSTEM_KEY:-$(random_key)}"
base="http://127.0.0.1:$app_port"
sim="http://127.0.0.1:$SIMULATOR_PORT"
# The simulated Azure OpenAI account: made-up ids, and a token its ARM stand-in takes (the host refuses a fixed token for
# any ARM that is not on loopback).
subscription=00000000-0000-0000-0000-00000000f70a resource_group=rg-fto-local account=aoai-fto-local arm_token="local-arm-$(random_key)"
if [ "$provider" = azure ]; then
  provider_args=(--FineTuning:Provider:Kind=AzureOpenAI --FineTuning:Provider:Endpoint="$sim"
    --FineTuning:Provider:Azure:ManagementEndpoint="$sim" --FineTuning:Provider:Azure:SubscriptionId="$subscription"
    --FineTuning:Provider:Azure:ResourceGroup="$resource_group" --FineTuning:Provider:Azure:AccountName="$account")
else
  provider_args=(--FineTuning:Provider:Kind=OpenAICompatible --FineTuning:Provider:Endpoint="$sim/v1")
fi
# Settings on the command line win over local.settings.json, which is not read at all (an explicit empty path).
AzureWebJobsStorage="$storage" FunctionKeys__Default="$fkey" FunctionKeys__Master="$mkey" FunctionKeys__DurableTask="$skey" \
FineTuning__Provider__ApiKey=sk-local-simulator FineTuning__Provider__Azure__ManagementToken="$arm_token" \
dotnet src/FineTuneOrchestrator.Host/bin/Release/net10.0/FineTuneOrchestrator.Host.dll \
  --contentRoot "$root/src/FineTuneOrchestrator.Host/bin/Release/net10.0" --urls "$base" \
  --FineTune:LocalSettingsPath="$work/no-local-settings.json" \
  "${provider_args[@]}" \
  --FineTuning:Provider:PollInterval=00:00:00.200 \
  --FineTune:BlobTrigger:Enabled=true --FineTune:BlobTrigger:Container=datasets --FineTune:BlobTrigger:PollingInterval=00:00:01 \
  --extensions:durableTask:storageProvider:maxQueuePollingInterval=00:00:00.500 \
  "$@" >"$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 300); do
  curl -fs "$base/api/health" >/dev/null 2>&1 && break
  kill -0 "$app_pid" 2>/dev/null || { echo "the host exited; its log:" >&2; cat "$work/app.log" >&2; exit 1; }
  sleep 0.2
done
curl -fs "$base/api/health" >/dev/null || { echo "the host did not answer on $base; log: $work/app.log" >&2; exit 1; }
node -e "
  const [url, functionKey, masterKey, systemKey, storage, simulator, provider, subscriptionId, resourceGroup, account, token] = process.argv.slice(1);
  const ready = {url, functionKey, masterKey, systemKey, storage, simulator, provider: provider === 'azure' ? 'AzureOpenAI' : 'OpenAICompatible'};
  if (provider === 'azure') ready.azure = {management: simulator, subscriptionId, resourceGroup, account, token};
  process.stdout.write('READY ' + JSON.stringify(ready) + '\n');" \
  "$base" "$fkey" "$mkey" "$skey" "$storage" "$sim" "$provider" "$subscription" "$resource_group" "$account" "$arm_token"
echo "logs: $work/app.log, $work/simulator/simulator.log, $work/azurite/azurite.log; Ctrl+C stops everything" >&2
wait "$app_pid"
