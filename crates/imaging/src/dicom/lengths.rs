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

/// Deflate's largest expansion: a deflated data set can hold at most this many bytes per byte.
const DEFLATE_MAX_RATIO: usize = 1032;

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
            dataset.len().saturating_mul(DEFLATE_MAX_RATIO),
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
