#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests (conformance corpus, CLI, snapshots) and the
# JS tests, which run the committed dist/index.js as the GitHub runner does, on Node 20 and 24.
# Both start the fake services (tests/fakes/, tests/README.md) from target/debug/fake-services.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p fake-services
cargo test --locked --workspace
npm --prefix js test
