#!/usr/bin/env python3
"""Reads a DICOM SEG with highdicom (PyPI; MIT) and checks it against the label map it was made
from and the DICOM images it refers to. Used by crates/cli/tests/dicom_seg.rs.

    read_seg.py SEG.dcm MASK.nii.gz SOURCE.dcm...
    read_seg.py SEG.dcm MASK.png SOURCE.dcm       (a single-frame source and its 2-D mask)

For every source image the SEG refers to, highdicom gives the SEG's pixels on that image
(`get_pixels_by_source_instance`). Each pixel of each image is then placed in patient space from
the image's own header (Image Position/Orientation, Pixel Spacing; pydicom), taken to the label
map's voxel through the NIfTI's affine (nibabel), and compared with the label there. A single
multi-frame source without per-frame positions is read frame by frame
(`get_pixels_by_source_frame`), frame n against the label map's slice n. A 2-D mask PNG (as
`unet predict` writes it: class indices, 255 for a one-class model's foreground) is compared
with its one source image pixel for pixel. Prints one
JSON object: the segments, how many pixels were compared and how many disagree, per segment."""
import json
import sys

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
from PIL import Image


def tally(agree, numbers, pixels, values):
    """Counts, per segment, the label-map values under the segment's pixels on one image."""
    for k, n in enumerate(numbers):
        on = pixels[:, :, k] > 0
        agree[n]["seg_pixels"] += int(on.sum())
        for v, count in zip(*np.unique(values[on], return_counts=True)):
            agree[n]["values"][str(int(v))] = agree[n]["values"].get(str(int(v)), 0) + int(count)


def main(seg_path, mask_path, source_paths):
    seg = hd.seg.segread(seg_path)
    flat = mask_path.endswith(".png")
    if flat:
        png = np.asarray(Image.open(mask_path)).astype(int)
        png[png == 255] = 1
        # As a one-slice label map in the NIfTI layout (x = column, y = row).
        mask = png.T[:, :, None]
    else:
        mask_img = nib.load(mask_path)
        mask = np.asarray(mask_img.dataobj)
        to_voxel = np.linalg.inv(mask_img.affine)

    referenced = {
        item.ReferencedSOPInstanceUID
        for series in seg.ReferencedSeriesSequence
        for item in series.ReferencedInstanceSequence
    }
    sources = []
    for path in source_paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if ds.SOPInstanceUID in referenced:
            sources.append(ds)
    segments = [
        {"number": int(s.SegmentNumber), "label": str(s.SegmentLabel),
         "type": str(s.SegmentedPropertyTypeCodeSequence[0].CodeMeaning),
         "algorithm_type": str(s.SegmentAlgorithmType)}
        for s in seg.SegmentSequence
    ]
    numbers = [s["number"] for s in segments]
    by_frame = flat or (len(sources) == 1 and int(getattr(sources[0], "NumberOfFrames", 1)) > 1)
    if by_frame and not hasattr(sources[0], "NumberOfFrames"):
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=[sources[0].SOPInstanceUID],
            segment_numbers=numbers,
        )
    elif by_frame:
        frames = list(range(1, int(sources[0].NumberOfFrames) + 1))
        pixels = seg.get_pixels_by_source_frame(
            source_sop_instance_uid=sources[0].SOPInstanceUID,
            source_frame_numbers=frames,
            segment_numbers=numbers,
        )
    else:
        pixels = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=[ds.SOPInstanceUID for ds in sources],
            segment_numbers=numbers,
        )  # (images, rows, columns, segments), 0/1

    # For each segment, the label-map value under its pixels; and pixel-level agreement.
    result = {"segments": segments, "sources": len(sources), "referenced": len(referenced),
              "frames": int(seg.NumberOfFrames), "compared": 0, "outside_mask": 0,
              "per_segment": {}}
    agree = {n: {"seg_pixels": 0, "values": {}} for n in numbers}
    expected_any = np.zeros(pixels.shape[:3], dtype=bool)
    images = [(k, sources[0]) for k in range(pixels.shape[0])] if by_frame else list(enumerate(sources))
    for i, ds in images:
        rows, cols = int(ds.Rows), int(ds.Columns)
        if by_frame:
            values = mask[:, :, i].T.astype(int)
            result["compared"] += rows * cols
            expected_any[i] = values > 0
            tally(agree, numbers, pixels[i], values)
            continue
        origin = np.array(ds.ImagePositionPatient, dtype=float)
        o = np.array(ds.ImageOrientationPatient, dtype=float)
        dr, dc = (float(v) for v in ds.PixelSpacing)
        r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        lps = origin + c[..., None] * dc * o[:3] + r[..., None] * dr * o[3:]
        ras = lps * np.array([-1.0, -1.0, 1.0])
        ijk = np.rint(np.c_[ras.reshape(-1, 3), np.ones(rows * cols)] @ to_voxel.T)[:, :3].astype(int)
        inside = np.all((ijk >= 0) & (ijk < np.array(mask.shape[:3])), axis=1)
        result["outside_mask"] += int((~inside).sum())
        values = np.zeros(rows * cols, dtype=int)
        values[inside] = mask[ijk[inside, 0], ijk[inside, 1], ijk[inside, 2]]
        values = values.reshape(rows, cols)
        result["compared"] += rows * cols
        expected_any[i] = values > 0
        tally(agree, numbers, pixels[i], values)
    # Every labelled voxel is in some segment, and in exactly one.
    covered = pixels.sum(axis=3)
    result["labelled_not_in_a_segment"] = int((expected_any & (covered == 0)).sum())
    result["in_two_segments"] = int((covered > 1).sum())
    result["per_segment"] = agree
    result["label_voxels"] = {str(int(v)): int(n) for v, n in zip(*np.unique(mask, return_counts=True)) if v}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
