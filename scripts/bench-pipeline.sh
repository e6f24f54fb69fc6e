#!/usr/bin/env bash
# Pipeline load benchmark: a private Azurite (ports 20030-20032) and the simulator (fast clock, port 5230), then 50
# concurrent runs through the app (its own process, Azure Storage backend) with status requests under load. Prints
# runs/minute, p50/p99 status latency and the app's peak memory. Stops what it started.
# Usage: scripts/bench-pipeline.sh [--runs 50] [--status-clients 8] [--examples 60]   Env: BENCH_TIME_SCALE (1000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ -f node_modules/azurite/dist/src/azurite.js ] || npm ci --no-audit --no-fund --loglevel=error
export AZURITE_DATA_DIR="$root/.artifacts/azurite-bench-pipeline" AZURITE_BLOB_PORT=20030 AZURITE_QUEUE_PORT=20031 AZURITE_TABLE_PORT=20032
export SIMULATOR_PORT="${BENCH_SIMULATOR_PORT:-5230}" SIMULATOR_DIR="$root/.artifacts/simulator-bench"
rm -rf "$AZURITE_DATA_DIR"
scripts/azurite.sh start
trap 'scripts/simulator.sh stop >/dev/null 2>&1 || true; scripts/azurite.sh stop >/dev/null 2>&1 || true' EXIT
scripts/simulator.sh start "--Simulator:TimeScale=${BENCH_TIME_SCALE:-1000}"
dotnet build -c Release src/FineTuneOrchestrator.Host -nologo -clp:ErrorsOnly -v quiet
dotnet build -c Release bench/FineTuneOrchestrator.Pipeline.Benchmarks -nologo -clp:ErrorsOnly -v quiet
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
dotnet bench/FineTuneOrchestrator.Pipeline.Benchmarks/bin/Release/net10.0/FineTuneOrchestrator.Pipeline.Benchmarks.dll \
  --storage "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:20030/devstoreaccount1;QueueEndpoint=http://127.0.0.1:20031/devstoreaccount1;TableEndpoint=http://127.0.0.1:20032/devstoreaccount1;" \
  --simulator "http://127.0.0.1:$SIMULATOR_PORT/v1" \
  --app "$root/src/FineTuneOrchestrator.Host/bin/Release/net10.0/FineTuneOrchestrator.Host.dll" "$@"
