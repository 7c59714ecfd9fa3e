#!/usr/bin/env python3
"""How the brain model's volume post-processing is chosen: a leave-one-head-out sweep.

    .venv/bin/python scripts/bench/brain_postprocess_cv.py [--model M.unet.safetensors] [--json OUT]

The brain model's card turns the three planes' averaged probabilities into a label map with two
numbers: `threshold` (the mean brain probability a voxel needs) and the radius in mm of the 3-D
opening before the largest component is kept (`{"opening": {"radius_mm": R}}` in `postprocess`).
This script measures every pair of a grid on the three held-out heads of scripts/data/fetch_heads.sh
(Colin27 against BET's mask, FSL's MNI152 head against FSL's mask, pycortex's S1 against its
registered mask; none of them was trained on) and chooses honestly: for each head, the pair that
scores the best mean Dice on the OTHER two heads, then that head's own Dice and gross false
positives (> 5 mm outside its reference) with it. The shipped pair is the one chosen on all three.

The network is run once per head, in PyTorch (scripts/unet_torch.py, the same weights), on the
slices `unet predict --plane all` cuts: the volume reoriented to RAS, each slice in the display
orientation of crates/imaging/src/slicing.rs, scaled by the whole volume's 0.5-99.5 percentiles,
probabilities kept in 1/255 steps as crates/imaging/src/volume_seg.rs keeps them. The first row it
prints, the shipped model's old default (threshold 0.5, no opening), must equal what
scripts/bench/brain_peers.sh measures with `unet predict` (Colin27: Dice 0.9232, 74.8 mL). The
opening is scipy.ndimage.binary_opening with the ellipsoid of voxel offsets within R mm,
the largest component scipy.ndimage.label's, holes binary_fill_holes': the definitions
crates/imaging/src/postprocess.rs is tested against.

Needs torch, numpy, scipy, nibabel, safetensors (scripts/requirements.txt; .venv from
`scripts/setup.sh python`). About 4 minutes a head on 2 cores for the network, then the sweep.
Probabilities are cached in data/cache/ under the model's SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from safetensors.torch import load_file
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from unet_torch import UNet  # noqa: E402

HEADS = {
    "colin27": ("colin27.nii.gz", "colin27_brain.nii.gz"),
    "mni152": ("mni152_head.nii.gz", "mni152_head_brain.nii.gz"),
    "s1": ("s1_head.nii.gz", "s1_head_brain.nii.gz"),
}
THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]
RADII_MM = [0, 2, 3, 4, 5]


def plane_probabilities(model_path: Path, head: Path) -> np.ndarray:
    """uint8 (3, x, y, z) on the file's grid: round(255 p) of the sagittal, coronal, axial runs."""
    sd = load_file(str(model_path))
    base = sd["inc.double_conv.0.weight"].shape[0]
    classes = sd["outc.conv.weight"].shape[0]
    net = UNet(1, classes, bilinear="up1.up.weight" not in sd, base=base)
    net.load_state_dict(sd, strict=True)
    net.eval()
    img = nib.load(str(head))
    v = np.asarray(nib.as_closest_canonical(img).dataobj, dtype=np.float32)
    lo, hi = np.percentile(v, [0.5, 99.5])
    v = np.clip((v - lo) / max(hi - lo, 1e-12), 0, 1).astype(np.float32)
    to_file = nib.orientations.ornt_transform(
        nib.orientations.axcodes2ornt(("R", "A", "S")), nib.orientations.io_orientation(img.affine)
    )
    out = []
    with torch.no_grad():
        for axis in range(3):  # RAS axis along the normal: sagittal, coronal, axial
            # Display orientation: rows from the top (S, or A for axial), columns from the patient's
            # right: both remaining RAS axes reversed, then transposed.
            stack = np.ascontiguousarray(np.moveaxis(v, axis, 0)[:, ::-1, ::-1].transpose(0, 2, 1))
            q = np.zeros(stack.shape, np.uint8)
            for i in range(0, len(stack), 8):
                y = net(torch.from_numpy(stack[i : i + 8])[:, None])
                p = torch.sigmoid(y[:, 0]) if classes == 1 else torch.softmax(y, 1)[:, 1]
                q[i : i + 8] = np.round(p.numpy() * 255).astype(np.uint8)
            q = np.moveaxis(q.transpose(0, 2, 1)[:, ::-1, ::-1], 0, axis)
            out.append(nib.orientations.apply_orientation(q, to_file))
    return np.stack(out)


def ellipsoid(radius_mm: float, spacing) -> np.ndarray:
    half = [int(np.floor(radius_mm / s + 1e-9)) for s in spacing]
    grids = np.meshgrid(*[np.arange(-h, h + 1) * s for h, s in zip(half, spacing)], indexing="ij")
    return sum(g * g for g in grids) <= radius_mm * radius_mm + 1e-9


def largest_component(m: np.ndarray) -> np.ndarray:
    lab, n = ndi.label(m)
    if n <= 1:
        return m
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    return lab == sizes.argmax()


def label_map(q_sum: np.ndarray, threshold: float, radius_mm: float, spacing) -> np.ndarray:
    # Rust: mean probability above `threshold`, in the same 1/255 steps (three planes).
    m = q_sum.astype(np.float64) > threshold * 255.0 * 3
    if radius_mm > 0:
        m = ndi.binary_opening(m, structure=ellipsoid(radius_mm, spacing))
    return ndi.binary_fill_holes(largest_component(m))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "assets/models/brain-extraction.unet.safetensors")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--heads", default=",".join(HEADS),
                    help="comma list of the held-out heads to sweep (default: all three); leave out "
                    "a head the model trained on (`unet train --train-head`)")
    args = ap.parse_args()
    heads = {n: HEADS[n] for n in args.heads.split(",")}
    torch.set_num_threads(max(1, torch.get_num_threads()))
    digest = hashlib.sha256(args.model.read_bytes()).hexdigest()[:16]
    cache = ROOT / "data/cache"
    cache.mkdir(parents=True, exist_ok=True)
    scores: dict[str, dict[tuple[float, float], tuple[float, float, float]]] = {}
    for name, (head_file, ref_file) in heads.items():
        head = ROOT / "data/heads" / head_file
        cached = cache / f"planes-{name}-{digest}.npy"
        if cached.exists():
            q = np.load(cached)
        else:
            print(f"[{name}] running the three planes", file=sys.stderr, flush=True)
            q = plane_probabilities(args.model, head)
            np.save(cached, q)
        img = nib.load(str(head))
        spacing = [float(z) for z in img.header.get_zooms()[:3]]
        ml = float(np.prod(spacing)) / 1000
        ref = np.asarray(nib.load(str(ROOT / "data/heads" / ref_file)).dataobj) > 0.5
        far_outside = ndi.distance_transform_edt(~ref, sampling=spacing) > 5
        q_sum = q.astype(np.uint16).sum(0)
        scores[name] = {}
        for t in THRESHOLDS:
            for r in RADII_MM:
                k = label_map(q_sum, t, r, spacing)
                dice = 2 * float((k & ref).sum()) / float(k.sum() + ref.sum())
                scores[name][(t, r)] = (dice, float((k & far_outside).sum()) * ml, float(k.sum()) * ml)
        print(f"[{name}] swept", file=sys.stderr, flush=True)

    names = list(heads)
    grid = [(t, r) for t in THRESHOLDS for r in RADII_MM]
    print("| threshold | opening (mm) | " + " | ".join(f"{n} Dice / gross FP mL" for n in names) + " | mean Dice |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for t, r in grid:
        cells = [f"{scores[n][(t, r)][0]:.4f} / {scores[n][(t, r)][1]:.1f}" for n in names]
        mean = np.mean([scores[n][(t, r)][0] for n in names])
        print(f"| {t:.2f} | {r} | " + " | ".join(cells) + f" | {mean:.4f} |")

    def choose(on: list[str]) -> tuple[float, float]:
        # Best mean Dice on `on`; ties to the smaller radius, then the lower threshold.
        return max(grid, key=lambda tr: (round(np.mean([scores[n][tr][0] for n in on]), 6), -tr[1], -tr[0]))

    print("\nLeave one head out: the pair chosen on the other two heads, scored on the held-out one")
    print("| held-out head | chosen threshold | chosen opening (mm) | Dice | gross FP (mL) | brain (mL) | old default Dice / gross FP |")
    print("|---|---|---|---|---|---|---|")
    report = {"model_sha256_16": digest, "held_out": {}, "grid": {}}
    for n in names:
        t, r = choose([m for m in names if m != n])
        d, fp, vol = scores[n][(t, r)]
        d0, fp0, _ = scores[n][(0.5, 0)]
        print(f"| {n} | {t:.2f} | {r} | {d:.4f} | {fp:.1f} | {vol:.0f} | {d0:.4f} / {fp0:.1f} |")
        report["held_out"][n] = {"threshold": t, "radius_mm": r, "dice": d, "gross_fp_ml": fp, "brain_ml": vol}
    t, r = choose(names)
    print(f"\nChosen on all {len(names)} heads (shipped): threshold {t:.2f}, opening {r} mm")
    report["chosen"] = {"threshold": t, "radius_mm": r}
    for n in names:
        report["grid"][n] = {f"{t_}_{r_}": list(v) for (t_, r_), v in scores[n].items()}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
