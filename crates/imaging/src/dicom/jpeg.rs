//! JPEG (baseline, extended, lossless) and JPEG-LS frames checked against the header before
//! dicom-rs decodes them.
//!
//! dicom-rs 0.10's JPEG adapter decodes the fragments' JPEG streams one after another and copies
//! each decoded frame into a buffer sized from Rows × Columns × Samples per Pixel without
//! comparing the stream's own size: a frame larger than the header says slices past the buffer
//! and panics (found by the `decode_dicom` fuzz target: a 256×256 RGB header over a 259×256
//! stream). The frame header (SOF, ITU-T T.81 B.2.2) of every stream the adapter would decode
//! is read here, finding markers as the decoder does (garbage between segments skipped), and
//! must fit.

use dicom_core::value::Value;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::attributes::Attributes;
use crate::error::ImagingError;

/// The syntaxes dicom-rs decodes with its JPEG adapter (baseline, extended, lossless, lossless
/// first-order prediction) or with CharLS (JPEG-LS lossless and near-lossless).
pub(super) fn applies(ts_uid: &str) -> bool {
    matches!(
        ts_uid.strip_prefix("1.2.840.10008.1.2.4."),
        Some("50" | "51" | "57" | "70" | "80" | "81")
    )
}

/// JPEG-LS (ITU-T T.87): CharLS sizes its output from the stream's own frame header and
/// allocates it before decoding, so a few hundred bytes could ask for gigabytes (found by the
/// same fuzz target). Its scans stuff a 0 bit after each 0xFF, so there a marker is 0xFF
/// followed by a byte of 0x80 or more.
fn is_jpeg_ls(ts_uid: &str) -> bool {
    matches!(ts_uid, "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81")
}

/// Refuses a JPEG stream whose frame holds more bytes than one frame of the header.
pub(super) fn check(
    object: &DefaultDicomObject,
    attrs: &Attributes,
    ts_uid: &str,
) -> Result<(), ImagingError> {
    let Some(Value::PixelSequence(sequence)) = object.get(tags::PIXEL_DATA).map(|e| e.value())
    else {
        return Ok(());
    };
    // The adapter reads the fragments as one byte stream.
    let data: Vec<u8> = sequence.fragments().iter().flatten().copied().collect();
    let bytes_per_sample = u64::from(attrs.bits_allocated.max(1)).div_ceil(8);
    let frame = attrs.rows as u64
        * attrs.columns as u64
        * u64::from(attrs.samples_per_pixel.max(1))
        * bytes_per_sample;
    let mut at = 0;
    while let Some(soi) = find(&data, at, &[0xFF, 0xD8]) {
        at = stream_end(&data, soi + 2, frame, attrs, is_jpeg_ls(ts_uid))?;
    }
    Ok(())
}

/// Walks one stream's marker segments from just after its SOI, checking every frame header;
/// returns where the stream ends (after EOI, or the end of the data).
fn stream_end(
    data: &[u8],
    mut at: usize,
    frame: u64,
    attrs: &Attributes,
    jpeg_ls: bool,
) -> Result<usize, ImagingError> {
    let fail = |why: String| Err(ImagingError::Dicom(format!("JPEG frame: {why}")));
    loop {
        // As the decoder reads (libjpeg's leniency): anything up to the next 0xFF is skipped,
        // then fill bytes; 0xFF 0x00 (stuffing in entropy-coded data; in JPEG-LS any byte
        // under 0x80) is no marker.
        let marker = loop {
            while data.get(at).is_some_and(|&b| b != 0xFF) {
                at += 1;
            }
            while data.get(at + 1) == Some(&0xFF) {
                at += 1;
            }
            match data.get(at + 1) {
                None => return Ok(data.len()),
                Some(&m) if m == 0x00 || (jpeg_ls && m < 0x80) => at += 2,
                Some(&m) => {
                    at += 2;
                    break m;
                }
            }
        };
        match marker {
            0xD9 => return Ok(at),
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        let Some(len) = data
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return Ok(data.len());
        };
        if is_frame_header(marker) {
            let Some(sof) = data.get(at + 2..at + 8) else {
                return fail("a truncated frame header".into());
            };
            let precision = sof[0];
            let height = u64::from(u16::from_be_bytes([sof[1], sof[2]]));
            let width = u64::from(u16::from_be_bytes([sof[3], sof[4]]));
            let components = u64::from(sof[5]);
            if height == 0 || width == 0 {
                return fail(
                    "its size is set later in the stream (DNL or LSE), which this decoder does not take"
                        .into(),
                );
            }
            let bytes = height * width * components * if precision > 8 { 2 } else { 1 };
            if bytes > frame {
                return fail(format!(
                    "{width}×{height} with {components} component(s) where the header says {}×{} with {}",
                    attrs.columns, attrs.rows, attrs.samples_per_pixel
                ));
            }
        }
        // Entropy-coded data after a scan header is passed over by the marker search above.
        at += len;
        if at >= data.len() {
            return Ok(data.len());
        }
    }
}

/// SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC), and JPEG-LS's SOF55 (F7).
fn is_frame_header(marker: u8) -> bool {
    ((0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)) || marker == 0xF7
}

fn find(data: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    data.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}
