//! DICOM files (dicom-rs): one file to a [`Slice`] (its pixels after the modality LUT and what
//! the header says about them), and slices of a series stacked into a [`Volume`].
//!
//! dicom-rs parses and decompresses; converting samples (bit depth, sign, rescale, planar
//! layout, YBR, palette) is done here, so the same code runs on every transfer syntax and the
//! results can be checked against pydicom.

use dicom_dictionary_std::tags;
use dicom_object::{
    file::ReadPreamble, DefaultDicomObject, FileMetaTableBuilder, InMemDicomObject, OpenFileOptions,
};
use dicom_pixeldata::PixelDecoder;

use crate::decoded::{Content, Decoded, FileInfo, Window};
use crate::error::ImagingError;
use crate::{BitDepth, Channels, Image, MAX_PIXELS, MAX_VOXELS};

mod attributes;
mod jpeg;
mod jpeg2k;
mod lengths;
mod pixels;
pub(crate) mod reference;
mod rle;
mod seg;
mod series;
mod syntax;

pub use attributes::StudyIds;
use attributes::{text, Attributes};
pub use reference::{DicomReference, SourceFrame};
pub use seg::{encode_dicom_seg, SegOrigin, Segment};
pub(crate) use series::{is_stack, stack, SeriesKey};

/// Whether `bytes` look like DICOM: "DICM" after the 128-byte preamble or at the start, or a
/// bare data set (no file meta) starting with a group-0008 element, as old scanners wrote.
pub fn is_dicom(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM")
        || bytes.starts_with(b"DICM")
        || (bytes.len() >= 8 && bytes[0] == 0x08 && bytes[1] == 0x00 && bytes[3] == 0x00)
}

/// Decodes one DICOM file: a single frame becomes an [`Image`], several frames a [`Volume`].
///
/// # Errors
/// [`ImagingError::Dicom`] for a file that cannot be parsed or has no usable pixel data,
/// [`ImagingError::DicomSyntax`] for a compression this build cannot decode,
/// [`ImagingError::TooLarge`] above [`MAX_PIXELS`] per frame or [`MAX_VOXELS`] per file.
pub fn decode_dicom(bytes: &[u8]) -> Result<Decoded, ImagingError> {
    read_slice(bytes)?.decode()
}

/// One decoded DICOM file.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    attrs: Attributes,
    /// Frames in the file.
    frames: usize,
    /// 1 (grey) or 3 (RGB after colour conversion).
    samples: usize,
    /// frames × rows × columns × samples values, modality LUT applied to grey.
    data: Vec<f32>,
    /// Sample type, for the model's preprocessing.
    bit_depth: BitDepth,
    info: FileInfo,
}

impl Slice {
    /// A single grey frame with a series UID can be stacked with its siblings.
    pub(crate) fn stackable(&self) -> bool {
        self.frames == 1 && self.samples == 1 && self.attrs.series_uid.is_some()
    }

    /// Slices are stacked only with slices of the same series, size and orientation.
    pub(crate) fn series_key(&self) -> SeriesKey {
        SeriesKey::of(&self.attrs)
    }

    /// The file on its own: several frames (a multi-frame or enhanced image) stack into a
    /// volume, one frame is a 2-D image.
    pub(crate) fn decode(self) -> Result<Decoded, ImagingError> {
        if self.frames > 1 {
            stack(vec![self])
        } else {
            self.into_decoded()
        }
    }

    /// The single frame as a 2-D image.
    pub(crate) fn into_decoded(self) -> Result<Decoded, ImagingError> {
        let image = Image {
            width: self.attrs.columns as u32,
            height: self.attrs.rows as u32,
            channels: if self.samples == 3 {
                Channels::Rgb
            } else {
                Channels::Gray
            },
            bit_depth: self.bit_depth,
            format: "DICOM",
            pixels: self.data,
        };
        Ok(Decoded {
            content: Content::Image(image),
            info: self.info,
        })
    }
}

/// Parses and decodes one DICOM file.
pub(crate) fn read_slice(bytes: &[u8]) -> Result<Slice, ImagingError> {
    read_header(bytes)?.decode()
}

/// A parsed DICOM file whose sizes passed [`guard`] and whose pixel data is not decoded yet, so
/// that a whole series can be sized before any of it is decoded.
pub(crate) struct Header {
    object: DefaultDicomObject,
    attrs: Attributes,
    ts_uid: String,
    syntax: syntax::Syntax,
}

/// Parses one DICOM file and checks what it declares, without decoding its pixels.
pub(crate) fn read_header(bytes: &[u8]) -> Result<Header, ImagingError> {
    let object = open(bytes)?;
    let ts_uid = object
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_string();
    let attrs = Attributes::read(&object)?;
    let syntax = syntax::check(&ts_uid)?;
    guard(&attrs, bytes.len(), syntax.compressed)?;
    if ts_uid == rle::UID {
        rle::check(&object, &attrs)?;
    }
    if jpeg2k::applies(&ts_uid) {
        jpeg2k::check(&object, &attrs)?;
    }
    if jpeg::applies(&ts_uid) {
        jpeg::check(&object, &attrs, &ts_uid)?;
    }
    Ok(Header {
        object,
        attrs,
        ts_uid,
        syntax,
    })
}

impl Header {
    /// Samples the pixel data decodes to (frames × rows × columns × samples per pixel).
    pub(crate) fn samples(&self) -> u64 {
        let a = &self.attrs;
        a.frames as u64 * a.rows as u64 * a.columns as u64 * u64::from(a.samples_per_pixel.max(1))
    }

    /// Declares one grey frame of a series: it will be stacked if it decodes as such
    /// ([`Slice::stackable`] has the last word).
    pub(crate) fn stackable(&self) -> bool {
        self.attrs.frames == 1
            && self.attrs.samples_per_pixel == 1
            && self.attrs.photometric.starts_with("MONOCHROME")
            && self.attrs.series_uid.is_some()
    }

    /// As [`Slice::series_key`].
    pub(crate) fn series_key(&self) -> SeriesKey {
        SeriesKey::of(&self.attrs)
    }

    /// Decodes the pixel data.
    pub(crate) fn decode(self) -> Result<Slice, ImagingError> {
        let Header {
            object,
            attrs,
            ts_uid,
            syntax,
        } = self;
        decode_pixels(&object, attrs, &ts_uid, &syntax)
    }
}

fn decode_pixels(
    object: &DefaultDicomObject,
    attrs: Attributes,
    ts_uid: &str,
    syntax: &syntax::Syntax,
) -> Result<Slice, ImagingError> {
    let decoded = object.decode_pixel_data().map_err(|e| {
        let why = causes(&e);
        if why.contains("unsupported") || why.contains("not supported") {
            // A valid file using a codec feature dicom-rs lacks (12-bit JPEG, say).
            ImagingError::DicomSyntax(format!(
                "{} using a feature this decoder lacks ({why}): convert it to uncompressed DICOM (for example `gdcmconv --raw`) and try again",
                syntax.name
            ))
        } else {
            ImagingError::Dicom(format!("cannot decode its {} pixel data: {why}", syntax.name))
        }
    })?;
    let big_endian = ts_uid == "1.2.840.10008.1.2.2";
    let converted = pixels::convert(&decoded, &attrs, big_endian)?;

    let inverted = attrs.photometric == "MONOCHROME1";
    let info = FileInfo {
        format: "DICOM".into(),
        modality: attrs.modality.clone(),
        transfer_syntax: Some(format!("{} ({ts_uid})", syntax.name)),
        photometric: Some(attrs.photometric.clone()),
        window: attrs.window.map(|(c, w)| {
            if inverted {
                // The values were flipped (see pixels.rs); so is the file's window.
                let (lo, hi) = pixels::stored_range(attrs.bits_stored, attrs.signed);
                let flip = (lo + hi) as f64 * attrs.slope + 2.0 * attrs.intercept;
                Window::new((flip - f64::from(c)) as f32, w)
            } else {
                Window::new(c, w)
            }
        }),
        inverted,
        description: attrs.description.clone(),
        files: 1,
        pixel_spacing: attrs.pixel_spacing,
        dicom: DicomReference::of_file(&attrs).map(Box::new),
    };
    Ok(Slice {
        frames: attrs.frames,
        samples: converted.samples,
        data: converted.values,
        bit_depth: converted.bit_depth,
        attrs,
        info,
    })
}

/// Opens the data set with or without preamble and file meta group.
fn open(bytes: &[u8]) -> Result<DefaultDicomObject, ImagingError> {
    let fail = |e: &dyn std::fmt::Display| ImagingError::Dicom(one_line(&e.to_string()));
    if bytes.get(128..132) == Some(b"DICM") || bytes.starts_with(b"DICM") {
        let preamble = if bytes.starts_with(b"DICM") {
            ReadPreamble::Never
        } else {
            ReadPreamble::Always
        };
        lengths::check_file(if preamble == ReadPreamble::Never {
            bytes
        } else {
            &bytes[128..]
        })?;
        return OpenFileOptions::new()
            .read_preamble(preamble)
            .from_reader(bytes)
            .map_err(|e| fail(&e));
    }
    // A bare data set: no meta group says how it is encoded, so the default syntax
    // (implicit VR little endian) is assumed, as the standard prescribes.
    let ts = dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN.erased();
    lengths::check_dataset(bytes, &ts)?;
    let dataset = InMemDicomObject::read_dataset_with_ts(bytes, &ts).map_err(|e| fail(&e))?;
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(ts.uid())
        .media_storage_sop_class_uid(text(&dataset, tags::SOP_CLASS_UID).unwrap_or_default())
        .media_storage_sop_instance_uid(text(&dataset, tags::SOP_INSTANCE_UID).unwrap_or_default())
        .build()
        .map_err(|e| fail(&e))?;
    Ok(dataset.with_exact_meta(meta))
}

/// Refuses sizes above the documented limits, and compressed sizes no file of this length
/// could plausibly hold, before anything is decoded.
fn guard(attrs: &Attributes, file_len: usize, compressed: bool) -> Result<(), ImagingError> {
    let (rows, cols) = (attrs.rows as u64, attrs.columns as u64);
    if rows == 0 || cols == 0 || attrs.frames == 0 {
        return Err(ImagingError::Dicom(
            "the header declares zero rows, columns or frames".into(),
        ));
    }
    if rows * cols > MAX_PIXELS {
        return Err(ImagingError::TooLarge {
            width: attrs.columns as u32,
            height: attrs.rows as u32,
            max_pixels: MAX_PIXELS,
        });
    }
    let samples = rows * cols * attrs.frames as u64 * u64::from(attrs.samples_per_pixel.max(1));
    if samples > MAX_VOXELS {
        return Err(ImagingError::Dicom(format!(
            "{} frames of {cols}×{rows} are more than the limit of {MAX_VOXELS} samples per file",
            attrs.frames
        )));
    }
    // 1-bit data is packed; native YBR_FULL_422 stores two samples per pixel (Y Y Cb Cr).
    let per_pixel_bits = u64::from(attrs.bits_allocated.max(1))
        * if attrs.photometric == "YBR_FULL_422" && !compressed {
            2
        } else {
            u64::from(attrs.samples_per_pixel.max(1))
        };
    let bytes = (rows * cols * attrs.frames as u64 * per_pixel_bits).div_ceil(8);
    // Lossless codecs rarely beat 100:1 on real images; 1000:1 leaves room for blank frames
    // while refusing a 1 KB file that claims gigabytes.
    let plausible = if compressed {
        file_len as u64 * 1000
    } else {
        file_len as u64
    };
    if bytes > plausible + 1024 {
        return Err(ImagingError::Dicom(format!(
            "the header declares {bytes} bytes of pixels but the file has {file_len} bytes (truncated?)"
        )));
    }
    Ok(())
}

/// An error and its sources on one line: dicom-rs's outer messages ("Could not decode pixel
/// data") say little; the innermost says what the codec refused.
fn causes(error: &dyn std::error::Error) -> String {
    let mut parts = vec![one_line(&error.to_string())];
    let mut source = error.source();
    while let Some(e) = source {
        let part = one_line(&e.to_string());
        if !parts.contains(&part) {
            parts.push(part);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// dicom-rs errors can span lines (snafu backtraces); the app shows one line.
fn one_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}
