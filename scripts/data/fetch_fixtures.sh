#!/usr/bin/env bash
# Fetches real DICOM and NIfTI test files for the crates/imaging decoder tests from the pydicom and
# nibabel wheels on PyPI into data/fixtures/{pydicom,nibabel}/ (flat, original base names).
# Idempotent: does nothing once the stamp for these pinned versions exists. Needs only the system
# python3 with pip (not .venv). data/ is gitignored; the files are never committed. The expected
# values computed from them (crates/imaging/tests/data/medical_expected.json) are, see
# scripts/data/medical_expected.py.
#
# Source: pydicom 3.0.2 (PyPI), pydicom/data/test_files/*.dcm (the top-level DICOM files only; the
#         dicomdirtests/ tree, the .json/.dump/.icc/.gz files and README.txt are not taken).
# Licence: pydicom is MIT (Copyright (c) 2008-2020 Darcy Mason and pydicom contributors). The
#         test files' README.txt says the images were obtained from public sample sets (NEMA WG04
#         ftp://medical.nema.org, dclunie.com, barre.nom.fr, IHE MESA, TCIA, dcmqi, a commercial
#         RT planning system), downsized and binary-edited to remove anything that looks like a
#         real patient name, and "I believe there is no restriction on using any of these files in
#         this manner"; the datasets from GDCM (e.g. GDCMJ2K_TextGBR.dcm) are under GDCM's
#         BSD-3-Clause licence (Copyright (c) 2006-2016 Mathieu Malaterre, 1993-2005 CREATIS).
# Source: nibabel 5.4.2 (PyPI), nibabel/tests/data/*.nii and *.nii.gz (anatomical.nii,
#         functional.nii, example4d.nii.gz, example_nifti2.nii.gz, standard.nii.gz,
#         reoriented_anat_moved.nii, resampled_anat_moved.nii, row_major.dconn.nii).
# Licence: nibabel, "including all examples, code snippets and attached documentation", is MIT
#         (COPYING: Copyright (c) 2009-2019 Matthew Brett et al.); COPYING names no other licence
#         for these NIfTI files (its PDDL notes cover only the Philips PAR/REC files, not taken).
#         tests/data/gen_standard.py and make_moved_anat.py document how standard.nii.gz and the
#         *_anat_moved.nii files were generated.
#
# Source: pydicom-data 1.0.0 (PyPI), data_store/data/emri_small*.dcm into
#         data/fixtures/pydicom-data/: an enhanced MR multi-frame image (10 frames of 64×64, no
#         per-frame position groups) uncompressed, big-endian, RLE, JPEG-LS and JPEG 2000.
# Licence: pydicom-data is MIT (Copyright (c) 2020 Dicom in Python; Darcy Mason and
#         contributors).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYDICOM_VERSION=3.0.2
NIBABEL_VERSION=5.4.2
PYDICOM_DATA_VERSION=1.0.0
out=data/fixtures
stamp="$out/.fetched-pydicom-$PYDICOM_VERSION-nibabel-$NIBABEL_VERSION-data-$PYDICOM_DATA_VERSION"
if [ -f "$stamp" ]; then exit 0; fi
# Unpacked afresh, so a version bump leaves no stale files behind.
rm -rf "$out/pydicom" "$out/nibabel" "$out/pydicom-data" "$out"/.fetched-*
mkdir -p data/cache "$out/pydicom" "$out/nibabel" "$out/pydicom-data"
pydicom_whl="data/cache/pydicom-$PYDICOM_VERSION-py3-none-any.whl"
nibabel_whl="data/cache/nibabel-$NIBABEL_VERSION-py3-none-any.whl"
data_whl="data/cache/pydicom_data-$PYDICOM_DATA_VERSION-py3-none-any.whl"
[ -f "$pydicom_whl" ] || python3 -m pip download -q --no-deps "pydicom==$PYDICOM_VERSION" -d data/cache
[ -f "$nibabel_whl" ] || python3 -m pip download -q --no-deps "nibabel==$NIBABEL_VERSION" -d data/cache
[ -f "$data_whl" ] || python3 -m pip download -q --no-deps "pydicom-data==$PYDICOM_DATA_VERSION" -d data/cache
python3 - "$pydicom_whl" "$nibabel_whl" "$out" "$data_whl" <<'PY'
import pathlib, posixpath, sys, zipfile

pydicom_whl, nibabel_whl, out = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
data_whl = sys.argv[4]


def is_dicom(name: str, data: bytes) -> bool:
    # *.dcm (some have no preamble/meta, e.g. no_meta.dcm), or an extensionless file with the
    # "DICM" magic after the 128-byte preamble.
    base = posixpath.basename(name)
    return base.endswith(".dcm") or ("." not in base and data[128:132] == b"DICM")


counts = {}
with zipfile.ZipFile(pydicom_whl) as wheel:
    prefix = "pydicom/data/test_files/"
    for name in sorted(wheel.namelist()):
        rest = name[len(prefix):] if name.startswith(prefix) else None
        if not rest or "/" in rest:  # top level only: skips dicomdirtests/
            continue
        data = wheel.read(name)
        if is_dicom(name, data):
            (out / "pydicom" / rest).write_bytes(data)
            counts["pydicom"] = counts.get("pydicom", 0) + 1
with zipfile.ZipFile(nibabel_whl) as wheel:
    prefix = "nibabel/tests/data/"
    for name in sorted(wheel.namelist()):
        rest = name[len(prefix):] if name.startswith(prefix) else None
        if not rest or "/" in rest or not (rest.endswith(".nii") or rest.endswith(".nii.gz")):
            continue
        (out / "nibabel" / rest).write_bytes(wheel.read(name))
        counts["nibabel"] = counts.get("nibabel", 0) + 1
with zipfile.ZipFile(data_whl) as wheel:
    for name in sorted(wheel.namelist()):
        base = posixpath.basename(name)
        if name.startswith("data_store/data/emri_small") and base.endswith(".dcm"):
            (out / "pydicom-data" / base).write_bytes(wheel.read(name))
            counts["pydicom-data"] = counts.get("pydicom-data", 0) + 1
for k, v in counts.items():
    print(f"{v} {k} fixtures in {out / k}")
PY
touch "$stamp"
