//! The one error type of this crate.
//!
//! Every message is a single line that says what was wrong and what the user
//! can do about it, because the browser app and the CLI both show these
//! messages to people, not to programmers.

use thiserror::Error;

/// Everything that can go wrong turning bytes into model input or back.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ImagingError {
    /// The input had no bytes at all, or the image declares zero width or height.
    #[error(
        "the image is empty (0 bytes, or zero width or height): choose a non-empty image file"
    )]
    Empty,

    /// The leading bytes match none of the supported formats.
    #[error(
        "not a supported image (PNG, JPEG, BMP, TIFF, WebP): starts with bytes {}; save it as PNG or TIFF and try again",
        hex_prefix(.first_bytes)
    )]
    UnknownFormat {
        /// Up to the first 8 bytes of the input, kept so the message can show them.
        first_bytes: Vec<u8>,
    },

    /// The format was recognised but the data is truncated or corrupt.
    #[error("the image file is truncated or corrupt ({0}): re-export or re-download it")]
    Corrupt(String),

    /// The header declares more pixels than [`crate::MAX_PIXELS`].
    #[error(
        "the image is {width}×{height} pixels, more than the limit of {max_pixels} pixels: downscale or crop it first"
    )]
    TooLarge {
        /// Width declared by the file.
        width: u32,
        /// Height declared by the file.
        height: u32,
        /// The limit that was exceeded.
        max_pixels: u64,
    },

    /// The pixel buffers for an image within the limit could not be reserved.
    #[error("not enough memory to decode a {width}×{height} image: downscale or crop it, or close other tabs and retry")]
    OutOfMemory {
        /// Width declared by the file.
        width: u32,
        /// Height declared by the file.
        height: u32,
    },

    /// A valid image in a pixel layout this crate does not handle.
    #[error("unsupported image layout ({0}): convert it to 8- or 16-bit greyscale or RGB")]
    Unsupported(String),

    /// The image's channels cannot be matched to what the model expects.
    #[error(
        "the image has {image_channels} channel(s) but the model expects {model_channels}: convert the image to greyscale or RGB, or use a model with a matching input"
    )]
    ChannelMismatch {
        /// Channels in the decoded image (alpha included).
        image_channels: usize,
        /// Channels the model's first layer takes.
        model_channels: usize,
    },

    /// A mask cannot be written as a DICOM SEG of its source.
    #[error("cannot write a DICOM SEG: {0}")]
    DicomSeg(String),

    /// A mask and what it is measured with do not fit together (`unet stats`).
    #[error("cannot measure the mask: {0}")]
    Measure(String),

    /// A normalisation setting is out of range (for example percentiles outside 0–100).
    #[error("invalid normalisation: {0}")]
    InvalidNormalization(String),

    /// A NIfTI volume could not be read.
    #[error("not a readable NIfTI volume ({0}): check the file is a complete .nii or .nii.gz")]
    Nifti(String),

    /// A DICOM file could not be read.
    #[error("not a readable DICOM file ({0}): check the file is complete, or export it again from the scanner or PACS")]
    Dicom(String),

    /// A DICOM file whose pixel data uses a compression this build cannot decode.
    #[error("DICOM pixel data compressed as {0}")]
    DicomSyntax(String),

    /// A `.npy` file could not be read.
    #[error("not a readable .npy file ({0}): save it with numpy.save as a C-order float32 or float64 array")]
    Npy(String),
}

/// Renders bytes as `3c 68 74 …` so an unknown file can be recognised at a glance
/// (for example `3c 68 74 6d 6c` is an HTML error page saved instead of the image).
fn hex_prefix(bytes: &[u8]) -> String {
    let mut out = bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    out.push_str(" …");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_format_message_shows_leading_bytes() {
        let err = ImagingError::UnknownFormat {
            first_bytes: b"<ht".to_vec(),
        };
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "not a supported image (PNG, JPEG, BMP, TIFF, WebP): starts with bytes 3c 68 74 …"
            ),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn messages_are_single_lines() {
        let errors = [
            ImagingError::Empty,
            ImagingError::Corrupt("unexpected end of file".into()),
            ImagingError::TooLarge {
                width: 100_000,
                height: 100_000,
                max_pixels: 16384 * 16384,
            },
            ImagingError::OutOfMemory {
                width: 9000,
                height: 9000,
            },
            ImagingError::Unsupported("32-bit float greyscale".into()),
            ImagingError::ChannelMismatch {
                image_channels: 3,
                model_channels: 2,
            },
            ImagingError::InvalidNormalization("low must be below high".into()),
            ImagingError::Npy("bad magic".into()),
            ImagingError::Dicom("no pixel data".into()),
            ImagingError::DicomSyntax("MPEG-4: convert it to uncompressed DICOM first".into()),
        ];
        for err in errors {
            let msg = err.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(msg.contains(':'), "says what to do: {msg}");
        }
    }
}
