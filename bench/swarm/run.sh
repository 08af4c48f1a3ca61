#!/usr/bin/env bash
# Deploy time of build.yml on a 3-node test swarm (scripts/swarm-cluster): `orchestrator swarm
# up` against `docker stack deploy`, cold and with nothing changed. Each starts from nodes with
# no image of the stack: ours builds here (cached), pushes to the in-swarm registry and waits
# until every service runs; for `docker stack deploy` the images are copied to every node by
# hand (`docker save | docker load`, as its users must without a registry) and the stack file is
# written out in the form it accepts (depends_on as a list, no build, no name). The clock stops
# when the board answers /readyz on every node's published port.
#   bench/swarm/run.sh [RUNS]      (root; the stack's images built: scripts/test does it, or
#                                   orchestrator -f build.yml -p swb build)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
cargo build -q -p orchestrator
ORCH=$PWD/target/debug/orchestrator
export POSTGRES_PASSWORD=bench-only APP_DB_PASSWORD=bench-only-app
for image in swb-app swb-nginx postgres:15-bookworm registry:2; do
  docker image inspect "$image" >/dev/null 2>&1 \
    || { echo "run.sh: $image is missing: orchestrator -f build.yml -p swb build; scripts/stand-ins registry" >&2; exit 1; }
done

# A fresh cluster for each tool, so neither finds the other's layers on the nodes.
ID=""
trap '[ -z "$ID" ] || scripts/swarm-cluster down "$ID" >/dev/null' EXIT
fresh_cluster() {
  [ -z "$ID" ] || scripts/swarm-cluster down "$ID" >/dev/null
  local desc
  desc=$(scripts/swarm-cluster up 3 --owner $$)
  ID=$(sed -n 's/^ID=//p' <<<"$desc")
  MANAGER=$(sed -n 's/^NODE1=[^ ]* //p' <<<"$desc")
  NODES=$(sed -n 's/^NODE[0-9]=\([^ ]*\) .*/\1/p' <<<"$desc")
  SOCKETS=$(sed -n 's/^NODE[0-9]=[^ ]* //p' <<<"$desc")
}
fresh_cluster
scripts/swarm-cluster registry "$ID"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
# Waits until the board answers on every node's PORT.
answering() { # answering PORT
  for node in $NODES; do
    until curl -sf -m 2 -o /dev/null "http://$node:$1/readyz"; do sleep 0.2; done
  done
}

echo "== orchestrator swarm up (build.yml, --dnsrr, app x3, images built here and pushed)"
ours() { DOCKER_HOST=$MANAGER HTTP_PORT=18090 "$ORCH" -f build.yml -p swb --progress quiet "$@"; }
t=$(now)
ours swarm up --dnsrr --build-host unix:///var/run/docker.sock --scale app=3 >/dev/null
returned=$(since "$t")
answering 18090
echo "cold: returned after ${returned} s, every node answering after $(since "$t") s"
for _ in $(seq "$RUNS"); do
  t=$(now)
  ours swarm up --dnsrr --build-host unix:///var/run/docker.sock --scale app=3 >/dev/null
  echo "nothing changed: $(since "$t") s"
done
ours swarm down >/dev/null

fresh_cluster
echo "== docker stack deploy (the same services; images copied to every node by hand)"
for socket in $SOCKETS; do
  t=$(now)
  docker save swb-app swb-nginx postgres:15-bookworm | docker -H "$socket" load -q >/dev/null
  echo "docker save | docker load onto $socket: $(since "$t") s"
done
stack=$(mktemp)
cat > "$stack" <<'YAML'
version: "3.8"
services:
  postgres:
    image: postgres:15-bookworm
    environment: {POSTGRES_USER: board, POSTGRES_PASSWORD: bench-only, POSTGRES_DB: board}
    volumes: [pgdata:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -q -U board -d board"]
      interval: 2s
      timeout: 3s
      retries: 30
    deploy:
      endpoint_mode: dnsrr
      placement: {constraints: [node.role == manager]}
  app:
    image: swb-app
    environment:
      DATABASE_URL: postgres://board:bench-only@postgres:5432/board
      TRUSTED_PROXIES: 10.0.0.0/8
    healthcheck:
      test: ["CMD", "/usr/local/bin/app", "healthcheck"]
      interval: 2s
      timeout: 3s
      retries: 3
      start_period: 60s
    depends_on: [postgres]
    deploy: {replicas: 3, endpoint_mode: dnsrr}
  nginx:
    image: swb-nginx
    ports: [{target: 80, published: 18091, mode: host}]
    depends_on: [app]
    deploy: {mode: global, endpoint_mode: dnsrr}
volumes:
  pgdata:
YAML
theirs() { docker -H "$MANAGER" stack deploy --resolve-image never -c "$stack" stk "$@"; }
t=$(now)
theirs >/dev/null
returned=$(since "$t")
answering 18091
echo "cold: returned after ${returned} s, every node answering after $(since "$t") s"
before=$(docker -H "$MANAGER" service inspect stk_app --format '{{.Version.Index}}')
for _ in $(seq "$RUNS"); do
  t=$(now)
  theirs >/dev/null
  echo "nothing changed: $(since "$t") s"
done
after=$(docker -H "$MANAGER" service inspect stk_app --format '{{.Version.Index}}')
echo "stk_app's version index over the no-change deploys: $before -> $after"
docker -H "$MANAGER" stack rm stk >/dev/null
rm -f "$stack"
