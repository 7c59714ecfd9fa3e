//! What an object derived from DICOM images (a DICOM SEG) must copy from them: patient and study,
//! frame of reference, and each decoded slice's SOP instance and position, in the order of the
//! decoded data, so a mask's slice `k` can name the very image it was drawn on.

use super::attributes::StudyIds;

/// One decoded slice's source: the file (and frame) it came from and where it lies.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFrame {
    /// SOP Class UID of the source file.
    pub sop_class_uid: String,
    /// SOP Instance UID of the source file.
    pub sop_instance_uid: String,
    /// 1-based frame within a multi-frame file; `None` for a single-frame file.
    pub frame_number: Option<usize>,
    /// Image Position (Patient) of the frame, LPS millimetres.
    pub position: Option<[f64; 3]>,
}

/// The DICOM images a decoded image or volume came from, slice by slice in the decoded order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DicomReference {
    /// Patient and study, from the first file.
    pub study: StudyIds,
    /// Series Instance UID of the source.
    pub series_uid: String,
    /// Frame of Reference UID: a derived object shares the source's patient coordinates.
    pub frame_of_reference_uid: Option<String>,
    /// Image Orientation (Patient): row direction, then column direction.
    pub orientation: Option<[f64; 6]>,
    /// mm between rows and between columns.
    pub pixel_spacing: Option<[f64; 2]>,
    /// Slice Thickness.
    pub slice_thickness: Option<f64>,
    /// mm between slice centres along the normal, when the slices are evenly spaced.
    pub slice_spacing: Option<f64>,
    /// Rows of every frame.
    pub rows: usize,
    /// Columns of every frame.
    pub columns: usize,
    /// One entry per decoded slice, in the decoded data's order.
    pub frames: Vec<SourceFrame>,
}

impl DicomReference {
    /// The frames of one file, or `None` when it carries no SOP Instance or Class UID to refer
    /// to (a bare data set from an old scanner).
    pub(super) fn of_file(attrs: &super::Attributes) -> Option<DicomReference> {
        let sop_class_uid = attrs.ids.sop_class_uid.clone()?;
        let sop_instance_uid = attrs.instance_uid.clone()?;
        let frames = if attrs.frames == 1 {
            vec![SourceFrame {
                sop_class_uid,
                sop_instance_uid,
                frame_number: None,
                position: attrs.position,
            }]
        } else {
            let placed = attrs.frame_positions.len() == attrs.frames;
            (0..attrs.frames)
                .map(|i| SourceFrame {
                    sop_class_uid: sop_class_uid.clone(),
                    sop_instance_uid: sop_instance_uid.clone(),
                    frame_number: Some(i + 1),
                    position: placed.then(|| attrs.frame_positions[i]),
                })
                .collect()
        };
        Some(DicomReference {
            study: attrs.ids.study.clone(),
            series_uid: attrs.series_uid.clone().unwrap_or_default(),
            frame_of_reference_uid: attrs.ids.frame_of_reference_uid.clone(),
            orientation: attrs.orientation,
            pixel_spacing: attrs.pixel_spacing,
            slice_thickness: attrs.ids.slice_thickness,
            slice_spacing: attrs.slice_spacing,
            rows: attrs.rows,
            columns: attrs.columns,
            frames,
        })
    }

    /// Slices stacked in this order, each a single-frame file; `None` if any lacks UIDs.
    pub(super) fn of_stack<'a>(
        mut files: impl Iterator<Item = &'a super::Attributes>,
        slice_spacing: f64,
    ) -> Option<DicomReference> {
        let first = files.next()?;
        let mut reference = DicomReference::of_file(first)?;
        for attrs in files {
            reference
                .frames
                .extend(DicomReference::of_file(attrs)?.frames);
        }
        reference.slice_spacing = Some(slice_spacing).filter(|s| s.is_finite() && *s > 0.0);
        Some(reference)
    }
}
