#!/usr/bin/env bash
# The wasm inference tests (tests/wasm_inference.rs) in headless Chromium: the app's inference
# path on WebGPU (SwiftShader) and on the CPU backend, against native CPU logits.
# Needs wasm-bindgen-test-runner (from wasm-bindgen-cli, scripts/setup.sh) and chromedriver.
# Prints cargo's "test result" line; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# The runner's browser capabilities: Debian's Chromium with WebGPU on (see TOOLCHAIN notes).
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/wasm/webdriver.json"
# SwiftShader is slow; the runner's default is 20 s.
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

# In the page's own profile (wasm-release), so the tests run on the very dependencies that
# `trunk build --release` compiled (scripts/e2e.sh builds that first) and test what ships, as
# optimised; in the test profile they were a second 10-minute build of burn for wasm.
exec cargo test --target wasm32-unknown-unknown --profile wasm-release -p unet-web --test wasm_inference "$@"
