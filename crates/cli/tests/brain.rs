//! The brain-extraction model end to end on the real MNI template (scripts/data/fetch_mni.sh):
//! the shipped weights reach the model card's Dice on held-out slices, and `unet train`
//! checkpoints, resumes and refuses to resume with other settings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data() -> PathBuf {
    let dir = root().join("data/mni");
    assert!(
        dir.join("mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
            .exists(),
        "the MNI template is missing: run scripts/data/fetch_mni.sh"
    );
    dir
}

fn unet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unet"))
        .args(args)
        .output()
        .expect("unet runs")
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unet-brain-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(run: &Output) -> String {
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
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
    let per_image = stdout.lines().filter(|l| l.contains(" dice=")).count();
    assert_eq!(per_image, 48, "16 slices per plane:\n{stdout}");
    let overall: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("overall dice="))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no overall line:\n{stdout}"));
    assert!(overall >= 0.97, "held-out Dice {overall}\n{stdout}");
    // The card carries the same figure (to rounding).
    let info = ok(&unet(&["info", model.to_str().unwrap()]));
    assert!(info.contains("dice_heldout"), "{info}");
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
