#!/usr/bin/env bash
# Starts or stops a local Azurite (blob, queue, table) on 127.0.0.1 with its data in .azurite/.
# Usage: scripts/azurite.sh start|stop|status
# Stops exactly the node process it started (its pid is kept in .azurite/azurite.pid).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${AZURITE_DATA_DIR:-$root/.azurite}"
pidfile="$data/azurite.pid"
blob_port="${AZURITE_BLOB_PORT:-10000}"
queue_port="${AZURITE_QUEUE_PORT:-10001}"
table_port="${AZURITE_TABLE_PORT:-10002}"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
  start)
    if running; then echo "azurite already running (pid $(cat "$pidfile"))"; exit 0; fi
    if [ ! -f "$root/node_modules/azurite/dist/src/azurite.js" ]; then
      (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    if port_open "$blob_port"; then echo "port $blob_port is already in use; is another Azurite running?" >&2; exit 1; fi
    mkdir -p "$data/db"
    # --skipApiVersionCheck: today's official clients (Azure.Storage.* 12.2x, the JavaScript client, Storage Explorer)
    # send service versions newer than Azurite 3.35 knows. --disableTelemetry: no calls out to the internet.
    # AZURITE_DEBUG_LOG: Azurite's debug log (one entry per request; scripts/bench-storage.sh counts transactions from it).
    debug=(); [ -n "${AZURITE_DEBUG_LOG:-}" ] && debug=(--debug "$AZURITE_DEBUG_LOG")
    node "$root/node_modules/azurite/dist/src/azurite.js" --silent --skipApiVersionCheck --disableTelemetry --location "$data/db" ${debug[@]+"${debug[@]}"} \
      --blobHost 127.0.0.1 --blobPort "$blob_port" \
      --queueHost 127.0.0.1 --queuePort "$queue_port" \
      --tableHost 127.0.0.1 --tablePort "$table_port" >"$data/azurite.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if port_open "$blob_port" && port_open "$queue_port"; then echo "azurite started (pid $(cat "$pidfile"))"; exit 0; fi
      if ! running; then echo "azurite exited; see $data/azurite.log" >&2; exit 1; fi
      sleep 0.1
    done
    echo "azurite did not open its ports in 10 s; see $data/azurite.log" >&2; exit 1
    ;;
  stop)
    if running; then
      pid="$(cat "$pidfile")"; kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "azurite stopped (pid $pid)"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if running; then echo "running (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
