#!/bin/sh
# The board's own database role, next to the administrator (POSTGRES_USER): it may log in, owns
# one schema named after it in POSTGRES_DB (where the app's migrations put the board's tables),
# and nothing else: no SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, no CREATE in
# `public`, and at most APP_DB_CONNECTION_LIMIT connections (so the app can never take the
# connections an administrator needs).
#
# Postgres's entrypoint runs it once, at the first start of an empty data volume (build.yml
# puts it in /docker-entrypoint-initdb.d as the config board-role, executable). It is idempotent, so on a volume made
# before the board had a role of its own, run it by hand once (it also moves the board's tables
# from `public` into the role's schema, and keeps the password in step with APP_DB_PASSWORD):
#
#   cargo run -p orchestrator -- exec postgres /docker-entrypoint-initdb.d/10-board-role.sh
set -eu

: "${APP_DB_USER:?APP_DB_USER names the board's role}"
: "${APP_DB_PASSWORD:?APP_DB_PASSWORD is the board role's password}"
limit=${APP_DB_CONNECTION_LIMIT:-80}
case "$limit" in
  '' | *[!0-9]*) echo "APP_DB_CONNECTION_LIMIT must be a whole number, not $limit" >&2; exit 1 ;;
esac
admin=${POSTGRES_USER:-postgres}

# The password travels by the environment (\getenv), never on a command line.
psql -v ON_ERROR_STOP=1 --no-psqlrc -q --username "$admin" --dbname "${POSTGRES_DB:-$admin}" \
  -v app="$APP_DB_USER" -v limit="$limit" <<'SQL'
SET client_min_messages = warning;
\getenv password APP_DB_PASSWORD
SELECT format('CREATE ROLE %I', :'app')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT :limit PASSWORD :'password';
-- The server's keep-alives on the role's sessions: a client that vanished without a word (a
-- network cut) leaves a backend holding one of the role's connections until the kernel gives
-- up, two hours by default; with these it goes within about 25 s.
ALTER ROLE :"app" SET tcp_keepalives_idle = 10;
ALTER ROLE :"app" SET tcp_keepalives_interval = 5;
ALTER ROLE :"app" SET tcp_keepalives_count = 3;

-- This database: the board's role connects; nobody else who is not an administrator does, and
-- nobody but an administrator creates objects in `public`.
SELECT current_database() AS db \gset
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- The role's own schema: first on its search_path ("$user"), so the migrations need no names.
CREATE SCHEMA IF NOT EXISTS :"app" AUTHORIZATION :"app";

-- A volume made before this role: the board's tables are in `public`, owned by the
-- administrator. Moved (with their indexes and sequences) and handed over, so nothing is lost.
SELECT format('ALTER TABLE public.%I SET SCHEMA %I', c.relname, :'app')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r'
   AND c.relname IN ('comments', '__diesel_schema_migrations')
   AND NOT EXISTS (SELECT FROM pg_class c2 JOIN pg_namespace n2 ON n2.oid = c2.relnamespace
                    WHERE n2.nspname = :'app' AND c2.relname = c.relname) \gexec
SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, :'app')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = :'app' AND c.relkind = 'r' AND pg_get_userbyid(c.relowner) <> :'app' \gexec
SQL
echo "10-board-role.sh: role $APP_DB_USER ready (connection limit $limit, schema $APP_DB_USER)"
