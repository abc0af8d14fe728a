#!/usr/bin/env bash
# Builds the core for wasm32 with Debian's rustc-web and -Zbuild-std (no rustup target needed;
# see ../shared/design/TOOLCHAIN.md), then generates the ESM glue into js/pkg/.
# RUSTC_BOOTSTRAP is scoped to this cargo call and the wasm build has its own target dir, so native
# builds are neither broken nor rebuilt by it.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_TARGET_DIR=target/wasm
# 128-bit SIMD (Node 16.4+, so both node20 and node24 runners): memchr's searches in the XML
# scanner and the byte loops LLVM vectorizes natively get vector code in wasm too. Measured on
# the 100,000-case report under Node 24: the action's call 201 → 173 ms warm, 402 → 359 ms first
# (best of ten runs each). The standard library, rebuilt by -Zbuild-std, gets it as well.
# LLVM inlines less than its default threshold of 225 (`-inline-threshold=60`): 100 KB smaller
# (1.509 -> 1.409 MB with the typed GoogleTest reader, which had taken the wasm over its 1.5 MB
# limit) at the same speed: the 36.8 MB JUnit file's first call 328 -> 324 ms and warm call 172 ->
# 173 ms (medians of fourteen and eight alternating runs), the JSON formats within their spread
# (issue 12, bench/PROFILE.md ninth round).
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc RUSTFLAGS="-C target-feature=+simd128 -C llvm-args=-inline-threshold=60" /usr/bin/cargo build \
    --profile wasm --lib --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort --target-dir "$WASM_TARGET_DIR" --locked

rm -rf js/pkg
wasm-bindgen --target experimental-nodejs-module \
    --remove-name-section --remove-producers-section \
    --out-dir js/pkg "$WASM_TARGET_DIR/wasm32-unknown-unknown/wasm/test_report.wasm"

# npm binaryen's wasm-opt (Debian's binaryen 108 produces wasm that Node rejects).
if [ -x js/node_modules/.bin/wasm-opt ]; then
    # Functions with one caller are not inlined into it (`-ocimfs 0`): V8 cannot switch a running
    # wasm function to optimized code (no on-stack replacement), so the one long call the action
    # makes runs its biggest functions in baseline code to the end; kept apart, they are tiered up
    # while the call runs. First call of the 36.8 MB JUnit file 417 -> 322 ms (medians of twelve
    # alternating runs), for 6 KB (issue 12, bench/PROFILE.md).
    js/node_modules/.bin/wasm-opt -Oz --one-caller-inline-max-function-size 0 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
        --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
        js/pkg/test_report_bg.wasm -o js/pkg/test_report_bg.wasm
else
    echo "build-wasm: js/node_modules/.bin/wasm-opt missing (run npm ci in js/); wasm left unoptimized" >&2
fi
ls -l js/pkg/test_report_bg.wasm
