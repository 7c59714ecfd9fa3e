//! The brain-extraction model end to end on the real MNI template (scripts/data/fetch_mni.sh):
//! the shipped weights reach the model card's Dice on held-out slices, and `unet train`
//! checkpoints, resumes and refuses to resume with other settings.

mod common;

use common::{ok, root, scratch, unet};
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    let dir = root().join("data/mni");
    assert!(
        dir.join("mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
            .exists(),
        "the MNI template is missing: run scripts/data/fetch_mni.sh"
    );
    dir
}

fn heldout(out: &Path) -> (PathBuf, PathBuf) {
    let data = data();
    ok(&unet(&[
        "train",
        "--heldout-only",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    (out.join("heldout/images"), out.join("heldout/masks"))
}

#[test]
fn the_shipped_model_reaches_its_card_dice_on_held_out_slices() {
    let out = scratch("eval");
    let (images, masks) = heldout(&out);
    let model = root().join("assets/models/brain-extraction.unet.safetensors");
    let stdout = ok(&unet(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--images",
        images.to_str().unwrap(),
        "--masks",
        masks.to_str().unwrap(),
    ]));
    let per_image = stdout
        .lines()
        .filter(|l| l.contains(" dice=") && !l.starts_with("overall"))
        .count();
    assert_eq!(per_image, 48, "16 slices per plane:\n{stdout}");
    let overall: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("overall dice="))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no overall line:\n{stdout}"));
    assert!(overall >= 0.97, "held-out Dice {overall}\n{stdout}");
    // The card reports the figure, and its readable copy is the embedded card itself.
    let bytes = std::fs::read(&model).unwrap();
    let card = unet::Checkpoint::from_bytes(&bytes, "brain-extraction.unet.safetensors")
        .unwrap()
        .card;
    let reported = card.metrics["dice_template_slabs"];
    assert!(
        (reported - overall).abs() < 0.002,
        "card {reported}, measured {overall}"
    );
    let copy = root().join("assets/models/brain-extraction.card.json");
    let copy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(copy).unwrap()).unwrap();
    assert_eq!(copy, serde_json::to_value(&card).unwrap());
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn eval_reports_missing_and_mismatched_masks() {
    let out = scratch("eval-bad");
    let (images, masks) = heldout(&out);
    let first = std::fs::read_dir(&masks)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&first).unwrap();
    let second = std::fs::read_dir(&masks)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(root().join("assets/samples/t1_head_axial.png"), &second).unwrap();
    let model = root().join("assets/models/brain-extraction.unet.safetensors");
    let run = unet(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--images",
        images.to_str().unwrap(),
        "--masks",
        masks.to_str().unwrap(),
    ]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no mask named"), "{stderr}");
    assert!(stderr.contains("the mask is"), "{stderr}");
    assert!(stderr.contains("2 of 48 image(s) failed"), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("overall dice="),
        "the rest still scored: {stdout}"
    );
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn train_checkpoints_resumes_and_refuses_other_settings() {
    let out = scratch("train");
    let data = data();
    let heads = root().join("data/heads");
    let args = |epochs: &str, base: &str| -> Vec<String> {
        [
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            epochs,
            "--steps",
            "2",
            "--batch",
            "2",
            "--size",
            "48",
            "--base",
            base,
            "--val-per-plane",
            "1",
            "--heads",
            heads.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |a: Vec<String>| unet(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let first = ok(&run(args("1", "4")));
    assert!(first.contains("epoch 1/1: loss"), "{first}");
    let state = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join("state.json")).unwrap()).unwrap()
    };
    assert_eq!(state()["history"].as_array().unwrap().len(), 1);
    let mut resume = args("2", "4");
    resume.push("--resume".into());
    let second = run(resume);
    let text = ok(&second);
    assert!(text.contains("epoch 2/2"), "{text}");
    assert!(!text.contains("epoch 1/2"), "resumed after epoch 1: {text}");
    assert!(String::from_utf8_lossy(&second.stderr).contains("resuming after epoch 1"));
    assert_eq!(state()["history"].as_array().unwrap().len(), 2);

    let mut other = args("3", "8");
    other.push("--resume".into());
    let refused = run(other);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("settings differ"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // The checkpoint is a normal model file with the brain card.
    let info = ok(&unet(&[
        "info",
        out.join("best.unet.safetensors").to_str().unwrap(),
    ]));
    assert!(info.contains("Brain extraction"), "{info}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn the_template_volume_gets_a_brain_label_map_in_its_own_geometry() {
    use unet_imaging::decode_nifti;
    let out = scratch("volume");
    let data = data();
    let t1 = data.join("mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz");
    let model = root().join("assets/models/brain-extraction.unet.safetensors");
    let stdout = ok(&unet(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--plane",
        "coronal",
        "--out",
        out.to_str().unwrap(),
        t1.to_str().unwrap(),
    ]));
    assert!(stdout.contains("233 coronal slices"), "{stdout}");
    let read = |p: &Path| decode_nifti(&std::fs::read(p).unwrap()).unwrap();
    let labels = read(&out.join("mni_icbm152_t1_tal_nlin_sym_09a_converted.mask.nii.gz"));
    let input = read(&t1);
    assert_eq!((labels.dims, labels.spacing), (input.dims, input.spacing));
    assert_eq!(labels.affine, input.affine);
    // Against the tissue maps' brain (GM + WM > 0.5). The template is skull-stripped, unlike
    // anything the model trained on, so this guards the volume path on real data and records
    // the known limitation; it is not the model's accuracy on heads.
    let gm = read(&data.join("mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz"));
    let wm = read(&data.join("mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"));
    let (mut both, mut predicted, mut reference) = (0usize, 0usize, 0usize);
    for ((&l, &g), &w) in labels.data.iter().zip(&gm.data).zip(&wm.data) {
        let (p, r) = (l > 0.0, g + w > 127.5);
        both += usize::from(p && r);
        predicted += usize::from(p);
        reference += usize::from(r);
    }
    let dice = 2.0 * both as f64 / (predicted + reference) as f64;
    assert!(dice >= VOLUME_DICE, "Dice {dice}");
    let _ = std::fs::remove_dir_all(out);
}

/// Measured 0.156 with the shipped v2 weights (0.656 with v1): skull-stripped input is out of its
/// training distribution (the model card's `limitations`), and v2, trained on a real head,
/// leaves most of a brain without a skull around it unlabelled. The bound only catches a broken
/// volume path or orientation (an inverted orientation scores about 0); accuracy on heads is
/// tested on Colin27 in heldout_head.rs.
const VOLUME_DICE: f64 = 0.1;
