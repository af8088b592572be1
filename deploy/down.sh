#!/usr/bin/env bash
# Stops what deploy/up.sh started: the services first (their outbox relays flush to Kafka on SIGTERM),
# then PostgreSQL, then Kafka. Keeps going when one step fails; exit status 1 if any did.
# Environment: RUN_DIR, PYTHON, KAFKA_PORT, PG_PORT as for up.sh; SERVICE_STOP_TIMEOUT (30 s).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
export RUN_DIR="${RUN_DIR:-$REPO/.run}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
SERVICE_STOP_TIMEOUT="${SERVICE_STOP_TIMEOUT:-30}"
SVC_DIR="$RUN_DIR/services"
rc=0

log() { echo "down.sh: $*" >&2; }

service_pid() {
  local f="$SVC_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-m services run --target $1 " || return 1
  echo "$pid"
}

# SIGTERM all services at once, then wait for each; SIGKILL the ones still there after the timeout.
declare -A PIDS=()
for name in alerts negotiation allocation ingestion; do
  if pid="$(service_pid "$name")"; then
    kill -TERM "$pid" 2>/dev/null && PIDS[$name]=$pid
  fi
done
t0=$SECONDS
for name in "${!PIDS[@]}"; do
  pid="${PIDS[$name]}"
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS - t0 >= SERVICE_STOP_TIMEOUT )); then
      log "$name (pid $pid) still running after ${SERVICE_STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      rc=1
      break
    fi
    sleep 0.2
  done
  rm -f "$SVC_DIR/$name.pid"
  log "$name stopped"
done

"$PYTHON" "$HERE/postgres/pg.py" stop || rc=1
"$HERE/kafka/kafka.sh" stop || rc=1
exit "$rc"
