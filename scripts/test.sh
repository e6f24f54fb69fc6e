#!/usr/bin/env bash
# Runs every test: installs the npm dev tools (Azurite, tiktoken), starts a private Azurite on its own ports,
# builds the solution, runs all test projects and prints a closing line "N passed, N failed".
# Exit code: 0 when every test passed, 1 otherwise.
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Durable]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$root/.artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

if [ ! -f node_modules/azurite/dist/src/azurite.js ] || [ ! -d node_modules/tiktoken ]; then
  npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
fi

# >>> dashboard browser tests: Debian's Chromium and npm's playwright-core (issue 11) >>>
# tests/FineTuneOrchestrator.Dashboard.BrowserTests drive /usr/bin/chromium with playwright-core. Install what is missing
# (CI runs as root); if that fails the browser tests fail and say why: they never skip.
[ -f node_modules/playwright-core/package.json ] || npm ci --no-audit --no-fund --loglevel=error || echo "npm ci failed: the browser tests will fail"
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the dashboard's browser tests (log: $results/apt-chromium.log)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$results/apt-chromium.log" 2>&1 \
    || echo "chromium could not be installed (see $results/apt-chromium.log): the browser tests will fail"
fi
# <<< dashboard browser tests <<<

# A private Azurite for the tests, so a developer's own Azurite on the default ports is left alone.
export AZURITE_DATA_DIR="$root/.artifacts/azurite"
export AZURITE_BLOB_PORT=${TEST_AZURITE_BLOB_PORT:-20000} AZURITE_QUEUE_PORT=${TEST_AZURITE_QUEUE_PORT:-20001} AZURITE_TABLE_PORT=${TEST_AZURITE_TABLE_PORT:-20002}
rm -rf "$AZURITE_DATA_DIR"
scripts/azurite.sh start || { echo "0 passed, 1 failed"; exit 1; }
trap 'scripts/azurite.sh stop >/dev/null 2>&1 || true' EXIT
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export FTO_TEST_STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$AZURITE_QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1;"
export FTO_REPO_ROOT="$root"

if ! dotnet build FineTuneOrchestrator.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

# >>> native fto: publish the Native AOT executable; the CLI tests then run against it as well as the JIT build
# (tests/FineTuneOrchestrator.Cli.Tests/CliRunner.cs reads FTO_NATIVE_CLI and fails if the file is missing).
if ! scripts/publish-fto.sh >"$results/publish-fto.log" 2>&1; then
  tail -n 30 "$results/publish-fto.log"; echo "native fto publish failed"; echo "0 passed, 1 failed"; exit 1
fi
export FTO_NATIVE_CLI="$root/.artifacts/fto/fto"
# <<< native fto

# >>> the published Functions app: the worker start-up and host-protocol tests run the package `dotnet publish` makes
# (support/FineTuneOrchestrator.Functions.HostProtocol reads FTO_FUNCTIONS_APP, and publishes itself when it is not set).
rm -rf "$root/.artifacts/functions-app"
if ! dotnet publish src/FineTuneOrchestrator.Functions -c Release -o "$root/.artifacts/functions-app" -nologo -clp:ErrorsOnly >"$results/publish-functions.log" 2>&1; then
  tail -n 30 "$results/publish-functions.log"; echo "Functions app publish failed"; echo "0 passed, 1 failed"; exit 1
fi
export FTO_FUNCTIONS_APP="$root/.artifacts/functions-app"
# <<< the published Functions app

status=0
# Test projects are named *Tests; other projects under tests/ are helper programs they start (e.g. a worker process).
for proj in tests/*/*Tests.csproj; do
  name="$(basename "$proj" .csproj)"
  echo "=== $name"
  dotnet test "$proj" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" --blame-hang-timeout 5m "$@" || status=1
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "a test run failed without reporting a failed test (crash or hang)"; fi
[ "$passed" -eq 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
