#!/usr/bin/env bash
# Fuzzes every target in fuzz/ (one per report reader, format detection, the render pipeline)
# for SECONDS_PER_TARGET seconds each (default 60), niced and single-process, then prints the
# executions per target. Crashes land in fuzz/artifacts/<target>/: fix the reader, then commit the
# input under tests/fixtures/fuzz-regressions/ with a regression test that parses it.
#
# No nightly toolchain is needed: RUSTC_BOOTSTRAP=1 lets the installed stable rustc take
# cargo-fuzz's -Z flags. It is set only for the fuzz build, whose target dir (fuzz/target) is its
# own, so the main build is never rebuilt (../shared/design/TOOLCHAIN.md §3.3).
#
# Environment: FUZZ_LANES (targets run at once, default 1), FUZZ_TARGETS (space-separated subset),
# FUZZ_MAX_LEN (largest input, default 32768 bytes; seeds larger than it are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
lanes=${FUZZ_LANES:-1}
max_len=${FUZZ_MAX_LEN:-32768}

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz
fi

# Sanitizer none: the readers are safe Rust but for the scanner window's one `unsafe` block, whose
# invariant a debug assertion re-checks here; the oracles are panics (overflow checks are on),
# timeouts and memory; ASan would only slow the search down.
RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz build --fuzz-dir fuzz --sanitizer none --release --debug-assertions
bin=fuzz/target/x86_64-unknown-linux-gnu/release
targets=${FUZZ_TARGETS:-$(cargo fuzz list --fuzz-dir fuzz)}

# Seeds: every fixture and conformance file, sorted by its first byte into XML, JSON and text;
# each target starts from the kinds it can read.
seed_kind() {
  local first
  first=$(head -c 512 "$1" | tr -d ' \t\r\n\357\273\277' | head -c 1)
  case "$first" in
    '<') echo xml ;;
    '{' | '[') echo json ;;
    *) echo text ;;
  esac
}
seed_kinds_of() {
  case "$1" in
    parse_junit | parse_nunit | parse_xunit | parse_trx | parse_testng | parse_robot) echo xml ;;
    parse_go_test | parse_dart) echo "json text" ;;
    parse_tap) echo text ;;
    parse_*) echo json ;;
    *) echo "xml json text" ;;
  esac
}
mkdir -p fuzz/seeds/xml fuzz/seeds/json fuzz/seeds/text
while IFS= read -r -d '' f; do
  kind=$(seed_kind "$f")
  cp "$f" "fuzz/seeds/$kind/$(echo "$f" | tr '/' '_')"
done < <(find tests/fixtures tests/conformance -type f -size -"$max_len"c \
  ! -name '*.md' ! -name '*.snap' ! -name 'LICENSE*' ! -name '*.results' ! -name '*.annotations' ! -name '*.exception' -print0)

run_target() {
  local t=$1 seconds=$2 max_len=$3 kinds dirs=()
  kinds=$(seed_kinds_of "$t")
  for k in $kinds; do dirs+=("$PWD/fuzz/seeds/$k"); done
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/logs/$t"
  local log
  log="$PWD/fuzz/logs/$t/$(date -u +%Y%m%dT%H%M%S).log"
  # -jobs=1 -workers=1: one fuzzing process (libFuzzer writes its log to fuzz-0.log in the cwd).
  (cd "fuzz/logs/$t" && nice -n 19 "$OLDPWD/$bin/$t" "$OLDPWD/fuzz/corpus/$t" "${dirs[@]}" \
    -jobs=1 -workers=1 -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OLDPWD/fuzz/artifacts/$t/" \
    >/dev/null 2>&1; cat fuzz-0.log >"$log"; rm -f fuzz-0.log) || true
  local execs
  execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
  printf '%s\t%s s\t%s execs\n' "$t" "$seconds" "$execs"
}
export -f run_target seed_kinds_of
export bin
printf '%s\n' $targets | xargs -P "$lanes" -I{} bash -c "run_target {} $seconds $max_len"

echo "findings (fix each, then move it to tests/fixtures/fuzz-regressions/):"
find fuzz/artifacts -type f | sort
