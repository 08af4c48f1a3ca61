#!/usr/bin/env bash
# Load benchmark of the board: GET / with 100 and with 1,000,000 comments, POST /, the
# article's Flask app under `gunicorn -w 2` on the same Postgres as the baseline, and the whole
# stack (build.yml: nginx in front of 3 app replicas) brought up by the orchestrator.
#
#   flock /tmp/engine.lock bench/board/run.sh     # DURATION=10s CONNECTIONS=50 by default
#   STACK=0 bench/board/run.sh                    # without the stack (no Docker Engine needed)
#
# Needs wrk (Debian's package) and Python 3; installs the Flask baseline's packages in a venv
# under target/. Results go to stdout; docs/benchmarks.md keeps the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
APP_PORT=${APP_PORT:-18000}
FLASK_PORT=${FLASK_PORT:-18001}
STACK=${STACK:-1}
STACK_PORT=${STACK_PORT:-18080}

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
stack() { # the orchestrator on build.yml, under a project of the benchmark's own
  # One worker thread per replica: three replicas already give the two cores three workers.
  POSTGRES_PASSWORD=bench-only APP_DB_PASSWORD=bench-only-app HTTP_PORT=$STACK_PORT RUST_LOG=warn HTTP_WORKERS=${STACK_HTTP_WORKERS:-1} \
    target/debug/orchestrator -f build.yml -p benchboard --progress plain "$@"
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ "$STACK" = 1 ]; then stack down -v --yes --rmi local -t 2 >/dev/null 2>&1 || true; fi
}
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
  DATABASE_URL=$(db_url "$1") LISTEN_ADDR=127.0.0.1:$APP_PORT METRICS_ADDR= RUST_LOG=warn \
    STATIC_DIR= POST_LIMIT_PER_MINUTE=off target/release/app & pids+=($!)
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

if [ "$STACK" = 1 ]; then
  # The stack as deployed: nginx (keep-alive upstream) in front of 3 app replicas, the same 100
  # comments; RUST_LOG=warn as above, so both sides pay the same for logging.
  cargo build -q -p orchestrator
  stack up -d --wait --wait-timeout 600 --scale app=3 >/dev/null
  docker exec benchboard-postgres-1 psql -q -U board -d board -c "DELETE FROM comments" \
    -c "INSERT INTO comments (title, author, body, created_at)
    SELECT 'Comment ' || n, 'Author ' || (n % 97), repeat('Some words of a comment. ', 4),
           now() - (n || ' seconds')::interval FROM generate_series(1, 100) AS n" \
    -c "VACUUM ANALYZE comments"
  until curl -sf "http://127.0.0.1:$STACK_PORT/readyz" >/dev/null; do sleep 0.2; done
  sleep 3 # nginx's watcher has seen every replica
  address() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
  # nginx at its container's address: what nginx costs. Through the published port, loopback
  # traffic also passes Docker's userland proxy (docker-proxy), a copy of every byte.
  load "stack GET / through nginx, 3 app replicas (100 comments)" "http://$(address benchboard-nginx-1)/"
  load "stack GET / through the published port: docker-proxy, nginx, 3 replicas" "http://127.0.0.1:$STACK_PORT/"
  load "stack GET / from one app container directly (100 comments)" "http://$(address benchboard-app-1):8000/"
fi
