#!/usr/bin/env bash
# Builds the static site (trunk build --release) and the `unet` CLI, then runs the browser
# tests: the wasm inference tests (scripts/e2e-wasm.sh) and the end-to-end specs in
# tests/e2e/specs (node --test, playwright-core driving Debian's Chromium).
# Ends with one line "N passed, M failed"; exits non-zero if anything failed.
#   E2E_DEBUG=1      debug trunk build (faster to iterate; the default is --release)
#   E2E_SKIP_BUILD=1 reuse dist/ and the CLI as they are
#   E2E_SKIP_WASM=1  skip the wasm inference tests
# Tools come from scripts/setup.sh test.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export UNET_CLI="$TARGET/debug/unet"

passed=0
failed=0
log() { printf '[e2e] %s\n' "$*" >&2; }
summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

if [ "${E2E_SKIP_BUILD:-0}" != 1 ]; then
  # Trunk runs cargo --offline (Trunk.toml): make sure every crate is present first.
  cargo fetch --target wasm32-unknown-unknown >/dev/null 2>&1 || cargo fetch >/dev/null
  release="--release"
  [ "${E2E_DEBUG:-0}" = 1 ] && release=""
  log "trunk build $release"
  start=$(date +%s)
  if ! trunk build $release; then
    log "trunk build failed"
    failed=$((failed + 1))
    summary
    exit 1
  fi
  log "trunk build took $(( $(date +%s) - start )) s"
  # The whole workspace, as `cargo test --workspace` builds it: same features, so no rebuild
  # after the tests.
  log "cargo build (CLI)"
  if ! cargo build --workspace; then
    log "CLI build failed"
    failed=$((failed + 1))
    summary
    exit 1
  fi
fi

if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  (cd tests/e2e && npm ci --silent --no-audit --no-fund) || { failed=$((failed + 1)); summary; exit 1; }
fi

if [ "${E2E_SKIP_WASM:-0}" != 1 ]; then
  log "wasm inference tests (WebGPU and CPU vs native)"
  out="$(mktemp)"
  scripts/e2e-wasm.sh 2>&1 | tee "$out"
  line="$(grep -E '^test result:' "$out" | tail -1)"
  p="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line")"
  f="$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")"
  if [ -z "$p" ]; then
    log "the wasm tests did not run to the end"
    failed=$((failed + 1))
  else
    passed=$((passed + p))
    failed=$((failed + f))
  fi
  rm -f "$out"
fi

log "end-to-end specs"
tap="$(mktemp)"
(cd tests/e2e && node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stderr \
  --test-reporter=tap --test-reporter-destination="$tap" \
  specs/*.test.mjs)
p="$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$tap" | tail -1)"
f="$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$tap" | tail -1)"
if [ -z "$p" ]; then
  log "the end-to-end specs did not run to the end"
  failed=$((failed + 1))
else
  passed=$((passed + p))
  failed=$((failed + f))
fi
rm -f "$tap"

summary
