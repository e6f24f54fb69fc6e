# Sourced by the scripts that need the whole local stack for a while (scripts/run.sh and the benchmarks): runs
# scripts/serve.sh in the background and waits for its READY line.
#   start_serve WORK_DIR [serve.sh arguments]   sets serve_pid and ready (the READY JSON); exits if serve.sh stops first
#   stop_serve                                   stops it (SIGTERM; serve.sh stops exactly what it started)
#   ready_field NAME                             one field of the READY JSON (url, functionKey, storage, simulator, ...)
serve_pid=""
ready=""

start_serve() {
  local work="$1"; shift
  scripts/serve.sh "$@" >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 1 900); do
    grep -q '^READY ' "$work/serve.out" 2>/dev/null && break
    kill -0 "$serve_pid" 2>/dev/null || { echo "serve.sh stopped:"; cat "$work/serve.err"; exit 1; }
    sleep 0.2
  done
  ready="$(grep '^READY ' "$work/serve.out" | head -n 1 | cut -c7-)"
  [ -n "$ready" ] || { echo "the host did not start; see $work/serve.err"; exit 1; }
}

stop_serve() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  fi
}

ready_field() { node -e "process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])" "$ready" "$1"; }
