#!/usr/bin/env bash
# Fuzzes the loader (default 10 minutes), seeded with every fixture. cargo fuzz needs nightly
# features; RUSTC_BOOTSTRAP lets the stable toolchain provide them.
#   orchestrator/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
mkdir -p corpus/loader
for f in ../tests/fixtures/*/*.y*ml ../tests/fixtures/errors/*.yml; do
  cp "$f" "corpus/loader/seed_$(echo "${f#../tests/fixtures/}" | tr '/' '_')"
done
RUSTC_BOOTSTRAP=1 cargo fuzz run loader corpus/loader -- -max_total_time="${1:-600}" -max_len=8192
