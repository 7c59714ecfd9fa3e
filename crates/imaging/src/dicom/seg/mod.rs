//! DICOM SEG export: a label map over DICOM images written as a binary Segmentation object
//! (PS3.3 A.51) that names its source series, shares its frame of reference and puts each frame
//! on its source image (by SOP instance, frame number and Image Position), so PACS viewers, OHIF,
//! 3D Slicer and highdicom show it over the scan it was made from.
//!
//! Binary rather than LABELMAP segmentations: every SEG reader handles them, and one frame per
//! (segment, slice) holding pixels keeps files small for masks that are mostly empty.

use dicom_core::value::PrimitiveValue;
use dicom_core::{dicom_value, DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{meta::FileMetaTableBuilder, InMemDicomObject};

use super::reference::DicomReference;
use crate::error::ImagingError;

mod groups;
mod values;

use groups::{dimension_index, per_frame_groups, referenced_series, segment_item, shared_groups};
use values::{derived_uid, sequence, truncate, utc_date_time};

const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";
const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";

/// One class of the label map, written as one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The value of its pixels in the label map (1–255).
    pub label: u8,
    /// The class's name, the segment's label in viewers.
    pub name: String,
}

impl Segment {
    /// One segment per class present in `labels` (1–255), named as `names` (the model card's
    /// classes, by index) says, else `class N`.
    pub fn present(labels: &[u8], names: &[String]) -> Vec<Segment> {
        crate::classes_present(labels)
            .into_iter()
            .map(|label| Segment {
                label,
                name: names
                    .get(usize::from(label))
                    .filter(|n| !n.trim().is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("class {label}")),
            })
            .collect()
    }
}

/// Who made the segmentation, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct SegOrigin {
    /// The model's name (Segment Algorithm Name).
    pub algorithm: String,
    /// Corrected by hand after the model ran: the segments become SEMIAUTOMATIC.
    pub edited: bool,
    /// Creation time, seconds since 1970 (UTC), for Content Date/Time and unique UIDs. Passed
    /// in because the browser's wasm has no system clock of its own.
    pub unix_seconds: u64,
}

/// Encodes `labels` (one byte per pixel, the reference's frames × rows × columns in its frame
/// order) as a binary DICOM SEG file with one segment per entry of `segments`. Segments without
/// a pixel are left out, as are (segment, slice) frames without one.
///
/// # Errors
/// [`ImagingError::DicomSeg`] when the label map does not fit the reference, the reference
/// lacks the UIDs a SEG must cite, or no segment has a pixel.
pub fn encode_dicom_seg(
    reference: &DicomReference,
    labels: &[u8],
    segments: &[Segment],
    origin: &SegOrigin,
) -> Result<Vec<u8>, ImagingError> {
    let fail = |m: String| Err(ImagingError::DicomSeg(m));
    let (rows, columns) = (reference.rows, reference.columns);
    let frame_len = rows * columns;
    if reference.frames.is_empty() || labels.len() != reference.frames.len() * frame_len {
        return fail(format!(
            "the mask has {} values but its source holds {} frames of {columns}×{rows}: segment the DICOM input again",
            labels.len(),
            reference.frames.len()
        ));
    }
    if reference.study.study_uid.is_empty() {
        return fail("the source images carry no Study Instance UID to refer to".into());
    }
    if rows > usize::from(u16::MAX) || columns > usize::from(u16::MAX) {
        return fail(format!(
            "{columns}×{rows} frames do not fit DICOM's 16-bit Rows and Columns"
        ));
    }

    // (segment number, segment, frame index) of every frame that holds pixels.
    let mut kept: Vec<&Segment> = Vec::new();
    let mut frames: Vec<(u16, u8, usize)> = Vec::new();
    for segment in segments {
        if segment.label == 0 || kept.iter().any(|s| s.label == segment.label) {
            return fail(format!(
                "label {} cannot be a segment (0 is background; each once)",
                segment.label
            ));
        }
        let with_pixels: Vec<usize> = labels
            .chunks_exact(frame_len)
            .enumerate()
            .filter(|(_, frame)| frame.contains(&segment.label))
            .map(|(k, _)| k)
            .collect();
        if with_pixels.is_empty() {
            continue;
        }
        kept.push(segment);
        let number = kept.len() as u16;
        frames.extend(with_pixels.into_iter().map(|k| (number, segment.label, k)));
    }
    if frames.is_empty() {
        return fail("the mask is empty: there is no segment to export".into());
    }

    let placed = reference.frame_of_reference_uid.is_some()
        && reference.frames.iter().all(|f| f.position.is_some());
    let uid = |purpose: &str| derived_uid(reference, labels, origin, purpose);
    let series_uid = uid("series");
    let instance_uid = uid("instance");
    let dimension_uid = uid("dimensions");
    let (date, time) = utc_date_time(origin.unix_seconds);
    let algorithm_type = if origin.edited {
        "SEMIAUTOMATIC"
    } else {
        "AUTOMATIC"
    };
    let study = &reference.study;

    let mut ds = InMemDicomObject::from_element_iter([
        DataElement::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
        DataElement::new(
            tags::IMAGE_TYPE,
            VR::CS,
            dicom_value!(Strs, ["DERIVED", "PRIMARY"]),
        ),
        DataElement::new(tags::SOP_CLASS_UID, VR::UI, SEGMENTATION_STORAGE),
        DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, instance_uid.as_str()),
        DataElement::new(tags::STUDY_DATE, VR::DA, study.study_date.as_str()),
        DataElement::new(tags::SERIES_DATE, VR::DA, date.as_str()),
        DataElement::new(tags::CONTENT_DATE, VR::DA, date.as_str()),
        DataElement::new(tags::STUDY_TIME, VR::TM, study.study_time.as_str()),
        DataElement::new(tags::SERIES_TIME, VR::TM, time.as_str()),
        DataElement::new(tags::CONTENT_TIME, VR::TM, time.as_str()),
        DataElement::new(
            tags::ACCESSION_NUMBER,
            VR::SH,
            study.accession_number.as_str(),
        ),
        DataElement::new(tags::MODALITY, VR::CS, "SEG"),
        DataElement::new(tags::MANUFACTURER, VR::LO, "unet-web"),
        DataElement::new(
            tags::REFERRING_PHYSICIAN_NAME,
            VR::PN,
            study.referring_physician.as_str(),
        ),
        DataElement::new(
            tags::SERIES_DESCRIPTION,
            VR::LO,
            truncate(&format!("Segmentation by {}", origin.algorithm), 64),
        ),
        DataElement::new(tags::MANUFACTURER_MODEL_NAME, VR::LO, "unet-web"),
        DataElement::new(tags::PATIENT_NAME, VR::PN, study.patient_name.as_str()),
        DataElement::new(tags::PATIENT_ID, VR::LO, study.patient_id.as_str()),
        DataElement::new(
            tags::PATIENT_BIRTH_DATE,
            VR::DA,
            study.patient_birth_date.as_str(),
        ),
        DataElement::new(tags::PATIENT_SEX, VR::CS, study.patient_sex.as_str()),
        DataElement::new(tags::DEVICE_SERIAL_NUMBER, VR::LO, "0"),
        DataElement::new(tags::SOFTWARE_VERSIONS, VR::LO, env!("CARGO_PKG_VERSION")),
        DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, study.study_uid.as_str()),
        DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, series_uid.as_str()),
        DataElement::new(tags::STUDY_ID, VR::SH, study.study_id.as_str()),
        DataElement::new(tags::SERIES_NUMBER, VR::IS, "300"),
        DataElement::new(tags::INSTANCE_NUMBER, VR::IS, "1"),
        DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, dicom_value!(U16, [1])),
        DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, frames.len().to_string()),
        DataElement::new(tags::ROWS, VR::US, dicom_value!(U16, [rows as u16])),
        DataElement::new(tags::COLUMNS, VR::US, dicom_value!(U16, [columns as u16])),
        DataElement::new(tags::BITS_ALLOCATED, VR::US, dicom_value!(U16, [1])),
        DataElement::new(tags::BITS_STORED, VR::US, dicom_value!(U16, [1])),
        DataElement::new(tags::HIGH_BIT, VR::US, dicom_value!(U16, [0])),
        DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, dicom_value!(U16, [0])),
        DataElement::new(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00"),
        DataElement::new(tags::CONTENT_LABEL, VR::CS, "SEGMENTATION"),
        DataElement::new(
            tags::CONTENT_DESCRIPTION,
            VR::LO,
            truncate(&origin.algorithm, 64),
        ),
        DataElement::new(tags::CONTENT_CREATOR_NAME, VR::PN, "unet-web"),
        DataElement::new(tags::SEGMENTATION_TYPE, VR::CS, "BINARY"),
    ]);
    if let Some(frame_of_reference) = &reference.frame_of_reference_uid {
        ds.put(DataElement::new(
            tags::FRAME_OF_REFERENCE_UID,
            VR::UI,
            frame_of_reference.as_str(),
        ));
        ds.put(DataElement::new(
            tags::POSITION_REFERENCE_INDICATOR,
            VR::LO,
            "",
        ));
    }
    ds.put(sequence(
        tags::REFERENCED_SERIES_SEQUENCE,
        vec![referenced_series(reference)],
    ));
    ds.put(sequence(
        tags::SEGMENT_SEQUENCE,
        kept.iter()
            .enumerate()
            .map(|(i, s)| segment_item(i as u16 + 1, s, algorithm_type, &origin.algorithm))
            .collect(),
    ));
    ds.put(sequence(
        tags::DIMENSION_ORGANIZATION_SEQUENCE,
        vec![InMemDicomObject::from_element_iter([DataElement::new(
            tags::DIMENSION_ORGANIZATION_UID,
            VR::UI,
            dimension_uid.as_str(),
        )])],
    ));
    ds.put(sequence(
        tags::DIMENSION_INDEX_SEQUENCE,
        dimension_index(&dimension_uid, placed),
    ));
    ds.put(sequence(
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![shared_groups(reference)],
    ));
    ds.put(sequence(
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
        frames
            .iter()
            .map(|&(number, _, k)| per_frame_groups(reference, number, k, placed))
            .collect(),
    ));
    ds.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(pack_bits(labels, frame_len, &frames)),
    ));

    let file = ds
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(EXPLICIT_VR_LITTLE_ENDIAN))
        .map_err(|e| ImagingError::DicomSeg(e.to_string()))?;
    let mut out = Vec::new();
    file.write_all(&mut out)
        .map_err(|e| ImagingError::DicomSeg(e.to_string()))?;
    Ok(out)
}

/// The frames' pixels as one bit stream, first pixel in the lowest bit, frames not padded to
/// bytes (PS3.5 8.1.1), the whole padded to an even length.
fn pack_bits(labels: &[u8], frame_len: usize, frames: &[(u16, u8, usize)]) -> Vec<u8> {
    let bits = frames.len() * frame_len;
    let mut packed = vec![0u8; bits.div_ceil(8).next_multiple_of(2)];
    for (f, &(_, label, k)) in frames.iter().enumerate() {
        let frame = &labels[k * frame_len..(k + 1) * frame_len];
        for (p, _) in frame.iter().enumerate().filter(|(_, &v)| v == label) {
            let bit = f * frame_len + p;
            packed[bit / 8] |= 1 << (bit % 8);
        }
    }
    packed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_run_on_across_frames_lowest_bit_first() {
        // Two 3×1 frames: 3 bits each, so the second frame starts mid-byte.
        let labels = [1, 0, 1, 0, 1, 1];
        let packed = pack_bits(&labels, 3, &[(1, 1, 0), (1, 1, 1)]);
        assert_eq!(packed, vec![0b0011_0101, 0]);
    }
}
