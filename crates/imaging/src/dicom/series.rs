//! Slices of one series (or the frames of one multi-frame file) stacked into a [`Volume`] whose
//! affine is built from Image Position/Orientation (Patient) and Pixel Spacing, in NIfTI's RAS+
//! convention, so a saved label map lands where the scan is in any viewer.

use super::{Attributes, DicomReference, Slice};
use crate::decoded::{Content, Decoded};
use crate::error::ImagingError;
use crate::{BitDepth, Volume, MAX_VOXELS};

/// Slices stack only with slices of the same series, size and orientation: a drop of mixed
/// series (or a localizer among axial slices) splits into separate results.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SeriesKey {
    uid: String,
    rows: usize,
    columns: usize,
    /// Orientation cosines in thousandths.
    orientation: [i64; 6],
}

impl SeriesKey {
    pub(super) fn of(attrs: &Attributes) -> SeriesKey {
        SeriesKey {
            uid: attrs.series_uid.clone().unwrap_or_default(),
            rows: attrs.rows,
            columns: attrs.columns,
            orientation: attrs
                .orientation
                .unwrap_or_default()
                .map(|c| (c * 1000.0).round() as i64),
        }
    }
}

/// Whether `slices` (one series key) form a stack: no instance twice and, where positions are
/// known, no two slices at the same place. A folder holding the same image in several encodings,
/// or two echoes at each position, is not one volume.
pub(crate) fn is_stack(slices: &[&Slice]) -> bool {
    let mut uids: Vec<&str> = slices
        .iter()
        .filter_map(|s| s.attrs.instance_uid.as_deref())
        .collect();
    let named = uids.len();
    uids.sort_unstable();
    uids.dedup();
    if uids.len() != named {
        return false;
    }
    let mut places: Vec<[i64; 3]> = slices
        .iter()
        .filter_map(|s| s.attrs.position)
        .map(|p| p.map(|x| (x * 1000.0).round() as i64))
        .collect();
    let placed = places.len();
    places.sort_unstable();
    places.dedup();
    places.len() == placed
}

/// Stacks `slices` (one series, or one multi-frame file) into a volume, sorted along the
/// slice normal; a lone single-frame slice stays a 2-D image.
pub(crate) fn stack(mut slices: Vec<Slice>) -> Result<Decoded, ImagingError> {
    if slices.len() == 1 && slices[0].frames == 1 {
        return slices.remove(0).into_decoded();
    }
    let Some(first) = slices.first() else {
        return Err(ImagingError::Empty);
    };
    let attrs = first.attrs.clone();
    let (rows, columns) = (attrs.rows, attrs.columns);
    let total: u64 = slices
        .iter()
        .map(|s| (s.frames * rows * columns) as u64)
        .sum();
    if total > MAX_VOXELS {
        return Err(ImagingError::Dicom(format!(
            "the series has {total} voxels, more than the limit of {MAX_VOXELS}: load fewer slices or a cropped series"
        )));
    }

    let (row_dir, col_dir) = directions(&attrs);
    let normal = cross(row_dir, col_dir);
    let depth = |p: &[f64; 3]| dot(*p, normal);
    // Frame (or slice) positions in stacking order.
    let positions: Vec<Option<[f64; 3]>> = if slices.len() == 1 {
        let frames = &attrs.frame_positions;
        if frames.len() == attrs.frames {
            frames.iter().copied().map(Some).collect()
        } else {
            vec![None; attrs.frames]
        }
    } else {
        let all_placed = slices.iter().all(|s| s.attrs.position.is_some());
        if all_placed {
            slices.sort_by(|a, b| {
                let (pa, pb) = (
                    a.attrs.position.unwrap_or_default(),
                    b.attrs.position.unwrap_or_default(),
                );
                depth(&pa).total_cmp(&depth(&pb))
            });
        } else {
            slices.sort_by_key(|s| s.attrs.instance.unwrap_or(i64::MAX));
        }
        slices.iter().map(|s| s.attrs.position).collect()
    };

    let files = slices.len();
    let bit_depth = common_bit_depth(&slices);
    let mut data = Vec::with_capacity(total as usize);
    for slice in &slices {
        if slice.samples == 3 {
            // A colour cine loop: the model takes one channel, so luminance (BT.601).
            data.extend(
                slice
                    .data
                    .chunks_exact(3)
                    .map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]),
            );
        } else {
            data.extend_from_slice(&slice.data);
        }
    }
    let depth_count = data.len() / (rows * columns);

    let [dr, dc] = attrs.pixel_spacing.unwrap_or([1.0, 1.0]);
    let step = match (
        positions.first().copied().flatten(),
        positions.last().copied().flatten(),
    ) {
        (Some(a), Some(b)) if depth_count > 1 && a != b => {
            let n = (depth_count - 1) as f64;
            [(b[0] - a[0]) / n, (b[1] - a[1]) / n, (b[2] - a[2]) / n]
        }
        _ => scale(normal, attrs.slice_spacing.unwrap_or(1.0)),
    };
    let origin = positions.first().copied().flatten().unwrap_or([0.0; 3]);
    let columns_lps = [scale(row_dir, dc), scale(col_dir, dr), step, origin];
    // DICOM's patient axes are LPS; NIfTI's are RAS: x and y change sign.
    let mut affine = [[0.0; 4]; 4];
    for (c, v) in columns_lps.iter().enumerate() {
        affine[0][c] = -v[0];
        affine[1][c] = -v[1];
        affine[2][c] = v[2];
    }
    affine[3][3] = 1.0;

    let mut info = slices[0].info.clone();
    info.files = files;
    if files > 1 {
        info.dicom =
            DicomReference::of_stack(slices.iter().map(|s| &s.attrs), norm(step)).map(Box::new);
    }
    let volume = Volume {
        dims: [columns, rows, depth_count],
        frames: 1,
        spacing: [dc as f32, dr as f32, norm(step) as f32],
        affine,
        data,
        datatype: match bit_depth {
            BitDepth::U8 => 2,
            BitDepth::U16 => 512,
            BitDepth::F32 => 16,
        },
        version: 0,
    };
    Ok(Decoded {
        content: Content::Volume(volume),
        info,
    })
}

/// The narrowest sample type every slice fits.
fn common_bit_depth(slices: &[Slice]) -> BitDepth {
    let depths: Vec<BitDepth> = slices.iter().map(|s| s.bit_depth).collect();
    if depths.iter().all(|d| *d == BitDepth::U8) && slices.iter().all(|s| s.samples == 1) {
        BitDepth::U8
    } else if depths.iter().all(|d| *d == BitDepth::U16) {
        BitDepth::U16
    } else {
        BitDepth::F32
    }
}

/// Row and column direction cosines, or the identity when the file has none (ultrasound,
/// secondary capture).
fn directions(attrs: &Attributes) -> ([f64; 3], [f64; 3]) {
    match attrs.orientation {
        Some(o) if norm([o[0], o[1], o[2]]) > 0.5 && norm([o[3], o[4], o[5]]) > 0.5 => {
            ([o[0], o[1], o[2]], [o[3], o[4], o[5]])
        }
        _ => ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
    }
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    a.map(|x| x * s)
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}
