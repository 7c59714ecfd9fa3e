#!/usr/bin/env python3
"""Brain extraction on a whole head: `unet predict` against deepbet, scored against a reference mask.

    scripts/bench/brain_peers.sh [--unet BIN] [--model MODEL] [--plane P ...] [--json OUT.json]
                                 [--peers-only] [HEAD.nii.gz REFERENCE_MASK.nii.gz]

(the wrapper sets up .venv; this script runs in it). Defaults: the head data/heads/colin27.nii.gz
with its mask data/heads/colin27_brain.nii.gz (scripts/data/fetch_heads.sh), the model
assets/models/brain-extraction.unet.safetensors, `unet` from target/release-native or target/release.

What it measures, for each method, on the reference mask's grid (reference = mask > 0.5):

- Dice of the whole volume;
- gross false positives: predicted voxels farther than 5 mm from the reference mask (the distance is
  scipy's Euclidean distance transform in mm, `sampling` = the voxel spacing), in mL: skull, eyes,
  neck kept as brain; gross false negatives: reference voxels deeper than 5 mm inside the reference
  mask that the method missed, in mL: brain cut away;
- the predicted and the reference brain volume, in mL;
- per plane (axial = the voxel axis along S/I, coronal = A/P, sagittal = L/R, from nibabel's
  aff2axcodes): the pooled Dice of the slices through the middle 60 % of the reference brain's extent
  along that axis, and the worst (lowest) per-slice Dice among them;
- the wall-clock seconds of the whole process (start-up, model load, reading, inference, writing the
  mask), with each method given the same number of threads (--threads, default: the CPU count;
  RAYON_NUM_THREADS for unet, torch.set_num_threads and OMP_NUM_THREADS for deepbet;
  OMP_WAIT_POLICY=PASSIVE unless --spin), and its peak RSS (os.wait4, per process; it cannot be
  below the ~20 MB this script holds when it starts the child, so the volumes are only loaded once
  every method has run). Run one after the other, never at the same time.

The methods:

- deepbet 1.0.2 (Fisch et al., "deepbet: Fast brain extraction of T1-weighted MRI using Convolutional
  Neural Networks", Comput Biol Med 2024; github.com/wwu-mmll/deepbet): the PyPI wheel, MIT licence,
  which ships its two TorchScript models (data/models/bbox_model.pt and model.pt, installed as a
  top-level `data/` folder in site-packages). Run in a child process (`brain_peers.py deepbet IN
  OUT`) on the CPU with its defaults: what `deepbet.run_bet([IN], mask_paths=[OUT], threshold=.5,
  n_dilate=0, no_gpu=True)` does for one file, unrolled (`BrainExtraction(no_gpu=True).run(...)`)
  only so that import, model load and segmentation are also timed apart. Its own steps: a 3-D
  network at 128³ finds the bounding box, a second at 256³ segments it, then the largest connected
  component, holes filled; the mask is written on the input's grid.
- unet: `unet predict --model MODEL --out DIR HEAD [--plane P]`, once per --plane given (without
  --plane: the model card's plane); it writes DIR/STEM.mask.nii.gz on the input's grid; label > 0 is
  brain.

Nothing is downloaded except from PyPI (torch, deepbet and their dependencies, pinned in
scripts/requirements.txt, installed by the wrapper); deepbet's weights come inside its wheel.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "assets/models/brain-extraction.unet.safetensors"
DEFAULT_HEAD = ROOT / "data/heads/colin27.nii.gz"
DEFAULT_MASK = ROOT / "data/heads/colin27_brain.nii.gz"
UNET_CANDIDATES = [ROOT / "target/release-native/unet", ROOT / "target/release/unet"]
GROSS_MM = 5.0
MIDDLE = 0.6
PLANES = ("all", "axial", "coronal", "sagittal")


def log(msg: str) -> None:
    print(f"[brain-peers] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The deepbet child process (imports torch; the parent never does)
# ---------------------------------------------------------------------------------------------

def child_deepbet(args) -> None:
    import warnings

    # torch 2.15 marks torch.jit.load (how deepbet loads its TorchScript models) as deprecated.
    warnings.filterwarnings("ignore", category=FutureWarning, module="torch.jit")
    t0 = time.perf_counter()
    import torch

    torch.set_num_threads(args.threads)
    from deepbet import BrainExtraction

    t1 = time.perf_counter()
    bet = BrainExtraction(no_gpu=True)  # loads both TorchScript models
    t2 = time.perf_counter()
    # What run_bet does for one file (run_bet builds the BrainExtraction itself, so it is
    # unrolled here only to time the model load apart); same defaults: threshold .5, no dilation.
    bet.run(args.input, None, args.output, None, 0.5, 0)
    t3 = time.perf_counter()
    print(json.dumps(dict(import_s=round(t1 - t0, 2), load_s=round(t2 - t1, 2),
                          run_s=round(t3 - t2, 2), torch_threads=torch.get_num_threads())),
          flush=True)


# ---------------------------------------------------------------------------------------------
# Running and timing a method
# ---------------------------------------------------------------------------------------------

def run_timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Runs cmd; returns (wall seconds, peak RSS in MB, stdout). Exits on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss / 1024, out  # ru_maxrss is in KiB on Linux


def load_mask_on(path: Path, ref_img) -> "np.ndarray":
    """The mask at `path` (value > 0.5), on the reference's grid: as is when the grids agree,
    else resampled (nearest neighbour through the two affines)."""
    import nibabel as nib
    import numpy as np
    from scipy import ndimage

    img = nib.load(str(path))
    data = np.asanyarray(img.dataobj)
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    mask = data > 0.5
    if mask.shape == ref_img.shape[:3] and np.allclose(img.affine, ref_img.affine, atol=1e-4):
        return mask
    log(f"{path.name}: grid {mask.shape} differs from the reference's {ref_img.shape[:3]}; "
        "resampling (nearest neighbour)")
    vox = np.linalg.inv(img.affine) @ ref_img.affine
    grid = np.indices(ref_img.shape[:3], dtype=np.float32).reshape(3, -1)
    coords = vox[:3, :3] @ grid + vox[:3, 3:4]
    out = ndimage.map_coordinates(mask.astype(np.uint8), coords, order=0, mode="constant", cval=0)
    return out.reshape(ref_img.shape[:3]).astype(bool)


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------

def dice(a_and_b: float, a: float, b: float) -> float:
    return 2.0 * a_and_b / (a + b) if a + b > 0 else float("nan")


class Reference:
    def __init__(self, img):
        import nibabel as nib
        import numpy as np
        from scipy import ndimage

        data = np.asanyarray(img.dataobj)
        while data.ndim > 3 and data.shape[-1] == 1:
            data = data[..., 0]
        self.mask = data > 0.5
        self.zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
        self.voxel_ml = float(np.prod(self.zooms)) / 1000.0
        codes = nib.aff2axcodes(img.affine)
        self.axcodes = "".join(codes)
        names = {"S": "axial", "I": "axial", "A": "coronal", "P": "coronal",
                 "L": "sagittal", "R": "sagittal"}
        self.plane_axis = {names[c]: k for k, c in enumerate(codes)}
        # Distance (mm) of each voxel outside the mask to the mask, and of each voxel inside to
        # the outside.
        self.dist_out = ndimage.distance_transform_edt(~self.mask, sampling=self.zooms)
        self.dist_in = ndimage.distance_transform_edt(self.mask, sampling=self.zooms)
        self.deep = self.mask & (self.dist_in > GROSS_MM)
        # The slices through the middle 60 % of the brain's extent along each axis.
        self.middle = {}
        for plane, axis in self.plane_axis.items():
            others = tuple(k for k in range(3) if k != axis)
            idx = np.flatnonzero(self.mask.any(axis=others))
            lo, hi = idx[0], idx[-1] + 1
            margin = (1.0 - MIDDLE) / 2.0 * (hi - lo)
            self.middle[plane] = (int(np.ceil(lo + margin)), int(np.floor(hi - margin)))

    def score(self, pred) -> dict:
        import numpy as np

        ref = self.mask
        inter = float(np.count_nonzero(pred & ref))
        n_pred, n_ref = float(np.count_nonzero(pred)), float(np.count_nonzero(ref))
        row = dict(
            dice=dice(inter, n_pred, n_ref),
            gross_fp_ml=float(np.count_nonzero(pred & (self.dist_out > GROSS_MM))) * self.voxel_ml,
            gross_fn_ml=float(np.count_nonzero(self.deep & ~pred)) * self.voxel_ml,
            pred_ml=n_pred * self.voxel_ml,
            ref_ml=n_ref * self.voxel_ml,
        )
        for plane in ("axial", "coronal", "sagittal"):
            axis = self.plane_axis[plane]
            lo, hi = self.middle[plane]
            sl = [slice(None)] * 3
            sl[axis] = slice(lo, hi)
            p, r = pred[tuple(sl)], ref[tuple(sl)]
            others = tuple(k for k in range(3) if k != axis)
            i_s = np.count_nonzero(p & r, axis=others).astype(float)
            p_s = np.count_nonzero(p, axis=others).astype(float)
            r_s = np.count_nonzero(r, axis=others).astype(float)
            per_slice = [dice(i, a, b) for i, a, b in zip(i_s, p_s, r_s) if a + b > 0]
            row[f"dice_{plane}"] = dice(float(i_s.sum()), float(p_s.sum()), float(r_s.sum()))
            row[f"min_slice_dice_{plane}"] = float(min(per_slice)) if per_slice else float("nan")
        return row


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

def sha256_prefix(path: Path, n: int = 12) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]


def embedded_card(model: Path) -> dict:
    """The model card inside a `.unet.safetensors` file (empty when there is none)."""
    try:
        with open(model, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            meta = json.loads(f.read(n)).get("__metadata__", {})
        return json.loads(meta["unet_web.model_card"])
    except Exception:
        return {}


def card_plane(model: Path) -> str:
    """The plane of the model card inside a `.unet.safetensors` file; axial when none."""
    return embedded_card(model).get("plane") or "axial"


def pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def fmt(x: float, digits: int) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "deepbet":
        p = argparse.ArgumentParser(prog="brain_peers.py deepbet")
        p.add_argument("input")
        p.add_argument("output")
        p.add_argument("--threads", type=int, default=os.cpu_count())
        child_deepbet(p.parse_args(sys.argv[2:]))
        return

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("head", nargs="?", type=Path, default=DEFAULT_HEAD)
    p.add_argument("reference", nargs="?", type=Path, default=DEFAULT_MASK)
    p.add_argument("--unet", type=Path, help="the unet binary (default: target/release-native/unet, "
                   "else target/release/unet)")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--plane", action="append", choices=PLANES,
                   help="run unet with --plane P (repeatable; one row each); default: the card's")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json", type=Path, help="also write the numbers here")
    p.add_argument("--card", type=Path, help="a model card JSON file (e.g. assets/models/"
                   "brain-extraction.card.json; made from --model's embedded card if missing) "
                   "whose metrics get this head's numbers for the "
                   "first unet row (STEM_dice, STEM_gross_fp_ml, STEM_dice_axial, ...) and "
                   "deepbet's (deepbet_STEM_dice, deepbet_STEM_gross_fp_ml)")
    p.add_argument("--peers-only", action="store_true", help="skip unet (deepbet only)")
    p.add_argument("--no-deepbet", action="store_true", help="skip deepbet (unet only)")
    p.add_argument("--spin", action="store_true", help="leave OpenMP's idle threads spinning "
                   "(default: OMP_WAIT_POLICY=PASSIVE, kinder to a shared machine)")
    p.add_argument("--work", type=Path, help="keep the masks in this folder (default: a temporary "
                   "folder, removed)")
    args = p.parse_args()

    for path in (args.head, args.reference):
        if not path.is_file():
            sys.exit(f"error: {path}: no such file (scripts/data/fetch_heads.sh makes data/heads)")
    unet = None
    if not args.peers_only:
        unet = args.unet or next((c for c in UNET_CANDIDATES if c.is_file()), None)
        if unet is None or not Path(unet).is_file():
            sys.exit("error: no unet binary (build it with `cargo build --profile release-native "
                     "-p unet-cli`, give --unet PATH, or pass --peers-only)")
        if not args.model.is_file():
            sys.exit(f"error: {args.model}: no such model")

    tmp = None
    if args.work:
        work = args.work
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="brain-peers-")
        work = Path(tmp.name)

    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(args.threads)
    env["RAYON_NUM_THREADS"] = str(args.threads)
    if not args.spin:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    load_before = os.getloadavg()
    # The methods run first, scored afterwards: a child's peak RSS (ru_maxrss) counts the
    # parent's pages it was forked with, so the parent stays small (no numpy, no volumes) until
    # every method has run.
    runs = []

    def add(method: str, pred_path: Path, wall: float, rss: float, extra: dict) -> None:
        runs.append((method, pred_path, wall, rss, extra))
        log(f"{method}: {wall:.1f} s, peak RSS {rss:.0f} MB")

    if not args.no_deepbet:
        out = work / "deepbet.mask.nii.gz"
        log(f"deepbet (load {os.getloadavg()[0]:.2f})")
        wall, rss, stdout = run_timed(
            [sys.executable, __file__, "deepbet", str(args.head.resolve()), str(out),
             "--threads", str(args.threads)], env)
        inner = json.loads(stdout.strip().splitlines()[-1])
        add("deepbet", out, wall, rss, dict(inner=inner))

    if unet is not None:
        default_plane = card_plane(args.model)
        for plane in args.plane or [None]:
            label = f"unet ({plane})" if plane else f"unet (card: {default_plane})"
            out_dir = work / ("unet-" + (plane or "default"))
            out_dir.mkdir(exist_ok=True)
            cmd = [str(unet), "predict", "--model", str(args.model), "--out", str(out_dir),
                   str(args.head)]
            if plane:
                cmd += ["--plane", plane]
            log(f"{label} (load {os.getloadavg()[0]:.2f}): {' '.join(cmd)}")
            wall, rss, _ = run_timed(cmd, env)
            masks = sorted(out_dir.glob("*.mask.nii.gz"))
            if len(masks) != 1:
                sys.exit(f"error: expected one mask in {out_dir}, found {masks}")
            add(label, masks[0], wall, rss, dict(plane=plane or default_plane))

    load_after = os.getloadavg()

    import nibabel as nib

    ref_img = nib.load(str(args.reference))
    head_img = nib.load(str(args.head))
    ref = Reference(ref_img)
    log(f"reference {args.reference.name}: {ref.mask.shape} voxels of "
        f"{'×'.join(f'{z:g}' for z in ref.zooms)} mm, {ref.axcodes}, "
        f"{ref.mask.sum() * ref.voxel_ml:.1f} mL; middle 60 % slices {ref.middle}")
    rows = []
    for method, pred_path, wall, rss, extra in runs:
        pred = load_mask_on(pred_path, ref_img)
        assert pred.shape == ref.mask.shape, (pred.shape, ref.mask.shape)
        rows.append(dict(method=method, seconds=round(wall, 2), peak_rss_mb=round(rss),
                         **ref.score(pred), **extra))
    meta = dict(
        head=str(args.head), reference=str(args.reference),
        shape=list(ref.mask.shape), zooms_mm=list(ref.zooms), axcodes=ref.axcodes,
        head_matches_reference_grid=bool(head_img.shape[:3] == ref_img.shape[:3] and
                                         (abs(head_img.affine - ref_img.affine) < 1e-4).all()),
        middle_slices={k: list(v) for k, v in ref.middle.items()},
        threads=args.threads, cpu_count=os.cpu_count(), omp_wait_policy=env.get("OMP_WAIT_POLICY"),
        python=platform.python_version(), deepbet=pkg_version("deepbet"),
        torch=pkg_version("torch"), unet=str(unet) if unet else None,
        model=str(args.model),
        model_sha256=sha256_prefix(args.model) if args.model.is_file() else None,
        load_before=[round(x, 2) for x in load_before], load_after=[round(x, 2) for x in load_after],
    )

    print(f"head: {args.head}  reference: {args.reference}  ({meta['shape'][0]}×{meta['shape'][1]}×"
          f"{meta['shape'][2]}, {'×'.join(f'{z:g}' for z in ref.zooms)} mm, {ref.axcodes})")
    print(f"deepbet {meta['deepbet']}, torch {meta['torch']}; unet {meta['unet'] or '(skipped)'}"
          + (f", model {args.model.name} sha256 {meta['model_sha256']}…" if meta["model_sha256"] else ""))
    print(f"threads: {args.threads} (of {os.cpu_count()} CPUs); load average before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)}")
    print()
    print("| method | Dice | gross FP (mL, > 5 mm out) | gross FN (mL, > 5 mm in) | brain (mL) "
          "| reference (mL) | Dice axial / coronal / sagittal | worst slice axial / coronal / sagittal "
          "| seconds | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        planes = " / ".join(fmt(r[f"dice_{p}"], 4) for p in ("axial", "coronal", "sagittal"))
        worst = " / ".join(fmt(r[f"min_slice_dice_{p}"], 3) for p in ("axial", "coronal", "sagittal"))
        print(f"| {r['method']} | {fmt(r['dice'], 4)} | {r['gross_fp_ml']:.1f} | "
              f"{r['gross_fn_ml']:.1f} | {r['pred_ml']:.0f} | {r['ref_ml']:.0f} | {planes} | "
              f"{worst} | {r['seconds']:.1f} | {r['peak_rss_mb']} |")
    for r in rows:
        if "inner" in r:
            i = r["inner"]
            print(f"\n{r['method']}: import torch+deepbet {i['import_s']} s, model load "
                  f"{i['load_s']} s, read + segment + write {i['run_s']} s "
                  f"(torch threads {i['torch_threads']})")
    print(f"\nPer-plane Dice: pooled over the slices through the middle 60 % of the reference "
          f"brain's extent (voxel index ranges {meta['middle_slices']}); worst slice: the lowest "
          f"per-slice Dice among them.")
    if args.json:
        args.json.write_text(json.dumps(dict(meta=meta, rows=rows), indent=1) + "\n")
        log(f"wrote {args.json}")
    if args.card:
        if not args.card.exists():
            args.card.write_text(json.dumps(embedded_card(args.model)))
        write_card_metrics(args.card, args.head, rows)
    if tmp is not None:
        tmp.cleanup()


def write_card_metrics(card_path: Path, head: Path, rows: list) -> None:
    """Puts the held-out head's figures into a model card's metrics, keyed by the head's stem."""
    stem = head.name.split(".")[0]
    card = json.loads(card_path.read_text())
    metrics = card.setdefault("metrics", {})
    keys = ("dice", "gross_fp_ml", "gross_fn_ml", "dice_axial", "dice_coronal", "dice_sagittal",
            "min_slice_dice_axial", "min_slice_dice_coronal", "min_slice_dice_sagittal", "seconds")
    for r in rows:
        if r["method"].startswith("unet"):
            for k in keys:
                metrics[f"{stem}_{k}"] = round(float(r[k]), 4)
            break
    for r in rows:
        if r["method"] == "deepbet":
            for k in ("dice", "gross_fp_ml", "seconds"):
                metrics[f"deepbet_{stem}_{k}"] = round(float(r[k]), 4)
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    log(f"wrote {stem}_* metrics into {card_path}")


if __name__ == "__main__":
    main()
