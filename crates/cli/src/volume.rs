//! `unet predict` on NIfTI volumes: every slice of the chosen plane through the 2-D model, and the
//! masks back as a `.nii.gz` label map with the input's dimensions and geometry.

use crate::output::{path_in, stem, write};
use crate::predict::{segment, PredictArgs};
use std::collections::BTreeSet;
use std::path::Path;
use unet::UNet;
use unet_imaging::{decode_nifti, encode_nifti_u8_gz, BitDepth, Channels, Image, Plane};

/// Whether `input` is a volume: named `.nii`/`.nii.gz`, or carrying a NIfTI header.
pub fn is_volume(input: &Path, bytes: &[u8]) -> bool {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.ends_with(".nii")
        || name.ends_with(".nii.gz")
        || bytes.get(344..348) == Some(b"n+1\0")
        || bytes.get(4..7) == Some(b"n+2")
}

/// Segments each slice and writes `OUT/STEM.mask.nii.gz` (uint8 class indices).
pub fn predict_volume(
    checkpoint: &unet::Checkpoint,
    model: &UNet,
    device: &burn::tensor::Device,
    input: &Path,
    bytes: &[u8],
    args: &PredictArgs,
) -> Result<String, String> {
    let volume = decode_nifti(bytes).map_err(|e| e.to_string())?;
    if args.frame >= volume.frames {
        return Err(format!(
            "--frame {} but the volume has {} frame(s): choose 0 to {}",
            args.frame,
            volume.frames,
            volume.frames - 1
        ));
    }
    let plane = args
        .plane
        .or_else(|| checkpoint.card.plane.as_deref().and_then(Plane::from_name))
        .unwrap_or(Plane::Axial);
    let slicing = volume.slicing(plane);
    let (height, width) = slicing.shape();
    let data = volume.frame(args.frame);
    let mut labels = vec![0u8; volume.voxels()];
    let mut notes = BTreeSet::new();
    // An 8-bit volume is prepared like an 8-bit image (milesial's /255 rule depends on it).
    let bit_depth = if volume.datatype == 2 {
        BitDepth::U8
    } else {
        BitDepth::F32
    };
    for index in 0..slicing.count() {
        let image = Image {
            width: width as u32,
            height: height as u32,
            channels: Channels::Gray,
            bit_depth,
            format: "NIfTI",
            pixels: slicing.extract(data, index),
        };
        let (_, mask, slice_notes) = segment(checkpoint, model, device, &image)
            .map_err(|e| format!("{} slice {index}: {e}", plane.name()))?;
        notes.extend(slice_notes);
        slicing.store(&mut labels, index, &mask.data);
    }
    for note in notes {
        eprintln!("note: {}: {note}", input.display());
    }
    let path = path_in(&args.out, &stem(input), "mask.nii.gz");
    let file = encode_nifti_u8_gz(volume.dims, volume.spacing, &volume.affine, &labels);
    write(&path, &file)?;
    Ok(format!(
        "{} ({} {} slices of {width}×{height})",
        path.display(),
        slicing.count(),
        plane.name()
    ))
}
