#!/usr/bin/env bash
# Starts or stops the local OpenAI / Azure OpenAI fine-tuning simulator on 127.0.0.1 (like scripts/azurite.sh for Azurite).
# Usage: scripts/simulator.sh start|stop|status [extra simulator arguments, e.g. --Simulator:TimeScale=600]
# Env: SIMULATOR_PORT (default 5199), SIMULATOR_DIR (pid and log, default .simulator/).
# Stops exactly the process it started (its pid is kept in $SIMULATOR_DIR/simulator.pid).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${SIMULATOR_DIR:-$root/.simulator}"
pidfile="$dir/simulator.pid"
port="${SIMULATOR_PORT:-5199}"
project="$root/src/FineTuneOrchestrator.OpenAISimulator/FineTuneOrchestrator.OpenAISimulator.csproj"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
  start)
    shift
    if running; then echo "simulator already running (pid $(cat "$pidfile"))"; exit 0; fi
    if port_open "$port"; then echo "port $port is already in use" >&2; exit 1; fi
    mkdir -p "$dir"
    dotnet build "$project" -c Release -nologo -v quiet -clp:ErrorsOnly >"$dir/build.log" 2>&1 || { echo "build failed; see $dir/build.log" >&2; exit 1; }
    dll="$root/src/FineTuneOrchestrator.OpenAISimulator/bin/Release/net10.0/FineTuneOrchestrator.OpenAISimulator.dll"
    (cd "$root/src/FineTuneOrchestrator.OpenAISimulator" && exec dotnet "$dll" --urls "http://127.0.0.1:$port" "$@") >"$dir/simulator.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if port_open "$port"; then echo "simulator started on http://127.0.0.1:$port (pid $(cat "$pidfile")); OpenAI base http://127.0.0.1:$port/v1, Azure endpoint http://127.0.0.1:$port"; exit 0; fi
      if ! running; then echo "simulator exited; see $dir/simulator.log" >&2; exit 1; fi
      sleep 0.1
    done
    echo "simulator did not open port $port in 10 s; see $dir/simulator.log" >&2; exit 1
    ;;
  stop)
    if running; then
      pid="$(cat "$pidfile")"; kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "simulator stopped (pid $pid)"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if running; then echo "running (pid $(cat "$pidfile")) on port $port"; else echo "stopped"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status [simulator arguments]" >&2; exit 2 ;;
esac
