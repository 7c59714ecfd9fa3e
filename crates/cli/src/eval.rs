//! `unet eval`: Dice of a model's masks against reference masks, per image and overall.

use crate::network::RunArgs;
use crate::output::{load_model, read, stem};
use anyhow::{anyhow, bail, Context};
use clap::Args;
use std::path::{Path, PathBuf};
use unet::segment;
use unet_imaging::decode_image;
use unet_train::DiceCounts;

/// Arguments of `unet eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// A .pth, .safetensors or unet-web model file.
    #[arg(long)]
    model: PathBuf,
    /// Folder of images.
    #[arg(long)]
    images: PathBuf,
    /// Folder of reference masks: for `images/NAME.EXT`, `masks/NAME.EXT`, `masks/NAME.*` or
    /// `masks/NAME.mask.*`; any non-zero pixel is foreground.
    #[arg(long)]
    masks: PathBuf,
    #[command(flatten)]
    run: RunArgs,
}

/// Prints `NAME dice=…` per image, then the pooled and mean Dice; fails if any pair failed.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let checkpoint = load_model(&args.model)?;
    let runner = args.run.runner(&checkpoint)?;
    let images = files_in(&args.images)?;
    if images.is_empty() {
        bail!("{}: no images", args.images.display());
    }
    let masks = files_in(&args.masks)?;
    let mut pooled = DiceCounts::default();
    let mut per_image = Vec::new();
    let mut failures = 0;
    for image_path in &images {
        let name = stem(image_path);
        let result = reference_for(image_path, &masks)
            .ok_or_else(|| anyhow!("no mask named {name}.* in {}", args.masks.display()))
            .and_then(|mask_path| {
                let image = decode_image(&read(image_path)?)?;
                let reference = decode_image(&read(&mask_path)?)
                    .with_context(|| format!("{}", mask_path.display()))?;
                if (reference.width, reference.height) != (image.width, image.height) {
                    bail!(
                        "the mask is {}×{} but the image is {}×{}",
                        reference.width,
                        reference.height,
                        image.width,
                        image.height
                    );
                }
                let predicted = segment(&checkpoint.card, &runner, &image)?.mask;
                let channels = reference.channel_count();
                let mut counts = DiceCounts::default();
                counts.add(
                    predicted.data.iter().map(|&c| c > 0),
                    reference
                        .pixels
                        .chunks(channels)
                        .map(|px| px.iter().any(|&v| v > 0.0)),
                );
                Ok(counts)
            });
        match result {
            Ok(counts) => {
                println!("{name} dice={:.4}", counts.dice());
                pooled.overlap += counts.overlap;
                pooled.predicted += counts.predicted;
                pooled.reference += counts.reference;
                per_image.push(counts.dice());
            }
            Err(e) => {
                eprintln!("error: {}: {e}", image_path.display());
                failures += 1;
            }
        }
    }
    if !per_image.is_empty() {
        let mean = per_image.iter().sum::<f64>() / per_image.len() as f64;
        println!(
            "overall dice={:.4} (pooled over {} images), mean dice={mean:.4}",
            pooled.dice(),
            per_image.len()
        );
    }
    match failures {
        0 => Ok(()),
        n => Err(anyhow!("{n} of {} image(s) failed", images.len())),
    }
}

/// Regular files in `dir`, sorted by name.
fn files_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn reference_for(image: &Path, masks: &[PathBuf]) -> Option<PathBuf> {
    let name = stem(image);
    let file_name = image.file_name()?;
    masks
        .iter()
        .find(|m| m.file_name() == Some(file_name))
        .or_else(|| masks.iter().find(|m| stem(m) == name))
        .or_else(|| masks.iter().find(|m| stem(m) == format!("{name}.mask")))
        .cloned()
}
