#!/usr/bin/env bash
# Sets up (idempotently) and runs every test: formatting first (cheapest checks fail fastest),
# then the native build with clippy's lints, the native unit and integration tests, the PyTorch
# parity tests on burn's CPU and Wgpu backends (Wgpu through Mesa's lavapipe software Vulkan),
# then the browser tests.
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

# Clippy lints the workspace's own crates while they are compiled for the tests, native and wasm
# alike: clippy-driver as cargo's workspace wrapper, with the arguments in CLIPPY_ARGS, which is
# what `cargo clippy` does under a `cargo check`. The dependencies (burn, wgpu, leptos) are then
# compiled once instead of also being checked once per target for clippy, which was a third of
# the run. Clippy turns MIR optimisations off in the crates it lints; LLVM's are untouched.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

stage "native build of every target, linted by clippy"
cargo test --workspace --no-run

stage "native tests: model, imaging, CLI; PyTorch parity on CPU and on Wgpu (lavapipe)"
cargo test --workspace

if [ -x scripts/e2e.sh ]; then
  stage "browser tests (Trunk's wasm build of the page is linted by clippy)"
  scripts/e2e.sh
fi
stage "all tests passed"
