//! `unet stats` and `unet predict --stats`: per-class counts, volumes and mean intensities
//! against numpy's own count of the same files (scripts/fixtures/make_stats_fixtures.py), and
//! the CSV that `predict --stats` writes beside a mask equal to `unet stats` on that mask.

mod common;

use common::{ok, root, scratch, text, unet};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    root()
        .join("crates/cli/tests/fixtures/stats")
        .join(name)
        .display()
        .to_string()
}

/// CSV rows as fields, header dropped.
fn rows(csv: &str) -> Vec<Vec<String>> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("class,name,count,area_mm2,volume_ml,mean_intensity")
    );
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn close(field: &str, want: &Value, what: &str) {
    match want.as_f64() {
        None => assert_eq!(field, "", "{what}"),
        Some(want) => {
            let got: f64 = field
                .parse()
                .unwrap_or_else(|_| panic!("{what}: {field:?}"));
            assert!(
                (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                "{what}: {got} vs numpy {want}"
            );
        }
    }
}

fn check(case: &str, csv: &str) {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let want = expected[case].as_array().unwrap();
    let got = rows(csv);
    assert_eq!(got.len(), want.len(), "{csv}");
    for (row, want) in got.iter().zip(want) {
        assert_eq!(row[0], want["class"].to_string());
        assert_eq!(
            row[2],
            want["count"].to_string(),
            "{case} class {} count",
            row[0]
        );
        assert_eq!(row[3], "", "{case}: no area without a pixel spacing");
        close(
            &row[4],
            &want["volume_ml"],
            &format!("{case} class {} mL", row[0]),
        );
        close(
            &row[5],
            &want["mean_intensity"],
            &format!("{case} class {} mean", row[0]),
        );
    }
}

#[test]
fn a_label_volume_is_measured_as_numpy_counts_it() {
    let csv = ok(&unet(&[
        "stats",
        &fixture("labels.nii.gz"),
        &fixture("image.nii.gz"),
    ]));
    check("volume", &csv);
}

#[test]
fn a_mask_png_is_measured_as_numpy_counts_it() {
    let csv = ok(&unet(&[
        "stats",
        &fixture("labels.png"),
        &fixture("image.png"),
    ]));
    check("image", &csv);
    // Without the image: the same counts, no intensities.
    let counts = ok(&unet(&["stats", &fixture("labels.png")]));
    for (a, b) in rows(&counts).iter().zip(rows(&csv)) {
        assert_eq!(a[2], b[2]);
        assert_eq!(a[5], "");
    }
}

#[test]
fn a_mask_and_an_image_of_other_sizes_are_refused() {
    let run = unet(&["stats", &fixture("labels.nii.gz"), &fixture("image.png")]);
    assert!(!run.status.success());
    let err = text(&run.stderr);
    assert!(err.contains("does not match the mask"), "{err}");
}

#[test]
fn predict_writes_the_stats_of_its_own_mask() {
    let dir = scratch("predict-stats");
    let model = root().join("assets/models/brain-extraction.unet.safetensors");
    let sample = root().join("assets/samples/t1_head_axial.png");
    let (model, sample) = (model.display().to_string(), sample.display().to_string());
    let out = dir.display().to_string();
    ok(&unet(&[
        "predict", "--model", &model, "--stats", "--out", &out, &sample,
    ]));
    let written = std::fs::read_to_string(dir.join("t1_head_axial.stats.csv")).unwrap();
    let mask: PathBuf = dir.join("t1_head_axial.mask.png");
    let again = ok(&unet(&[
        "stats",
        &mask.display().to_string(),
        &sample,
        "--model",
        &model,
    ]));
    assert_eq!(written, again);
    let brain = &rows(&written)[1];
    assert_eq!(brain[1], "brain");
    let pixels: u64 = brain[2].parse().unwrap();
    assert!(pixels > 5_000, "{written}");

    // -o never replaces a file it did not write unless --force.
    let csv = dir.join("t1_head_axial.stats.csv").display().to_string();
    let run = unet(&["stats", &mask.display().to_string(), "-o", &csv]);
    assert!(!run.status.success(), "{}", text(&run.stdout));
    assert!(text(&run.stderr).contains("--force"));
    ok(&unet(&[
        "stats",
        &mask.display().to_string(),
        "-o",
        &csv,
        "--force",
    ]));

    // A DICOM image states its pixel spacing (MR_small: 0.3125 mm, as pydicom reads it), so
    // areas are in mm²: 64 × 64 pixels of 0.3125² mm² are 400 mm².
    let dicom = root().join("data/fixtures/pydicom/MR_small.dcm");
    ok(&unet(&[
        "predict",
        "--model",
        &model,
        "--stats",
        "--out",
        &out,
        &dicom.display().to_string(),
    ]));
    let csv = std::fs::read_to_string(dir.join("MR_small.stats.csv")).unwrap();
    let area: f64 = rows(&csv)
        .iter()
        .map(|r| r[3].parse::<f64>().unwrap())
        .sum();
    assert!((area - 400.0).abs() < 1e-6, "{csv}");
}
