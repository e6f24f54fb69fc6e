#!/bin/sh
# azd postdeploy hook: subscribes the DatasetBlobTrigger function to BlobCreated events of datasets/**/train.jsonl.
# It runs after the code is deployed because the endpoint carries the blobs extension's system key, which the Functions
# host creates on first start. Idempotent: an existing subscription is updated in place.
# Needs: az (logged in, as azd is), and the azd environment's outputs in the environment.
set -eu
app="${AZURE_FUNCTION_APP_NAME:?run through azd (AZURE_FUNCTION_APP_NAME is not set)}"
rg="${AZURE_RESOURCE_GROUP:?}"
topic="${AZURE_EVENTGRID_SYSTEM_TOPIC:?}"
subscription="datasets-train-jsonl"

key=""
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
  key="$(az functionapp keys list -g "$rg" -n "$app" --query "systemKeys.blobs_extension" -o tsv 2>/dev/null || true)"
  [ -n "$key" ] && break
  # The host writes the extension's key when it first starts; wake it and wait.
  curl -fsS -o /dev/null "https://$app.azurewebsites.net/api/health" 2>/dev/null || true
  sleep 10
done
[ -n "$key" ] || { echo "postdeploy: the blobs_extension system key of $app did not appear; run 'azd hooks run postdeploy' again" >&2; exit 1; }

endpoint="https://$app.azurewebsites.net/runtime/webhooks/blobs?functionName=Host.Functions.DatasetBlobTrigger&code=$key"
az eventgrid system-topic event-subscription create \
  --resource-group "$rg" --system-topic-name "$topic" --name "$subscription" \
  --endpoint-type webhook --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with /blobServices/default/containers/datasets/blobs/ \
  --subject-ends-with /train.jsonl \
  --max-delivery-attempts 30 --event-ttl 1440 -o none
echo "postdeploy: $topic/$subscription sends BlobCreated on datasets/**/train.jsonl to $app's DatasetBlobTrigger"
