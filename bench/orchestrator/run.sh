#!/usr/bin/env bash
# Times a cold `up`, a no-change `up` and a `down` of a 3-service stack, ours against
# docker-compose 1.29 (Debian's package) and Compose v2 (Debian trixie's, unpacked by
# scripts/compose-v2), in turn on the same engine, with hyperfine.
#   bench/orchestrator/run.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${1:-10}
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
command -v docker-compose >/dev/null || apt-get install -y -qq docker-compose >/dev/null
(cd ../.. && cargo build --release -q -p orchestrator)
ORCH=$(cd ../.. && pwd)/target/release/orchestrator
V2=${COMPOSE_V2:-$(../../scripts/compose-v2)}

# The image: a static busybox on scratch.
ctx=$(mktemp -d)
cp "$(command -v busybox)" "$ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nLABEL dev.orchestrator.test=1\n' > "$ctx/Dockerfile"
docker build -q -t orchestrator-bench-box:1 "$ctx" >/dev/null
rm -rf "$ctx"

ours="$ORCH -p bench-ours --progress quiet"
theirs="docker-compose -p benchtheirs --log-level ERROR"
v2="$V2 -p benchv2 --progress quiet"
cleanup() {
  $ours down -v --yes >/dev/null 2>&1 || true
  $theirs down -v >/dev/null 2>&1 || true
  $v2 down -v >/dev/null 2>&1 || true
  docker rmi -f orchestrator-bench-box:1 >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(docker version -f 'Docker Engine {{.Server.Version}}, API {{.Server.APIVersion}}'); docker-compose $(docker-compose version --short); Compose $($V2 version --short)"
hyperfine --runs "$RUNS" --style basic --export-markdown cold-up.md \
  --prepare "$ours down >/dev/null 2>&1; $theirs down >/dev/null 2>&1; $v2 down >/dev/null 2>&1" \
  -n "orchestrator up -d (cold)" "$ours up -d" \
  -n "docker-compose 1.29 up -d (cold)" "$theirs up -d" \
  -n "Compose v2 up -d (cold)" "$v2 up -d"
$ours up -d >/dev/null; $theirs up -d >/dev/null 2>&1; $v2 up -d >/dev/null 2>&1
hyperfine --runs "$RUNS" --warmup 2 --style basic --export-markdown nochange-up.md \
  -n "orchestrator up -d (no change)" "$ours up -d" \
  -n "docker-compose 1.29 up -d (no change)" "$theirs up -d" \
  -n "Compose v2 up -d (no change)" "$v2 up -d"
hyperfine --runs "$RUNS" --style basic --export-markdown down.md \
  --prepare "$ours up -d >/dev/null 2>&1; $theirs up -d >/dev/null 2>&1; $v2 up -d >/dev/null 2>&1" \
  -n "orchestrator down" "$ours down" \
  -n "docker-compose 1.29 down" "$theirs down" \
  -n "Compose v2 down" "$v2 down"
cat cold-up.md nochange-up.md down.md
rm -f cold-up.md nochange-up.md down.md
