#!/usr/bin/env python3
"""Writes the app's "Try a sample" images into assets/samples/ (8-bit PNG slices of a T1 head).

Each sample is the middle slice of one plane's held-out slab (slices the brain model never trained
on in that plane), as `unet train --heldout-only` paints them: the MNI ICBM152 2009a symmetric T1
template's brain with a synthetic skull and scalp around it (see crates/train/src/synth.rs), with
16 pixels of empty margin cropped off.

Source: MNI ICBM152 2009a symmetric template from the nilearn 0.14.1 wheel on PyPI (fetched by
scripts/data/fetch_mni.sh into data/mni/). Copyright (C) 1993-2009 Louis Collins, McConnell Brain
Imaging Centre, Montreal Neurological Institute, McGill University; use, copying and distribution
permitted without fee provided this notice is kept; no warranty.
Needs pillow (.venv: scripts/setup.sh python).
Run: scripts/data/fetch_mni.sh && .venv/bin/python scripts/data/make_samples.py
"""
import json
import pathlib
import subprocess

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "assets/samples"
WORK = ROOT / "runs/heldout"
MARGIN = 16
NOTICE = ("MNI ICBM152 2009a symmetric T1 template (nilearn 0.14.1 wheel, PyPI) with a synthetic skull "
          "and scalp painted by unet-web; a held-out slice of the brain model. Copyright (C) 1993-2009 "
          "Louis Collins, McConnell Brain Imaging Centre, Montreal Neurological Institute, McGill University.")


def main():
    subprocess.run(["cargo", "run", "--quiet", "-p", "unet-cli", "--", "train", "--heldout-only",
                    "--data", str(ROOT / "data/mni"), "--out", str(WORK)], check=True, cwd=ROOT)
    images = sorted((WORK / "heldout/images").glob("*.png"))
    samples = []
    for plane in ("axial", "coronal", "sagittal"):
        slab = [p for p in images if p.name.startswith(plane + "_")]
        middle = slab[len(slab) // 2]
        image = Image.open(middle)
        w, h = image.size
        name = f"t1_head_{plane}.png"
        image.crop((MARGIN, MARGIN, w - MARGIN, h - MARGIN)).save(OUT / name, optimize=True)
        samples.append({"file": name, "name": f"T1 MRI head, {plane}",
                        "source": f"{NOTICE} Slice {middle.stem}."})
    for old in OUT.glob("mni_t1_*.png"):
        old.unlink()
    (OUT / "manifest.json").write_text(json.dumps({"samples": samples}, indent=1) + "\n")
    print(f"wrote {len(samples)} samples to {OUT}")


if __name__ == "__main__":
    main()
