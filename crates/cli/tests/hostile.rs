//! Hostile and broken input to the `unet` binary: bad files in a batch, checkpoints that are
//! partial or not U-Nets, models with more classes than a mask holds, and outputs that would
//! overwrite an input or an earlier file. Each gets one line; nothing is overwritten unasked.

mod common;

use common::{ok, parity_fixture as fixture, scratch, text, unet};

/// Outputs never replace an input, nor a file the run did not write unless `--force`; two
/// inputs whose names differ only in case get two masks; `convert -o` cannot name its input.
#[test]
fn outputs_never_replace_inputs_or_earlier_files_without_force() {
    let out = scratch("outputs");
    let model = fixture("bilinear_c1_k1.safetensors");
    let png = std::fs::read(fixture("bilinear_c1_k1.png")).unwrap();
    let (upper, lower) = (out.join("Scan.png"), out.join("scan.png"));
    std::fs::write(&upper, &png).unwrap();
    std::fs::write(&lower, &png).unwrap();
    let predict_args = |force: bool| {
        let mut args = vec!["predict", "--model", model.to_str().unwrap()];
        args.extend([upper.to_str().unwrap(), lower.to_str().unwrap()]);
        args.extend(["--out", out.to_str().unwrap()]);
        if force {
            args.push("--force");
        }
        unet(&args)
    };
    ok(&predict_args(false));
    assert!(out.join("Scan.mask.png").exists() && out.join("scan-2.mask.png").exists());

    let before = std::fs::read(out.join("Scan.mask.png")).unwrap();
    std::fs::write(out.join("Scan.mask.png"), b"an earlier result").unwrap();
    let again = predict_args(false);
    assert_eq!(again.status.code(), Some(1));
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("Scan.mask.png") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(out.join("Scan.mask.png")).unwrap(),
        b"an earlier result"
    );
    ok(&predict_args(true));
    assert_eq!(std::fs::read(out.join("Scan.mask.png")).unwrap(), before);
    assert_eq!(std::fs::read(&upper).unwrap(), png, "inputs are untouched");

    let copy = out.join("model.safetensors");
    std::fs::copy(&model, &copy).unwrap();
    for force in [false, true] {
        let mut args = vec!["convert", copy.to_str().unwrap(), "-o"];
        args.push(copy.to_str().unwrap());
        if force {
            args.push("--force");
        }
        let run = unet(&args);
        assert_eq!(run.status.code(), Some(1));
        assert!(
            text(&run.stderr).contains("is an input"),
            "{}",
            text(&run.stderr)
        );
    }
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&model).unwrap()
    );
    let init = |force: bool| {
        let mut args = vec![
            "init",
            "--base",
            "2",
            "--bilinear",
            "-o",
            copy.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        unet(&args)
    };
    let refused = init(false);
    assert!(
        text(&refused.stderr).contains("--force"),
        "{}",
        text(&refused.stderr)
    );
    ok(&init(true));
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_bad_file_in_a_batch_fails_alone_with_a_one_line_message() {
    let out = scratch("batch");
    let garbage = out.join("noise.png");
    std::fs::write(&garbage, [0x13u8, 0x37, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]).unwrap();
    let png = std::fs::read(fixture("bilinear_c1_k1.png")).unwrap();
    let truncated = out.join("truncated.png");
    std::fs::write(&truncated, &png[..png.len() / 2]).unwrap();
    let good = fixture("bilinear_c1_k1.png");
    let run = unet(&[
        "predict",
        "--model",
        fixture("bilinear_c1_k1.pth").to_str().unwrap(),
        garbage.to_str().unwrap(),
        truncated.to_str().unwrap(),
        "missing.png",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = text(&run.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for name in ["noise.png", "truncated.png", "missing.png"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no message for {name}: {stderr}"));
        assert!(line.starts_with("error: "), "{line}");
    }
    assert!(
        out.join("bilinear_c1_k1.mask.png").exists(),
        "the good file was still segmented"
    );
}

#[test]
fn wrong_or_partial_checkpoints_name_the_problem() {
    let out = scratch("bad-model");
    // A U-Net checkpoint with its head cut off: the message names the missing key.
    let bytes = std::fs::read(fixture("bilinear_c3_k4.safetensors")).unwrap();
    let (mut tensors, _) = unet::checkpoint::read_safetensors(&bytes).unwrap();
    tensors.remove("up2.conv.double_conv.4.running_var");
    tensors
        .get_mut("down1.maxpool_conv.1.double_conv.0.weight")
        .unwrap()
        .shape = vec![12, 6, 9, 1];
    let partial = out.join("partial.safetensors");
    std::fs::write(
        &partial,
        unet::checkpoint::write_safetensors(&tensors, None, unet::StorageDtype::F32).unwrap(),
    )
    .unwrap();
    let not_a_model = out.join("notes.pth");
    std::fs::write(&not_a_model, b"just some text").unwrap();
    for (path, expect) in [
        (
            partial.clone(),
            vec![
                "up2.conv.double_conv.4.running_var",
                "down1.maxpool_conv.1.double_conv.0.weight",
                "[12, 6, 9, 1]",
            ],
        ),
        (
            not_a_model.clone(),
            vec!["notes.pth", "unknown model format"],
        ),
        (out.join("absent.pth"), vec!["absent.pth", "cannot read"]),
    ] {
        let run = unet(&["info", path.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(1));
        let stderr = text(&run.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        for needle in expect {
            assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
        }
    }
}

/// Class counts no mask can hold: 257 (one past a byte) and 2^20 + 1 (whose logits alone would
/// need gigabytes at 256²). `unet info`, `unet predict` and `unet init` each refuse them with one
/// line that names the count and the limit, before allocating anything for them.
#[test]
fn models_with_more_classes_than_a_mask_holds_are_refused() {
    let out = scratch("many-classes");
    let bytes = std::fs::read(fixture("bilinear_c3_k4.safetensors")).unwrap();
    let (tensors, _) = unet::checkpoint::read_safetensors(&bytes).unwrap();
    let base = tensors["outc.conv.weight"].shape[1];
    let image = fixture("bilinear_c3_k4.png");
    for classes in [257usize, (1 << 20) + 1] {
        let mut hostile = tensors.clone();
        hostile.insert(
            "outc.conv.weight".into(),
            unet::checkpoint::RawTensor {
                shape: vec![classes, base, 1, 1],
                data: vec![0.0; classes * base],
            },
        );
        hostile.insert(
            "outc.conv.bias".into(),
            unet::checkpoint::RawTensor {
                shape: vec![classes],
                data: vec![0.0; classes],
            },
        );
        let model = out.join(format!("classes-{classes}.safetensors"));
        std::fs::write(
            &model,
            unet::checkpoint::write_safetensors(&hostile, None, unet::StorageDtype::F32).unwrap(),
        )
        .unwrap();
        let masks = out.join(format!("masks-{classes}"));
        let runs = [
            unet(&["info", model.to_str().unwrap()]),
            unet(&[
                "predict",
                "--model",
                model.to_str().unwrap(),
                "--out",
                masks.to_str().unwrap(),
                image.to_str().unwrap(),
            ]),
            unet(&[
                "init",
                "--classes",
                &classes.to_string(),
                "-o",
                out.join("init.safetensors").to_str().unwrap(),
            ]),
        ];
        for run in runs {
            assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
            let stderr = text(&run.stderr);
            assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
            assert!(
                stderr.contains(&format!("{classes} output classes"))
                    && stderr.contains("1 to 256"),
                "{stderr}"
            );
        }
        assert!(!out.join("init.safetensors").exists());
    }
    let _ = std::fs::remove_dir_all(out);
}
