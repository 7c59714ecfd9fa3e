#!/usr/bin/env bash
# Browser benchmark, one command: unet-web against onnxruntime-web in Debian's Chromium, on the
# same weights and input; cold start, download size and the largest image; writes the results
# into BENCHMARKS.md ("Browser: latest run").
#
#   scripts/bench/browser.sh
#
# Builds the site (trunk build --release), exports the default model to ONNX at both sizes
# (scripts/bench/peers.py export), serves dist/, onnxruntime-web's dist/ and the ORT page
# (scripts/bench/browser/page) on 127.0.0.1 and drives Chromium with playwright-core
# (scripts/bench/browser/run.mjs). About 4 minutes on 2 cores with SwiftShader, after the build.
# Settings (environment):
#   BENCH_SKIP_BUILD=1    use dist/ as it is
#   BENCH_MODEL           weights to time (default assets/models/brain-extraction.unet.safetensors)
#   BENCH_CPU_SIZE        unet-web CPU vs ORT WASM EP size, HxW (default 256x256)
#   BENCH_CPU_RUNS        timed runs there (default 10)
#   BENCH_GPU_SIZE        unet-web WebGPU vs ORT WebGPU EP size (default 128x128: headless Chromium's
#                         WebGPU is SwiftShader, on the CPU; use 256x256 on a real GPU)
#   BENCH_GPU_RUNS        timed runs there (default 3)
#   BENCH_LARGEST         image sides for the largest-image probe (default 1024,2048,4096,8192)
#   BENCH_LARGEST_LIMIT_S seconds allowed per size (default 600)
#   BENCH_LIMIT_S         seconds allowed per timing or cold start (default 600)
#   BENCH_PARTS           which parts: forward,cold,size,largest (default all)
#   BENCH_NO_REPORT=1     leave BENCHMARKS.md alone (results stay in target/bench-browser/results.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
export BENCH_WORK="${BENCH_WORK:-$ROOT/target/bench-browser}"
export BENCH_MODEL="${BENCH_MODEL:-$ROOT/assets/models/brain-extraction.unet.safetensors}"
export BENCH_CPU_SIZE="${BENCH_CPU_SIZE:-256x256}"
export BENCH_GPU_SIZE="${BENCH_GPU_SIZE:-128x128}"
PY=.venv/bin/python

log() { printf '[bench] %s\n' "$*" >&2; }

# The Python side only exports the ONNX model (torch, onnx); setup.sh python installs them.
if ! { [ -x "$PY" ] && "$PY" -c 'import torch, onnx, safetensors' 2>/dev/null; }; then
  scripts/setup.sh python
fi
# playwright-core and onnxruntime-web, pinned in tests/e2e/package-lock.json.
if [ ! -d tests/e2e/node_modules/onnxruntime-web ] || [ ! -d tests/e2e/node_modules/playwright-core ]; then
  (cd tests/e2e && npm ci --silent --no-audit --no-fund)
fi

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  # Trunk runs cargo --offline (Trunk.toml): make sure every crate is present first.
  cargo fetch --target wasm32-unknown-unknown >/dev/null 2>&1 || cargo fetch >/dev/null
  log "trunk build --release"
  trunk build --release
fi
[ -f dist/index.html ] || { log "dist/index.html is missing: run without BENCH_SKIP_BUILD=1"; exit 1; }

GFLOP=()
for size in "$BENCH_CPU_SIZE" "$BENCH_GPU_SIZE"; do
  out="$BENCH_WORK/onnx-$size"
  if [ ! -f "$out/model.onnx" ] || [ "$BENCH_MODEL" -nt "$out/model.onnx" ]; then
    log "exporting $(basename "$BENCH_MODEL") to ONNX at $size"
    "$PY" scripts/bench/peers.py export --model "$BENCH_MODEL" --size "$size" --work "$out" 2>/dev/null >&2
  fi
  GFLOP+=("$("$PY" scripts/bench/peers.py flops --model "$BENCH_MODEL" --size "$size" | sed -n 's/.*gflop=\([0-9.]*\).*/\1/p')")
done

node scripts/bench/browser/run.mjs

if [ "${BENCH_NO_REPORT:-0}" != 1 ]; then
  BENCH_COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src crates Cargo.toml Cargo.lock || echo '+changes')" \
  BENCH_CHROMIUM="$("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -1)" \
  BENCH_ORT_VERSION="$(node -p "require('./tests/e2e/node_modules/onnxruntime-web/package.json').version")" \
  BENCH_GFLOP_CPU="${GFLOP[0]}" BENCH_GFLOP_GPU="${GFLOP[1]}" \
  BENCH_LOAD_BEFORE="$LOAD_BEFORE" BENCH_LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)" \
    node scripts/bench/browser/report.mjs "$BENCH_WORK/results.json" BENCHMARKS.md
fi
