//! The SEG's nested parts: its segments, the source series it cites, its dimension index and
//! the shared and per-frame functional groups that put each frame on its source image.

use dicom_core::{dicom_value, DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use super::values::{code, ds, sequence, strs, truncate};
use super::Segment;
use crate::dicom::reference::DicomReference;

/// SNOMED CT's "Brain" for a class called brain, else its generic "Tissue": model cards name
/// classes freely, and a wrong specific code would mislead more than a generic one.
pub(super) fn segment_item(
    number: u16,
    segment: &Segment,
    algorithm_type: &str,
    algorithm: &str,
) -> InMemDicomObject {
    let property = if segment.name.trim().eq_ignore_ascii_case("brain") {
        code("12738006", "SCT", "Brain")
    } else {
        code("85756007", "SCT", "Tissue")
    };
    InMemDicomObject::from_element_iter([
        DataElement::new(tags::SEGMENT_NUMBER, VR::US, dicom_value!(U16, [number])),
        DataElement::new(tags::SEGMENT_LABEL, VR::LO, truncate(&segment.name, 64)),
        DataElement::new(tags::SEGMENT_ALGORITHM_TYPE, VR::CS, algorithm_type),
        DataElement::new(
            tags::SEGMENT_ALGORITHM_NAME,
            VR::LO,
            truncate(algorithm, 64),
        ),
        sequence(
            tags::SEGMENTED_PROPERTY_CATEGORY_CODE_SEQUENCE,
            vec![code("91723000", "SCT", "Anatomical Structure")],
        ),
        sequence(tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE, vec![property]),
    ])
}

/// Every source instance, once each, under the source series.
pub(super) fn referenced_series(reference: &DicomReference) -> InMemDicomObject {
    let mut seen: Vec<&str> = Vec::new();
    let mut instances = Vec::new();
    for frame in &reference.frames {
        if seen.contains(&frame.sop_instance_uid.as_str()) {
            continue;
        }
        seen.push(&frame.sop_instance_uid);
        instances.push(InMemDicomObject::from_element_iter([
            DataElement::new(
                tags::REFERENCED_SOP_CLASS_UID,
                VR::UI,
                frame.sop_class_uid.as_str(),
            ),
            DataElement::new(
                tags::REFERENCED_SOP_INSTANCE_UID,
                VR::UI,
                frame.sop_instance_uid.as_str(),
            ),
        ]));
    }
    InMemDicomObject::from_element_iter([
        sequence(tags::REFERENCED_INSTANCE_SEQUENCE, instances),
        DataElement::new(
            tags::SERIES_INSTANCE_UID,
            VR::UI,
            reference.series_uid.as_str(),
        ),
    ])
}

/// Frames are indexed by segment, then by where they lie: their Image Position (Patient) when
/// the source has positions, else their place in the stack.
pub(super) fn dimension_index(organization: &str, placed: bool) -> Vec<InMemDicomObject> {
    let dimension = |pointer: Tag, group: Tag, label: &str| {
        InMemDicomObject::from_element_iter([
            DataElement::new(tags::DIMENSION_ORGANIZATION_UID, VR::UI, organization),
            DataElement::new(
                tags::DIMENSION_INDEX_POINTER,
                VR::AT,
                dicom_value!(Tags, [pointer]),
            ),
            DataElement::new(
                tags::FUNCTIONAL_GROUP_POINTER,
                VR::AT,
                dicom_value!(Tags, [group]),
            ),
            DataElement::new(tags::DIMENSION_DESCRIPTION_LABEL, VR::LO, label),
        ])
    };
    vec![
        dimension(
            tags::REFERENCED_SEGMENT_NUMBER,
            tags::SEGMENT_IDENTIFICATION_SEQUENCE,
            "ReferencedSegmentNumber",
        ),
        if placed {
            dimension(
                tags::IMAGE_POSITION_PATIENT,
                tags::PLANE_POSITION_SEQUENCE,
                "ImagePositionPatient",
            )
        } else {
            dimension(
                tags::IN_STACK_POSITION_NUMBER,
                tags::FRAME_CONTENT_SEQUENCE,
                "InStackPositionNumber",
            )
        },
    ]
}

/// Spacing and orientation, shared by every frame (the source's).
pub(super) fn shared_groups(reference: &DicomReference) -> InMemDicomObject {
    let mut groups = InMemDicomObject::new_empty();
    // Readers take Pixel Measures as spacing and thickness together; a source without spacing
    // (ultrasound, secondary capture) gets none.
    if let Some([dr, dc]) = reference.pixel_spacing {
        // A mask pixel is as thick as the slice it was drawn on; where the source has no
        // thickness, the distance between its slices.
        let thickness = reference
            .slice_thickness
            .or(reference.slice_spacing)
            .unwrap_or(1.0);
        let mut measures = InMemDicomObject::from_element_iter([
            DataElement::new(tags::PIXEL_SPACING, VR::DS, strs(&[dr, dc])),
            DataElement::new(tags::SLICE_THICKNESS, VR::DS, ds(thickness)),
        ]);
        if let Some(s) = reference
            .slice_spacing
            .filter(|_| reference.frames.len() > 1)
        {
            measures.put(DataElement::new(
                tags::SPACING_BETWEEN_SLICES,
                VR::DS,
                ds(s),
            ));
        }
        groups.put(sequence(tags::PIXEL_MEASURES_SEQUENCE, vec![measures]));
    }
    if let Some(o) = reference.orientation {
        groups.put(sequence(
            tags::PLANE_ORIENTATION_SEQUENCE,
            vec![InMemDicomObject::from_element_iter([DataElement::new(
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                strs(&o),
            )])],
        ));
    }
    groups
}

/// The frame's source image, its dimension indices, position and segment.
pub(super) fn per_frame_groups(
    reference: &DicomReference,
    segment: u16,
    k: usize,
    placed: bool,
) -> InMemDicomObject {
    let source = &reference.frames[k];
    let mut image = InMemDicomObject::from_element_iter([
        DataElement::new(
            tags::REFERENCED_SOP_CLASS_UID,
            VR::UI,
            source.sop_class_uid.as_str(),
        ),
        DataElement::new(
            tags::REFERENCED_SOP_INSTANCE_UID,
            VR::UI,
            source.sop_instance_uid.as_str(),
        ),
        // The mask's pixel (r, c) is the image's pixel (r, c): what lets readers index by source.
        DataElement::new(tags::SPATIAL_LOCATIONS_PRESERVED, VR::CS, "YES"),
        sequence(
            tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
            vec![code(
                "121322",
                "DCM",
                "Source image for image processing operation",
            )],
        ),
    ]);
    if let Some(n) = source.frame_number {
        image.put(DataElement::new(
            tags::REFERENCED_FRAME_NUMBER,
            VR::IS,
            n.to_string(),
        ));
    }
    let derivation = InMemDicomObject::from_element_iter([
        sequence(tags::SOURCE_IMAGE_SEQUENCE, vec![image]),
        sequence(
            tags::DERIVATION_CODE_SEQUENCE,
            vec![code("113076", "DCM", "Segmentation")],
        ),
    ]);
    let place = (k + 1) as u32;
    let mut content = InMemDicomObject::from_element_iter([DataElement::new(
        tags::DIMENSION_INDEX_VALUES,
        VR::UL,
        dicom_value!(U32, [u32::from(segment), place]),
    )]);
    let mut groups = InMemDicomObject::from_element_iter([
        sequence(tags::DERIVATION_IMAGE_SEQUENCE, vec![derivation]),
        sequence(
            tags::SEGMENT_IDENTIFICATION_SEQUENCE,
            vec![InMemDicomObject::from_element_iter([DataElement::new(
                tags::REFERENCED_SEGMENT_NUMBER,
                VR::US,
                dicom_value!(U16, [segment]),
            )])],
        ),
    ]);
    match source.position.filter(|_| placed) {
        Some(p) => groups.put(sequence(
            tags::PLANE_POSITION_SEQUENCE,
            vec![InMemDicomObject::from_element_iter([DataElement::new(
                tags::IMAGE_POSITION_PATIENT,
                VR::DS,
                strs(&p),
            )])],
        )),
        None => {
            content.put(DataElement::new(tags::STACK_ID, VR::SH, "1"));
            content.put(DataElement::new(
                tags::IN_STACK_POSITION_NUMBER,
                VR::UL,
                dicom_value!(U32, [place]),
            ))
        }
    };
    groups.put(sequence(tags::FRAME_CONTENT_SEQUENCE, vec![content]));
    groups
}
