//! The header attributes the decoder, the series stacker and the viewer need, read once.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};

use crate::error::ImagingError;

/// One colour's palette lookup table: first mapped value, bits per entry, entries.
#[derive(Debug, Clone)]
pub(super) struct PaletteLut {
    pub first: i64,
    pub bits: u16,
    pub entries: Vec<u16>,
}

/// What the header says about the pixels and where they are.
#[derive(Debug, Clone)]
pub(super) struct Attributes {
    pub rows: usize,
    pub columns: usize,
    pub frames: usize,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub photometric: String,
    pub slope: f64,
    pub intercept: f64,
    /// Window Center/Width, first pair.
    pub window: Option<(f32, f32)>,
    pub modality: Option<String>,
    pub description: Option<String>,
    pub series_uid: Option<String>,
    pub instance_uid: Option<String>,
    pub instance: Option<i64>,
    /// Image Position (Patient) of the first frame, LPS millimetres.
    pub position: Option<[f64; 3]>,
    /// Image Orientation (Patient): row direction, then column direction.
    pub orientation: Option<[f64; 6]>,
    /// Pixel Spacing: between rows, between columns.
    pub pixel_spacing: Option<[f64; 2]>,
    /// Spacing Between Slices, else Slice Thickness.
    pub slice_spacing: Option<f64>,
    /// Per-frame positions of an enhanced multi-frame file.
    pub frame_positions: Vec<[f64; 3]>,
    /// Red, green and blue tables of a PALETTE COLOR image.
    pub palette: Option<[PaletteLut; 3]>,
    /// Patient, study and frame of reference, for derived objects.
    pub ids: SourceIds,
}

impl Attributes {
    pub(super) fn read(object: &DefaultDicomObject) -> Result<Attributes, ImagingError> {
        let ds: &InMemDicomObject = object;
        if ds.get(tags::PIXEL_DATA).is_none() {
            return Err(ImagingError::Dicom(
                "the file has no pixel data (a report, structured report or DICOMDIR?)".into(),
            ));
        }
        let required = |tag: Tag, name: &str| {
            int(ds, tag).ok_or_else(|| ImagingError::Dicom(format!("the header has no {name}")))
        };
        let rows = required(tags::ROWS, "Rows")?;
        let columns = required(tags::COLUMNS, "Columns")?;
        let bits_allocated = required(tags::BITS_ALLOCATED, "Bits Allocated")?;
        let photometric = text(ds, tags::PHOTOMETRIC_INTERPRETATION)
            .unwrap_or_else(|| "MONOCHROME2".into())
            .to_ascii_uppercase();

        // Enhanced (multi-frame) objects keep geometry in functional group sequences.
        let shared = item(ds, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, 0);
        let first_frame = item(ds, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, 0);
        let in_groups = |seq: Tag, tag: Tag| {
            [shared, first_frame]
                .into_iter()
                .flatten()
                .find_map(|g| item(g, seq, 0).and_then(|i| floats(i, tag)))
        };
        let orientation = floats(ds, tags::IMAGE_ORIENTATION_PATIENT)
            .or_else(|| {
                in_groups(
                    tags::PLANE_ORIENTATION_SEQUENCE,
                    tags::IMAGE_ORIENTATION_PATIENT,
                )
            })
            .and_then(|v| <[f64; 6]>::try_from(v.get(..6)?).ok());
        let pixel_spacing = floats(ds, tags::PIXEL_SPACING)
            .or_else(|| in_groups(tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING))
            .or_else(|| floats(ds, tags::IMAGER_PIXEL_SPACING))
            .and_then(|v| <[f64; 2]>::try_from(v.get(..2)?).ok())
            .filter(|s| s.iter().all(|x| x.is_finite() && *x > 0.0));
        let slice_spacing = [tags::SPACING_BETWEEN_SLICES, tags::SLICE_THICKNESS]
            .into_iter()
            .find_map(|t| {
                floats(ds, t)
                    .or_else(|| in_groups(tags::PIXEL_MEASURES_SEQUENCE, t))
                    .and_then(|v| v.first().copied())
            })
            .filter(|x| x.is_finite() && *x > 0.0);
        let frame_positions: Vec<[f64; 3]> = ds
            .get(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE)
            .and_then(|e| e.items())
            .map(|frames| {
                frames
                    .iter()
                    .filter_map(|f| {
                        let pos = item(f, tags::PLANE_POSITION_SEQUENCE, 0)?;
                        position(pos)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let window = match (
            floats(ds, tags::WINDOW_CENTER),
            floats(ds, tags::WINDOW_WIDTH),
        ) {
            (Some(c), Some(w)) if !c.is_empty() && !w.is_empty() && w[0] > 0.0 => {
                Some((c[0] as f32, w[0] as f32))
            }
            _ => None,
        };
        let palette = if photometric == "PALETTE COLOR" {
            Some(palette(ds)?)
        } else {
            None
        };
        Ok(Attributes {
            rows,
            columns,
            frames: int(ds, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1),
            samples_per_pixel: int(ds, tags::SAMPLES_PER_PIXEL).unwrap_or(1) as u16,
            bits_allocated: bits_allocated as u16,
            bits_stored: int(ds, tags::BITS_STORED).unwrap_or(bits_allocated) as u16,
            signed: int(ds, tags::PIXEL_REPRESENTATION) == Some(1),
            photometric,
            slope: float(ds, tags::RESCALE_SLOPE)
                .filter(|s| *s != 0.0)
                .unwrap_or(1.0),
            intercept: float(ds, tags::RESCALE_INTERCEPT).unwrap_or(0.0),
            window,
            modality: text(ds, tags::MODALITY),
            description: text(ds, tags::SERIES_DESCRIPTION)
                .or_else(|| text(ds, tags::STUDY_DESCRIPTION)),
            series_uid: text(ds, tags::SERIES_INSTANCE_UID),
            instance_uid: text(ds, tags::SOP_INSTANCE_UID),
            instance: text(ds, tags::INSTANCE_NUMBER).and_then(|s| s.parse().ok()),
            position: position(ds).or_else(|| frame_positions.first().copied()),
            orientation,
            pixel_spacing,
            slice_spacing,
            frame_positions,
            palette,
            ids: SourceIds::read(ds),
        })
    }
}

/// Image Position (Patient), when finite.
fn position(ds: &InMemDicomObject) -> Option<[f64; 3]> {
    let v = floats(ds, tags::IMAGE_POSITION_PATIENT)?;
    <[f64; 3]>::try_from(v.get(..3)?).ok()
}

/// The red, green and blue palette tables.
fn palette(ds: &InMemDicomObject) -> Result<[PaletteLut; 3], ImagingError> {
    let one = |descriptor: Tag, data: Tag, colour: &str| {
        let missing = || ImagingError::Dicom(format!("PALETTE COLOR without a {colour} table"));
        let d = ds
            .get(descriptor)
            .and_then(|e| e.to_multi_int::<i64>().ok())
            .filter(|d| d.len() == 3)
            .ok_or_else(missing)?;
        let bytes = ds
            .get(data)
            .and_then(|e| e.to_bytes().ok())
            .ok_or_else(missing)?;
        let bits = d[2] as u16;
        let entries: Vec<u16> = if bits <= 8 && bytes.len() < 2 * d[0].max(1) as usize {
            bytes.iter().map(|&b| u16::from(b)).collect()
        } else {
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect()
        };
        if entries.is_empty() {
            return Err(missing());
        }
        Ok(PaletteLut {
            first: d[1],
            bits,
            entries,
        })
    };
    Ok([
        one(
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "red",
        )?,
        one(
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "green",
        )?,
        one(
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            "blue",
        )?,
    ])
}

/// Item `index` of sequence `tag`.
fn item(ds: &InMemDicomObject, tag: Tag, index: usize) -> Option<&InMemDicomObject> {
    ds.get(tag)?.items()?.get(index)
}

/// A text attribute, trimmed of DICOM's padding.
pub(super) fn text(ds: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = ds.get(tag)?.to_str().ok()?;
    let trimmed = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn int(ds: &InMemDicomObject, tag: Tag) -> Option<usize> {
    ds.get(tag)?
        .to_int::<i64>()
        .ok()
        .and_then(|v| usize::try_from(v).ok())
}

fn float(ds: &InMemDicomObject, tag: Tag) -> Option<f64> {
    floats(ds, tag)?.first().copied()
}

fn floats(ds: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let values = ds.get(tag)?.to_multi_float64().ok()?;
    values.iter().all(|v| v.is_finite()).then_some(values)
}

/// Patient and study attributes, copied verbatim into derived objects (empty when the source
/// lacks one: DICOM calls these "type 2", present but possibly empty).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StudyIds {
    /// Patient's Name (PN).
    pub patient_name: String,
    /// Patient ID.
    pub patient_id: String,
    /// Patient's Birth Date (DA).
    pub patient_birth_date: String,
    /// Patient's Sex (M, F, O).
    pub patient_sex: String,
    /// Study Instance UID.
    pub study_uid: String,
    /// Study Date (DA).
    pub study_date: String,
    /// Study Time (TM).
    pub study_time: String,
    /// Study ID.
    pub study_id: String,
    /// Accession Number.
    pub accession_number: String,
    /// Referring Physician's Name (PN).
    pub referring_physician: String,
}

/// Identifiers of one file, read with its other attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct SourceIds {
    pub sop_class_uid: Option<String>,
    pub frame_of_reference_uid: Option<String>,
    pub slice_thickness: Option<f64>,
    pub study: StudyIds,
}

impl SourceIds {
    pub(super) fn read(ds: &InMemDicomObject) -> SourceIds {
        let t = |tag| text(ds, tag).unwrap_or_default();
        SourceIds {
            sop_class_uid: text(ds, tags::SOP_CLASS_UID),
            frame_of_reference_uid: text(ds, tags::FRAME_OF_REFERENCE_UID),
            slice_thickness: text(ds, tags::SLICE_THICKNESS)
                .and_then(|s| s.parse().ok())
                .filter(|x: &f64| x.is_finite() && *x > 0.0),
            study: StudyIds {
                patient_name: t(tags::PATIENT_NAME),
                patient_id: t(tags::PATIENT_ID),
                patient_birth_date: t(tags::PATIENT_BIRTH_DATE),
                patient_sex: t(tags::PATIENT_SEX),
                study_uid: t(tags::STUDY_INSTANCE_UID),
                study_date: t(tags::STUDY_DATE),
                study_time: t(tags::STUDY_TIME),
                study_id: t(tags::STUDY_ID),
                accession_number: t(tags::ACCESSION_NUMBER),
                referring_physician: t(tags::REFERRING_PHYSICIAN_NAME),
            },
        }
    }
}
