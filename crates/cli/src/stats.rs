//! `unet stats MASK [IMAGE]`, and the CSV `unet predict --stats` writes beside each mask: per
//! class, the pixel or voxel count, the area (mm²) or volume (mL) from the file's spacing, and
//! the image's mean intensity inside.

use anyhow::{anyhow, bail};
use std::path::PathBuf;

use clap::Args;
use unet_imaging::{class_stats, grey_values, stats_csv, Cell, Content, Decoded};

use crate::inputs::gather;
use crate::output::{load_model, Outputs};

/// Arguments of `unet stats`.
#[derive(Args)]
pub struct StatsArgs {
    /// A mask from `unet predict` or the page: STEM.mask.png (class indices; 0/255 is a binary
    /// mask) or STEM.mask.nii.gz (a label map).
    mask: PathBuf,
    /// The image, volume or DICOM folder the mask was made from, on the same grid: adds the
    /// mean intensity per class, and a DICOM image's pixel spacing gives areas in mm².
    image: Option<PathBuf>,
    /// The model that made the mask: names the classes and sets how many rows there are.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Write the CSV to this file instead of printing it.
    #[arg(short = 'o', long)]
    out: Option<PathBuf>,
    /// Overwrite the -o file if it exists (the mask and the image are never overwritten).
    #[arg(long)]
    force: bool,
}

/// Measures the mask and prints (or writes) the CSV.
pub fn run(args: &StatsArgs) -> anyhow::Result<()> {
    let at = |path: &PathBuf, e: &dyn std::fmt::Display| anyhow!("{}: {e}", path.display());
    let card = match &args.model {
        Some(path) => Some(load_model(path)?),
        None => None,
    };
    let mask = decoded(&args.mask)?;
    let (labels, mut cell) = labels_of(&mask).map_err(|e| at(&args.mask, &e))?;
    let intensity = match &args.image {
        Some(path) => {
            let image = decoded(path)?;
            if let (Cell::Pixel { .. }, Some(spacing)) = (cell, image.info.pixel_spacing) {
                cell = Cell::pixel(Some(spacing));
            }
            Some(intensity_of(&image, &mask).map_err(|e| at(path, &e))?)
        }
        None => None,
    };
    let highest = labels.iter().copied().max().map_or(0, usize::from);
    let classes = match &card {
        Some(c) => c.config.n_classes.max(2),
        None => (highest + 1).max(2),
    };
    let names: Vec<String> = card
        .map(|c| c.card.classes.iter().map(|k| k.name.clone()).collect())
        .unwrap_or_default();
    let stats = class_stats(&labels, classes, cell, intensity.as_deref())
        .map_err(|e| at(&args.mask, &e))?;
    let csv = stats_csv(&stats, &names);
    match &args.out {
        Some(path) => {
            let inputs: Vec<PathBuf> = [Some(&args.mask), args.image.as_ref(), args.model.as_ref()]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            Outputs::new(&inputs, args.force).write(path, csv.as_bytes())
        }
        None => {
            print!("{csv}");
            Ok(())
        }
    }
}

/// The CSV of a mask the run just made: `labels` on the input's grid, named by the model's
/// card, with the input's own `intensity` (what `unet predict --stats` writes as STEM.stats.csv).
pub fn predicted_csv(
    checkpoint: &unet::Checkpoint,
    labels: &[u8],
    cell: Cell,
    intensity: &[f32],
) -> anyhow::Result<String> {
    let names: Vec<String> = checkpoint
        .card
        .classes
        .iter()
        .map(|k| k.name.clone())
        .collect();
    let classes = checkpoint.config.n_classes.max(2);
    let stats = class_stats(labels, classes, cell, Some(intensity))?;
    Ok(stats_csv(&stats, &names))
}

/// The one input at `path`, decoded (a file, or a DICOM folder as one series).
fn decoded(path: &PathBuf) -> anyhow::Result<Decoded> {
    let mut inputs = gather(std::slice::from_ref(path));
    match inputs.len() {
        1 => inputs
            .remove(0)
            .decoded
            .map_err(|e| anyhow!("{}: {e}", path.display())),
        n => Err(anyhow!(
            "{}: holds {n} images or series; name one of them",
            path.display()
        )),
    }
}

/// Class indices of a mask file, and the size of one of its elements.
fn labels_of(mask: &Decoded) -> anyhow::Result<(Vec<u8>, Cell)> {
    let (values, cell) = match &mask.content {
        Content::Volume(volume) => (volume.frame(0), Cell::voxel(volume.spacing)),
        Content::Image(image) if image.channel_count() == 1 => {
            (&image.pixels[..], Cell::pixel(mask.info.pixel_spacing))
        }
        Content::Image(_) => {
            return Err(anyhow!("a mask is one greyscale channel, this has colour"))
        }
    };
    let labels = class_indices(values)?;
    Ok((labels, cell))
}

/// A mask's values as class indices: whole numbers 0 to 255; a mask of only 0 and 255 is a
/// binary model's PNG, whose foreground (255) is class 1.
pub fn class_indices(values: &[f32]) -> anyhow::Result<Vec<u8>> {
    if let Some(bad) = values
        .iter()
        .find(|&&v| !(0.0..=255.0).contains(&v) || v.fract() != 0.0)
    {
        bail!(
            "holds the value {bad}, which is no class index (0 to 255): give a mask written by `unet predict` or the page"
        );
    }
    let binary = values.iter().all(|&v| v == 0.0 || v == 255.0);
    Ok(values
        .iter()
        .map(|&v| if binary && v == 255.0 { 1 } else { v as u8 })
        .collect())
}

/// One value per element of `mask` from `image`, which must have the same grid.
fn intensity_of(image: &Decoded, mask: &Decoded) -> anyhow::Result<Vec<f32>> {
    match (&image.content, &mask.content) {
        (Content::Volume(v), Content::Volume(m)) if v.dims == m.dims => Ok(v.frame(0).to_vec()),
        (Content::Image(i), Content::Image(m)) if (i.width, i.height) == (m.width, m.height) => {
            Ok(grey_values(i))
        }
        (Content::Volume(v), Content::Volume(m)) => Err(anyhow!(
            "is a volume of {:?} voxels but the mask {:?}: give the volume the mask was made from",
            v.dims, m.dims
        )),
        _ => Err(anyhow!("does not match the mask (one is a volume, or their sizes differ): give the image the mask was made from")),
    }
}
