#!/bin/sh
# azd postdeploy hook (POSIX shells; infra/hooks/postdeploy.ps1 is the same for Windows): subscribes the DatasetBlobTrigger
# function to BlobCreated events of datasets/**/train.jsonl. It runs after the code is deployed because the endpoint carries
# the blobs extension's system key, which the Functions host creates on its first start. Idempotent: an existing
# subscription is updated in place, so `azd hooks run postdeploy` may be run again at any time.
#
# Needs the Azure CLI (az), logged in (`az login`) with an account that can read the app's keys and write Event Grid
# subscriptions in azd's subscription. azd passes AZURE_SUBSCRIPTION_ID and the deployment's outputs as environment variables.
set -eu

fail() { echo "postdeploy: $*" >&2; exit 1; }

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is not installed. Install it, run 'az login', then 'azd hooks run postdeploy'."
subscription="${AZURE_SUBSCRIPTION_ID:-}"; app="${AZURE_FUNCTION_APP_NAME:-}"; url="${AZURE_FUNCTION_APP_URL:-}"
rg="${AZURE_RESOURCE_GROUP:-}"; topic="${AZURE_EVENTGRID_SYSTEM_TOPIC:-}"
for name in AZURE_SUBSCRIPTION_ID AZURE_FUNCTION_APP_NAME AZURE_FUNCTION_APP_URL AZURE_RESOURCE_GROUP AZURE_EVENTGRID_SYSTEM_TOPIC; do
  eval "value=\${$name:-}"
  [ -n "$value" ] || fail "$name is not set: run this through azd ('azd hooks run postdeploy'), after 'azd provision'."
done
event_subscription="datasets-train-jsonl"
errors="$(mktemp)"; trap 'rm -f "$errors"' EXIT

# Run az; on failure show az's own error (never hide it) and stop.
az_or_fail() {
  if ! az "$@" 2>"$errors"; then
    fail "'az $1 $2 ...' failed: $(cat "$errors")"
  fi
}

if ! az account show --subscription "$subscription" -o none 2>"$errors"; then
  fail "the Azure CLI cannot use subscription $subscription ($(cat "$errors")). Run 'az login' with the account azd uses (azd auth login does not log az in), then 'azd hooks run postdeploy'."
fi

key=""
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
  key="$(az_or_fail functionapp keys list --subscription "$subscription" -g "$rg" -n "$app" --query "systemKeys.blobs_extension" -o tsv)"
  [ -n "$key" ] && break
  # No key yet: the host writes it when it first starts. Wake it (the health route is anonymous) and ask again.
  echo "postdeploy: waiting for $app to create its blobs_extension key (attempt $attempt of 12)"
  if command -v curl >/dev/null 2>&1; then curl -sS -o /dev/null --max-time 30 "$url/api/health" || true; fi
  sleep 10
done
[ -n "$key" ] || fail "$app has not created its blobs_extension system key after 2 minutes, so the app's host has not started. See its log stream ('az webapp log tail -g $rg -n $app --subscription $subscription') or Application Insights, fix the cause, then run 'azd hooks run postdeploy'."

endpoint="$url/runtime/webhooks/blobs?functionName=Host.Functions.DatasetBlobTrigger&code=$key"
az_or_fail eventgrid system-topic event-subscription create --subscription "$subscription" \
  --resource-group "$rg" --system-topic-name "$topic" --name "$event_subscription" \
  --endpoint-type webhook --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with /blobServices/default/containers/datasets/blobs/ \
  --subject-ends-with /train.jsonl \
  --max-delivery-attempts 30 --event-ttl 1440 -o none
echo "postdeploy: $topic/$event_subscription sends BlobCreated on datasets/**/train.jsonl to $app's DatasetBlobTrigger"
