#!/usr/bin/env python3
"""Writes the app's "Try a sample" images into assets/samples/ (8-bit PNG slices).

Source: the MNI ICBM152 2009a symmetric T1 template shipped in the nilearn 0.14.1 wheel on PyPI
(fetched by scripts/data/fetch_mni.sh into data/mni/). Copyright (C) 1993-2009 Louis Collins,
McConnell Brain Imaging Centre, Montreal Neurological Institute, McGill University; use, copying
and distribution permitted without fee provided this notice is kept; no warranty.
Needs numpy, nibabel, pillow (.venv: scripts/setup.sh python, then pip install nibabel).
Run: scripts/data/fetch_mni.sh && .venv/bin/python scripts/data/make_samples.py
"""
import json
import pathlib

import nibabel as nib
import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
T1 = ROOT / "data/mni/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
OUT = ROOT / "assets/samples"
NOTICE = ("MNI ICBM152 2009a symmetric T1 template (nilearn 0.14.1 wheel, PyPI). Copyright (C) 1993-2009 "
          "Louis Collins, McConnell Brain Imaging Centre, Montreal Neurological Institute, McGill University.")


def to_display(plane):
    """Voxel-array slice (first axis = image x) to a display image: superior/anterior at the top."""
    return plane.T[::-1, :]


def main():
    img = nib.as_closest_canonical(nib.load(T1))  # RAS, so the slicing below means what it says
    vol = img.get_fdata(dtype=np.float32)
    lo, hi = np.percentile(vol[vol > 0], [0.5, 99.5])
    scale = lambda a: np.clip((a - lo) / (hi - lo) * 255.0, 0, 255).round().astype(np.uint8)
    slices = {
        "mni_t1_axial.png": ("T1 MRI, axial", to_display(vol[:, :, 85])),
        "mni_t1_coronal.png": ("T1 MRI, coronal", to_display(vol[:, 120, :])),
        "mni_t1_sagittal.png": ("T1 MRI, sagittal", to_display(vol[70, :, :])),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    samples = []
    for file, (name, plane) in slices.items():
        Image.fromarray(scale(plane), "L").save(OUT / file, optimize=True)
        samples.append({"file": file, "name": name, "source": NOTICE})
    (OUT / "manifest.json").write_text(json.dumps({"samples": samples}, indent=1) + "\n")
    print(f"wrote {len(samples)} samples to {OUT}")


if __name__ == "__main__":
    main()
