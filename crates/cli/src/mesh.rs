//! `unet mesh MASK.nii.gz` and `unet predict --stl`: one closed STL surface per class of a label
//! map, in the scan's world millimetres, for 3-D printing or a mesh viewer.

use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};

use clap::Args;
use unet_imaging::{
    class_surface, classes_present, decode_file, surface_file_name, Content, Volume,
};

use crate::output::{load_model, read, stem, Outputs};
use crate::stats::class_indices;

/// Arguments of `unet mesh`.
#[derive(Args)]
pub struct MeshArgs {
    /// A label map: STEM.mask.nii.gz from `unet predict` or the page.
    mask: PathBuf,
    /// Output folder (created if missing): DIR/STEM.CLASS.stl per class present.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// The model that made the mask: names the files by its classes (else class1, class2, …).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Overwrite STL files this run did not write.
    #[arg(long)]
    force: bool,
}

/// Writes the surfaces of the mask's classes.
pub fn run(args: &MeshArgs) -> anyhow::Result<()> {
    let names = match &args.model {
        Some(path) => class_names(&load_model(path)?),
        None => Vec::new(),
    };
    let at = |e: &dyn std::fmt::Display| anyhow!("{}: {e}", args.mask.display());
    let decoded = decode_file(&read(&args.mask)?).map_err(|e| at(&e))?;
    let Content::Volume(volume) = decoded.content else {
        return Err(at(
            &"is a 2-D image; a surface needs a label volume (.nii.gz)",
        ));
    };
    let labels = class_indices(volume.frame(0)).map_err(|e| at(&e))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let mut outputs = Outputs::new(std::slice::from_ref(&args.mask), args.force);
    let name = stem(&args.mask);
    let name = name.strip_suffix(".mask").unwrap_or(&name);
    for path in write_surfaces(&labels, &volume, &names, &args.out, name, &mut outputs)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// The model card's class names, for file names.
pub fn class_names(checkpoint: &unet::Checkpoint) -> Vec<String> {
    checkpoint
        .card
        .classes
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

/// Writes `DIR/NAME.CLASS.stl` for every class 1..=255 present in `labels` (on `volume`'s
/// grid); returns the paths written.
pub fn write_surfaces(
    labels: &[u8],
    volume: &Volume,
    names: &[String],
    dir: &Path,
    name: &str,
    outputs: &mut Outputs,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for class in classes_present(labels) {
        let surface = class_surface(labels, volume.dims, &volume.affine, class)?;
        let path = dir.join(surface_file_name(name, class, names));
        let header = format!("unet-web surface of class {class}, mm");
        outputs.write(&path, &surface.to_stl(&header))?;
        written.push(path);
    }
    Ok(written)
}
