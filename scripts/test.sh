#!/usr/bin/env bash
# Sets up (idempotently) and runs every test: formatting and lints first (cheapest checks fail
# fastest), then native unit and integration tests, the PyTorch parity tests on burn's CPU and
# Wgpu backends (Wgpu through Mesa's lavapipe software Vulkan), then the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stage() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

stage "setup"
scripts/setup.sh test
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# The Vulkan loader wants a private runtime dir; without one it prints a harmless error.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"

stage "format"
cargo fmt --all -- --check

stage "module cycles"
python3 scripts/checks/module_cycles.py

stage "clippy (native)"
cargo clippy --workspace --all-targets -- -D warnings
stage "clippy (wasm32)"
cargo clippy --target wasm32-unknown-unknown -p unet -p unet-imaging -p unet-web -- -D warnings

stage "native tests: model, imaging, CLI; PyTorch parity on CPU and on Wgpu (lavapipe)"
cargo test --workspace

if [ -x scripts/e2e.sh ]; then
  stage "browser tests"
  scripts/e2e.sh
fi
stage "all tests passed"
