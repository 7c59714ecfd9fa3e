//! `unet predict --dicom-seg`: the mask of a DICOM input as a DICOM SEG, read back by highdicom
//! (PyPI, an implementation independent of ours; installed into .venv by `scripts/setup.sh
//! test`) in `scripts/checks/read_seg.py`, which puts every pixel of every source image where
//! the image's own header says it lies and compares it with the label map `predict` wrote.

mod common;

use common::{ok, parity_fixture, root, scratch, text, unet};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// read_seg.py's report on `seg` against `mask` and the `sources`.
fn read_back(seg: &Path, mask: &Path, sources: &[PathBuf]) -> Value {
    let python = root().join(".venv/bin/python");
    let run = Command::new(&python)
        .arg(root().join("scripts/checks/read_seg.py"))
        .arg(seg)
        .arg(mask)
        .args(sources)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh test)", python.display()));
    assert!(run.status.success(), "read_seg.py: {}", text(&run.stderr));
    serde_json::from_slice(&run.stdout).expect("one JSON object")
}

/// Every segment covers exactly the voxels of one label, every labelled voxel is in a segment,
/// and every pixel of every source image was compared.
fn assert_lands_voxel_for_voxel(report: &Value, pixels: u64, labels: usize) {
    assert_eq!(report["compared"], pixels, "{report}");
    assert_eq!(report["outside_mask"], 0, "{report}");
    assert_eq!(report["labelled_not_in_a_segment"], 0, "{report}");
    assert_eq!(report["in_two_segments"], 0, "{report}");
    let segments = report["per_segment"].as_object().unwrap();
    assert_eq!(
        segments.len(),
        labels,
        "one segment per class present: {report}"
    );
    let mut seen = Vec::new();
    for (number, tally) in segments {
        let values = tally["values"].as_object().unwrap();
        assert_eq!(
            values.len(),
            1,
            "segment {number} lies on one label only: {report}"
        );
        let (label, count) = values.iter().next().unwrap();
        assert_ne!(label, "0", "segment {number} on background: {report}");
        assert_eq!(
            count, &report["label_voxels"][label],
            "segment {number} holds every voxel of label {label}: {report}"
        );
        seen.push(label.clone());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), labels, "segments on distinct labels: {report}");
}

/// `unet predict --dicom-seg` on `input` with the 3-class PyTorch parity U-Net (its random
/// weights label the test images with two classes in a pattern that any misplaced slice, flipped
/// axis or swapped segment would break), into a fresh folder for `test`; the run and the folder.
fn predict_seg(test: &str, input: &Path, extra: &[&str]) -> (Output, PathBuf) {
    let dir = scratch(test);
    let model = parity_fixture("transposed_c3_k3.pth");
    let mut args = vec!["predict", "--model", model.to_str().unwrap(), "--dicom-seg"];
    args.extend_from_slice(extra);
    args.extend(["--out", dir.to_str().unwrap(), input.to_str().unwrap()]);
    (unet(&args), dir)
}

#[test]
fn a_series_seg_lands_on_its_source_images_voxel_for_voxel() {
    let series = root().join("crates/imaging/tests/data/series/anatomical");
    let (run, dir) = predict_seg("dicom-seg-series", &series, &["--plane", "axial"]);
    let out = ok(&run);
    let seg = dir.join("anatomical.seg.dcm");
    assert!(out.contains(seg.to_str().unwrap()), "{out}");
    let sources: Vec<PathBuf> = std::fs::read_dir(&series)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("IM"))
        .collect();
    let report = read_back(&seg, &dir.join("anatomical.mask.nii.gz"), &sources);
    assert_eq!(report["sources"], 25, "{report}");
    assert_eq!(report["referenced"], 25, "every slice referenced: {report}");
    assert_lands_voxel_for_voxel(&report, 25 * 33 * 41, 2);
    assert_eq!(report["segments"][0]["label"], "class 1", "{report}");
    assert_eq!(report["segments"][0]["algorithm_type"], "AUTOMATIC");
}

#[test]
fn a_multi_frame_seg_refers_to_each_frame_of_its_source() {
    // pydicom-data's enhanced MR image: ten 64×64 frames in one file.
    let source = root().join("data/fixtures/pydicom-data/emri_small.dcm");
    let (run, dir) = predict_seg("dicom-seg-frames", &source, &[]);
    ok(&run);
    let report = read_back(
        &dir.join("emri_small.seg.dcm"),
        &dir.join("emri_small.mask.nii.gz"),
        std::slice::from_ref(&source),
    );
    assert_lands_voxel_for_voxel(&report, 10 * 64 * 64, 2);
}

#[test]
fn a_single_image_seg_matches_its_mask_png_pixel_for_pixel() {
    let source = root().join("data/fixtures/pydicom/MR_small.dcm");
    let (run, dir) = predict_seg("dicom-seg-image", &source, &[]);
    ok(&run);
    let report = read_back(
        &dir.join("MR_small.seg.dcm"),
        &dir.join("MR_small.mask.png"),
        std::slice::from_ref(&source),
    );
    assert_lands_voxel_for_voxel(&report, 64 * 64, 2);
}

#[test]
fn inputs_that_are_not_dicom_get_a_note_and_no_seg() {
    let image = parity_fixture("transposed_c3_k3.png");
    let (run, dir) = predict_seg("dicom-seg-png", &image, &[]);
    ok(&run);
    assert!(
        text(&run.stderr).contains("not a DICOM input"),
        "{}",
        text(&run.stderr)
    );
    assert!(dir.join("transposed_c3_k3.mask.png").exists());
    assert!(!dir.join("transposed_c3_k3.seg.dcm").exists());
}
