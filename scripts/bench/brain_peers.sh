#!/usr/bin/env bash
# Brain extraction on a whole head, `unet predict` against deepbet 1.0.2 (PyPI wheel, MIT, its weights
# inside the wheel), scored against a reference brain mask: Dice, gross false positives/negatives
# (> 5 mm off the reference), volumes, Dice per plane and the worst slice, seconds, peak RSS.
# scripts/bench/brain_peers.py says what each number is.
#
#   scripts/bench/brain_peers.sh [--unet BIN] [--model MODEL] [--plane all|axial|coronal|sagittal ...]
#                                [--threads T] [--json OUT.json] [--peers-only] [HEAD.nii.gz MASK.nii.gz]
#
# Defaults: data/heads/colin27.nii.gz and colin27_brain.nii.gz (scripts/data/fetch_heads.sh), the model
# assets/models/brain-extraction.unet.safetensors, unet from target/release-native or target/release
# (not built here: `cargo build --profile release-native -p unet-cli`). --peers-only: deepbet alone.
# Sets up .venv once (torch, deepbet, scipy, nibabel pinned in scripts/requirements.txt; torch from
# PyPI is the CUDA build, about 3 GB with its nvidia-* wheels, run here on the CPU). Nothing is
# downloaded except from PyPI. deepbet takes about 12 s on 2 cores (Colin27, under load).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python

want() { "$PY" -c "from importlib.metadata import version as v; import sys
sys.exit(0 if v('deepbet') == '1.0.2' and v('torch') == '2.15.0' else 1)" 2>/dev/null &&
  "$PY" -c 'import deepbet, scipy, nibabel' 2>/dev/null; }
if ! { [ -x "$PY" ] && want; }; then
  [ -x "$PY" ] || python3 -m venv .venv
  printf '[brain-peers] installing the pinned packages into .venv (scripts/requirements.txt)\n' >&2
  # Only the packages this benchmark needs, at the versions requirements.txt pins.
  pins="$(grep -E '^(torch|numpy|scipy|nibabel|deepbet|connected-components-3d|fill-voids|fastremap|pandas|customtkinter|darkdetect|tqdm)==' \
    scripts/requirements.txt)"
  # shellcheck disable=SC2086
  .venv/bin/pip install -q $pins
fi
exec "$PY" scripts/bench/brain_peers.py "$@"
