//! The `unet` binary end to end, on the PyTorch parity fixtures of the model crate.

mod common;

use common::{ok, parity_fixture as fixture, scratch, text, unet};
use std::path::Path;
use unet_imaging::{decode_image, decode_npy_f32};

fn relative_error(npy: &Path, expected: &Path) -> f32 {
    let (shape_a, a) = decode_npy_f32(&std::fs::read(npy).unwrap()).unwrap();
    let (shape_b, b) = decode_npy_f32(&std::fs::read(expected).unwrap()).unwrap();
    assert_eq!(shape_a, shape_b, "logits shape [classes, H, W]");
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
    a.iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// `unet predict --force --model MODEL IMAGE --out OUT [--logits]`, asserting success (`--force`:
/// the loops below write one case's files again with another model).
fn predict(model: &Path, image: &Path, out: &Path, logits: bool) {
    let mut args = vec![
        "predict",
        "--force",
        "--model",
        model.to_str().unwrap(),
        image.to_str().unwrap(),
    ];
    args.extend(["--out", out.to_str().unwrap()]);
    if logits {
        args.push("--logits");
    }
    let run = unet(&args);
    assert!(
        run.status.success(),
        "{}: {}",
        model.display(),
        text(&run.stderr)
    );
}

#[test]
fn predict_logits_match_pytorch_for_every_fixture() {
    let out = scratch("parity");
    for (model, case) in [
        ("bilinear_c1_k1.pth", "bilinear_c1_k1"),
        ("bilinear_c1_k1.safetensors", "bilinear_c1_k1"),
        ("transposed_c3_k3.pth", "transposed_c3_k3"),
        ("bilinear_c3_k4.safetensors", "bilinear_c3_k4"),
        ("transposed_c1_k2.pth", "transposed_c1_k2"),
    ] {
        let image = fixture(&format!("{case}.png"));
        predict(&fixture(model), &image, &out, true);
        let error = relative_error(
            &out.join(format!("{case}.logits.npy")),
            &fixture(&format!("{case}.logits.npy")),
        );
        assert!(error <= 1e-4, "{model}: relative error {error:e}");
        let mask =
            decode_image(&std::fs::read(out.join(format!("{case}.mask.png"))).unwrap()).unwrap();
        let source = decode_image(&std::fs::read(&image).unwrap()).unwrap();
        assert_eq!(
            (mask.width, mask.height),
            (source.width, source.height),
            "{model}: mask size"
        );
    }
}

#[test]
fn one_class_masks_are_0_or_255_and_many_class_masks_are_indices() {
    let out = scratch("mask-values");
    for (model, case, allowed) in [
        ("bilinear_c1_k1.pth", "bilinear_c1_k1", vec![0.0, 255.0]),
        (
            "bilinear_c3_k4.safetensors",
            "bilinear_c3_k4",
            vec![0.0, 1.0, 2.0, 3.0],
        ),
    ] {
        predict(
            &fixture(model),
            &fixture(&format!("{case}.png")),
            &out,
            false,
        );
        let mask =
            decode_image(&std::fs::read(out.join(format!("{case}.mask.png"))).unwrap()).unwrap();
        assert!(
            mask.pixels.iter().all(|v| allowed.contains(v)),
            "{model}: unexpected mask values"
        );
        assert!(
            !out.join(format!("{case}.logits.npy")).exists(),
            "logits only with --logits"
        );
    }
}

#[test]
fn info_reports_the_inferred_architecture() {
    let run = unet(&["info", fixture("transposed_c3_k3.pth").to_str().unwrap()]);
    assert!(run.status.success());
    let stdout = text(&run.stdout);
    for line in [
        "n_channels:    3",
        "n_classes:     3",
        "bilinear:      false",
        "base_channels: 8",
        "parameters:    486589",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
}

#[test]
fn convert_round_trips_to_identical_logits() {
    let out = scratch("convert");
    let converted = out.join("model.unet.safetensors");
    let run = unet(&[
        "convert",
        fixture("transposed_c1_k2.pth").to_str().unwrap(),
        "-o",
        converted.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(text(&unet(&["info", converted.to_str().unwrap()]).stdout).contains("unet-web"));
    predict(&converted, &fixture("transposed_c1_k2.png"), &out, true);
    let error = relative_error(
        &out.join("transposed_c1_k2.logits.npy"),
        &fixture("transposed_c1_k2.logits.npy"),
    );
    assert!(error <= 1e-4, "converted model drifted: {error:e}");
}

#[test]
fn predict_on_wgpu_matches_pytorch_within_1e3() {
    let out = scratch("wgpu");
    let model = fixture("transposed_c3_k3.pth");
    let image = fixture("transposed_c3_k3.png");
    let args = [
        "predict",
        "--device",
        "wgpu",
        "--logits",
        "--model",
        model.to_str().unwrap(),
        image.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let run = unet(&args);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let error = relative_error(
        &out.join("transposed_c3_k3.logits.npy"),
        &fixture("transposed_c3_k3.logits.npy"),
    );
    assert!(error <= 1e-3, "Wgpu relative error {error:e}");
}

/// A NIfTI volume whose axial slices are, in display orientation, the fixture image: the volume
/// path must give every slice exactly the 2-D mask, and keep the volume's geometry.
#[test]
fn a_nifti_volume_gets_the_2d_masks_in_a_label_map_with_its_geometry() {
    use unet_imaging::{decode_nifti, encode_nifti_u8_gz, Plane};
    let out = scratch("nifti");
    let image_path = fixture("bilinear_c1_k1.png");
    let model = fixture("bilinear_c1_k1.safetensors");
    let image = decode_image(&std::fs::read(&image_path).unwrap()).unwrap();
    let (w, h) = (image.width as usize, image.height as usize);
    assert_eq!(image.channel_count(), 1);
    // RAS, 0.8 × 0.8 × 3 mm, shifted: axial display rows run anterior → posterior (j falling),
    // columns right → left (i falling).
    let affine = [
        [0.8, 0.0, 0.0, -40.0],
        [0.0, 0.8, 0.0, -60.0],
        [0.0, 0.0, 3.0, 12.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let mut voxels = vec![0u8; w * h * 2];
    for k in 0..2 {
        for j in 0..h {
            for i in 0..w {
                voxels[i + w * (j + h * k)] = image.pixels[(h - 1 - j) * w + (w - 1 - i)] as u8;
            }
        }
    }
    let volume_path = out.join("stack.nii.gz");
    std::fs::write(
        &volume_path,
        encode_nifti_u8_gz([w, h, 2], [0.8, 0.8, 3.0], &affine, &voxels),
    )
    .unwrap();
    let run = unet(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--plane",
        "axial",
        "--out",
        out.to_str().unwrap(),
        volume_path.to_str().unwrap(),
        image_path.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let labels = decode_nifti(&std::fs::read(out.join("stack.mask.nii.gz")).unwrap()).unwrap();
    assert_eq!(labels.dims, [w, h, 2]);
    assert_eq!(labels.spacing, [0.8, 0.8, 3.0]);
    for (a, b) in labels.affine.iter().flatten().zip(affine.iter().flatten()) {
        assert!((a - b).abs() < 1e-5, "{:?}", labels.affine);
    }
    let mask2d =
        decode_image(&std::fs::read(out.join("bilinear_c1_k1.mask.png")).unwrap()).unwrap();
    let slicing = labels.slicing(Plane::Axial);
    for k in 0..2 {
        let slice = slicing.extract(labels.frame(0), k);
        let expected: Vec<f32> = mask2d
            .pixels
            .iter()
            .map(|&v| (v > 0.0) as u8 as f32)
            .collect();
        assert_eq!(slice, expected, "slice {k}");
    }
    // A truncated volume fails alone with a NIfTI message.
    let bytes = std::fs::read(&volume_path).unwrap();
    let broken = out.join("broken.nii.gz");
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let run = unet(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        broken.to_str().unwrap(),
        "--frame",
        "0",
    ]);
    assert!(!run.status.success());
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("broken.nii.gz: not a readable NIfTI volume"),
        "{stderr}"
    );
    let run = unet(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--frame",
        "3",
        "--out",
        out.to_str().unwrap(),
        volume_path.to_str().unwrap(),
    ]);
    assert!(text(&run.stderr).contains("--frame 3 but the volume has 1 frame(s)"));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn the_burn_engine_and_tiles_give_the_default_prediction() {
    let out = scratch("engines");
    let run = |model: &Path, image: &Path, dir: &str, extra: &[&str]| {
        let folder = out.join(dir);
        let mut args = vec!["predict", "--model", model.to_str().unwrap()];
        args.extend([
            image.to_str().unwrap(),
            "--logits",
            "--out",
            folder.to_str().unwrap(),
        ]);
        args.extend(extra);
        ok(&unet(&args));
        folder
    };
    let (model, image) = (
        fixture("bilinear_c1_k1.safetensors"),
        fixture("bilinear_c1_k1.png"),
    );
    let folded = run(&model, &image, "folded", &[]);
    let burn = run(&model, &image, "burn", &["--cpu-engine", "burn"]);
    let logits = |dir: &Path| dir.join("bilinear_c1_k1.logits.npy");
    assert!(relative_error(&logits(&burn), &logits(&folded)) <= 1e-4);

    // The shipped model on a 245×281 slice in 272-pixel tiles with the default 128 of context:
    // 18 tiles, and the very mask of the whole image.
    let model = common::root().join("assets/models/brain-extraction.unet.safetensors");
    let image = common::root().join("assets/samples/t1_head_axial.png");
    let whole = run(&model, &image, "whole", &["--tile", "0"]);
    let tiled = run(&model, &image, "tiled", &["--tile", "272"]);
    let mask = |dir: &Path| std::fs::read(dir.join("t1_head_axial.mask.png")).unwrap();
    assert_eq!(
        mask(&whole),
        mask(&tiled),
        "tiled and whole-image masks differ"
    );

    let bad = unet(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        image.to_str().unwrap(),
        "--tile",
        "100",
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("multiples of 16"),
        "{}",
        text(&bad.stderr)
    );
}
