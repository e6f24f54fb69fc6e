#!/usr/bin/env bash
# Evaluation-under-quota benchmark (issue 17): scripts/serve.sh on private ports (Azurite 20040-20042, simulator 5240, host
# 7240) with the simulator enforcing one requests-per-minute and tokens-per-minute quota for every chat call (x-ratelimit-*
# headers, 429 with retry-after past it), then one run of the demo dataset with 1,000 held-out tickets, each answered by
# the candidate and the baseline. Prints the Evaluating stage's wall time next to the quota's floor and the 429 count
# (scripts/bench/evaluation-quota.mjs). Stops what it started.
# Usage: scripts/bench-evaluation.sh [--cases 1000] [--rpm 600] [--tpm 200000] [--max-output-tokens 64] [--seed 11]
#        Env: BENCH_QUOTA_SCOPE (Account: one quota for all calls; Deployment: one per model)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
arg() { local name="$1" fallback="$2"; shift 2; while [ $# -gt 1 ]; do [ "$1" = "--$name" ] && { echo "$2"; return; }; shift; done; echo "$fallback"; }
rpm="$(arg rpm 600 "$@")" tpm="$(arg tpm 200000 "$@")"
work="$root/.artifacts/bench-evaluation"
rm -rf "$work"; mkdir -p "$work"
export AZURITE_PORT=20040 SIMULATOR_PORT="${BENCH_SIMULATOR_PORT:-5240}" APP_PORT="${BENCH_APP_PORT:-7240}" SERVE_DIR="$work/serve"
export SIM_TIME_SCALE=1000
export SIM_ARGS="--Simulator:Quota:RequestsPerMinute=$rpm --Simulator:Quota:TokensPerMinute=$tpm --Simulator:Quota:Scope=${BENCH_QUOTA_SCOPE:-Account}"
. scripts/lib/serve-background.sh
trap stop_serve EXIT
export PROVIDER="${PROVIDER:-openai}"  # the figures in the README were measured on the OpenAI face
start_serve "$work" --reset --FineTune:BlobTrigger:PollingInterval=00:00:00.500 "--Logging:LogLevel:Default=Warning"
echo "load: this machine's $(nproc) cores, $(uptime | sed 's/.*load average/load average/') before the run"
node scripts/bench/evaluation-quota.mjs "$ready" "$work" "$@"
