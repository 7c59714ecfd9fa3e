#!/usr/bin/env python3
"""A head's mid slices with brain-mask outlines, to check a prediction by eye.

    .venv/bin/python scripts/bench/brain_picture.py HEAD.nii.gz OUT.png REF.nii.gz [PRED.nii.gz ...]

One row: the axial, coronal and sagittal slices through the reference mask's centre of mass,
with the reference outlined in red and each prediction (e.g. `unet predict`'s STEM.mask.nii.gz,
label > 0) in cyan, then yellow. Drawn by scripts/data/make_heads.py's check_picture (the same
orientation and windowing as docs/heads_check.png). Needs numpy, scipy, nibabel, pillow
(scripts/requirements.txt).
"""
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from make_heads import check_picture  # noqa: E402

COLOURS = [(0.0, 1.0, 1.0), (1.0, 1.0, 0.0)]


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    head, out, ref, preds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    img = nib.load(head)
    masks = [(np.asanyarray(nib.load(ref).dataobj) > 0.5, (1.0, 0.0, 0.0))]
    texts, colours = [f"{Path(head).name}: ", f"reference {Path(ref).name}"], [(1.0,) * 3, (1.0, 0.0, 0.0)]
    for pred, colour in zip(preds, COLOURS):
        masks.append((np.asanyarray(nib.load(pred).dataobj) > 0.5, colour))
        texts += [", ", Path(pred).name]
        colours += [(1.0,) * 3, colour]
    check_picture([(np.asanyarray(img.dataobj), img.affine, masks)], [(texts, colours)], out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
