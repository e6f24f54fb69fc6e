#!/usr/bin/env bash
# Cold start of the published Functions worker, process start to the host connection and to functions loaded, started the
# way the Functions host starts it (support/FineTuneOrchestrator.Functions.HostProtocol), side by side with:
#   - the same app without ReadyToRun (what publishing gave before the project turned it on), and
#   - a peer: the smallest isolated worker of the same stack (bench/FunctionsColdStartPeer, one HTTP function).
# Usage: scripts/bench-coldstart.sh [--runs 10]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out="$root/.artifacts/bench-coldstart"
rm -rf "$out"; mkdir -p "$out"
publish() { dotnet publish "$@" -c Release -nologo -clp:ErrorsOnly -v quiet >"$out/publish.log" 2>&1 || { cat "$out/publish.log"; exit 1; }; }
echo "publishing: the app as azd deploys it (ReadyToRun, linux-x64), the app without ReadyToRun, the peer"
publish src/FineTuneOrchestrator.Functions -o "$out/app"
publish src/FineTuneOrchestrator.Functions -p:PublishReadyToRun=false -o "$out/app-jit"
publish bench/FunctionsColdStartPeer -o "$out/peer"
dotnet build -c Release bench/FineTuneOrchestrator.Functions.Benchmarks -nologo -clp:ErrorsOnly -v quiet
dotnet bench/FineTuneOrchestrator.Functions.Benchmarks/bin/Release/net10.0/FineTuneOrchestrator.Functions.Benchmarks.dll "$@" \
  "app (as deployed)=$out/app" "app without ReadyToRun=$out/app-jit" "peer (hello worker)=$out/peer"
