#!/usr/bin/env bash
# Load benchmark of the board: GET / with 100 and with 1,000,000 comments, POST /, and the
# article's Flask app under `gunicorn -w 2` on the same Postgres as the baseline.
#
#   bench/board/run.sh            # DURATION=10s CONNECTIONS=50 by default
#
# Needs wrk (Debian's package) and Python 3; installs the Flask baseline's packages in a venv
# under target/. Results go to stdout; docs/benchmarks.md keeps the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
APP_PORT=${APP_PORT:-18000}
FLASK_PORT=${FLASK_PORT:-18001}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
SERVER=$(scripts/postgres start)
PGPORT=$(echo "$SERVER" | sed -E 's|.*:([0-9]+)/.*|\1|')
db_url() { echo "${SERVER%/postgres}/$1"; }
psql_at() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 "$(db_url "$db")" "$@"; }

cargo build --release -p app -q
VENV=target/bench-venv
if [ ! -x "$VENV/bin/gunicorn" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q flask peewee psycopg2-binary gunicorn
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

seed() { # seed DB N: a fresh board database with N comments
  psql_at postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  DATABASE_URL=$(db_url "$1") target/release/app migrate >/dev/null
  psql_at "$1" -c "INSERT INTO comments (title, author, body, created_at)
    SELECT 'Comment ' || n, 'Author ' || (n % 97), repeat('Some words of a comment. ', 4),
           now() - (n || ' seconds')::interval FROM generate_series(1, $2) AS n" \
    -c "VACUUM ANALYZE comments"
}

serve_board() { # serve_board DB
  DATABASE_URL=$(db_url "$1") LISTEN_ADDR=127.0.0.1:$APP_PORT RUST_LOG=warn STATIC_DIR= \
    target/release/app & pids+=($!)
  until curl -sf "http://127.0.0.1:$APP_PORT/readyz" >/dev/null; do sleep 0.2; done
}

load() { # load LABEL URL [wrk args]
  local label=$1 url=$2; shift 2
  echo "== $label"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx'
}

stop_last() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
seed bench_small 100
seed bench_large 1000000

serve_board bench_small
load "board GET / (100 comments)" "http://127.0.0.1:$APP_PORT/"
stop_last
serve_board bench_large
load "board GET / (1,000,000 comments)" "http://127.0.0.1:$APP_PORT/"
load "board GET /?before=<cursor deep in the table> (1,000,000 comments)" \
  "http://127.0.0.1:$APP_PORT/?before=$(psql_at bench_large -At -c "SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '_' || id FROM comments ORDER BY created_at, id OFFSET 1000 LIMIT 1")"
load "board POST / (1,000,000 comments)" "http://127.0.0.1:$APP_PORT/" -s bench/board/post.lua
stop_last

# The original: its own table, the same 100 comments, gunicorn with 2 sync workers.
psql_at postgres -c "DROP DATABASE IF EXISTS bench_flask WITH (FORCE)" -c "CREATE DATABASE bench_flask"
(cd bench/board/flask_app && PGHOST=127.0.0.1 PGPORT=$PGPORT PGUSER=postgres PGDATABASE=bench_flask \
  "../../../$VENV/bin/python" -c "import app" >/dev/null)
psql_at bench_flask -c "INSERT INTO comment (title, author, body, date)
  SELECT 'Comment ' || n, 'Author ' || (n % 97), repeat('Some words of a comment. ', 4),
         now() - (n || ' seconds')::interval FROM generate_series(1, 100) AS n"
(cd bench/board/flask_app && PGHOST=127.0.0.1 PGPORT=$PGPORT PGUSER=postgres PGDATABASE=bench_flask \
  exec "../../../$VENV/bin/gunicorn" -w 2 -b "127.0.0.1:$FLASK_PORT" --log-level warning app:app) & pids+=($!)
until curl -sf "http://127.0.0.1:$FLASK_PORT/" >/dev/null; do sleep 0.2; done
load "flask GET / (100 comments, gunicorn -w 2)" "http://127.0.0.1:$FLASK_PORT/"
stop_last
