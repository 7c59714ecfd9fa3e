//! RLE Lossless fragments checked before dicom-rs decodes them.
//!
//! dicom-rs 0.10's RLE decoder indexes without bounds checks: a fragment shorter than its
//! 64-byte header, a header declaring more segments than it holds, or a segment that unpacks
//! to fewer samples than Rows × Columns makes it panic (found by the `decode_dicom` fuzz target,
//! see `crates/imaging/fuzz/`), which the wasm build (panic = abort) cannot survive. Each
//! fragment is checked here the way that decoder will read it.

use dicom_core::value::Value;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::attributes::Attributes;
use crate::error::ImagingError;

/// The RLE Lossless transfer syntax.
pub(super) const UID: &str = "1.2.840.10008.1.2.5";

/// Refuses RLE fragments dicom-rs could not decode without panicking.
pub(super) fn check(object: &DefaultDicomObject, attrs: &Attributes) -> Result<(), ImagingError> {
    let Some(Value::PixelSequence(sequence)) = object.get(tags::PIXEL_DATA).map(|e| e.value())
    else {
        return Ok(()); // dicom-rs reports a missing or native pixel data element itself
    };
    // dicom-rs refuses other bit depths before it reads a fragment.
    let bytes_per_sample = match attrs.bits_allocated {
        8 => 1,
        16 => 2,
        _ => return Ok(()),
    };
    let segments = usize::from(attrs.samples_per_pixel.max(1)) * bytes_per_sample;
    let samples = attrs.rows * attrs.columns;
    for (frame, fragment) in sequence.fragments().iter().enumerate() {
        check_fragment(fragment, segments, samples)
            .map_err(|why| ImagingError::Dicom(format!("RLE frame {}: {why}", frame + 1)))?;
    }
    Ok(())
}

/// `segments` segments, each unpacking to at least `samples` bytes.
fn check_fragment(fragment: &[u8], segments: usize, samples: usize) -> Result<(), String> {
    // The header: a segment count and 15 offsets (PS3.5 G.5).
    let word = |i: usize| {
        let b = &fragment[4 * i..4 * i + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    };
    if fragment.len() < 64 {
        return Err(format!("{} bytes, shorter than its header", fragment.len()));
    }
    let count = word(0);
    if count > 15 || count < segments {
        return Err(format!(
            "the header declares {count} segments where {segments} are needed"
        ));
    }
    let mut offsets: Vec<usize> = (1..=count).map(word).collect();
    offsets.push(fragment.len());
    for i in 0..segments {
        let segment = fragment
            .get(offsets[i]..offsets[i + 1])
            .ok_or_else(|| format!("segment {} lies outside the fragment", i + 1))?;
        let unpacked = unpacked_len(segment);
        if unpacked < samples {
            return Err(format!(
                "segment {} unpacks to {unpacked} bytes, not {samples}",
                i + 1
            ));
        }
    }
    Ok(())
}

/// How many bytes a PackBits segment unpacks to, counted like dicom-rs's reader (a literal run
/// cut short by the segment's end counts what is there; a repeat without its byte is 0).
fn unpacked_len(segment: &[u8]) -> usize {
    let (mut i, mut out) = (0, 0usize);
    while i < segment.len() {
        let h = segment[i] as i8;
        i += 1;
        match h {
            -128 => {}
            -127..=-1 => {
                if i >= segment.len() {
                    return 0; // dicom-rs fails to read the repeated byte
                }
                out += (1 - isize::from(h)) as usize;
                i += 1;
            }
            _ => {
                let n = h as usize + 1;
                out += n.min(segment.len() - i);
                i += n;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packbits_lengths() {
        assert_eq!(unpacked_len(&[2, 1, 2, 3]), 3);
        assert_eq!(unpacked_len(&[0xFE, 7]), 3);
        assert_eq!(unpacked_len(&[0x80, 0, 9]), 1);
        assert_eq!(
            unpacked_len(&[5, 1]),
            1,
            "a cut literal run counts what is there"
        );
        assert_eq!(unpacked_len(&[0xFE]), 0);
    }

    #[test]
    fn short_or_inconsistent_fragments_are_refused() {
        let mut fragment = vec![0u8; 64];
        fragment[0] = 1;
        fragment[4] = 64;
        fragment.extend([0xFD, 9]); // 4 bytes
        assert!(check_fragment(&fragment, 1, 4).is_ok());
        assert!(check_fragment(&fragment, 1, 5).is_err());
        assert!(check_fragment(&fragment, 2, 4).is_err());
        assert!(check_fragment(&fragment[..10], 1, 4).is_err());
        fragment[0] = 200;
        assert!(check_fragment(&fragment, 1, 4).is_err());
    }
}
