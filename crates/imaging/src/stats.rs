//! Per-class measurements of a label map: how many pixels or voxels each class holds, their
//! area (mm²) or volume (mL) from the file's spacing, and the mean intensity of the image
//! inside them. Brainchop reports volume per label; a radiologist reads brain volume in mL.
//! `unet stats` and `unet predict --stats` write these as CSV, as the page's table does.

use crate::error::ImagingError;
use crate::raster::Image;

/// The physical size of one element of a label map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A pixel of a 2-D image, with its area when the file states its spacing (DICOM's Pixel
    /// Spacing; a PNG states none).
    Pixel {
        /// mm² per pixel, if known.
        area_mm2: Option<f64>,
    },
    /// A voxel of a volume (NIfTI `pixdim`, a DICOM series' spacing).
    Voxel {
        /// mm³ per voxel.
        volume_mm3: f64,
    },
}

impl Cell {
    /// A voxel of `spacing` mm along each axis.
    pub fn voxel(spacing: [f32; 3]) -> Cell {
        Cell::Voxel {
            volume_mm3: spacing.iter().map(|&s| f64::from(s)).product(),
        }
    }

    /// A pixel of `spacing` mm (row, column), when known.
    pub fn pixel(spacing: Option<[f64; 2]>) -> Cell {
        Cell::Pixel {
            area_mm2: spacing.map(|[r, c]| r * c),
        }
    }
}

/// One class's measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassStats {
    /// The class index (the label value).
    pub class: usize,
    /// Pixels or voxels labelled with it.
    pub count: u64,
    /// Their area in mm² (2-D images with a known spacing).
    pub area_mm2: Option<f64>,
    /// Their volume in mL (volumes).
    pub volume_ml: Option<f64>,
    /// The image's mean value over them (none without an image, or for an empty class).
    pub mean_intensity: Option<f64>,
}

/// Measures every class `0..classes` of `labels` (class indices, one per pixel or voxel);
/// `intensity`, when given, holds one value per label (the image on the same grid).
///
/// # Errors
/// [`ImagingError::Measure`] if `intensity` does not match `labels` in length, or a label is not
/// below `classes`.
pub fn class_stats(
    labels: &[u8],
    classes: usize,
    cell: Cell,
    intensity: Option<&[f32]>,
) -> Result<Vec<ClassStats>, ImagingError> {
    if let Some(values) = intensity {
        if values.len() != labels.len() {
            return Err(ImagingError::Measure(format!(
                "the image has {} values but the mask {}: they must share one grid",
                values.len(),
                labels.len()
            )));
        }
    }
    let mut counts = vec![0u64; classes];
    let mut sums = vec![0f64; classes];
    for (i, &label) in labels.iter().enumerate() {
        let Some(count) = counts.get_mut(usize::from(label)) else {
            return Err(ImagingError::Measure(format!(
                "the mask holds label {label}, but the model has {classes} classes"
            )));
        };
        *count += 1;
        if let Some(values) = intensity {
            sums[usize::from(label)] += f64::from(values[i]);
        }
    }
    Ok(counts
        .iter()
        .zip(&sums)
        .enumerate()
        .map(|(class, (&count, &sum))| ClassStats {
            class,
            count,
            area_mm2: match cell {
                Cell::Pixel { area_mm2 } => area_mm2.map(|a| a * count as f64),
                Cell::Voxel { .. } => None,
            },
            volume_ml: match cell {
                Cell::Voxel { volume_mm3 } => Some(volume_mm3 * count as f64 / 1000.0),
                Cell::Pixel { .. } => None,
            },
            mean_intensity: (intensity.is_some() && count > 0).then(|| sum / count as f64),
        })
        .collect())
}

/// The CSV that `unet stats` prints and the page exports: a header, then one row per class,
/// named by `names` (the model card's; "class N" past its end). Empty fields are unknown.
pub fn stats_csv(stats: &[ClassStats], names: &[String]) -> String {
    let mut csv = String::from("class,name,count,area_mm2,volume_ml,mean_intensity\n");
    let number =
        |v: Option<f64>, digits: usize| v.map_or(String::new(), |v| format!("{v:.digits$}"));
    for s in stats {
        let name = names
            .get(s.class)
            .cloned()
            .unwrap_or_else(|| format!("class {}", s.class));
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            s.class,
            csv_field(&name),
            s.count,
            number(s.area_mm2, 3),
            number(s.volume_ml, 4),
            number(s.mean_intensity, 4),
        ));
    }
    csv
}

/// One value per pixel of `image` for [`class_stats`]: the grey value, or the mean of the
/// colour channels.
pub fn grey_values(image: &Image) -> Vec<f32> {
    let channels = image.channel_count().max(1);
    image
        .pixels
        .chunks_exact(channels)
        .map(|px| px.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Quotes a field that holds a comma, a quote or a line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_counted_sized_and_averaged() {
        let labels = [0, 1, 1, 2, 1, 0];
        let values = [10.0, 1.0, 2.0, 7.0, 3.0, 20.0];
        let stats = class_stats(&labels, 4, Cell::voxel([1.0, 2.0, 0.5]), Some(&values)).unwrap();
        assert_eq!(
            stats.iter().map(|s| s.count).collect::<Vec<_>>(),
            [2, 3, 1, 0]
        );
        assert_eq!(stats[1].volume_ml, Some(0.003));
        assert_eq!(stats[1].mean_intensity, Some(2.0));
        assert_eq!(stats[0].mean_intensity, Some(15.0));
        assert_eq!(stats[3].mean_intensity, None);
        assert_eq!(stats[1].area_mm2, None);

        let flat = class_stats(&labels, 3, Cell::pixel(Some([0.5, 0.5])), None).unwrap();
        assert_eq!(flat[1].area_mm2, Some(0.75));
        assert_eq!(flat[1].volume_ml, None);
        assert_eq!(
            class_stats(&labels, 3, Cell::pixel(None), None).unwrap()[1].area_mm2,
            None
        );
    }

    #[test]
    fn mismatched_inputs_are_errors() {
        let e = class_stats(&[0, 3], 2, Cell::pixel(None), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("label 3, but the model has 2 classes"),
            "{e}"
        );
        let e = class_stats(&[0, 1], 2, Cell::pixel(None), Some(&[1.0])).unwrap_err();
        assert!(e.to_string().contains("share one grid"), "{e}");
    }

    #[test]
    fn csv_rows_name_classes_and_leave_unknowns_empty() {
        let stats = class_stats(&[0, 1, 1], 3, Cell::voxel([1.0; 3]), None).unwrap();
        let csv = stats_csv(&stats, &["background".into(), "brain, left".into()]);
        assert_eq!(
            csv,
            "class,name,count,area_mm2,volume_ml,mean_intensity\n\
             0,background,1,,0.0010,\n\
             1,\"brain, left\",2,,0.0020,\n\
             2,class 2,0,,0.0000,\n"
        );
    }
}
