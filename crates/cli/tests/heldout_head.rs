//! The default model on a real head it never trained on: Colin27 (Debian's mricron-data,
//! fetched by scripts/data/fetch_heads.sh), whole head with skull, face and neck, against FSL
//! BET's brain mask of it. `unet predict` with the card's defaults (three planes fused, 3-D
//! post-processing) must reach the goals, and slices that hold no brain (neck, face,
//! scalp above the vertex) must stay (almost) empty as volume slices and as 2-D images alike.
//! scripts/bench/brain_peers.py measures the same head against deepbet (BENCHMARKS.md).

mod common;

use common::{ok, root, scratch, unet};
use std::path::{Path, PathBuf};
use unet_imaging::{decode_image, decode_nifti, encode_gray_png, Plane, Slicing, Volume};
use unet_train::template::chamfer_distance;

fn heads() -> PathBuf {
    let dir = root().join("data/heads");
    assert!(
        dir.join("colin27.nii.gz").exists() && dir.join("colin27_brain.nii.gz").exists(),
        "the held-out head is missing: run scripts/data/fetch_heads.sh"
    );
    dir
}

fn model() -> PathBuf {
    root().join("assets/models/brain-extraction.unet.safetensors")
}

fn read(path: &Path) -> Volume {
    decode_nifti(&std::fs::read(path).unwrap()).unwrap()
}

/// Issue 11's goals are Dice ≥ 0.94 (above deepbet's 0.936 on this head) and at most 10 mL of
/// "brain" more than 5 mm outside the brain. The shipped model (fine-tuned on the real head,
/// 2026-12-05) measures 0.956 and 9.7 mL here with exact distances (BENCHMARKS.md; before the
/// fine-tune 0.947 and 20 mL, the first model 0.815 and 504 mL). These bounds guard that with a
/// small margin (this test measures distance with the 3-4-5 chamfer metric, not exactly).
const MIN_DICE: f64 = 0.95;
const MAX_GROSS_FP_ML: f64 = 12.0;

#[test]
fn the_default_model_holds_on_a_held_out_head() {
    let heads = heads();
    let out = scratch("colin27");
    let head = heads.join("colin27.nii.gz");
    let stdout = ok(&unet(&[
        "predict",
        "--model",
        model().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        head.to_str().unwrap(),
    ]));
    assert!(stdout.contains("all three planes"), "{stdout}");
    let labels = read(&out.join("colin27.mask.nii.gz"));
    let reference = read(&heads.join("colin27_brain.nii.gz"));
    assert_eq!(labels.dims, reference.dims);
    let predicted: Vec<u8> = labels.data.iter().map(|&v| u8::from(v > 0.0)).collect();
    let truth = brain_of(&reference);
    let both = predicted
        .iter()
        .zip(&truth)
        .filter(|(&p, &t)| p == 1 && t == 1)
        .count();
    let (p, t) = (
        predicted.iter().filter(|&&v| v == 1).count(),
        truth.iter().filter(|&&v| v == 1).count(),
    );
    let dice = 2.0 * both as f64 / (p + t) as f64;
    // 1 mm voxels: one voxel is one microlitre.
    let distance = chamfer_distance(&truth, reference.dims);
    let gross_fp = predicted
        .iter()
        .zip(&distance)
        .filter(|(&v, &d)| v == 1 && d > 5.0)
        .count() as f64
        / 1000.0;
    assert!(
        dice >= MIN_DICE && gross_fp <= MAX_GROSS_FP_ML,
        "Dice {dice:.4} (bound ≥ {MIN_DICE}), {gross_fp:.1} mL more than 5 mm outside the brain (bound ≤ {MAX_GROSS_FP_ML})"
    );

    // Slices more than 5 mm beyond the reference brain (the scalp above the vertex, the face,
    // the back of the head, the ears): under 1 % of their pixels may be labelled brain.
    let mut empty_slices = 0;
    for plane in Plane::ALL {
        let slicing = reference.slicing(plane);
        let (h, w) = slicing.shape();
        let (first, last) = brain_extent(&truth, &slicing);
        for index in 0..slicing.count() {
            // Within 5 mm of the brain's first or last slice, where the reference stops is a
            // convention (BET cuts the brainstem at the field of view's edge here).
            if index + 5 > first && index < last + 5 {
                continue;
            }
            empty_slices += 1;
            let positives = slicing
                .extract(&predicted, index)
                .iter()
                .filter(|&&v| v == 1)
                .count();
            assert!(
                (positives as f64) < 0.01 * (h * w) as f64,
                "{} slice {index} holds no brain but {positives} of {} pixels were labelled brain",
                plane.name(),
                h * w
            );
        }
    }
    assert!(empty_slices > 50, "{empty_slices} brain-free slices");
    let _ = std::fs::remove_dir_all(out);
}

/// Writes slice `index` of `head` in `plane` as an 8-bit PNG named `name` in `dir`, grey levels
/// scaled from 0 to `white` (clipped), as a viewer's export would be.
fn write_slice_png(head: &Volume, plane: Plane, index: usize, white: f32, dir: &Path, name: &str) {
    let slicing = head.slicing(plane);
    let grey: Vec<u8> = slicing
        .extract(&head.data, index)
        .iter()
        .map(|&v| (v.max(0.0) / white * 255.0).min(255.0) as u8)
        .collect();
    let (h, w) = slicing.shape();
    std::fs::write(dir.join(name), encode_gray_png(w as u32, h as u32, &grey)).unwrap();
}

/// `unet predict` with the default model on the PNGs `names` in `dir`; returns each one's mask
/// (`true`: brain), in order.
fn predict_images(dir: &Path, names: &[String]) -> Vec<Vec<bool>> {
    let masks = dir.join("masks");
    let mut args = vec![
        "predict".to_string(),
        "--model".into(),
        model().to_str().unwrap().into(),
        "--out".into(),
        masks.to_str().unwrap().into(),
    ];
    args.extend(
        names
            .iter()
            .map(|n| dir.join(n).to_str().unwrap().to_string()),
    );
    ok(&unet(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    names
        .iter()
        .map(|name| {
            let path = masks.join(name.replace(".png", ".mask.png"));
            let mask = decode_image(&std::fs::read(path).unwrap()).unwrap();
            mask.pixels.iter().map(|&v| v > 0.0).collect()
        })
        .collect()
}

/// A reference mask as 0/1.
fn brain_of(reference: &Volume) -> Vec<u8> {
    reference.data.iter().map(|&v| u8::from(v > 0.5)).collect()
}

/// The first and last slice of `slicing` that hold brain in `truth` (0/1).
fn brain_extent(truth: &[u8], slicing: &Slicing) -> (usize, usize) {
    let with_brain: Vec<usize> = (0..slicing.count())
        .filter(|&i| slicing.extract(truth, i).contains(&1))
        .collect();
    (with_brain[0], *with_brain.last().unwrap())
}

/// Brain-free slices exported as 8-bit PNGs as a user would (each scaled to its own range),
/// through the 2-D path: the held-out head's scalp above the vertex and its face. Colin27's field
/// of view stops at the brainstem, so it has no neck; neck slices of pydeface's mean head as 2-D
/// images still get 3–7 % positives 20–35 mm below the brain (BENCHMARKS.md), so they are not
/// asserted here.
#[test]
fn neck_face_and_scalp_slices_as_images_show_almost_no_brain() {
    let heads = heads();
    let colin = read(&heads.join("colin27.nii.gz"));
    let colin_brain = read(&heads.join("colin27_brain.nii.gz"));
    let out = scratch("brain-free-slices");
    let mut names = Vec::new();
    // (plane, slices relative to the brain's first (−) or last (+) slice)
    let cases: [(Plane, &[isize]); 2] =
        [(Plane::Axial, &[4, 7, 12]), (Plane::Coronal, &[5, 9, 14])];
    let truth = brain_of(&colin_brain);
    for (plane, offsets) in cases {
        let slicing = colin.slicing(plane);
        let (first, last) = brain_extent(&truth, &slicing);
        for &offset in offsets {
            let index = if offset > 0 {
                last as isize + offset
            } else {
                first as isize + offset
            };
            assert!(
                (0..slicing.count() as isize).contains(&index),
                "colin {} slice {index} is outside the volume",
                plane.name()
            );
            let index = index as usize;
            let max = slicing
                .extract(&colin.data, index)
                .iter()
                .cloned()
                .fold(0.0f32, f32::max);
            assert!(max > 0.0, "colin {} slice {index} is empty", plane.name());
            let name = format!("colin_{}_{index}.png", plane.name());
            write_slice_png(&colin, plane, index, max, &out, &name);
            names.push(name);
        }
    }
    for (name, mask) in names.iter().zip(predict_images(&out, &names)) {
        let positives = mask.iter().filter(|&&v| v).count();
        assert!(
            (positives as f64) < 0.01 * mask.len() as f64,
            "{name}: {positives} of {} pixels labelled brain",
            mask.len()
        );
    }
    let _ = std::fs::remove_dir_all(out);
}

/// Issue 11's per-plane goal on single 2-D slices, the way its report measured the first model
/// (0.94 / 0.86 / 0.88 axial / coronal / sagittal on 8-bit PNG slices of a real head): nine
/// slices per plane over the middle 60 % of the reference brain, exported with the volume's own
/// window, each segmented on its own as a PNG (per-slice scaling, no other plane, the card's
/// threshold and its post-processing in 2-D). The pooled Dice of each plane must reach 0.95 on
/// Colin27 (BET's mask): 0.967 / 0.956 / 0.955 here, where the mask at 0.5 without
/// post-processing gave 0.960 / 0.946 / 0.943. pycortex's S1 is one adult's single scan whose
/// neck, tongue and eyes the model takes for brain in sagittal and coronal slices: 0.964 / 0.882
/// / 0.861 before, about 0.95 in every plane now; 0.93 guards that. scripts/bench/brain_slices.py
/// measures the same on all three held-out heads (BENCHMARKS.md).
#[test]
fn slices_through_the_brain_as_images_reach_the_plane_goal() {
    let heads = heads();
    let out = scratch("brain-slices");
    for (head_name, bound) in [("colin27", 0.95), ("s1_head", 0.93)] {
        let head = read(&heads.join(format!("{head_name}.nii.gz")));
        let brain = read(&heads.join(format!("{head_name}_brain.nii.gz")));
        let mut sorted: Vec<f32> = head.data.clone();
        sorted.sort_by(f32::total_cmp);
        let white = sorted[sorted.len() * 995 / 1000];
        let truth = brain_of(&brain);
        for plane in Plane::ALL {
            let slicing = brain.slicing(plane);
            let (first, last) = brain_extent(&truth, &slicing);
            let indices: Vec<usize> = (0..9)
                .map(|k| {
                    let f = 0.2 + 0.6 * k as f64 / 8.0;
                    (first as f64 + f * (last - first) as f64).round() as usize
                })
                .collect();
            let names: Vec<String> = indices
                .iter()
                .map(|&i| format!("{head_name}_{}_{i}.png", plane.name()))
                .collect();
            for (&index, name) in indices.iter().zip(&names) {
                write_slice_png(&head, plane, index, white, &out, name);
            }
            let (mut both, mut total) = (0usize, 0usize);
            for (&index, mask) in indices.iter().zip(predict_images(&out, &names)) {
                let reference = slicing.extract(&truth, index);
                assert_eq!(reference.len(), mask.len());
                for (&t, &p) in reference.iter().zip(&mask) {
                    both += usize::from(t == 1 && p);
                    total += usize::from(t == 1) + usize::from(p);
                }
            }
            let dice = 2.0 * both as f64 / total as f64;
            assert!(
                dice >= bound,
                "{head_name} {}: pooled Dice {dice:.4} over 9 slices as images (bound ≥ {bound})",
                plane.name()
            );
        }
    }
    let _ = std::fs::remove_dir_all(out);
}
