"""Writes a DICOM series from a NIfTI volume, with pydicom and nibabel (an implementation
independent of ours), so the tests can check that our series stacking puts every voxel where
nibabel says it is.

Source: nibabel 5.4.2 wheel (PyPI), nibabel/tests/data/anatomical.nii (MIT, nibabel's own test
data), fetched by scripts/data/fetch_fixtures.sh. Output (committed, ~110 KB):
crates/imaging/tests/data/series/
  anatomical/IM0001..IM0025   axial slices, one series; files named in a shuffled order so that
                              name order is not slice order
  anatomical/LOCALIZER        one sagittal slice of another series (a mixed drop must split)
  anatomical/README.txt       not DICOM (a folder may hold other files)

Run: .venv/bin/python scripts/data/make_series.py  (pydicom, nibabel, numpy: scripts/requirements.txt)
"""

from pathlib import Path
import random

import nibabel as nib
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "data/fixtures/nibabel/anatomical.nii"
OUT = ROOT / "crates/imaging/tests/data/series/anatomical"
# Fixed UIDs under a private test root so reruns write identical files.
UID_ROOT = "1.2.826.0.1.3680043.10.1455."


def base(series_uid: str, number: int) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = f"{UID_ROOT}2.{series_uid[-1]}.{number}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = f"{UID_ROOT}1"
    ds.SeriesInstanceUID = series_uid
    # One frame of reference for both series: derived objects (a DICOM SEG) share it.
    ds.FrameOfReferenceUID = f"{UID_ROOT}4.1"
    ds.StudyDate = "20261201"
    ds.StudyTime = "120000"
    ds.Modality = "MR"
    ds.PatientName = "Anatomical^Nibabel"
    ds.PatientID = "nibabel-anatomical"
    ds.InstanceNumber = number
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    return ds


def main() -> None:
    img = nib.load(SOURCE)
    data = np.asarray(img.dataobj).astype(np.int16)  # (i, j, k)
    affine = img.affine
    # RAS -> LPS: flip x and y.
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
    zooms = img.header.get_zooms()[:3]
    row_dir = lps[:3, 0] / zooms[0]  # direction of increasing column index (i)
    col_dir = lps[:3, 1] / zooms[1]  # direction of increasing row index (j)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    series = f"{UID_ROOT}3.1"
    nk = data.shape[2]
    names = [f"IM{n:04d}" for n in range(1, nk + 1)]
    random.Random(7).shuffle(names)
    for k in range(nk):
        ds = base(series, k + 1)
        ds.SeriesDescription = "anatomical axial"
        ds.Rows, ds.Columns = data.shape[1], data.shape[0]
        ds.PixelSpacing = [float(zooms[1]), float(zooms[0])]  # between rows, between columns
        ds.SliceThickness = float(zooms[2])
        ds.ImageOrientationPatient = [float(v) for v in (*row_dir, *col_dir)]
        ds.ImagePositionPatient = [float(v) for v in (lps @ [0, 0, k, 1])[:3]]
        ds.WindowCenter, ds.WindowWidth = 12000, 24000
        # DICOM frames are row-major: rows follow j, columns follow i.
        ds.PixelData = np.ascontiguousarray(data[:, :, k].T).tobytes()
        ds.save_as(OUT / names[k], enforce_file_format=True)
    # A localizer of another series and orientation in the same folder.
    loc = base(f"{UID_ROOT}3.2", 1)
    loc.SeriesDescription = "localizer"
    loc.Rows, loc.Columns = data.shape[2], data.shape[1]
    loc.PixelSpacing = [float(zooms[2]), float(zooms[1])]
    loc.ImageOrientationPatient = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]
    loc.ImagePositionPatient = [0.0, -40.0, 32.0]
    loc.PixelData = np.ascontiguousarray(data[data.shape[0] // 2, :, ::-1].T).tobytes()
    loc.save_as(OUT / "LOCALIZER", enforce_file_format=True)
    (OUT / "README.txt").write_text("Written by scripts/data/make_series.py from nibabel's anatomical.nii.\n")
    print(f"{nk} slices + localizer in {OUT}")


if __name__ == "__main__":
    main()
