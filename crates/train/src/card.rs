//! The brain model's card: what it was trained on, how, its input policy, limitations and the
//! figures of the epoch it comes from.

use std::collections::BTreeMap;

use unet::{ClassInfo, ModelCard};
use unet_imaging::PostStep;

use crate::data::normalization;
use crate::progress::clock;
use crate::state::{EpochRecord, State};

/// The mean probability over the three planes a voxel needs to be brain (the card's
/// `threshold`), chosen with [`OPENING_MM`] by scripts/bench/brain_postprocess_cv.py.
pub const THRESHOLD: f64 = 0.65;
/// Radius of the 3-D opening before the largest component is kept (the card's `postprocess`).
pub const OPENING_MM: f64 = 3.0;

/// Where each real head that training can draw on comes from (scripts/data/fetch_heads.sh).
fn head_source(name: &str) -> String {
    match name {
        crate::head::MEAN_HEAD => "pydeface 2.1.0's mean head (mean_reg2mean.nii.gz, PyPI wheel, MIT; an average of many heads)".into(),
        "s1_head" => "pycortex 1.4.0's example subject S1 (one adult's single T1 scan, sdist on PyPI, BSD-2)".into(),
        other => format!("{other} (data/heads)"),
    }
}

fn head_sources(names: &[String]) -> String {
    names
        .iter()
        .map(|n| head_source(n))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The brain-extraction model card.
pub fn brain_card(command: &str, state: &State, record: Option<&EpochRecord>) -> ModelCard {
    let s = &state.settings;
    let mut metrics = BTreeMap::new();
    let mut extra = BTreeMap::new();
    if let Some(r) = record {
        metrics.insert("dice_template_slabs".into(), r.dice_heldout);
        metrics.insert("dice_template_slabs_augmented".into(), r.dice_val_augmented);
        metrics.insert("epoch".into(), r.epoch as f64);
    }
    metrics.insert(
        "training_minutes".into(),
        (state.seconds / 60.0 * 10.0).round() / 10.0,
    );
    let text = |v: &str| serde_json::Value::String(v.into());
    extra.insert("training_command".into(), text(command));
    extra.insert(
        "training_settings".into(),
        serde_json::to_value(s).unwrap_or_default(),
    );
    extra.insert(
        "input_policy".into(),
        text(&format!("one greyscale 2-D slice, any plane, any in-plane orientation, any size of at least 16×16 (trained at about 1 mm per pixel, scale 0.6–2×), scaled by its own 0.5–99.5 percentiles; RGB is converted to grey; a pixel is brain where its probability is above {THRESHOLD} (`threshold`), and the mask of an image segmented on its own is opened by a {OPENING_MM} mm disc (at 1 mm per pixel), keeps its largest connected component and has its holes filled, in 2-D (`postprocess`). A volume (NIfTI, DICOM series) is scaled by the whole volume's percentiles, cut in all three planes whose probabilities are averaged (`plane`: all), a voxel is brain where the mean probability is above the same threshold, and the same post-processing runs in 3-D on the label map. Threshold and radius were chosen on three held-out heads (scripts/bench/brain_postprocess_cv.py)")),
    );
    extra.insert(
        "limitations".into(),
        text("Adult T1-weighted heads. Trained on one real head (pydeface's mean head, itself an average, so smoother than a single scan) and on the MNI template brain inside synthetic heads: infants, large lesions, resections and other contrasts are untested. The reference it is measured against (Colin27, FSL BET's mask) ends the brainstem where BET does; other tools' masks differ by a few millimetres at the surface, which moves Dice by about 0.01–0.03. Input that is already skull-stripped is out of its training distribution."),
    );
    extra.insert(
        "training_data".into(),
        text(&if s.real_heads {
            format!("Two sources, mixed in every batch. (1) Real whole heads: {heads}, each with skull, face, neck and spine and its brain mask registered from the MNI template (scripts/data/fetch_heads.sh, dipy affine + SyN); its own T1 under random gamma blended with random intensities per tissue class, slices of every plane from the neck to above the vertex, 30 % with a field of view ending inside the head ({head_percent:.0} % of examples, shared equally between the heads). (2) The MNI ICBM152 2009a symmetric template (T1, GM, WM maps, nilearn 0.14.1 wheel, scripts/data/fetch_mni.sh), skull-stripped, with skull, scalp, face and neck tissue synthesised around the brain with random thickness and per-tissue random intensities (SynthStrip-style). Brain mask = GM + WM probability > 0.5, closed, holes filled. (3) Blank, noise and smooth-blob images with an empty target (3 %). All augmented: 90° rotations, flips, scale 0.6–2, ±15° rotation, elastic warps, crops, bias field, Rician noise, blur, gamma, 8-bit quantisation; half scaled by the crop's own percentiles (2-D images), half by the whole volume's (volume slices).", heads = head_sources(&s.train_heads), head_percent = s.head_share * 100.0)
        } else {
            "MNI ICBM152 2009a symmetric template (T1, GM, WM maps) from the nilearn 0.14.1 wheel on PyPI, fetched by scripts/data/fetch_mni.sh. Brain mask = GM + WM probability > 0.5 with holes filled in 3-D and per slice in all planes. The template is skull-stripped, so skull, scalp, face and neck tissue are synthesised around the brain with random thickness and per-tissue random intensities (SynthStrip-style), then augmented: 90° rotations, flips, scale 0.6–2, ±15° rotation, elastic warps, crops, bias field, Rician noise, blur, gamma, 8-bit quantisation.".into()
        }),
    );
    extra.insert(
        "evaluation".into(),
        text("dice_template_slabs: pooled Dice over one 16-slice slab per plane of the MNI template that training never used in that plane. It is NOT a held-out subject (the other planes cross those slabs), so it only guards against regressions; the model's accuracy on unseen heads is in the metrics named colin27_*, mni152_head_* and s1_head_* (three real heads never trained on; see BENCHMARKS.md and scripts/bench/brain_peers.py). The volume threshold and the opening radius were chosen on those same three heads; leaving each head out in turn shows how much that choice flatters them (BENCHMARKS.md)."),
    );
    extra.insert(
        "data_license".into(),
        text("MNI ICBM152 2009a: Copyright (C) 1993-2009 Louis Collins, McConnell Brain Imaging Centre, Montreal Neurological Institute, McGill University. Permission to use, copy, modify and distribute for any purpose without fee, provided the copyright notice appears in all copies; provided as is without warranty. Fonov et al., NeuroImage 2009 and 2011. pydeface mean head (pydeface 2.1.0 wheel): MIT licence, Copyright (c) the pydeface developers (Poldrack Lab, Stanford)."),
    );
    ModelCard {
        name: "Brain extraction (T1 MRI)".into(),
        task: "Skull stripping: brain versus everything else on one T1-weighted MRI slice".into(),
        classes: vec![
            ClassInfo {
                name: "background".into(),
                colour: "#000000".into(),
            },
            ClassInfo {
                name: "brain".into(),
                colour: "#ff3b30".into(),
            },
        ],
        preprocessing: normalization(),
        trained: true,
        license: "MIT OR Apache-2.0 (weights, trained by unet-web); training data under the MNI licence in data_license".into(),
        provenance: format!(
            "{} by unet-web with burn (Rust), `{command}`, {} epochs of {} steps × {} crops of {}², {} in total",
            match &s.init {
                Some(init) => format!("fine-tuned from the weights in {init}"),
                None => "trained".into(),
            },
            s.epochs,
            s.steps,
            s.batch,
            s.size,
            clock(state.seconds as f32)
        ),
        // Chosen by measurement on the held-out heads (BENCHMARKS.md): the three planes averaged
        // beat any single plane; a 3 mm opening cuts the bridges to the neck and skull base, the
        // 3-D clean-up removes what they held; threshold and radius by
        // scripts/bench/brain_postprocess_cv.py.
        plane: Some("all".into()),
        postprocess: vec![
            PostStep::Opening {
                radius_mm: OPENING_MM,
            },
            PostStep::LargestComponent,
            PostStep::FillHoles,
        ],
        threshold: Some(THRESHOLD),
        metrics,
        extra,
    }
}
