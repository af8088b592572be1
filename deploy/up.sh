#!/usr/bin/env bash
# The whole distributed stack on this machine: Kafka + PostgreSQL, then the four services, one process each.
#
#   deploy/up.sh            (make up)     start what is not running yet; idempotent
#   deploy/down.sh          (make down)   stop all of it
#
# Environment: RUN_DIR (<repo>/.run), PYTHON (<repo>/.venv/bin/python if present, else python3),
# KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), PG_PORT (55432), KAFKA_WIPE=1 (fresh broker data),
# PORT_INGESTION / PORT_ALLOCATION / PORT_NEGOTIATION / PORT_ALERTS (8101-8104; not <NAME>_PORT, that prefix
# belongs to each service's own settings),
# SERVICE_START_TIMEOUT (120 s), UP_SERVICES=0 (infrastructure only), DATABASE_URL (external PostgreSQL).
# Writes $RUN_DIR/stack.env (export lines: database URLs, QUOTAFLOW_KAFKA_BOOTSTRAP, QUOTAFLOW_MODE,
# QUOTAFLOW_DATA_DIR) and runs the services with it; pids and logs in $RUN_DIR/services/<name>.{pid,log}.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
export RUN_DIR="${RUN_DIR:-$REPO/.run}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
export KAFKA_PORT="${KAFKA_PORT:-9092}"
SERVICE_START_TIMEOUT="${SERVICE_START_TIMEOUT:-120}"
SVC_DIR="$RUN_DIR/services"

log() { echo "up.sh: $*" >&2; }

t_all=$SECONDS
"$HERE/kafka/kafka.sh" start
"$PYTHON" "$HERE/postgres/pg.py" start

# Everything a service process (or a test run) needs to reach the stack.
{
  echo "# Written by deploy/up.sh; '. $RUN_DIR/stack.env' to use."
  grep '^export ' "$RUN_DIR/postgres/env"
  echo "export QUOTAFLOW_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
  echo "export QUOTAFLOW_MODE=distributed"
  printf 'export QUOTAFLOW_DATA_DIR=%q\n' "${QUOTAFLOW_DATA_DIR:-$RUN_DIR/data}"
} >"$RUN_DIR/stack.env.tmp"
mv "$RUN_DIR/stack.env.tmp" "$RUN_DIR/stack.env"
# shellcheck disable=SC1091
. "$RUN_DIR/stack.env"

if [[ "${UP_SERVICES:-1}" == 0 ]]; then
  log "Kafka and PostgreSQL up in $((SECONDS - t_all))s (UP_SERVICES=0: no services); env in $RUN_DIR/stack.env"
  exit 0
fi
if [[ ! -f "$REPO/services/__main__.py" ]]; then
  log "services/__main__.py not present yet: Kafka and PostgreSQL only; env in $RUN_DIR/stack.env"
  exit 0
fi

mkdir -p "$SVC_DIR"
# The service packages live in <name>-service/ directories; works with or without `pip install -e`.
export PYTHONPATH="$REPO:$REPO/ingestion-service:$REPO/allocation-service:$REPO/negotiation-service:$REPO/alerts-service${PYTHONPATH:+:$PYTHONPATH}"
declare -A PORTS=(
  [ingestion]="${PORT_INGESTION:-8101}" [allocation]="${PORT_ALLOCATION:-8102}"
  [negotiation]="${PORT_NEGOTIATION:-8103}" [alerts]="${PORT_ALERTS:-8104}"
)
NAMES=(ingestion allocation negotiation alerts)

service_pid() {  # pid of the running service $1, guarded against a recycled pid
  local f="$SVC_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-m services run --target $1 " || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=()
for name in "${NAMES[@]}"; do
  port="${PORTS[$name]}"
  if pid="$(service_pid "$name")"; then
    log "$name already running (pid $pid, port $port)"
    continue
  fi
  if port_open "$port"; then
    log "ERROR: port 127.0.0.1:$port for $name is taken by another process (set PORT_${name^^})"
    exit 1
  fi
  rm -f "$SVC_DIR/$name.pid"
  # Own session, no inherited pipes (see kafka.sh); the inner shell records its pid, then execs Python.
  # The background job must be a simple command (no `a && b &`): bash would keep a forked copy of
  # this script waiting on it, and that copy holds our stdout (a CI pipe) open.
  cd "$REPO"
  setsid nohup bash -c '
      for fd in /proc/$$/fd/*; do fd=${fd##*/}; [[ $fd -gt 2 ]] && eval "exec $fd>&-" 2>/dev/null; done
      echo $$ >"$1"; shift
      exec "$@"' svc-launch "$SVC_DIR/$name.pid" \
      "$PYTHON" -m services run --target "$name" --mode distributed --port "$port" \
      </dev/null >"$SVC_DIR/$name.log" 2>&1 &
  started+=("$name")
done

# Wait until each started service answers GET /healthz.
for name in "${started[@]}"; do
  port="${PORTS[$name]}"
  t0=$SECONDS
  until "$PYTHON" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2)" 2>/dev/null; do
    sleep 0.5
    if ! service_pid "$name" >/dev/null && { [[ -s "$SVC_DIR/$name.pid" ]] || (( SECONDS - t0 > 10 )); }; then
      log "ERROR: $name exited during startup; last lines of $SVC_DIR/$name.log:"
      tail -n 40 "$SVC_DIR/$name.log" >&2 || true
      exit 1
    fi
    if (( SECONDS - t0 >= SERVICE_START_TIMEOUT )); then
      log "ERROR: $name did not answer http://127.0.0.1:$port/healthz within ${SERVICE_START_TIMEOUT}s:"
      tail -n 40 "$SVC_DIR/$name.log" >&2 || true
      exit 1
    fi
  done
  log "$name up (pid $(service_pid "$name"), http://127.0.0.1:$port)"
done
log "stack up in $((SECONDS - t_all))s; env in $RUN_DIR/stack.env; logs in $SVC_DIR"
