#!/usr/bin/env bash
# Where `GET /` spends its time: the release build under wrk, sampled by perf for a few seconds.
# Prints perf's report (self time per function, then by caller), as kept in docs/profile.md.
#
#   flock /tmp/engine.lock bench/board/profile.sh     # SECONDS_SAMPLED=8, 100 comments
#
# Needs perf (Debian's linux-perf) and wrk; the database from scripts/postgres.
set -euo pipefail
cd "$(dirname "$0")/../.."

SAMPLED=${SECONDS_SAMPLED:-8}
APP_PORT=${APP_PORT:-18000}
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
SERVER=$(scripts/postgres start)
DB_URL=${SERVER%/postgres}/bench_profile
psql -X -q "$SERVER" -c "DROP DATABASE IF EXISTS bench_profile WITH (FORCE)" -c "CREATE DATABASE bench_profile"
# The same release build the benchmark runs; perf unwinds its stacks from .eh_frame (DWARF).
cargo build --release -q -p app
mkdir -p target/profile
DATABASE_URL=$DB_URL target/release/app migrate >/dev/null
psql -X -q "$DB_URL" -c "INSERT INTO comments (title, author, body, created_at)
  SELECT 'Comment ' || n, 'Author ' || (n % 97), repeat('Some words of a comment. ', 4),
         now() - (n || ' seconds')::interval FROM generate_series(1, 100) AS n"

DATABASE_URL=$DB_URL LISTEN_ADDR=127.0.0.1:$APP_PORT METRICS_ADDR= RUST_LOG=warn STATIC_DIR= \
  target/release/app & APP=$!
trap 'kill $APP 2>/dev/null; wait $APP 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$APP_PORT/readyz" >/dev/null; do sleep 0.2; done

wrk -t2 -c50 -d"$((SAMPLED + 4))s" "http://127.0.0.1:$APP_PORT/" >/dev/null & LOAD=$!
sleep 2
perf record -q -F 299 --call-graph dwarf,16384 -p "$APP" -o target/profile/perf.data -- sleep "$SAMPLED" 2>/dev/null
wait "$LOAD"
echo "== self time, by function"
perf report -i target/profile/perf.data --stdio --no-children --sort symbol -g none 2>/dev/null \
  | grep -v '^#' | grep -v '^$' | head -40
echo "== time including callees"
perf report -i target/profile/perf.data --stdio --children --sort symbol -g none 2>/dev/null \
  | grep -v '^#' | grep -v '^$' | head -40
