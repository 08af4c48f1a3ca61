#!/usr/bin/env bash
# Issue 10's three releases under a counted mixed load through nginx on 127.0.0.1, deployed by
# the orchestrator and by Compose v2.26 (scripts/compose-v2) in turn, each on build.yml with
# --scale app=3; prints a Markdown table (bench/rollout/main.rs says what is measured).
#   flock /tmp/engine.lock bench/rollout/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export COMPOSE_V2=${COMPOSE_V2:-$(scripts/compose-v2)}
echo "machine: $(nproc) cores; $(docker version -f 'Docker Engine {{.Server.Version}}'); Compose $("$COMPOSE_V2" version --short)" >&2
cargo run -q -p e2e --example rollout
