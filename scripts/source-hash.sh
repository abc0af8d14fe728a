#!/usr/bin/env bash
# Prints one SHA-256 over every source file that goes into dist/: the Rust crate, the JS wrapper,
# their lockfiles and the build scripts. Recorded in dist/build-info.json; CI recomputes it to
# prove the committed dist/ was built from the committed sources.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files --cached --others --exclude-standard -z -- \
    src Cargo.toml Cargo.lock .cargo js/src js/build.mjs js/package.json js/package-lock.json \
    scripts/build-wasm.sh scripts/build-dist.sh \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
