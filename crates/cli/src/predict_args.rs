//! The flags of `unet predict`, shared by the per-image path (`predict`) and the volume path
//! (`volume`).

use crate::network::RunArgs;
use clap::Args;
use std::path::PathBuf;
use unet_imaging::PlaneChoice;

/// Arguments of `unet predict`.
#[derive(Args)]
pub struct PredictArgs {
    /// A .pth, .safetensors or unet-web model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Images (PNG, JPEG, BMP, TIFF, WebP, single-frame DICOM), volumes (NIfTI .nii/.nii.gz,
    /// multi-frame DICOM) and DICOM series (a folder, or the files given together).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Also write STEM.logits.npy: float32 [classes, H, W] raw logits.
    #[arg(long)]
    pub logits: bool,
    /// Also write STEM.stats.csv: per class, the pixel or voxel count, area (mm²) or volume
    /// (mL) and the input's mean intensity inside (as `unet stats`).
    #[arg(long)]
    pub stats: bool,
    /// For volumes, also write STEM.CLASS.stl: each class's closed surface in the scan's mm
    /// (as `unet mesh`).
    #[arg(long)]
    pub stl: bool,
    /// For DICOM inputs (a file, a series, a multi-frame image), also write STEM.seg.dcm: the
    /// mask as a binary DICOM SEG referring to the source images, one segment per class.
    #[arg(long)]
    pub dicom_seg: bool,
    #[command(flatten)]
    pub run: RunArgs,
    /// Plane to cut volumes in: axial, coronal, sagittal, or all (the three planes' probabilities
    /// averaged); default: the model card's, else axial.
    #[arg(long, value_parser = parse_plane)]
    pub plane: Option<PlaneChoice>,
    /// Volume of a 4-D file to segment (0-based).
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    /// Overwrite files in the output folder that this run did not write (an earlier run's
    /// masks). Inputs are never overwritten.
    #[arg(long)]
    pub force: bool,
}

fn parse_plane(text: &str) -> Result<PlaneChoice, String> {
    PlaneChoice::from_name(text)
        .ok_or_else(|| format!("`{text}`: use axial, coronal, sagittal or all"))
}
