//! `unet predict`: masks (and logits) for a batch of images; one bad file never stops the rest.

use crate::dicom_seg::write_dicom_seg;
use crate::inputs::{gather, Input};
use crate::output::{load_model, path_in, Outputs};
pub use crate::predict_args::PredictArgs;
use crate::stats::predicted_csv;
use crate::volume::predict_volume;
use anyhow::{anyhow, Context};
use std::collections::HashMap;
use unet::{segment, Runner, Segmented};
use unet_imaging::{encode_mask_png, encode_npy_f32, grey_values, Cell, Content};

/// Segments every input; returns an error if any input failed (after doing the others).
pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    let checkpoint = load_model(&args.model)?;
    let runner = args
        .run
        .runner(&checkpoint)
        .with_context(|| format!("{}", args.model.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let inputs = gather(&args.inputs);
    let total = inputs.len();
    let mut failed = 0;
    let mut outputs = Outputs::new(&args.inputs, args.force);
    let mut taken: HashMap<String, usize> = HashMap::new();
    for input in inputs {
        // Two inputs with one name (two series in a folder, `Scan.png` and `scan.dcm`): the
        // second becomes NAME-2. Compared ignoring case, as macOS and Windows file systems do.
        let seen = taken.entry(input.stem.to_lowercase()).or_insert(0);
        *seen += 1;
        let stem = match *seen {
            1 => input.stem.clone(),
            n => format!("{}-{n}", input.stem),
        };
        match predict_one(&checkpoint, &runner, &input, &stem, args, &mut outputs) {
            Ok(written) => println!("{} -> {written}", input.label),
            Err(message) => {
                eprintln!("error: {}: {message}", input.label);
                failed += 1;
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(anyhow!("{n} of {total} input(s) failed")),
    }
}

fn predict_one(
    checkpoint: &unet::Checkpoint,
    runner: &Runner,
    input: &Input,
    name: &str,
    args: &PredictArgs,
    outputs: &mut Outputs,
) -> anyhow::Result<String> {
    let decoded = input.decoded.as_ref().map_err(|e| anyhow!("{e}"))?;
    let image = match &decoded.content {
        Content::Volume(volume) => {
            return predict_volume(checkpoint, runner, input, volume, name, args, outputs)
        }
        Content::Image(image) => image,
    };
    let Segmented {
        logits,
        mask,
        notes,
    } = segment(&checkpoint.card, runner, image)?;
    for note in notes {
        eprintln!("note: {}: {note}", input.label);
    }
    let mask_path = path_in(&args.out, name, "mask.png");
    outputs.write(&mask_path, &encode_mask_png(&mask))?;
    let mut written = mask_path.display().to_string();
    if args.logits {
        let npy_path = path_in(&args.out, name, "logits.npy");
        let shape = [logits.classes, logits.height, logits.width];
        outputs.write(&npy_path, &encode_npy_f32(&shape, &logits.data))?;
        written.push_str(&format!(", {}", npy_path.display()));
    }
    if args.stats {
        let cell = Cell::pixel(decoded.info.pixel_spacing);
        let csv = predicted_csv(checkpoint, &mask.data, cell, &grey_values(image))?;
        let csv_path = path_in(&args.out, name, "stats.csv");
        outputs.write(&csv_path, csv.as_bytes())?;
        written.push_str(&format!(", {}", csv_path.display()));
    }
    if args.dicom_seg {
        let seg = write_dicom_seg(
            checkpoint,
            &input.label,
            &decoded.info,
            &mask.data,
            &args.out,
            name,
            outputs,
        )?;
        if let Some(path) = seg {
            written.push_str(&format!(", {path}"));
        }
    }
    Ok(written)
}
