//! `unet predict` on volumes (NIfTI, multi-frame DICOM, DICOM series): slices through the 2-D
//! model as [`VolumeSegmenter`] plans them (the whole volume's scaling, one plane or all three,
//! the card's 3-D post-processing; the app runs the same steps), and the label map written as
//! a `.nii.gz` with the input's dimensions and geometry.

use crate::dicom_seg::write_dicom_seg;
use crate::inputs::Input;
use crate::mesh::{class_names, write_surfaces};
use crate::output::{path_in, Outputs};
use crate::predict_args::PredictArgs;
use crate::stats::predicted_csv;
use anyhow::{anyhow, bail};
use std::collections::BTreeSet;
use std::io::Write;
use unet::Runner;
use unet_imaging::{Cell, PlaneChoice, Volume, VolumeSegmenter};

/// Segments the volume and writes `OUT/STEM.mask.nii.gz` (uint8 class indices).
pub fn predict_volume(
    checkpoint: &unet::Checkpoint,
    runner: &Runner,
    input: &Input,
    volume: &Volume,
    name: &str,
    args: &PredictArgs,
    outputs: &mut Outputs,
) -> anyhow::Result<String> {
    if args.frame >= volume.frames {
        bail!(
            "--frame {} but the volume has {} frame(s): choose 0 to {}",
            args.frame,
            volume.frames,
            volume.frames - 1
        );
    }
    let choice = args
        .plane
        .unwrap_or_else(|| checkpoint.card.volume_planes());
    let mut segmenter = VolumeSegmenter::new(
        volume,
        args.frame,
        choice,
        checkpoint.config.n_channels,
        &checkpoint.card.preprocessing,
        &checkpoint.card.postprocess,
    )?
    .with_threshold(checkpoint.card.foreground_threshold());
    let steps = segmenter.steps(volume);
    let mut notes = BTreeSet::new();
    let mut progress = Progress::new(&input.label, steps.len());
    for (done, &(plane, index)) in steps.iter().enumerate() {
        let at = |e: &dyn std::fmt::Display| anyhow!("{} slice {index}: {e}", plane.name());
        let planes = segmenter.input(volume, plane, index).map_err(|e| at(&e))?;
        notes.extend(planes.notes);
        let logits = runner
            .logits(&planes.data, planes.channels, planes.height, planes.width)
            .map_err(|e| at(&e))?;
        segmenter
            .add(volume, plane, index, &logits.data, logits.classes)
            .map_err(|e| at(&e))?;
        progress.update(done + 1);
    }
    progress.clear();
    for note in notes {
        eprintln!("note: {}: {note}", input.label);
    }
    let labels = segmenter.finish();
    let path = path_in(&args.out, name, "mask.nii.gz");
    outputs.write(&path, &labels.encode_nifti_gz())?;
    let mut also = String::new();
    if args.stats {
        let cell = Cell::voxel(volume.spacing);
        let csv = predicted_csv(checkpoint, &labels.data, cell, volume.frame(args.frame))?;
        let csv_path = path_in(&args.out, name, "stats.csv");
        outputs.write(&csv_path, csv.as_bytes())?;
        also = format!(", {}", csv_path.display());
    }
    if args.stl {
        let names = class_names(checkpoint);
        for path in write_surfaces(&labels.data, volume, &names, &args.out, name, outputs)? {
            also.push_str(&format!(", {}", path.display()));
        }
    }
    if let (true, Ok(decoded)) = (args.dicom_seg, &input.decoded) {
        let seg = write_dicom_seg(
            checkpoint,
            &input.label,
            &decoded.info,
            &labels.data,
            &args.out,
            name,
            outputs,
        )?;
        if let Some(path) = seg {
            also.push_str(&format!(", {path}"));
        }
    }
    Ok(match choice {
        PlaneChoice::One(plane) => {
            let (height, width) = volume.slicing(plane).shape();
            format!(
                "{} ({} {} slices of {width}×{height}){also}",
                path.display(),
                steps.len(),
                plane.name()
            )
        }
        PlaneChoice::All => format!(
            "{} ({} slices in all three planes, probabilities averaged){also}",
            path.display(),
            steps.len()
        ),
    })
}

/// A one-line "slice N / M" on stderr when it is a terminal, so a long volume shows it runs.
struct Progress {
    label: String,
    total: usize,
    tty: bool,
}

impl Progress {
    fn new(label: &str, total: usize) -> Progress {
        use std::io::IsTerminal;
        Progress {
            label: label.to_string(),
            total,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, done: usize) {
        if self.tty && (done.is_multiple_of(8) || done == self.total) {
            eprint!("\r{}: slice {done} / {}", self.label, self.total);
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}
