//! Which transfer syntaxes this build decodes, and a precise message for those it does not.

use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::error::ImagingError;

/// A transfer syntax this build can decode.
pub(super) struct Syntax {
    /// Its name in the standard.
    pub name: String,
    /// Whether the pixel data is compressed (encapsulated).
    pub compressed: bool,
}

/// JPEG-LS (lossless and near-lossless) needs CharLS, a C++ library: native builds only.
const JPEG_LS: [&str; 2] = ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"];

/// Looks `uid` up and refuses what cannot be decoded here, saying what to do instead.
pub(super) fn check(uid: &str) -> Result<Syntax, ImagingError> {
    let Some(ts) = TransferSyntaxRegistry.get(uid) else {
        return Err(ImagingError::DicomSyntax(format!(
            "an unknown transfer syntax {uid}: convert it to explicit VR little endian (for example `gdcmconv --raw`)"
        )));
    };
    let name = ts.name().to_string();
    if JPEG_LS.contains(&uid) && cfg!(target_arch = "wasm32") {
        return Err(ImagingError::DicomSyntax(format!(
            "{name}, which only the native `unet` CLI decodes (its decoder, CharLS, is C++): run `unet predict` on it, or decompress it with `gdcmconv --raw` and drop it again"
        )));
    }
    if !ts.can_decode_all() {
        return Err(ImagingError::DicomSyntax(format!(
            "{name} ({uid}), which this build cannot decode: convert it to uncompressed DICOM (for example `gdcmconv --raw`) and try again"
        )));
    }
    Ok(Syntax {
        name,
        compressed: !ts.is_codec_free(),
    })
}
