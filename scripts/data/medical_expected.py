#!/usr/bin/env python3
"""Expected values for the DICOM and NIfTI decoder tests of crates/imaging.

Reads the real-file fixtures fetched by scripts/data/fetch_fixtures.sh (data/fixtures/pydicom/,
data/fixtures/nibabel/; gitignored) with pydicom and nibabel and writes
crates/imaging/tests/data/medical_expected.json (committed). Deterministic: rerunning with the
same pinned versions (scripts/requirements.txt) gives the same file.

    scripts/data/fetch_fixtures.sh
    scripts/setup.sh python        # .venv with pydicom, pylibjpeg-*, nibabel (pinned)
    .venv/bin/python scripts/data/medical_expected.py

DICOM pixel values:
  * MONOCHROME1/2: decoded values after the Modality LUT (pydicom.pixels.apply_modality_lut, i.e.
    Rescale Slope/Intercept or a Modality LUT Sequence) as float64; MONOCHROME1 is NOT inverted;
    no VOI LUT / windowing applied.
  * colour: RGB. Data the decoder returns in YBR_FULL / YBR_FULL_422 is converted with
    pydicom.pixels.convert_color_space (float maths, rounded), so a Rust decoder may differ by 1;
    "color_conversion" says when. YBR_RCT / YBR_ICT (JPEG 2000) come out of the J2K decoder as RGB.
  * PALETTE COLOR: pydicom.pixels.apply_color_lut; a 16-bit LUT is reduced to 8 bit by taking the
    high byte (value >> 8), see "palette".
  * Compressed syntaxes are decoded with pydicom's "pylibjpeg" plugin only (libjpeg: JPEG and
    JPEG-LS; openjpeg: JPEG 2000; rle: RLE), whatever else is installed ("decoding_plugin").
  * Sample positions are (frame, row, col) for monochrome and (frame, row, col, channel) for
    colour, frame 0 for single-frame images; shape is [frames, rows, cols(, 3)].
  * "lossy": true when conforming decoders may legitimately produce slightly different values
    (JPEG DCT processes 1.2.840.10008.1.2.4.50/.51, irreversible 9-7 JPEG 2000). Compare with a
    tolerance then. "lossy_compression" says whether the encoding discarded information (which
    also covers JPEG-LS near-lossless and reversible-wavelet 4.91 files that decode exactly).

NIfTI values are img.get_fdata() (scl_slope/scl_inter applied, float64); positions are
(i, j, k[, t, ...]) over img.shape. Files are read with Nifti1Image/Nifti2Image (by sizeof_hdr), so
the CIFTI-2 file row_major.dconn.nii is treated as the plain NIfTI-2 it is. Statistics skip NaN
(resampled_anat_moved.nii has NaN voxels; "nonfinite_count"); a NaN sample is written as null.
"""
from __future__ import annotations

import gzip
import json
import math
import pathlib
import struct
import sys
import warnings

import nibabel as nib
import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.pixels import apply_color_lut, apply_modality_lut, convert_color_space, get_decoder

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "data" / "fixtures"
OUT = ROOT / "crates" / "imaging" / "tests" / "data" / "medical_expected.json"

# Sample positions as fractions of each axis' extent (index = floor(f * (n - 1))), one row per
# sample; axis a uses column a % 3. The first two are the first and the last element.
FRACTIONS = [
    (0, 0, 0),
    (1, 1, 1),
    (1 / 2, 1 / 2, 1 / 2),
    (1 / 3, 1 / 3, 2 / 3),
    (2 / 3, 2 / 3, 1 / 3),
    (0, 1 / 2, 1 / 3),
    (1, 1 / 3, 1 / 2),
    (1 / 2, 2 / 3, 0),
]

JPEG_DCT = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}
J2K_ANY = {"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.203"}
LOSSY_TS = JPEG_DCT | {"1.2.840.10008.1.2.4.81"} | J2K_ANY


def index(frac: float, n: int) -> int:
    return int(math.floor(frac * (n - 1) + 1e-9))


def positions(shape: tuple[int, ...], channels: int | None) -> list[list[int]]:
    out = []
    for s, row in enumerate(FRACTIONS):
        pos = [index(row[a % 3], n) for a, n in enumerate(shape)]
        if channels is not None:
            pos.append(s % channels)
        out.append(pos)
    return out


def num(x):
    """JSON-safe Python number (NaN/inf -> null, integral floats stay floats)."""
    if x is None:
        return None
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


def stats(arr: np.ndarray, pos: list[list[int]]) -> dict:
    """min/max/mean over the finite values; NaN samples are written as null."""
    a = np.asarray(arr, dtype=np.float64)
    finite = a[np.isfinite(a)]
    out = {
        "min": num(finite.min()),
        "max": num(finite.max()),
        "mean": num(finite.mean()),
    }
    if finite.size != a.size:
        out["nonfinite_count"] = int(a.size - finite.size)
    out["samples"] = [{"at": p, "value": num(a[tuple(p)])} for p in pos]
    return out


def first(ds, keyword):
    """First value of a (possibly multi-valued) numeric element, or None when absent/empty."""
    v = ds.get(keyword)
    if v is None or v == "":
        return None
    if isinstance(v, pydicom.multival.MultiValue):
        return num(v[0]) if len(v) else None
    return num(v)


def floats(ds, keyword):
    v = ds.get(keyword)
    if v is None or v == "":
        return None
    return [num(x) for x in v]


def j2k_wavelet(ds) -> str | None:
    """'5-3 reversible' or '9-7 irreversible' from the COD marker of the first frame."""
    nframes = int(ds.get("NumberOfFrames") or 1)
    data = next(generate_frames(ds.PixelData, number_of_frames=nframes))
    pos = data.find(b"\xff\x4f\xff\x51")  # SOC SIZ
    if pos < 0:
        return None
    pos += 2
    while pos + 4 <= len(data):
        marker = data[pos : pos + 2]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker == b"\xff\x52":  # COD: Lcod Scod SGcod(4) levels cbw cbh cbstyle transform
            return "5-3 reversible" if data[pos + 13] == 1 else "9-7 irreversible"
        if marker == b"\xff\x90":  # SOT: end of the main header
            return None
        pos += 2 + length
    return None


def dicom_entry(path: pathlib.Path):
    """(entry, None) or (None, reason)."""
    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception as e:  # noqa: BLE001
        return None, f"pydicom cannot read the file: {type(e).__name__}: {e}"
    if "PixelData" not in ds:
        sop = ds.get("SOPClassUID")
        what = ds.get("Modality") or (sop.name if sop else None) or "no Modality, no SOP Class"
        return None, f"no Pixel Data ({what})"
    ts = ds.file_meta.get("TransferSyntaxUID")
    if not ts:
        return None, "Pixel Data but no (0002,0010) Transfer Syntax UID; pydicom will not decode it"
    for kw in ("Rows", "Columns", "BitsAllocated", "PhotometricInterpretation"):
        if kw not in ds:
            return None, f"Pixel Data but no {kw}; not an image"
    try:
        # All compressed syntaxes through one named plugin (pylibjpeg: libjpeg for JPEG and
        # JPEG-LS, openjpeg for JPEG 2000, rle for RLE), so the values do not depend on which
        # other decoders (pillow, gdcm, ...) happen to be installed.
        plugin = "pylibjpeg" if ts.is_compressed else ""
        arr, meta = get_decoder(ts).as_array(ds, as_rgb=False, decoding_plugin=plugin)
    except Exception as e:  # noqa: BLE001
        msg = " ".join(str(e).split())
        return None, f"pydicom cannot decode the pixel data: {type(e).__name__}: {msg[:300]}"
    arr = arr.astype(arr.dtype.newbyteorder("="))  # native byte order
    frames = int(ds.get("NumberOfFrames") or 1)
    spp = int(ds.get("SamplesPerPixel") or 1)
    pi = str(ds.PhotometricInterpretation)
    decoded_pi = str(meta.get("photometric_interpretation", pi))
    if frames == 1:
        arr = arr[np.newaxis]
    entry = {
        "file": path.name,
        "transfer_syntax_uid": str(ts),
        "transfer_syntax_name": ts.name,
        "modality": ds.get("Modality") or None,
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "number_of_frames": frames,
        "samples_per_pixel": spp,
        "planar_configuration": num(ds.get("PlanarConfiguration")) if spp > 1 else None,
        "photometric_interpretation": pi,
        "bits_allocated": int(ds.BitsAllocated),
        "bits_stored": num(ds.get("BitsStored")),
        "high_bit": num(ds.get("HighBit")),
        "pixel_representation": int(ds.get("PixelRepresentation", 0)),
        "series_instance_uid": str(ds.get("SeriesInstanceUID")) if ds.get("SeriesInstanceUID") else None,
        "instance_number": first(ds, "InstanceNumber"),
        "window_center": first(ds, "WindowCenter"),
        "window_width": first(ds, "WindowWidth"),
        "rescale_slope": first(ds, "RescaleSlope"),
        "rescale_intercept": first(ds, "RescaleIntercept"),
        "image_position_patient": floats(ds, "ImagePositionPatient"),
        "image_orientation_patient": floats(ds, "ImageOrientationPatient"),
        "pixel_spacing": floats(ds, "PixelSpacing"),
        "lossy_image_compression": str(ds.get("LossyImageCompression")) if ds.get("LossyImageCompression") else None,
    }
    wavelet = j2k_wavelet(ds) if str(ts) in J2K_ANY or str(ts) == "1.2.840.10008.1.2.4.90" else None
    if wavelet:
        entry["j2k_wavelet"] = wavelet
    entry["lossy"] = str(ts) in JPEG_DCT or wavelet == "9-7 irreversible"
    entry["lossy_compression"] = (str(ts) in LOSSY_TS and wavelet != "5-3 reversible") or str(
        ds.get("LossyImageCompression", "")
    ) == "01"
    entry["decoding_plugin"] = plugin or None
    entry["decoded_photometric_interpretation"] = decoded_pi
    conversion = None
    palette = None
    if pi in ("MONOCHROME1", "MONOCHROME2"):
        kind = "monochrome"
        values = apply_modality_lut(arr, ds).astype(np.float64)
        entry["modality_lut"] = (
            "ModalityLUTSequence" if "ModalityLUTSequence" in ds
            else "rescale" if "RescaleSlope" in ds or "RescaleIntercept" in ds else "none"
        )
    elif pi == "PALETTE COLOR":
        kind = "rgb"
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        rgb = apply_color_lut(arr, ds)
        if bits == 16:
            rgb = rgb >> 8
        palette = {"lut_bits": bits, "to_8bit": "value >> 8 (high byte)" if bits == 16 else "none",
                   "segmented": "SegmentedRedPaletteColorLookupTableData" in ds}
        values = rgb.astype(np.float64)
    elif spp == 3:
        kind = "rgb"
        if decoded_pi in ("YBR_FULL", "YBR_FULL_422"):
            arr = convert_color_space(arr, decoded_pi, "RGB")
            conversion = f"{decoded_pi} -> RGB (pydicom convert_color_space)"
        elif decoded_pi != "RGB":
            return None, f"decoder returned {decoded_pi}, no conversion to RGB implemented here"
        values = arr.astype(np.float64)
    else:
        return None, f"unsupported photometric interpretation {pi} with {spp} samples/pixel"
    entry["pixel_kind"] = kind
    entry["color_conversion"] = conversion
    if palette:
        entry["palette"] = palette
    entry["shape"] = list(values.shape)
    pos = positions(values.shape[:3], 3 if kind == "rgb" else None)
    entry["pixels"] = stats(values, pos)
    return entry, None


def nifti_version(path: pathlib.Path) -> int:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(4)
    size = struct.unpack("<i", head)[0]
    if size not in (348, 540):
        size = struct.unpack(">i", head)[0]
    return {348: 1, 540: 2}[size]


def matrix(m) -> list[list[float]]:
    return [[num(x) for x in row] for row in np.asarray(m, dtype=np.float64)]


def nifti_entry(path: pathlib.Path) -> dict:
    version = nifti_version(path)
    # Plain NIfTI classes, so a CIFTI-2 file (row_major.dconn.nii) is read as the NIfTI-2 it is.
    cls = nib.Nifti1Image if version == 1 else nib.Nifti2Image
    img = cls.from_filename(str(path))
    # nibabel moves the scaling of a loaded image into img.dataobj and blanks it in img.header,
    # so the header fields come from the file itself.
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        h = cls.header_class.from_fileobj(f)
    data = img.get_fdata(dtype=np.float64)
    dt = h.get_data_dtype()
    return {
        "file": path.name,
        "version": version,
        "dims": [int(n) for n in img.shape],
        "dim_field": [int(x) for x in h["dim"]],
        "datatype": int(h["datatype"]),
        "datatype_name": dt.name,
        "bitpix": int(h["bitpix"]),
        "byte_order": "big" if dt.byteorder == ">" else "little",
        "vox_offset": num(h["vox_offset"]),
        "pixdim": [num(x) for x in h["pixdim"]],
        "zooms": [num(x) for x in h.get_zooms()],
        "scl_slope": num(h["scl_slope"]),
        "scl_inter": num(h["scl_inter"]),
        "scaling_applied": {"slope": num(img.dataobj.slope), "inter": num(img.dataobj.inter)},
        "intent_code": int(h["intent_code"]),
        "qform_code": int(h["qform_code"]),
        "sform_code": int(h["sform_code"]),
        "affine": matrix(img.affine),
        "qform": matrix(h.get_qform()),
        "sform": matrix(h.get_sform()),
        "voxels": stats(data, positions(data.shape, None)),
    }


def dumps(obj, indent=0) -> str:
    """JSON with lists of scalars and small flat objects (samples) on one line: a small file."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        if len(obj) <= 4 and all(
            not isinstance(v, dict) and not (isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v))
            for v in obj.values()
        ):
            return json.dumps(obj, separators=(", ", ": "))
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj) or all(
            isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x) for x in obj
        ):
            return json.dumps(obj, separators=(", ", ": "))
        return "[\n" + ",\n".join(inner + dumps(x, indent + 1) for x in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def main() -> int:
    warnings.simplefilter("ignore")
    dicom_dir, nifti_dir = FIXTURES / "pydicom", FIXTURES / "nibabel"
    if not dicom_dir.is_dir() or not nifti_dir.is_dir():
        print("run scripts/data/fetch_fixtures.sh first", file=sys.stderr)
        return 1
    import pylibjpeg, libjpeg, openjpeg, rle  # noqa: E401,F401  (decoders must be present)

    dicom, skipped = [], []
    for path in sorted(dicom_dir.iterdir()):
        if path.is_file():
            entry, reason = dicom_entry(path)
            if entry:
                dicom.append(entry)
            else:
                skipped.append({"file": path.name, "reason": reason})
    nifti = [nifti_entry(p) for p in sorted(nifti_dir.iterdir()) if p.is_file()]
    versions = {
        "pydicom": pydicom.__version__,
        "nibabel": nib.__version__,
        "numpy": np.__version__,
        "pylibjpeg": pylibjpeg.__version__,
        "pylibjpeg-libjpeg": libjpeg.__version__,
        "pylibjpeg-openjpeg": openjpeg.__version__,
        "pylibjpeg-rle": rle.__version__,
    }
    doc = {
        "generated_by": "scripts/data/medical_expected.py (see the module docstring for conventions)",
        "fixtures": "data/fixtures/{pydicom,nibabel}/ from scripts/data/fetch_fixtures.sh",
        "versions": versions,
        "conventions": {
            "dicom_positions": "[frame, row, col] (monochrome) or [frame, row, col, channel] (rgb); index = floor(f*(n-1))",
            "dicom_monochrome": "apply_modality_lut (rescale slope/intercept), float64, MONOCHROME1 not inverted, no VOI/window",
            "dicom_color": "RGB; YBR_FULL/YBR_FULL_422 via pydicom convert_color_space (rounded; allow +-1); YBR_RCT/ICT decoded to RGB by the J2K decoder",
            "dicom_palette": "apply_color_lut; a 16-bit LUT is reduced to 8 bit with value >> 8 (high byte)",
            "decoding_plugin": "compressed syntaxes decoded by pydicom's pylibjpeg plugin (libjpeg, openjpeg, rle); null for native/deflate",
            "lossy": "true when decoders may differ (JPEG 4.50/4.51, 9-7 irreversible J2K): compare with a tolerance",
            "nifti_positions": "[i, j, k(, t, ...)] over dims; values of img.get_fdata() (scaled, float64)",
            "nifti_scaling": "scl_slope/scl_inter as stored (NaN -> null); scaling_applied is what nibabel used (0 or NaN slope -> unscaled 1/0)",
            "nonfinite": "min/max/mean are over finite values only; nonfinite_count is given when there are NaN/inf values; a NaN sample is null",
        },
        "dicom": dicom,
        "dicom_skipped": skipped,
        "nifti": nifti,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dumps(doc) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(dicom)} DICOM, {len(skipped)} skipped, {len(nifti)} NIfTI, "
          f"{OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
