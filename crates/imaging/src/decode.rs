//! Bytes in, typed image out.
//!
//! The browser app and the CLI both call [`decode_image`] on the raw file
//! bytes, so a file behaves the same in both. The format is sniffed from the
//! leading magic bytes, never from a file name, because browsers hand us
//! blobs whose names and MIME types are often wrong.

use std::io::Cursor;

use image::{ColorType, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::error::ImagingError;
use crate::guard::{
    check_dimensions, jpeg_is_implausible, jpeg_is_truncated, webp_is_implausible,
    DECODER_ALLOC_BUDGET,
};
use crate::raster::{BitDepth, Channels, Image};

/// How many leading bytes an [`ImagingError::UnknownFormat`] shows.
const SHOWN_PREFIX: usize = 8;

/// Decodes a PNG, JPEG, BMP, TIFF or WebP file from its bytes.
///
/// Supports 8- and 16-bit grey, grey+alpha, RGB and RGBA, and 32-bit float
/// RGB(A) TIFF. EXIF orientation and ICC profiles are ignored, as Pillow's
/// `Image.open` ignores them, so pixels line up with what a Python pipeline
/// trained on the same files saw.
///
/// # Errors
///
/// [`ImagingError::Empty`] for no bytes or a zero-sized image,
/// [`ImagingError::UnknownFormat`] when the magic bytes match no supported
/// format, [`ImagingError::TooLarge`] when the header declares more than
/// [`crate::MAX_PIXELS`] (checked before decoding), [`ImagingError::OutOfMemory`] if
/// the pixel buffers cannot be reserved, [`ImagingError::Unsupported`] for
/// layouts such as float greyscale TIFF, and [`ImagingError::Corrupt`] for
/// truncated or damaged data. Never panics on any input.
pub fn decode_image(bytes: &[u8]) -> Result<Image, ImagingError> {
    if bytes.is_empty() {
        return Err(ImagingError::Empty);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        // Seeking a Cursor cannot fail; mapped anyway rather than unwrapped.
        .map_err(|e| ImagingError::Corrupt(one_line(&e.to_string())))?;
    // Only the five formats we promise: other `image` features may be switched
    // on by other crates through feature unification, and we want identical
    // behaviour whatever else is in the build.
    let format =
        reader
            .format()
            .and_then(format_name)
            .ok_or_else(|| ImagingError::UnknownFormat {
                first_bytes: bytes[..bytes.len().min(SHOWN_PREFIX)].to_vec(),
            })?;

    let mut limits = Limits::default();
    limits.max_alloc = Some(DECODER_ALLOC_BUDGET);
    reader.limits(limits);
    // Constructing the decoder parses only the header; no pixel memory yet.
    let decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, None))?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;

    if format == "JPEG" && jpeg_is_truncated(bytes) {
        return Err(ImagingError::Corrupt(
            "JPEG data ends before its end-of-image marker".into(),
        ));
    }
    if format == "JPEG" && jpeg_is_implausible(width, height, bytes.len()) {
        return Err(ImagingError::Corrupt(format!(
            "a {}-byte JPEG cannot hold a {width}×{height} image (truncated scan data?)",
            bytes.len()
        )));
    }
    if format == "WebP" && webp_is_implausible(width, height, bytes.len()) {
        return Err(ImagingError::Unsupported(format!(
            "a {}-byte WebP declaring {width}×{height} pixels (more than {} pixels per byte, nearly blank or corrupt)",
            bytes.len(),
            crate::guard::WEBP_MAX_PIXELS_PER_BYTE
        )));
    }

    let (channels, bit_depth) = layout(decoder.color_type())?;
    let samples = u64::from(width) * u64::from(height) * channels.count() as u64;
    let sample_bytes = u64::from(bit_depth.bits() / 8);
    if decoder.total_bytes() != samples * sample_bytes {
        return Err(ImagingError::Corrupt(format!(
            "decoder reports {} bytes for a {width}×{height} {} image",
            decoder.total_bytes(),
            channels.name()
        )));
    }
    let oom = ImagingError::OutOfMemory { width, height };
    let raw_len = usize::try_from(samples * sample_bytes).map_err(|_| oom.clone())?;
    let sample_count = usize::try_from(samples).map_err(|_| oom.clone())?;

    // try_reserve so that running out of memory (likely in a 32-bit browser
    // tab) is an error the user can act on instead of an abort.
    let mut raw = Vec::new();
    raw.try_reserve_exact(raw_len).map_err(|_| oom.clone())?;
    raw.resize(raw_len, 0u8);
    decoder
        .read_image(&mut raw)
        .map_err(|e| map_image_error(e, Some((width, height))))?;

    let mut pixels = Vec::new();
    pixels.try_reserve_exact(sample_count).map_err(|_| oom)?;
    // `read_image` writes multi-byte samples in native byte order.
    match bit_depth {
        BitDepth::U8 => pixels.extend(raw.iter().map(|&v| f32::from(v))),
        BitDepth::U16 => pixels.extend(
            raw.chunks_exact(2)
                .map(|c| f32::from(u16::from_ne_bytes([c[0], c[1]]))),
        ),
        BitDepth::F32 => pixels.extend(
            raw.chunks_exact(4)
                .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])),
        ),
    }

    Ok(Image {
        width,
        height,
        channels,
        bit_depth,
        format,
        pixels,
    })
}

/// Display name of a supported format, `None` for everything we do not promise.
fn format_name(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Png => Some("PNG"),
        ImageFormat::Jpeg => Some("JPEG"),
        ImageFormat::Bmp => Some("BMP"),
        ImageFormat::Tiff => Some("TIFF"),
        ImageFormat::WebP => Some("WebP"),
        _ => None,
    }
}

fn layout(color: ColorType) -> Result<(Channels, BitDepth), ImagingError> {
    Ok(match color {
        ColorType::L8 => (Channels::Gray, BitDepth::U8),
        ColorType::La8 => (Channels::GrayAlpha, BitDepth::U8),
        ColorType::Rgb8 => (Channels::Rgb, BitDepth::U8),
        ColorType::Rgba8 => (Channels::Rgba, BitDepth::U8),
        ColorType::L16 => (Channels::Gray, BitDepth::U16),
        ColorType::La16 => (Channels::GrayAlpha, BitDepth::U16),
        ColorType::Rgb16 => (Channels::Rgb, BitDepth::U16),
        ColorType::Rgba16 => (Channels::Rgba, BitDepth::U16),
        ColorType::Rgb32F => (Channels::Rgb, BitDepth::F32),
        ColorType::Rgba32F => (Channels::Rgba, BitDepth::F32),
        other => return Err(ImagingError::Unsupported(format!("pixel type {other:?}"))),
    })
}

/// Maps `image`'s errors onto ours. `dims` is known once the header was read,
/// which lets a decoder-side limit be reported with the real size.
fn map_image_error(err: ImageError, dims: Option<(u32, u32)>) -> ImagingError {
    match err {
        ImageError::Limits(e) => match dims {
            Some((width, height)) => ImagingError::OutOfMemory { width, height },
            None => ImagingError::Unsupported(one_line(&format!("decoder limit: {e}"))),
        },
        ImageError::Unsupported(e) => ImagingError::Unsupported(one_line(&e.to_string())),
        ImageError::Decoding(e) => ImagingError::Corrupt(one_line(&e.to_string())),
        ImageError::IoError(e) => ImagingError::Corrupt(one_line(&e.to_string())),
        ImageError::Parameter(e) => ImagingError::Corrupt(one_line(&e.to_string())),
        ImageError::Encoding(e) => ImagingError::Corrupt(one_line(&e.to_string())),
    }
}

/// Decoder messages sometimes span lines; ours must stay on one.
fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{encode, f32_bytes, u16_bytes, Fmt};
    use image::ExtendedColorType as E;

    /// A 3×2 image with distinct, edge-case values in every channel.
    fn samples8(channels: usize) -> Vec<u8> {
        (0..6 * channels)
            .map(|i| [0, 255, 1, 128, 254, 77][i % 6] ^ (i as u8 * 7))
            .collect()
    }

    fn samples16(channels: usize) -> Vec<u16> {
        let base = [0u16, 65535, 1, 256, 32768, 12345];
        (0..6 * channels)
            .map(|i| base[i % 6].wrapping_add(i as u16 * 1031))
            .collect()
    }

    fn check_exact(fmt: Fmt, color: E, channels: Channels, depth: BitDepth) {
        let n = channels.count();
        let (raw, expected): (Vec<u8>, Vec<f32>) = match depth {
            BitDepth::U8 => {
                let s = samples8(n);
                (s.clone(), s.iter().map(|&v| f32::from(v)).collect())
            }
            BitDepth::U16 => {
                let s = samples16(n);
                (u16_bytes(&s), s.iter().map(|&v| f32::from(v)).collect())
            }
            BitDepth::F32 => {
                let s: Vec<f32> = (0..6 * n).map(|i| i as f32 * 0.37 - 1.5).collect();
                (f32_bytes(&s), s)
            }
        };
        let bytes = encode(fmt, 3, 2, &raw, color);
        let img = decode_image(&bytes).unwrap_or_else(|e| panic!("{fmt:?} {color:?}: {e}"));
        assert_eq!((img.width, img.height), (3, 2));
        assert_eq!(img.channels, channels, "{fmt:?} {color:?}");
        assert_eq!(img.bit_depth, depth, "{fmt:?} {color:?}");
        assert_eq!(img.pixels, expected, "{fmt:?} {color:?}");
        assert_eq!(img.len(), 6 * n);
        assert_eq!(img.channel_count(), n);
    }

    #[test]
    fn png_all_layouts_round_trip_exactly() {
        use BitDepth::*;
        use Channels::*;
        for (color, ch, depth) in [
            (E::L8, Gray, U8),
            (E::La8, GrayAlpha, U8),
            (E::Rgb8, Rgb, U8),
            (E::Rgba8, Rgba, U8),
            (E::L16, Gray, U16),
            (E::La16, GrayAlpha, U16),
            (E::Rgb16, Rgb, U16),
            (E::Rgba16, Rgba, U16),
        ] {
            check_exact(Fmt::Png, color, ch, depth);
        }
        let img = decode_image(&encode(Fmt::Png, 1, 1, &[9], E::L8)).unwrap();
        assert_eq!(img.format, "PNG");
    }

    #[test]
    fn tiff_8_16_and_float_round_trip_exactly() {
        use BitDepth::*;
        use Channels::*;
        for (color, ch, depth) in [
            (E::L8, Gray, U8),
            (E::Rgb8, Rgb, U8),
            (E::Rgba8, Rgba, U8),
            (E::L16, Gray, U16),
            (E::Rgb16, Rgb, U16),
            (E::Rgba16, Rgba, U16),
            (E::Rgb32F, Rgb, F32),
            (E::Rgba32F, Rgba, F32),
        ] {
            check_exact(Fmt::Tiff, color, ch, depth);
        }
        let img = decode_image(&encode(Fmt::Tiff, 1, 1, &[9], E::L8)).unwrap();
        assert_eq!(img.format, "TIFF");
    }

    #[test]
    fn bmp_and_lossless_webp_round_trip_exactly() {
        for fmt in [Fmt::Bmp, Fmt::WebP] {
            check_exact(fmt, E::Rgb8, Channels::Rgb, BitDepth::U8);
            check_exact(fmt, E::Rgba8, Channels::Rgba, BitDepth::U8);
        }
        let bmp = decode_image(&encode(Fmt::Bmp, 1, 1, &[1, 2, 3], E::Rgb8)).unwrap();
        assert_eq!(bmp.format, "BMP");
        let webp = decode_image(&encode(Fmt::WebP, 1, 1, &[1, 2, 3], E::Rgb8)).unwrap();
        assert_eq!(webp.format, "WebP");
    }

    #[test]
    fn jpeg_decodes_within_tolerance() {
        // Smooth content, because JPEG error is large on the edge-case samples above.
        let (w, h) = (16u32, 16u32);
        for (color, channels) in [(E::L8, Channels::Gray), (E::Rgb8, Channels::Rgb)] {
            let n = channels.count();
            let raw: Vec<u8> = (0..w * h * n as u32)
                .map(|i| {
                    let p = i / n as u32;
                    (40 + (p % w) * 5 + (p / w) * 3 + (i % n as u32) * 20) as u8
                })
                .collect();
            let img = decode_image(&encode(Fmt::Jpeg, w, h, &raw, color)).unwrap();
            assert_eq!(
                (img.format, img.channels, img.bit_depth),
                ("JPEG", channels, BitDepth::U8)
            );
            let worst = raw
                .iter()
                .zip(&img.pixels)
                .map(|(&a, &b)| (f32::from(a) - b).abs())
                .fold(0.0, f32::max);
            assert!(worst <= 6.0, "{color:?}: max error {worst}");
        }
    }

    #[test]
    fn empty_and_unknown_inputs_are_reported() {
        assert_eq!(decode_image(&[]), Err(ImagingError::Empty));
        let err = decode_image(b"<html><body>404</body></html>").unwrap_err();
        assert_eq!(
            err,
            ImagingError::UnknownFormat {
                first_bytes: b"<html><b".to_vec()
            }
        );
        assert!(err
            .to_string()
            .contains("starts with bytes 3c 68 74 6d 6c 3e 3c 62 …"));
        // GIF is a real image format, but not one we promise, whatever
        // features other crates enable on `image`.
        let gif = decode_image(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
        assert!(
            matches!(gif, Err(ImagingError::UnknownFormat { .. })),
            "{gif:?}"
        );
    }
}
