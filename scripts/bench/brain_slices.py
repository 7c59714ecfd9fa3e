#!/usr/bin/env python3
"""Brain extraction on single 2-D slices, as a user who drops PNG slices of a head gets it.

    .venv/bin/python scripts/bench/brain_slices.py [--unet BIN] [--model MODEL] [--per-plane N]
                                                   [--span F] [--json OUT.json] [--work DIR]
                                                   [HEAD REFERENCE ...]

(.venv and the heads: scripts/data/fetch_heads.sh; the binary: cargo build --profile
release-native -p unet-cli.)

`brain_peers.py` measures volumes: whole-volume intensity scaling, three planes fused and 3-D
post-processing. A slice exported as an 8-bit PNG gets none of that: `unet predict` scales it by
its own percentiles and thresholds one plane's probability, with no 3-D context. Issue 11 reported
the old model at Dice 0.94 / 0.86 / 0.88 (axial / coronal / sagittal) on 22 such slices of a real
head, so this script measures the same thing on the held-out heads of scripts/data/fetch_heads.sh.

For each head (default: Colin27, FSL's MNI152 and pycortex's S1 with their reference masks):

- the volume is turned to RAS (nibabel's as_closest_canonical) and windowed by its own 0.5-99.5
  percentiles to 8 bits, as a viewer's export would be;
- N slices per plane (default 25) are cut at evenly spaced positions over the middle 60 % of the
  reference brain's extent along that axis (as brain_peers.py's per-plane Dice; `--span 0.8`:
  from 10 % to 90 %), in the orientation a viewer shows (axial: anterior up; coronal and
  sagittal: superior up) and written as PNG;
- `unet predict` segments all of them in one process; a pixel is brain if the mask PNG is > 0;
- printed per plane: the pooled Dice over its slices, the worst slice's Dice, and the positives
  that lie more than 5 mm outside the reference (2-D distance, in cm² summed over the slices).

Nothing is trained on these heads (fetch_heads.sh says which head is used for what).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[2]
HEADS = ROOT / "data" / "heads"
DEFAULT_PAIRS = [
    ("colin27", HEADS / "colin27.nii.gz", HEADS / "colin27_brain.nii.gz"),
    ("mni152", HEADS / "mni152_head.nii.gz", HEADS / "mni152_head_brain.nii.gz"),
    ("s1", HEADS / "s1_head.nii.gz", HEADS / "s1_head_brain.nii.gz"),
]
PLANES = ("axial", "coronal", "sagittal")
GROSS_MM = 5.0


def cut(volume: np.ndarray, plane: str, index: int) -> np.ndarray:
    """One slice of a RAS volume, rows top to bottom as a viewer shows it."""
    if plane == "axial":  # x right, y anterior: anterior up
        return np.flipud(volume[:, :, index].T)
    if plane == "coronal":  # x right, z superior: superior up
        return np.flipud(volume[:, index, :].T)
    return np.flipud(volume[index, :, :].T)  # y anterior, z superior: superior up


def axis_of(plane: str) -> int:
    return {"sagittal": 0, "coronal": 1, "axial": 2}[plane]


def spacing_of(zooms, plane: str) -> tuple[float, float]:
    """(row, column) spacing in mm of a slice cut by `cut`."""
    x, y, z = zooms
    return {"axial": (y, x), "coronal": (z, x), "sagittal": (z, y)}[plane]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2.0 * np.logical_and(a, b).sum() / total


def evaluate(name, head_path, mask_path, unet, model, per_plane, span, work: Path):
    head = nib.as_closest_canonical(nib.load(str(head_path)))
    ref_img = nib.as_closest_canonical(nib.load(str(mask_path)))
    volume = np.asarray(head.dataobj, dtype=np.float32)
    reference = np.asarray(ref_img.dataobj) > 0.5
    if volume.shape != reference.shape:
        sys.exit(f"{name}: head {volume.shape} and mask {reference.shape} differ")
    zooms = head.header.get_zooms()[:3]
    low, high = np.percentile(volume, [0.5, 99.5])
    window = np.clip((volume - low) / max(high - low, 1e-6) * 255.0, 0, 255).astype(np.uint8)

    slices = []
    for plane in PLANES:
        axis = axis_of(plane)
        other = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(reference.any(axis=other))
        first, last = present[0], present[-1]
        for f in np.linspace(0.5 - span / 2, 0.5 + span / 2, per_plane):
            index = int(round(first + f * (last - first)))
            stem = f"{name}_{plane}_{index:03d}"
            Image.fromarray(cut(window, plane, index)).save(work / f"{stem}.png")
            slices.append((plane, index, stem))

    out = work / "out"
    subprocess.run([str(unet), "predict", "--model", str(model), "--out", str(out),
                    *[str(work / f"{s}.png") for _, _, s in slices]],
                   check=True, stdout=subprocess.DEVNULL)

    rows = {}
    for plane in PLANES:
        inter = total = 0
        worst = (2.0, None)
        gross_mm2 = 0.0
        for p, index, stem in slices:
            if p != plane:
                continue
            truth = cut(reference.astype(np.uint8), plane, index) > 0
            pred = np.asarray(Image.open(out / f"{stem}.mask.png").convert("L")) > 0
            inter += np.logical_and(pred, truth).sum()
            total += pred.sum() + truth.sum()
            d = dice(pred, truth)
            if d < worst[0]:
                worst = (d, index)
            sampling = spacing_of(zooms, plane)
            outside = ndimage.distance_transform_edt(~truth, sampling=sampling)
            gross_mm2 += float((pred & (outside > GROSS_MM)).sum() * sampling[0] * sampling[1])
        rows[plane] = {
            "dice": 2.0 * inter / total,
            "worst_dice": worst[0],
            "worst_index": worst[1],
            "gross_fp_cm2": gross_mm2 / 100.0,
            "slices": per_plane,
        }
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pairs", nargs="*", type=Path, help="HEAD REFERENCE pairs (default: the three held-out heads)")
    p.add_argument("--unet", type=Path, default=ROOT / "target" / "release-native" / "unet")
    p.add_argument("--model", type=Path, default=ROOT / "assets" / "models" / "brain-extraction.unet.safetensors")
    p.add_argument("--per-plane", type=int, default=25)
    p.add_argument("--span", type=float, default=0.6, help="the part of the brain's extent sliced (0 to 1)")
    p.add_argument("--json", type=Path)
    p.add_argument("--work", type=Path, help="keep the slices and masks here (default: a temporary folder)")
    args = p.parse_args()
    if len(args.pairs) % 2:
        sys.exit("give HEAD REFERENCE pairs")
    pairs = ([(h.name.split(".")[0], h, m) for h, m in zip(args.pairs[::2], args.pairs[1::2])]
             or DEFAULT_PAIRS)
    if not args.unet.exists():
        sys.exit(f"no unet binary at {args.unet}: cargo build --profile release-native -p unet-cli")
    results = {}
    print("| head | plane | slices | pooled Dice | worst slice (index) | > 5 mm outside (cm², all slices) |")
    print("|---|---|---:|---:|---:|---:|")
    for name, head, mask in pairs:
        if not head.exists():
            sys.exit(f"{head} is missing: scripts/data/fetch_heads.sh")
        if args.work:
            (args.work / name).mkdir(parents=True, exist_ok=True)
            rows = evaluate(name, head, mask, args.unet, args.model, args.per_plane, args.span,
                            args.work / name)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                rows = evaluate(name, head, mask, args.unet, args.model, args.per_plane, args.span,
                                Path(tmp))
        results[name] = rows
        for plane, r in rows.items():
            print(f"| {name} | {plane} | {r['slices']} | {r['dice']:.3f} | "
                  f"{r['worst_dice']:.3f} ({r['worst_index']}) | {r['gross_fp_cm2']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
