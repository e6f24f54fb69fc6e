#!/usr/bin/env bash
# Classifies a few unseen support tickets through the sample app (samples/SupportClassifier), which follows the promoted
# model alias: builds it, starts it on 127.0.0.1 (a free port), POSTs each ticket to /classify, prints the answer and
# which model gave it, and stops exactly the process it started. Meant to end the main job (scripts/run.sh).
#
# Usage: scripts/classify-sample.sh STORAGE_CONNECTION_STRING PROVIDER_ENDPOINT PROVIDER_API_KEY [REGISTRY_CONTAINER] [ALIAS]
#   STORAGE_CONNECTION_STRING  the storage account holding the model registry (e.g. the main job's Azurite)
#   PROVIDER_ENDPOINT          the provider's API base, e.g. http://127.0.0.1:5199/v1 for the simulator
#                              (for Azure OpenAI the resource endpoint, with PROVIDER_KIND=AzureOpenAI)
#   PROVIDER_API_KEY           the provider's API key (passed to the app in its environment, never on its command line)
#   REGISTRY_CONTAINER         the registry's blob container (default: models)
#   ALIAS                      the alias to classify with (default: support-classifier)
# Env: PROVIDER_KIND (OpenAICompatible; or OpenAI, AzureOpenAI), CLASSIFY_PORT (default: a free port),
#      CLASSIFY_FALLBACK_MODEL (what answers when the alias's model cannot; default: the alias's base model).
# Exit code: 0 when every ticket got an answer, 1 otherwise (2 for bad arguments).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ $# -lt 3 ] || [ -z "$1" ] || [ -z "$2" ] || [ -z "$3" ]; then
  sed -n '6,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
storage="$1" endpoint="$2" key="$3" container="${4:-models}" alias="${5:-support-classifier}"
work="$root/.artifacts/classify-sample"
mkdir -p "$work"

dotnet build -c Release samples/SupportClassifier -nologo -clp:ErrorsOnly >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
bin="$root/samples/SupportClassifier/bin/Release/net10.0"
port="${CLASSIFY_PORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})")}"
base="http://127.0.0.1:$port"

app_pid=""
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Settings go through the environment (`__` separates sections), so the key and the connection string do not show in
# the process list.
settings=(
  "FineTune__Registry__ConnectionString=$storage" "FineTune__Registry__ContainerName=$container"
  "FineTuning__Provider__Kind=${PROVIDER_KIND:-OpenAICompatible}" "FineTuning__Provider__Endpoint=$endpoint"
  "FineTuning__Provider__ApiKey=$key" "SupportClassifier__Alias=$alias"
)
[ -z "${CLASSIFY_FALLBACK_MODEL:-}" ] || settings+=("FineTune__ChatClients__${alias}__FallbackModel=$CLASSIFY_FALLBACK_MODEL")
env "${settings[@]}" dotnet "$bin/SupportClassifier.dll" --contentRoot "$bin" --urls "$base" >"$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 150); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  kill -0 "$app_pid" 2>/dev/null || { echo "the classifier exited; its log:" >&2; cat "$work/app.log" >&2; exit 1; }
  sleep 0.2
done
curl -fs "$base/health" >/dev/null || { echo "the classifier did not answer on $base; log: $work/app.log" >&2; exit 1; }
echo "classifier listening on $base, following alias '$alias' in container '$container' (log: $work/app.log)"

# Tickets written for this check, not produced by the dataset generator.
tickets=(
  "Hello, the Aurora Smart Plug subscription was billed to my card twice this month; please refund one of the charges."
  "URGENT: my Pulse Fitness Band stopped syncing and shows error E731 since the last firmware update."
  "I got a new phone and now the two-factor codes for my account are rejected when I sign in."
  "The courier says my Echo Desk Lamp was delivered yesterday but there is no package at my door."
  "Just wanted to say the new companion app is fantastic, the team did a great job."
)
failed=0
for ticket in "${tickets[@]}"; do
  body="$(node -e 'process.stdout.write(JSON.stringify({text: process.argv[1]}))' "$ticket")"
  status="$(curl -s -o "$work/answer.json" -w '%{http_code}' -H 'Content-Type: application/json' --data "$body" "$base/classify")"
  node -e '
    const [ticket, status, file] = process.argv.slice(1);
    const a = JSON.parse(require("fs").readFileSync(file, "utf8") || "{}");
    console.log("\nticket: " + ticket);
    if (status !== "200") { console.log("  -> HTTP " + status + ": " + (a.detail || a.title || "")); process.exit(0); }
    const by = a.answeredBy || {};
    const fields = Object.entries(a).filter(([k]) => k !== "answeredBy").map(([k, v]) => k + " " + v).join(", ");
    console.log("  -> " + fields);
    console.log("     answered by " + by.model + (by.fallback ? " (fallback: " + by.fallbackReason + "; alias model " + (by.aliasModel || "none") + ")" : " (alias revision " + by.revision + ")"));
  ' "$ticket" "$status" "$work/answer.json"
  [ "$status" = 200 ] || failed=1
done
exit "$failed"
