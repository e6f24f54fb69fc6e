#!/usr/bin/env bash
# Durable Task host benchmark: starts a private Azurite (ports 20010-20012), runs the benchmark in Release, stops Azurite.
# Usage: scripts/bench-durable.sh [--instances N] [--steps N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -f node_modules/azurite/dist/src/azurite.js ] || npm ci --no-audit --no-fund --loglevel=error
export AZURITE_DATA_DIR="$root/.artifacts/azurite-bench" AZURITE_BLOB_PORT=20010 AZURITE_QUEUE_PORT=20011 AZURITE_TABLE_PORT=20012
rm -rf "$AZURITE_DATA_DIR"
scripts/azurite.sh start
trap 'scripts/azurite.sh stop >/dev/null' EXIT
dotnet build -c Release bench/FineTuneOrchestrator.DurableTask.Benchmarks -nologo -clp:ErrorsOnly
key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
dotnet bench/FineTuneOrchestrator.DurableTask.Benchmarks/bin/Release/net10.0/FineTuneOrchestrator.DurableTask.Benchmarks.dll \
  --storage "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:20010/devstoreaccount1;QueueEndpoint=http://127.0.0.1:20011/devstoreaccount1;TableEndpoint=http://127.0.0.1:20012/devstoreaccount1;" "$@"
