//! JPEG 2000 frames checked against the header before dicom-rs decodes them.
//!
//! dicom-rs 0.10's JPEG 2000 adapter copies every decoded component into a buffer sized from
//! Rows × Columns × Samples per Pixel without comparing the codestream's own size: a codestream
//! larger than the header says, or with more components, indexes past the buffer and panics
//! (found by the `decode_dicom` fuzz target, see `crates/imaging/fuzz/`). The codestream's SIZ
//! marker segment (ITU-T T.800 A.5.1) is read here and must fit.

use dicom_core::value::Value;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::attributes::Attributes;
use crate::error::ImagingError;

/// JPEG 2000 (lossless, lossy, multi-component) and High-Throughput JPEG 2000 syntaxes.
pub(super) fn applies(ts_uid: &str) -> bool {
    matches!(
        ts_uid.strip_prefix("1.2.840.10008.1.2.4."),
        Some("90" | "91" | "92" | "93" | "201" | "202" | "203")
    )
}

const J2K_MAGIC: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];
const JP2_MAGIC: &[u8] = &[
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];

/// Refuses frames whose codestream holds more components or samples than the header declares.
pub(super) fn check(object: &DefaultDicomObject, attrs: &Attributes) -> Result<(), ImagingError> {
    let Some(Value::PixelSequence(sequence)) = object.get(tags::PIXEL_DATA).map(|e| e.value())
    else {
        return Ok(());
    };
    let samples = u64::from(attrs.samples_per_pixel.max(1));
    let pixels = attrs.rows as u64 * attrs.columns as u64;
    for fragment in sequence.fragments() {
        // Only a frame's first fragment starts with a signature, and the decoder refuses a
        // frame without one, so the others need no check.
        let codestream = if fragment.starts_with(J2K_MAGIC) {
            Some(&fragment[..])
        } else if fragment.starts_with(JP2_MAGIC) {
            jp2_codestream(fragment)
        } else {
            continue;
        };
        let fail = |why: String| Err(ImagingError::Dicom(format!("JPEG 2000 frame: {why}")));
        let Some(siz) = codestream.and_then(siz) else {
            return fail("no readable SIZ header".into());
        };
        if siz.len() as u64 > samples {
            return fail(format!(
                "{} components where Samples per Pixel is {samples}",
                siz.len()
            ));
        }
        if let Some((w, h)) = siz.iter().find(|(w, h)| w * h > pixels) {
            return fail(format!(
                "a {w}×{h} component where the header says {}×{}",
                attrs.columns, attrs.rows
            ));
        }
    }
    Ok(())
}

/// The contents of the JP2 file's contiguous codestream box (`jp2c`).
fn jp2_codestream(file: &[u8]) -> Option<&[u8]> {
    let mut at = 0usize;
    while at + 8 <= file.len() {
        let len = u32::from_be_bytes(file[at..at + 4].try_into().ok()?) as usize;
        let kind = &file[at + 4..at + 8];
        let (header, len) = match len {
            0 => (8, file.len() - at),
            1 => {
                let xl = u64::from_be_bytes(file.get(at + 8..at + 16)?.try_into().ok()?);
                (16, usize::try_from(xl).ok()?)
            }
            n => (8, n),
        };
        if len < header {
            return None;
        }
        if kind == b"jp2c" {
            return file.get(at + header..);
        }
        at = at.checked_add(len)?;
    }
    None
}

/// Width and height of each component, from the SIZ segment right after SOC.
fn siz(codestream: &[u8]) -> Option<Vec<(u64, u64)>> {
    if !codestream.starts_with(J2K_MAGIC) {
        return None;
    }
    let u32_at = |i: usize| -> Option<u64> {
        Some(u64::from(u32::from_be_bytes(
            codestream.get(i..i + 4)?.try_into().ok()?,
        )))
    };
    let (x1, y1, x0, y0) = (u32_at(8)?, u32_at(12)?, u32_at(16)?, u32_at(20)?);
    let count = usize::from(u16::from_be_bytes(codestream.get(40..42)?.try_into().ok()?));
    (0..count)
        .map(|c| {
            let at = 42 + 3 * c;
            let (dx, dy) = (
                u64::from(*codestream.get(at + 1)?),
                u64::from(*codestream.get(at + 2)?),
            );
            if dx == 0 || dy == 0 {
                return None;
            }
            let w = x1.div_ceil(dx).checked_sub(x0.div_ceil(dx))?;
            let h = y1.div_ceil(dy).checked_sub(y0.div_ceil(dy))?;
            Some((w, h))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codestream(w: u32, h: u32, components: &[(u8, u8)]) -> Vec<u8> {
        let mut cs = J2K_MAGIC.to_vec();
        cs.extend((38 + 3 * components.len() as u16).to_be_bytes());
        cs.extend([0, 0]);
        for v in [w, h, 0, 0, w, h, 0, 0] {
            cs.extend(v.to_be_bytes());
        }
        cs.extend((components.len() as u16).to_be_bytes());
        for &(dx, dy) in components {
            cs.extend([7, dx, dy]);
        }
        cs
    }

    #[test]
    fn siz_gives_component_sizes_with_subsampling() {
        let cs = codestream(5, 4, &[(1, 1), (2, 2)]);
        assert_eq!(siz(&cs), Some(vec![(5, 4), (3, 2)]));
        assert_eq!(siz(&cs[..45]), None, "cut inside the component list");
        assert_eq!(siz(&codestream(5, 4, &[(0, 1)])), None);
    }

    #[test]
    fn jp2_boxes_lead_to_the_codestream() {
        let cs = codestream(2, 2, &[(1, 1)]);
        let mut file = JP2_MAGIC.to_vec();
        file.extend(12u32.to_be_bytes());
        file.extend(b"ftypjp2 ");
        file.extend((8 + cs.len() as u32).to_be_bytes());
        file.extend(b"jp2c");
        file.extend(&cs);
        assert_eq!(jp2_codestream(&file), Some(&cs[..]));
        assert_eq!(jp2_codestream(&file[..20]), None);
    }
}
