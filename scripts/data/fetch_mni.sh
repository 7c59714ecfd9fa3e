#!/usr/bin/env bash
# Fetches the MNI ICBM152 2009a symmetric template (T1, already skull-stripped, and the GM and WM
# probability maps)
# from the nilearn 0.14.1 wheel on PyPI into data/mni/. Idempotent.
#
# Source: nilearn 0.14.1 (PyPI), nilearn/datasets/data/mni_icbm152_{t1,gm,wm}_tal_nlin_sym_09a_converted.nii.gz
# Data:   MNI ICBM 152 non-linear symmetric 2009a, V. Fonov, A. Evans, R. McKinstry, C. Almli,
#         D. Collins (NeuroImage 2009; 2011). Copyright (C) 1993-2009 Louis Collins, McConnell Brain
#         Imaging Centre, Montreal Neurological Institute, McGill University. Permission to use,
#         copy, modify and distribute for any purpose and without fee, provided the copyright
#         notice appears in all copies; provided "as is" without warranty.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=data/mni
if [ -f "$out/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz" ]; then exit 0; fi
mkdir -p data/cache "$out"
[ -f data/cache/nilearn-0.14.1-py3-none-any.whl ] ||
  python3 -m pip download -q --no-deps nilearn==0.14.1 -d data/cache
python3 - <<'PY'
import zipfile, pathlib
out = pathlib.Path("data/mni")
with zipfile.ZipFile("data/cache/nilearn-0.14.1-py3-none-any.whl") as wheel:
    for kind in ("t1", "gm", "wm"):
        name = f"nilearn/datasets/data/mni_icbm152_{kind}_tal_nlin_sym_09a_converted.nii.gz"
        (out / pathlib.Path(name).name).write_bytes(wheel.read(name))
PY
echo "MNI template in $out"
