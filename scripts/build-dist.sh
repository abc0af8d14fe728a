#!/usr/bin/env bash
# Rebuilds the committed action bundle: wasm core + JS wrapper → dist/, and records in
# dist/build-info.json the toolchain and the hash of the sources it was built from.
# Needs: Debian rustc-web/rust-web-src/lld-22, wasm-bindgen-cli at the locked version, `npm ci` in js/
# (.ci/run installs all of them).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-wasm.sh
npm --prefix js run --silent bundle

wasm_bindgen_version=$(wasm-bindgen --version | cut -d' ' -f2)
cat > dist/build-info.json <<JSON
{
  "source_sha256": "$(scripts/source-hash.sh)",
  "rustc": "$(/usr/bin/rustc --version)",
  "wasm_bindgen": "$wasm_bindgen_version",
  "esbuild": "$(js/node_modules/.bin/esbuild --version)",
  "wasm_bytes": $(stat -c %s dist/test_report_bg.wasm),
  "index_js_bytes": $(stat -c %s dist/index.js)
}
JSON
cat dist/build-info.json
