#!/usr/bin/env python3
"""Brain masks for the whole heads in data/heads/ (run by scripts/data/fetch_heads.sh).

Inputs (fetched by fetch_heads.sh and fetch_mni.sh; their headers give sources and licences):
  data/heads/mean_head.nii.gz  pydeface 2.1.0's mean_reg2mean.nii.gz (MIT, pydeface's authors):
                               a mean whole head with skull, face and neck, no brain mask.
  data/heads/colin27.nii.gz    MRIcron's ch2.nii.gz (Debian mricron-data): Colin27 (Holmes et al.
                               1998, MNI), one real head: the HELD-OUT TEST HEAD, never trained on.
  CH2BET                       the same head brain-extracted with FSL BET (mricron-data).
  data/heads/s1_head.nii.gz    pycortex 1.4.0's example subject S1 (BSD-2): one adult's single T1
                               scan with skull, face and neck: the THIRD HELD-OUT HEAD.
  data/heads/s1_pia_{lh,rh}.gii  S1's FreeSurfer pial surfaces (pycortex), in the scan's mm.
  data/mni/                    MNI ICBM152 2009a symmetric T1 (skull-stripped), GM and WM maps.

Outputs:
  data/heads/mean_head_brain.nii.gz  uint8 0/1 on the mean head's grid: the MNI brain mask, made
      as crates/train/src/template.rs makes it (GM + WM > 0.5, closed with a ball of radius 2.5
      voxels, holes filled in 3-D and per slice in all planes), carried onto the mean head by a
      registration of the MNI T1 (dipy): centres of mass, translation and rigid by mutual
      information against the whole head (4 and 2 mm); a 12-parameter affine maximising the
      correlation inside the brain (4 and 2 mm); SyN (cross-correlation) against the head cut
      5 mm around the affine brain. The warped mask is thresholded at 0.5, cut to its largest
      component and its holes filled as above.
  data/heads/colin27_brain.nii.gz    uint8 0/1 on Colin27's grid: ch2bet > 0 (ch2bet is ch2 times
      BET's mask, and ch2 is never 0 inside the head, so this is BET's mask), holes filled in 3-D
      (there are none). Not filled per slice: BET left thin gaps along the midline, open to the
      outside in 3-D, that the training masks' per-slice filling would close (7,069 voxels,
      0.4 %, 7 mL); they are left as BET drew them.
  data/heads/s1_head_brain.nii.gz    uint8 0/1 on S1's grid: the MNI brain mask registered onto
      S1 exactly as onto the mean head. Checked against S1's own pial surfaces (filled, closed as
      the MNI mask is): the share of that cerebrum inside the mask, and the mask's volume more than
      5 mm outside it above the cerebellum (printed, and drawn in the picture).
  docs/heads_check.png               the heads' mid slices with the mask outlines.
Unless --no-colin-check, the same registration also labels Colin27 (about 2 minutes more); its
Dice against the BET mask says how accurate the mean head's registration labelling is. Colin27
only checks the method: nothing of it goes into the mean head's mask.
Prints each mask's brain volume in mL. Deterministic; about 5 minutes on 2 cores.
"""
import argparse
import logging
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from scipy import ndimage, optimize  # noqa: E402

from dipy.align.imaffine import (  # noqa: E402
    AffineMap,
    AffineRegistration,
    MutualInformationMetric,
    transform_centers_of_mass,
)
from dipy.align.imwarp import SymmetricDiffeomorphicRegistration  # noqa: E402
from dipy.align.metrics import CCMetric  # noqa: E402
from dipy.align.reslice import reslice  # noqa: E402
from dipy.align.transforms import RigidTransform3D, TranslationTransform3D  # noqa: E402

HEADS = "data/heads"
MNI = "data/mni"
CH2BET = "data/cache/mricron-data/usr/share/mricron/templates/ch2bet.nii.gz"
CHECK_PNG = "docs/heads_check.png"
CLOSING_RADIUS = 2.5  # voxels, as crates/train/src/template.rs
logging.getLogger("dipy").setLevel(logging.WARNING)


def log(msg):
    print(f"[make_heads] {msg}", flush=True)


# --- The MNI brain mask, as crates/train/src/template.rs makes it --------------------------------


def chamfer_ball(radius):
    """Offsets within `radius` voxels in the 3-4-5 chamfer metric of template.rs (whose dilation by
    a distance threshold is exactly the dilation by this ball)."""
    r = int(np.ceil(radius))
    g = np.mgrid[-r : r + 1, -r : r + 1, -r : r + 1]
    a = np.sort(np.abs(g), axis=0)  # a[0] <= a[1] <= a[2]
    cost = 5 * a[0] + 4 * (a[1] - a[0]) + 3 * (a[2] - a[1])
    return cost <= 3 * radius


def fill_holes_all(mask):
    """Holes filled in 3-D (6-connected background), then in every slice of the axial, coronal and
    sagittal planes (4-connected), in template.rs's order."""
    mask = ndimage.binary_fill_holes(mask)
    for axis in (2, 1, 0):  # axial (k), coronal (j), sagittal (i) of a RAS volume
        moved = np.moveaxis(mask, axis, 0)
        for s in range(moved.shape[0]):
            moved[s] = ndimage.binary_fill_holes(moved[s])
    return mask


def mni_brain_mask(gm, wm):
    pad = 10  # template.rs closes a padded volume; keep the erosion away from the border
    mask = (gm / max(gm.max(), 1e-6) + wm / max(wm.max(), 1e-6)) > 0.5
    mask = np.pad(mask, pad)
    ball = chamfer_ball(CLOSING_RADIUS)
    mask = ndimage.binary_erosion(ndimage.binary_dilation(mask, ball), ball, border_value=1)
    mask = fill_holes_all(mask)
    return mask[pad:-pad, pad:-pad, pad:-pad]


# --- Registration --------------------------------------------------------------------------------


def largest_component(mask):
    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax()


def dilate_mm(mask, mm, zooms):
    """Dilation by a ball of `mm` millimetres (Euclidean distance transform, anisotropic voxels)."""
    return ndimage.distance_transform_edt(~mask, sampling=zooms) <= mm


def resample_2mm(vol, affine):
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    return reslice(vol.astype(np.float32), affine, zooms, (2.0, 2.0, 2.0))


def rigid_mi(head, head_aff, t1, t1_aff):
    """Centres of mass, then translation and rigid by mutual information against the whole head
    (at 4 and 2 mm). Only rigid: with scaling, the brain-only T1 drifts inside the whole head."""
    static, static_aff = resample_2mm(head, head_aff)
    moving, moving_aff = resample_2mm(t1, t1_aff)
    reg = AffineRegistration(
        metric=MutualInformationMetric(nbins=32, sampling_proportion=None),
        level_iters=[200, 100], sigmas=[1.0, 0.0], factors=[2, 1], verbosity=0,
    )
    current = transform_centers_of_mass(static, static_aff, moving, moving_aff).affine
    for transform in (TranslationTransform3D(), RigidTransform3D()):
        current = reg.optimize(static, moving, transform, None, static_grid2world=static_aff,
                               moving_grid2world=moving_aff, starting_affine=current).affine
    return current


def affine_ncc(head, head_aff, t1, t1_aff, points, start, levels=((4, 2.0), (2, 1.0))):
    """12-parameter affine maximising the correlation of the T1 and the head at the T1's voxels in
    `points` (the brain and a few mm of background around it), sampled every 4 then 2 voxels.
    Mutual information did worse here: whatever the masks, it shrank or grew the brain by 20 %.
    Returns the static-world -> moving-world matrix (dipy's convention)."""
    ijk = np.argwhere(points)
    centre = t1_aff[:3, :3] @ ijk.mean(axis=0) + t1_aff[:3, 3]
    to_head_voxels = np.linalg.inv(head_aff)
    start_inv = np.linalg.inv(start)  # moving world -> static world
    zooms = np.sqrt((head_aff[:3, :3] ** 2).sum(axis=0))
    params = np.zeros(12)  # translation (mm), then the linear part's change (x100), about `centre`

    def moving_to_static(p):
        lin = np.eye(3) + p[3:].reshape(3, 3) / 100.0
        m = np.eye(4)
        m[:3, :3] = lin
        m[:3, 3] = centre - lin @ centre + p[:3]
        return start_inv @ m

    for step, sigma in levels:
        grid = np.zeros_like(points)
        grid[::step, ::step, ::step] = True
        pts = np.argwhere(points & grid)
        mv = ndimage.gaussian_filter(t1.astype(np.float32), sigma)[tuple(pts.T)].astype(np.float64)
        mv = (mv - mv.mean()) / mv.std()
        world = np.c_[pts @ t1_aff[:3, :3].T + t1_aff[:3, 3], np.ones(len(pts))].T
        smooth = ndimage.gaussian_filter(head.astype(np.float32), sigma / zooms)

        def cost(p):
            vox = (to_head_voxels @ moving_to_static(p) @ world)[:3]
            sv = ndimage.map_coordinates(smooth, vox, order=1, mode="constant", cval=0.0)
            sd = sv.std()
            return 1.0 if sd == 0 else -float(mv @ (sv - sv.mean()) / (len(sv) * sd))

        res = optimize.minimize(cost, params, method="Powell",
                                options={"xtol": 1e-3, "ftol": 1e-6, "maxfev": 4000})
        params = res.x
    return np.linalg.inv(moving_to_static(params)), -res.fun


def register_mni(head, head_aff, t1, t1_aff, mni_mask, name, syn_iters, syn_margin):
    """Carries `mni_mask` (on the T1's grid) onto `head`: a float map 0-1 on the head's grid."""
    zooms = np.sqrt((head_aff[:3, :3] ** 2).sum(axis=0))
    head = head.astype(np.float32)
    t1 = t1.astype(np.float32)
    t0 = time.time()
    rigid = rigid_mi(head, head_aff, t1, t1_aff)
    log(f"{name}: rigid (mutual information, whole head) {time.time() - t0:.0f} s")
    affine, corr = affine_ncc(head, head_aff, t1, t1_aff, dilate_mm(mni_mask, 4.0, (1, 1, 1)),
                              rigid)
    aff_map = AffineMap(affine, domain_grid_shape=head.shape, domain_grid2world=head_aff,
                        codomain_grid_shape=t1.shape, codomain_grid2world=t1_aff)
    aff_mask = aff_map.transform(mni_mask.astype(np.float32)) > 0.5
    log(f"{name}: affine (correlation {corr:.3f}, inside the brain) {time.time() - t0:.0f} s, "
        f"{volume_ml(aff_mask, head_aff):.0f} mL")
    # SyN (CC) in a box around the brain, on the head cut to `syn_margin` mm around the affine
    # brain: the skull-stripped T1 against a roughly skull-stripped head, so that the bright scalp
    # cannot pull the brain's edge. Beyond the margin the head is set to the dark shell's level
    # (the 5th percentile of the head in the margin), not to 0: CC ignores contrast, and a step
    # from the dark CSF and skull to 0 would pull the brain out to the cut (with 0 the mean head's
    # brain grew with the margin, 1356 mL at 4 mm, 1651 mL at 10 mm; with this, 1268 mL at 5 mm
    # and 1270 at 10 mm).
    around = dilate_mm(aff_mask, syn_margin, zooms)
    dark = float(np.percentile(head[around & ~aff_mask], 5))
    box = tuple(slice(max(int(a.min()) - 4, 0), int(a.max()) + 5) for a in np.nonzero(around))
    crop_aff = head_aff.copy()
    crop_aff[:3, 3] = head_aff[:3, :3] @ [b.start for b in box] + head_aff[:3, 3]
    syn = SymmetricDiffeomorphicRegistration(
        CCMetric(3, sigma_diff=2.0, radius=4), level_iters=syn_iters
    )
    mapping = syn.optimize(np.where(around[box], head[box], dark), t1, static_grid2world=crop_aff,
                           moving_grid2world=t1_aff, prealign=affine)
    warped = np.zeros(head.shape, np.float32)
    warped[box] = mapping.transform(mni_mask.astype(np.float32), interpolation="linear")
    log(f"{name}: SyN (cross-correlation) {time.time() - t0:.0f} s")
    return warped


def pial_cerebrum(paths, img):
    """The cerebrum inside FreeSurfer pial surfaces (GIFTI, in the scan's world mm) on `img`'s grid:
    each hemisphere's triangles sampled every sixth of an edge into voxels (a closed shell), its
    inside filled, both hemispheres joined, then closed and filled as the MNI mask is (so that the
    sulcal CSF between gyri counts, as in every mask here)."""
    to_voxels = np.linalg.inv(img.affine)
    cerebrum = np.zeros(img.shape, bool)
    for path in paths:
        surface = nib.load(path)
        vox = surface.darrays[0].data.astype(np.float64) @ to_voxels[:3, :3].T + to_voxels[:3, 3]
        tri = surface.darrays[1].data
        a, b, c = vox[tri[:, 0]], vox[tri[:, 1]], vox[tri[:, 2]]
        shell = np.zeros(img.shape, bool)
        n = 6
        for i in range(n + 1):
            for j in range(n + 1 - i):
                p = np.rint((a * i + b * j + c * (n - i - j)) / n).astype(int)
                shell[tuple(p.T)] = True
        cerebrum |= ndimage.binary_fill_holes(shell)
    pad = 10
    padded = np.pad(cerebrum, pad)
    ball = chamfer_ball(CLOSING_RADIUS)
    padded = ndimage.binary_erosion(ndimage.binary_dilation(padded, ball), ball, border_value=1)
    return fill_holes_all(padded)[pad:-pad, pad:-pad, pad:-pad]


def finish_mask(warped):
    mask = largest_component(warped > 0.5)
    return fill_holes_all(mask)


# --- Outputs -------------------------------------------------------------------------------------


def save_mask(mask, ref, path):
    img = nib.Nifti1Image(mask.astype(np.uint8), ref.affine, ref.header)
    img.set_data_dtype(np.uint8)
    img.header["scl_slope"] = 1
    img.header["scl_inter"] = 0
    img.header["cal_min"] = 0
    img.header["cal_max"] = 1
    img.header["descrip"] = b"brain mask 0/1"
    nib.save(img, path)


def volume_ml(mask, affine):
    return float(mask.sum()) * abs(np.linalg.det(affine[:3, :3])) / 1000.0


def dice(a, b):
    return 2.0 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


def outline(mask):
    return mask & ~ndimage.binary_erosion(mask)


def check_picture(rows, captions, path):
    """Each row: a head's axial, coronal, sagittal slices through its mask's centre of mass, grey,
    with mask outlines drawn in their colours; neurological convention (the head's right on the
    right), anterior up in axial, anterior right in sagittal. Rows are (volume, affine,
    [(mask, rgb), ...]); each caption is ([text parts], [their rgb colours])."""
    tiles_rows = []
    for vol, aff, masks in rows:
        # Closest canonical (RAS) voxel order for display; mean head's affine is near-RAS already.
        ornt = nib.orientations.io_orientation(aff)
        vol = nib.orientations.apply_orientation(vol, ornt)
        masks = [(nib.orientations.apply_orientation(m, ornt).astype(bool), c) for m, c in masks]
        zooms = np.sqrt((aff[:3, :3] ** 2).sum(axis=0))[ornt[:, 0].astype(int)]
        # Window on the brain's intensities, so that the dark CSF and skull around it show dark.
        lo, hi = np.percentile(vol[masks[0][0]], [1, 99.5])
        lo *= 0.5
        grey = np.clip((vol.astype(np.float32) - lo) / (hi - lo), 0, 1)
        c = [int(round(x)) for x in ndimage.center_of_mass(masks[0][0])]
        cuts = [
            (lambda v: v[:, :, c[2]], (zooms[0], zooms[1])),  # axial: x right, y up
            (lambda v: v[:, c[1], :], (zooms[0], zooms[2])),  # coronal: x right, z up
            (lambda v: v[c[0], :, :], (zooms[1], zooms[2])),  # sagittal: y right (front), z up
        ]
        tiles = []
        for cut, (zx, zy) in cuts:
            g = cut(grey).T[::-1]
            rgb = np.repeat(g[..., None], 3, axis=2)
            for m, colour in masks:
                if colour is None:  # only positions the slices
                    continue
                edge = outline(cut(m).T[::-1])
                rgb[edge] = colour
            tile = Image.fromarray((rgb * 255).astype(np.uint8))
            h, w = g.shape
            tiles.append(tile.resize((int(round(w * zx)), int(round(h * zy))), Image.NEAREST))
        tiles_rows.append(tiles)
    gap, caption = 4, 14
    width = max(sum(t.width for t in r) + gap * (len(r) - 1) for r in tiles_rows)
    height = sum(max(t.height for t in r) + caption for r in tiles_rows)
    height += gap * (len(tiles_rows) - 1)
    canvas = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(canvas)
    y = 0
    for r, (text, colours) in zip(tiles_rows, captions):
        x = 2
        for part, colour in zip(text, colours):
            draw.text((x, y + 1), part, fill=tuple(int(255 * v) for v in colour))
            x += int(draw.textlength(part))
        y += caption
        x = 0
        for t in r:
            canvas.paste(t, (x, y))
            x += t.width + gap
        y += max(t.height for t in r) + gap
    canvas = canvas.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    canvas.save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-colin-check", action="store_true",
                        help="skip registering the MNI T1 to Colin27 (the Dice against BET)")
    parser.add_argument("--syn-iters", default="40,20,10",
                        help="SyN iterations per level, coarsest first (default 40,20,10)")
    parser.add_argument("--syn-margin", type=float, default=5.0,
                        help="mm of head kept around the affine brain for SyN (default 5)")
    args = parser.parse_args()
    syn_iters = [int(x) for x in args.syn_iters.split(",")]
    start = time.time()

    load = nib.load
    t1_img = load(f"{MNI}/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
    t1 = np.asanyarray(t1_img.dataobj).astype(np.float32)
    gm = np.asanyarray(load(f"{MNI}/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz").dataobj)
    wm = np.asanyarray(load(f"{MNI}/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz").dataobj)
    mni_mask = mni_brain_mask(gm.astype(np.float32), wm.astype(np.float32))
    log(f"MNI brain mask: {int(mni_mask.sum())} voxels, {volume_ml(mni_mask, t1_img.affine):.0f} mL")

    # Colin27: the BET mask.
    colin = load(f"{HEADS}/colin27.nii.gz")
    bet = load(CH2BET)
    if bet.shape != colin.shape or not np.allclose(bet.affine, colin.affine, atol=1e-6):
        sys.exit(f"ch2bet's grid differs from ch2's: {bet.shape} {bet.affine} vs {colin.shape}")
    bet_raw = np.asanyarray(bet.dataobj) > 0
    colin_mask = ndimage.binary_fill_holes(bet_raw)  # 3-D only: ch2bet has no such holes
    log(f"Colin27 BET mask: {int(bet_raw.sum())} voxels > 0, "
        f"{int(colin_mask.sum() - bet_raw.sum())} more after filling holes")
    save_mask(colin_mask, colin, f"{HEADS}/colin27_brain.nii.gz")

    # The mean head: registration.
    head_img = load(f"{HEADS}/mean_head.nii.gz")
    head = np.asanyarray(head_img.dataobj)
    warped = register_mni(head, head_img.affine, t1, t1_img.affine, mni_mask, "mean head",
                          syn_iters, args.syn_margin)
    head_mask = finish_mask(warped)
    save_mask(head_mask, head_img, f"{HEADS}/mean_head_brain.nii.gz")

    # S1: registration, checked against its own pial surfaces.
    s1_img = load(f"{HEADS}/s1_head.nii.gz")
    s1 = np.asanyarray(s1_img.dataobj)
    s1_mask = finish_mask(register_mni(s1, s1_img.affine, t1, t1_img.affine, mni_mask, "S1",
                                       syn_iters, args.syn_margin))
    save_mask(s1_mask, s1_img, f"{HEADS}/s1_head_brain.nii.gz")
    pial = pial_cerebrum([f"{HEADS}/s1_pia_lh.gii", f"{HEADS}/s1_pia_rh.gii"], s1_img)
    # Dice in the upper half of the cerebrum's height only: lower down, the cerebellum and
    # brainstem belong to the brain but not to the pial surfaces.
    codes = nib.aff2axcodes(s1_img.affine)
    si_axis = next(i for i, c in enumerate(codes) if c in "SI")
    rows = np.nonzero(pial.any(axis=tuple(i for i in range(3) if i != si_axis)))[0]
    middle = (rows.min() + rows.max()) // 2
    upper = [slice(None)] * 3
    upper[si_axis] = slice(middle, None) if codes[si_axis] == "S" else slice(None, middle + 1)
    upper = tuple(upper)
    s1_check = {
        "pial cerebrum mL": volume_ml(pial, s1_img.affine),
        "share of it inside the mask": float((pial & s1_mask).sum() / pial.sum()),
        "Dice in the cerebrum's upper half": dice(s1_mask[upper], pial[upper]),
    }
    log("S1 against its pial surfaces: " + ", ".join(f"{k} {v:.3f}" for k, v in s1_check.items()))

    colin_vol = np.asanyarray(colin.dataobj)
    colin_rows = [(colin_mask, (1.0, 0.0, 0.0))]  # red: BET; cyan: registration
    colin_reg = None
    if not args.no_colin_check:
        warped_c = register_mni(colin_vol, colin.affine, t1, t1_img.affine, mni_mask,
                                "Colin27", syn_iters, args.syn_margin)
        colin_reg = finish_mask(warped_c)
        colin_rows.append((colin_reg, (0.0, 1.0, 1.0)))

    os.makedirs(os.path.dirname(CHECK_PNG), exist_ok=True)
    white, red, cyan = (1.0, 1.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 1.0)
    colin_caption = (["Colin27 (held out): ", "FSL BET mask (ch2bet)"], [white, red])
    if colin_reg is not None:
        colin_caption[0].extend([", ", f"MNI registration (Dice {dice(colin_reg, colin_mask):.3f})"])
        colin_caption[1].extend([white, cyan])
    check_picture(
        [
            (head, head_img.affine, [(head_mask, red)]),
            (colin_vol, colin.affine, colin_rows),
            (s1, s1_img.affine, [(s1_mask, red), (pial, (0.0, 1.0, 0.0))]),
        ],
        [
            (["pydeface mean head: ", "MNI ICBM152 brain mask by registration"], [white, red]),
            colin_caption,
            (["pycortex S1 (held out): ", "MNI registration", ", ",
              "its FreeSurfer pial surfaces (filled)"], [white, red, white, (0.0, 1.0, 0.0)]),
        ],
        CHECK_PNG,
    )
    log(f"wrote {CHECK_PNG} ({os.path.getsize(CHECK_PNG) // 1024} KB)")

    for name, img, mask in (("mean head", head_img, head_mask), ("Colin27", colin, colin_mask),
                            ("S1", s1_img, s1_mask)):
        zooms = ", ".join(f"{z:.4g}" for z in img.header.get_zooms()[:3])
        log(f"{name}: {img.shape}, voxels {zooms} mm, brain {volume_ml(mask, img.affine):.0f} mL")
    if colin_reg is not None:
        log(f"Colin27 registration mask: {volume_ml(colin_reg, colin.affine):.0f} mL, "
            f"Dice vs BET {dice(colin_reg, colin_mask):.4f}")
    log(f"done in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
