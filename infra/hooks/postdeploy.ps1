# azd postdeploy hook (Windows, PowerShell 7; infra/hooks/postdeploy.sh is the same for POSIX shells): subscribes the
# DatasetBlobTrigger function to BlobCreated events of datasets/**/train.jsonl. It runs after the code is deployed because the
# endpoint carries the blobs extension's system key, which the Functions host creates on its first start. Idempotent: an
# existing subscription is updated in place, so `azd hooks run postdeploy` may be run again at any time.
#
# Needs the Azure CLI (az), logged in (`az login`) with an account that can read the app's keys and write Event Grid
# subscriptions in azd's subscription. azd passes AZURE_SUBSCRIPTION_ID and the deployment's outputs as environment variables.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Fail([string] $message) {
    [Console]::Error.WriteLine("postdeploy: $message")
    exit 1
}

# Runs az; on failure shows az's own error (never hides it) and stops.
function Invoke-Az {
    $output = & az @args 2>&1
    if ($LASTEXITCODE -ne 0) {
        Fail "'az $($args[0]) $($args[1]) ...' failed: $(($output | Out-String).Trim())"
    }
    return ($output | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } | Out-String).Trim()
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Fail "the Azure CLI (az) is not installed. Install it, run 'az login', then 'azd hooks run postdeploy'."
}

foreach ($name in 'AZURE_SUBSCRIPTION_ID', 'AZURE_FUNCTION_APP_NAME', 'AZURE_FUNCTION_APP_URL', 'AZURE_RESOURCE_GROUP', 'AZURE_EVENTGRID_SYSTEM_TOPIC') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        Fail "$name is not set: run this through azd ('azd hooks run postdeploy'), after 'azd provision'."
    }
}
$subscription = $env:AZURE_SUBSCRIPTION_ID
$app = $env:AZURE_FUNCTION_APP_NAME
$url = $env:AZURE_FUNCTION_APP_URL
$rg = $env:AZURE_RESOURCE_GROUP
$topic = $env:AZURE_EVENTGRID_SYSTEM_TOPIC
$eventSubscription = 'datasets-train-jsonl'

$account = & az account show --subscription $subscription -o none 2>&1
if ($LASTEXITCODE -ne 0) {
    Fail "the Azure CLI cannot use subscription $subscription ($(($account | Out-String).Trim())). Run 'az login' with the account azd uses (azd auth login does not log az in), then 'azd hooks run postdeploy'."
}

$key = ''
foreach ($attempt in 1..12) {
    $key = Invoke-Az functionapp keys list --subscription $subscription -g $rg -n $app --query 'systemKeys.blobs_extension' -o tsv
    if ($key) { break }
    # No key yet: the host writes it when it first starts. Wake it (the health route is anonymous) and ask again.
    Write-Host "postdeploy: waiting for $app to create its blobs_extension key (attempt $attempt of 12)"
    try { Invoke-WebRequest -Uri "$url/api/health" -TimeoutSec 30 -UseBasicParsing | Out-Null } catch { }
    Start-Sleep -Seconds 10
}
if (-not $key) {
    Fail "$app has not created its blobs_extension system key after 2 minutes, so the app's host has not started. See its log stream ('az webapp log tail -g $rg -n $app --subscription $subscription') or Application Insights, fix the cause, then run 'azd hooks run postdeploy'."
}

$endpoint = "$url/runtime/webhooks/blobs?functionName=Host.Functions.DatasetBlobTrigger&code=$key"
Invoke-Az eventgrid system-topic event-subscription create --subscription $subscription `
    --resource-group $rg --system-topic-name $topic --name $eventSubscription `
    --endpoint-type webhook --endpoint "`"$endpoint`"" `
    --included-event-types Microsoft.Storage.BlobCreated `
    --subject-begins-with /blobServices/default/containers/datasets/blobs/ `
    --subject-ends-with /train.jsonl `
    --max-delivery-attempts 30 --event-ttl 1440 -o none | Out-Null
Write-Host "postdeploy: $topic/$eventSubscription sends BlobCreated on datasets/**/train.jsonl to $app's DatasetBlobTrigger"
