#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests (conformance corpus, CLI, snapshots) and the
# JS tests, which run the committed dist/index.js as the GitHub runner does, on Node 20 and 24.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked
npm --prefix js test
