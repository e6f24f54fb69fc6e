#!/usr/bin/env bash
# The main job, on a fresh machine: installs the npm tools, starts Azurite, builds and starts the app on the Azure Storage
# backend with the settings of local.settings.json (copied from local.settings.sample.json when missing), starts an
# orchestration through the Durable Functions HTTP API, follows it to the end and prints its result. Stops what it started.
# Usage: scripts/run.sh [orchestrator name] [JSON input]      (default: HelloSequence '["Tokyo","Seattle","London"]')
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
name="${1:-HelloSequence}"
input="${2:-[\"Tokyo\",\"Seattle\",\"London\"]}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

[ -f node_modules/azurite/dist/src/azurite.js ] || npm ci --no-audit --no-fund --loglevel=error
[ -f local.settings.json ] || { cp local.settings.sample.json local.settings.json; echo "created local.settings.json from local.settings.sample.json"; }
setting() { node -e "const s=require('./local.settings.json').Values||{}; process.stdout.write(String(s[process.argv[1]]??''))" "$1"; }

started_azurite=0
if ! (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then scripts/azurite.sh start; started_azurite=1; fi
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null || true
  [ "$started_azurite" = 1 ] && scripts/azurite.sh stop >/dev/null || true
}
trap cleanup EXIT

dotnet build -c Release src/FineTuneOrchestrator.App -nologo -clp:ErrorsOnly
port="${APP_PORT:-7071}"
base="http://127.0.0.1:$port"
dotnet src/FineTuneOrchestrator.App/bin/Release/net10.0/FineTuneOrchestrator.App.dll \
  --contentRoot "$root" --FineTune:LocalSettingsPath="$root/local.settings.json" --urls "$base" >.artifacts-app.log 2>&1 &
app_pid=$!
for _ in $(seq 1 150); do
  curl -fs "$base/api/health" >/dev/null 2>&1 && break
  kill -0 "$app_pid" 2>/dev/null || { echo "the app exited; its log:"; cat .artifacts-app.log; exit 1; }
  sleep 0.2
done
echo "app listening on $base (log: .artifacts-app.log)"

key="$(setting FunctionKeys__DurableTask)"; [ -n "$key" ] || key="$(setting FunctionKeys__Master)"
start="$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$input" "$base/runtime/webhooks/durabletask/orchestrators/$name?code=$key")"
status_url="$(node -e "process.stdout.write(JSON.parse(process.argv[1]).statusQueryGetUri)" "$start")"
echo "started $name: $(node -e "process.stdout.write(JSON.parse(process.argv[1]).id)" "$start")"
while true; do
  code="$(curl -s -o .artifacts-status.json -w '%{http_code}' "$status_url")"
  node -e "const s=require('./.artifacts-status.json'); console.log(new Date().toISOString().slice(11,19), s.runtimeStatus, s.customStatus ? JSON.stringify(s.customStatus) : '')"
  [ "$code" = 200 ] && break
  [ "$code" = 202 ] || { echo "unexpected status code $code"; cat .artifacts-status.json; exit 1; }
  sleep 1
done
node -e "const s=require('./.artifacts-status.json'); console.log('result:', JSON.stringify(s.output, null, 2)); process.exit(s.runtimeStatus==='Completed'?0:1)"
