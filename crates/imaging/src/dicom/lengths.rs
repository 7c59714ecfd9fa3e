//! Declared value lengths checked against the file before dicom-rs parses it.
//!
//! dicom-rs reserves (and zero-fills) each value at the length its header declares before
//! reading it, so a header declaring 4 GB makes it allocate 4 GB whatever the file's size: the
//! `decode_dicom` fuzz target (see `crates/imaging/fuzz/`) found pydicom's 674-byte
//! `UN_sequence.dcm` doing exactly that, and `SC_rgb_jpeg.dcm` (an implicit-VR data set
//! declared explicit) allocates 1.2 GB. No value can be longer than the bytes it is read from,
//! so a header that declares more is refused here. The walk uses dicom-rs's own header decoders
//! and token reader, so it sees exactly the headers the real parse will; anything else it
//! cannot read is left for that parse to report.

use std::io::Read;

use dicom_core::header::{HasLength, Header};
use dicom_core::Tag;
use dicom_encoding::decode::{file_header_decoder, Decode};
use dicom_encoding::transfer_syntax::{Codec, TransferSyntaxIndex};
use dicom_encoding::TransferSyntax;
use dicom_parser::dataset::{read::DataSetReaderOptions, DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::error::ImagingError;
use crate::nifti::MAX_VOXELS;

/// Deflate's largest expansion: a deflated data set can hold at most this many bytes per byte.
const DEFLATE_MAX_RATIO: usize = 1032;
/// The longest value a deflated data set may declare: the largest accepted volume
/// ([`MAX_VOXELS`]) in the widest sample (64-bit float). A few MB of deflated data could
/// otherwise declare gigabytes, which dicom-rs would reserve before reading.
const DEFLATED_MAX_VALUE: u64 = MAX_VOXELS * 8;

/// Checks a file from its "DICM" magic on: the file meta group, then the data set in the
/// transfer syntax the group names (an unknown one is left for dicom-object to refuse).
pub(super) fn check_file(from_magic: &[u8]) -> Result<(), ImagingError> {
    let Some((at, uid)) = check_meta(from_magic)? else {
        return Ok(());
    };
    match TransferSyntaxRegistry.get(&uid) {
        Some(ts) => check_dataset(&from_magic[at..], ts),
        None => Ok(()),
    }
}

/// Walks the file meta group the way dicom-object reads it (magic, group length, elements up
/// to that length); where the data set starts and its transfer syntax, or `None` where the
/// group is malformed in some other way (dicom-object then reports it).
fn check_meta(bytes: &[u8]) -> Result<Option<(usize, String)>, ImagingError> {
    let decoder = file_header_decoder();
    let mut source = bytes.get(4..).unwrap_or_default(); // past "DICM"
    let Ok((header, _)) = decoder.decode_header(&mut source) else {
        return Ok(None);
    };
    let mut group_length = [0u8; 4];
    if header.length().get() != Some(4) || source.read_exact(&mut group_length).is_err() {
        return Ok(None);
    }
    let group_length = u32::from_le_bytes(group_length);
    let (mut read, mut uid) = (0u32, String::new());
    while read < group_length {
        let Ok((header, header_len)) = decoder.decode_header(&mut source) else {
            return Ok(None);
        };
        let Some(len) = header.length().get() else {
            return Ok(None);
        };
        let value = source
            .get(..len as usize)
            .ok_or_else(|| too_long(len, bytes.len()))?;
        if header.tag() == Tag(0x0002, 0x0010) {
            uid = String::from_utf8_lossy(value)
                .trim_end_matches(['\0', ' '])
                .to_string();
        }
        source = &source[len as usize..];
        read = read.saturating_add(header_len as u32).saturating_add(len);
    }
    Ok(Some((bytes.len() - source.len(), uid)))
}

/// Reads a data set's tokens (values included, each no longer than the data) and refuses the
/// first header whose length exceeds what the data could hold.
pub(super) fn check_dataset(dataset: &[u8], ts: &TransferSyntax) -> Result<(), ImagingError> {
    let (source, limit): (Box<dyn Read + '_>, usize) = match ts.codec() {
        Codec::Dataset(Some(adapter)) => (
            adapter.adapt_reader(Box::new(dataset)),
            dataset
                .len()
                .saturating_mul(DEFLATE_MAX_RATIO)
                .min(usize::try_from(DEFLATED_MAX_VALUE).unwrap_or(usize::MAX)),
        ),
        _ => (Box::new(dataset), dataset.len()),
    };
    let Ok(reader) =
        DataSetReader::new_with_ts_options(source, ts, DataSetReaderOptions::default())
    else {
        return Ok(());
    };
    for token in reader {
        let len = match token {
            Ok(DataToken::ElementHeader(header)) => header.length(),
            Ok(DataToken::SequenceStart { len, .. } | DataToken::ItemStart { len }) => len,
            Ok(_) => continue,
            Err(_) => return Ok(()),
        };
        if let Some(len) = len.get() {
            if len as usize > limit {
                return Err(too_long(len, dataset.len()));
            }
        }
    }
    Ok(())
}

fn too_long(len: u32, file_len: usize) -> ImagingError {
    ImagingError::Dicom(format!(
        "an element declares {len} bytes but the file has {file_len} bytes (truncated or corrupt)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// "DICM", a file meta group naming deflated explicit VR little endian, and `dataset`
    /// deflated.
    fn deflated_file(dataset: &[u8]) -> Vec<u8> {
        let uid = b"1.2.840.10008.1.2.1.99";
        let mut meta = Vec::new();
        meta.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
        meta.extend_from_slice(&(uid.len() as u16).to_le_bytes());
        meta.extend_from_slice(uid);
        let mut file = b"DICM".to_vec();
        file.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 4, 0]);
        file.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        file.extend_from_slice(&meta);
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(dataset).unwrap();
        file.extend_from_slice(&encoder.finish().unwrap());
        file
    }

    #[test]
    fn a_deflated_value_longer_than_the_largest_volume_is_refused() {
        // Pixel Data (7FE0,0010) OB declaring 1.5 GB, then 2.5 MB of incompressible bytes: within
        // deflate's 1032:1 of the file, beyond MAX_VOXELS × 8.
        let declared: u32 = 1_500_000_000;
        let mut dataset = vec![0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0];
        dataset.extend_from_slice(&declared.to_le_bytes());
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        dataset.extend((0..2_500_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        }));
        let file = deflated_file(&dataset);
        assert!((file.len() as u64) * 1032 > u64::from(declared));
        let err = check_file(&file).unwrap_err().to_string();
        assert!(err.contains("1500000000 bytes"), "{err}");

        // The same element declaring what the data holds passes.
        dataset[8..12].copy_from_slice(&2_500_000u32.to_le_bytes());
        check_file(&deflated_file(&dataset)).unwrap();
    }
}
