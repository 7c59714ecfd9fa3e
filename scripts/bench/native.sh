#!/usr/bin/env bash
# Native CPU benchmark, one command: `unet bench` against PyTorch eager and ONNX Runtime on the same
# weights, same input size and thread count, in one run; writes the table into BENCHMARKS.md.
#
#   scripts/bench/native.sh
#
# Builds `unet` (profile release-native), makes the classic U-Net (base 64, 1 → 2 classes, transposed
# convolutions: milesial's defaults) with `unet init`, and times it and the default model
# (assets/models/brain-extraction.unet.safetensors) at 256×256 and 512×512. The timing takes about
# 4 minutes on 2 cores, after the build, plus about 3 for the large-image step (35 minutes from scratch there, under load). Settings (environment):
#   BENCH_THREADS   threads for every runtime (default: nproc)
#   BENCH_RUNS_256  timed runs at 256×256 (default 5);  BENCH_RUNS_512 at 512×512 (default 3)
#   BENCH_SPIN      0 (default): PyTorch's OpenMP and ORT's pool sleep when idle instead of spinning
#                   (OMP_WAIT_POLICY=PASSIVE, session.intra_op.allow_spinning=0), which keeps them
#                   fast on a machine shared with other work; 1: the runtimes' own defaults.
#   CARGO_TARGET_DIR  where `unet` is built (default: target); the work files go under it too.
#   BENCH_UNET      an already built `unet` to time instead of building one (recorded in the report)
#   BENCH_GPU       auto (default): also time burn Wgpu against PyTorch CUDA when torch sees a
#                   CUDA GPU; 1 forces that step, 0 skips it
#   BENCH_LARGE     side of the large-image run (default 8192; 0 skips the large-image step)
#   BENCH_LARGE_CHECK  side at which tiled and whole-image masks are compared (default 2048)
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS="${BENCH_THREADS:-$(nproc)}"
RUNS_256="${BENCH_RUNS_256:-5}"
RUNS_512="${BENCH_RUNS_512:-3}"
SPIN="${BENCH_SPIN:-0}"
TARGET="${CARGO_TARGET_DIR:-target}"
WORK="$TARGET/bench-native"
PY=.venv/bin/python

log() { printf '[bench] %s\n' "$*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

[ -x /usr/bin/time ] || { log "needs GNU time for peak RSS: apt-get install time"; exit 1; }
# The peers' Python packages (torch, onnxruntime, onnx, safetensors), pinned in scripts/requirements.txt.
if ! { [ -x "$PY" ] && "$PY" -c 'import torch, onnxruntime, onnx, safetensors' 2>/dev/null; }; then
  scripts/setup.sh python
fi

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average before: $LOAD_BEFORE"
if [ -n "${BENCH_UNET:-}" ]; then
  UNET="$BENCH_UNET"
  log "timing $UNET as given (BENCH_UNET), not building"
else
  log "building unet (cargo build --profile release-native -p unet-cli)"
  cargo build --profile release-native -p unet-cli --target-dir "$TARGET"
  UNET="$TARGET/release-native/unet"
fi

mkdir -p "$WORK"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
CLASSIC="$WORK/classic.unet.safetensors"
"$UNET" init --channels 1 --classes 2 --base 64 --force -o "$CLASSIC" >&2
DEFAULT=assets/models/brain-extraction.unet.safetensors

if [ "$SPIN" = 0 ]; then
  TORCH_ENV=(env OMP_WAIT_POLICY=PASSIVE)
  ORT_FLAGS=(--no-spin)
else
  TORCH_ENV=(env)
  ORT_FLAGS=()
fi

# measure PEER LABEL SIZE COMMAND...: runs the command under /usr/bin/time -v and appends
# "peer, label, size, load, peak RSS (KiB), the command's key=value line" to RESULTS.
measure() {
  local peer="$1" label="$2" size="$3"
  shift 3
  local load line rss
  load="$(load1)"
  log "$peer $label $size (load $load)"
  line="$(/usr/bin/time -v -o "$WORK/time.txt" "$@" | grep 'median_ms=' | tail -1)"
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$peer" "$label" "$size" "$load" "$rss" "$line" >>"$RESULTS"
  printf '  %s peak_rss_mb=%s\n' "$line" "$((rss / 1024))" >&2
}

for label in classic default; do
  model="$CLASSIC"
  [ "$label" = default ] && model="$DEFAULT"
  for size in 256x256 512x512; do
    runs="$RUNS_256"
    [ "$size" = 512x512 ] && runs="$RUNS_512"
    peers_work="$WORK/peers-$label-$size"
    measure unet "$label" "$size" env RAYON_NUM_THREADS="$THREADS" \
      "$UNET" bench --model "$model" --size "$size" --device cpu --runs "$runs"
    # burn's own CPU backend on the same module: the reference the folded network replaced.
    measure unet-burn "$label" "$size" env RAYON_NUM_THREADS="$THREADS" \
      "$UNET" bench --model "$model" --size "$size" --device cpu --cpu-engine burn --runs "$runs"
    measure pytorch "$label" "$size" "${TORCH_ENV[@]}" "$PY" scripts/bench/peers.py torch \
      --model "$model" --size "$size" --runs "$runs" --threads "$THREADS" --work "$peers_work"
    log "exporting $label $size to ONNX"
    "$PY" scripts/bench/peers.py export --model "$model" --size "$size" --work "$peers_work"
    measure onnxruntime "$label" "$size" "$PY" scripts/bench/peers.py ort "${ORT_FLAGS[@]}" \
      --model-name "$(basename "$model")" --size "$size" --runs "$runs" --threads "$THREADS" \
      --work "$peers_work"
  done
done

# GPU: burn's Wgpu (Vulkan) against PyTorch CUDA, on a machine where torch sees a CUDA GPU
# (BENCH_GPU=1 forces the step, BENCH_GPU=0 skips it).
GPU="${BENCH_GPU:-auto}"
if [ "$GPU" = auto ]; then
  GPU=0
  "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null && GPU=1
fi
if [ "$GPU" = 1 ]; then
  for label in classic default; do
    model="$CLASSIC"
    [ "$label" = default ] && model="$DEFAULT"
    for size in 256x256 512x512; do
      measure unet-wgpu "$label" "$size" "$UNET" bench --model "$model" --size "$size" \
        --device wgpu --runs 20
      measure pytorch-cuda "$label" "$size" "$PY" scripts/bench/peers.py torch --device cuda \
        --model "$model" --size "$size" --runs 20 --work "$WORK/peers-$label-$size-cuda"
    done
  done
else
  log "no CUDA GPU seen by torch: GPU step skipped (BENCH_GPU=1 forces it)"
fi

# Large images: the default model on a real slice scaled up. At LARGE_CHECK² (default 2048) the
# tiled mask (the default tiling) is compared with the whole-image mask (--tile 0); at LARGE²
# (default 8192) the time and peak RSS of `unet predict` with the default tiling are recorded.
LARGE="${BENCH_LARGE:-8192}"
LARGE_CHECK="${BENCH_LARGE_CHECK:-2048}"
LARGE_WORK="$WORK/large"
LARGE_RESULTS="$WORK/large.tsv"
: >"$LARGE_RESULTS"
if [ "$LARGE" != 0 ]; then
  mkdir -p "$LARGE_WORK"
  for side in "$LARGE_CHECK" "$LARGE"; do
    "$PY" -c 'import sys; from PIL import Image
Image.open(sys.argv[1]).convert("L").resize((int(sys.argv[2]),) * 2, Image.BILINEAR).save(sys.argv[3])' \
      assets/samples/t1_head_axial.png "$side" "$LARGE_WORK/head$side.png"
  done
  # large_run NAME SIDE ARGS...: times `unet predict` on the SIDE² image, appends a TSV line.
  large_run() {
    local name="$1" side="$2"
    shift 2
    local out="$LARGE_WORK/$name" load start end rss
    mkdir -p "$out"
    load="$(load1)"
    log "predict $name (${side}², load $load)"
    start="$(date +%s%N)"
    /usr/bin/time -v -o "$WORK/time.txt" env RAYON_NUM_THREADS="$THREADS" \
      "$UNET" predict --force --model "$DEFAULT" "$LARGE_WORK/head$side.png" --out "$out" "$@" >&2
    end="$(date +%s%N)"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$side" "$load" "$rss" \
      "$(((end - start) / 1000000))" "$out/head$side.mask.png" >>"$LARGE_RESULTS"
  }
  large_run whole "$LARGE_CHECK" --tile 0
  large_run tiled "$LARGE_CHECK"
  large_run tiled "$LARGE"
fi

LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average after: $LOAD_AFTER"

UNET_BUILD="built by this run"
[ -n "${BENCH_UNET:-}" ] && UNET_BUILD="given as BENCH_UNET=$BENCH_UNET, built $(date -r "$UNET" '+%Y-%m-%d %H:%M')"
export LOAD_BEFORE LOAD_AFTER THREADS RUNS_256 RUNS_512 SPIN UNET_BUILD LARGE_RESULTS GPU
"$PY" - "$WORK/machine.json" <<'EOF'
import json, os, platform, re, subprocess, sys, datetime
import onnx, onnxruntime, torch

def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "?"

cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
mem = re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read())
lock = open("Cargo.lock").read()
burn = re.search(r'name = "burn"\nversion = "([^"]+)"', lock)
spin = os.environ["SPIN"] == "0"
json.dump(dict(
    date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    commit=sh("git", "rev-parse", "--short", "HEAD"),
    dirty=bool(sh("git", "status", "--porcelain", "--untracked-files=no")),
    cpu=cpu.group(1) if cpu else platform.processor(),
    nproc=os.cpu_count(), mem_gib=round(int(mem.group(1)) / 2**20, 1) if mem else "?",
    kernel=f"Linux {platform.release()}", threads=int(os.environ["THREADS"]),
    runs_256=int(os.environ["RUNS_256"]), runs_512=int(os.environ["RUNS_512"]),
    spin_note=("PyTorch with `OMP_WAIT_POLICY=PASSIVE` and ORT with `session.intra_op.allow_spinning=0` "
               "(idle threads sleep; on a shared machine spinning threads fight the other processes, "
               "and PyTorch's default active wait made it up to 11× slower here); unet (rayon) as is."
               if spin else "every runtime with its own defaults (`BENCH_SPIN=1`)."),
    unet_build=os.environ["UNET_BUILD"], rustc=sh("rustc", "--version"), burn=burn.group(1) if burn else "?",
    python=platform.python_version(), torch=torch.__version__, ort=onnxruntime.__version__,
    onnx=onnx.__version__, gpu=os.environ.get("GPU", "0"),
    load_before=[float(x) for x in os.environ["LOAD_BEFORE"].split()],
    load_after=[float(x) for x in os.environ["LOAD_AFTER"].split()],
    labels={"classic": "the classic U-Net, base 64, 1 → 2 classes, transposed convolutions "
                       "(`unet init`, random weights)",
            "default": "the default model, brain extraction, base 16, 1 → 1, bilinear "
                       "(`assets/models/brain-extraction.unet.safetensors`)"},
), open(sys.argv[1], "w"), indent=1)
EOF
"$PY" scripts/bench/report.py "$RESULTS" "$WORK/machine.json" BENCHMARKS.md
