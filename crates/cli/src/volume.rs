//! `unet predict` on volumes (NIfTI, multi-frame DICOM, DICOM series): every slice of the chosen plane through the 2-D model, and the
//! masks back as a `.nii.gz` label map with the input's dimensions and geometry.

use crate::inputs::Input;
use crate::network::Network;
use crate::output::{path_in, write};
use crate::predict::{segment, PredictArgs};
use std::collections::BTreeSet;
use unet_imaging::{slice_image, LabelVolume, Plane, Volume};

/// Segments each slice and writes `OUT/STEM.mask.nii.gz` (uint8 class indices).
pub fn predict_volume(
    checkpoint: &unet::Checkpoint,
    network: &Network,
    input: &Input,
    volume: &Volume,
    name: &str,
    args: &PredictArgs,
) -> Result<String, String> {
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
    let mut labels = LabelVolume::new(volume);
    let mut notes = BTreeSet::new();
    for index in 0..slicing.count() {
        let image = slice_image(volume, args.frame, &slicing, index);
        let (_, mask, slice_notes) = segment(checkpoint, network, &image)
            .map_err(|e| format!("{} slice {index}: {e}", plane.name()))?;
        notes.extend(slice_notes);
        labels.store(&slicing, index, &mask.data);
    }
    for note in notes {
        eprintln!("note: {}: {note}", input.label);
    }
    let path = path_in(&args.out, name, "mask.nii.gz");
    write(&path, &labels.encode_nifti_gz())?;
    Ok(format!(
        "{} ({} {} slices of {width}×{height})",
        path.display(),
        slicing.count(),
        plane.name()
    ))
}
