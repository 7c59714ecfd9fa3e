//! `unet predict --dicom-seg`: the label map of a DICOM input written as a DICOM SEG that refers
//! to the source images (the page's "Download DICOM SEG" writes the same object).

use crate::mesh::class_names;
use crate::output::{path_in, Outputs};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use unet_imaging::{encode_dicom_seg, FileInfo, SegOrigin, Segment};

/// Writes `DIR/NAME.seg.dcm` for `labels` (the input's slices, in its decoded order) and returns
/// its path; `Ok(None)`, with a note naming `label`, for an input that is not DICOM or a mask
/// without a class (a SEG holds at least one segment).
pub fn write_dicom_seg(
    checkpoint: &unet::Checkpoint,
    label: &str,
    info: &FileInfo,
    labels: &[u8],
    dir: &Path,
    name: &str,
    outputs: &mut Outputs,
) -> anyhow::Result<Option<String>> {
    let Some(reference) = &info.dicom else {
        eprintln!("note: {label}: not a DICOM input (or one without UIDs), so no DICOM SEG");
        return Ok(None);
    };
    let segments = Segment::present(labels, &class_names(checkpoint));
    if segments.is_empty() {
        eprintln!("note: {label}: the mask is empty, so no DICOM SEG");
        return Ok(None);
    }
    let origin = SegOrigin {
        algorithm: checkpoint.card.name.clone(),
        edited: false,
        unix_seconds: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let bytes = encode_dicom_seg(reference, labels, &segments, &origin)?;
    let path = path_in(dir, name, "seg.dcm");
    outputs.write(&path, &bytes)?;
    Ok(Some(path.display().to_string()))
}
