//! Defences of [`crate::decode_image`] against hostile or damaged input.
//!
//! Two problems the `image` decoders do not solve for us: a header may
//! declare a size that would exhaust memory before any pixel is checked, and
//! some decoders quietly pad a truncated file instead of failing (zune-jpeg
//! fills missing scan data with grey), which would feed the model a
//! half-invented image without telling anyone.

use crate::error::ImagingError;

/// Largest image accepted, in pixels (width × height): 16384 × 16384 natively.
///
/// Checked against the file header before any pixel buffer is allocated, so a
/// corrupt or malicious header cannot make us reserve gigabytes. At this size
/// an RGBA image already needs 4 GiB as `f32`.
#[cfg(not(target_arch = "wasm32"))]
pub const MAX_PIXELS: u64 = 16384 * 16384;
/// Largest image accepted in the browser: 8192 × 8192. The decoded image, the model's input,
/// the logits and the canvas all live in one 4 GiB wasm32 address space; at 16384² the grey
/// image alone is 1 GiB as `f32`, and the tab would abort instead of saying so.
#[cfg(target_arch = "wasm32")]
pub const MAX_PIXELS: u64 = 8192 * 8192;

/// Allocation budget handed to the `image` decoders: enough for the widest
/// layout (RGBA `f32`, 16 bytes per pixel) at [`MAX_PIXELS`], so the budget
/// never rejects an image our own pixel limit accepts, while still bounding
/// decoder-internal buffers (TIFF strips, PNG chunks) that a header could inflate.
pub(crate) const DECODER_ALLOC_BUDGET: u64 = MAX_PIXELS * 16;

/// Rejects zero-sized images and images above [`MAX_PIXELS`], from header
/// dimensions alone.
pub(crate) fn check_dimensions(width: u32, height: u32) -> Result<(), ImagingError> {
    if width == 0 || height == 0 {
        return Err(ImagingError::Empty);
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImagingError::TooLarge {
            width,
            height,
            max_pixels: MAX_PIXELS,
        });
    }
    Ok(())
}

/// Most pixels a baseline or progressive Huffman JPEG can describe per byte of file.
///
/// Every 8×8 block needs at least one bit of entropy-coded data (its DC difference code), so a
/// grey image cannot exceed 512 pixels per byte (colour images fewer); twice that leaves
/// room. zune-jpeg fills missing blocks with grey instead of failing, so an 834-byte file
/// declaring 65511×752 "decoded" into 49 million invented pixels (found by the `decode_image`
/// fuzz target, see `crates/imaging/fuzz/`); this bound refuses such files before decoding.
pub(crate) const JPEG_MAX_PIXELS_PER_BYTE: u64 = 1024;

/// Whether a JPEG declares more pixels than its size could encode
/// ([`JPEG_MAX_PIXELS_PER_BYTE`]).
pub(crate) fn jpeg_is_implausible(width: u32, height: u32, file_len: usize) -> bool {
    u64::from(width) * u64::from(height) > file_len as u64 * JPEG_MAX_PIXELS_PER_BYTE
}

/// Most pixels a WebP may declare per byte of file. Unlike JPEG, lossless WebP can code a
/// constant image in almost no bytes, so this is a policy, not a format bound: a few-KB file
/// declaring 16384×16384 took the decoder over a second and a gigabyte to fill with one colour
/// (the `decode_image` fuzz target's slowest inputs). Real photographs and scans stay far below
/// it; an image blank enough to exceed it has nothing to segment.
pub(crate) const WEBP_MAX_PIXELS_PER_BYTE: u64 = 4096;

/// Whether a WebP declares more pixels than [`WEBP_MAX_PIXELS_PER_BYTE`] allows for its size.
pub(crate) fn webp_is_implausible(width: u32, height: u32, file_len: usize) -> bool {
    u64::from(width) * u64::from(height) > file_len as u64 * WEBP_MAX_PIXELS_PER_BYTE
}

/// Whether a JPEG stream ends before its end-of-image (EOI) marker.
///
/// Walks the marker segments, skipping each by its declared length (so an
/// EXIF thumbnail's own EOI inside APP1 is not mistaken for ours) and each
/// entropy-coded scan up to the next real marker (in scan data 0xFF is
/// always followed by 0x00 stuffing, a restart marker or a fill byte).
/// Only running out of bytes counts as truncation; any other structural
/// oddity is left for the decoder to judge, because decoders tolerate junk
/// between segments that real cameras produce. Like Pillow (without
/// `LOAD_TRUNCATED_IMAGES`), this also rejects a file that merely lacks its EOI.
pub(crate) fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    let mut i = 2; // past SOI
    loop {
        match bytes.get(i) {
            None => return true,
            Some(0xFF) => {}
            Some(_) => return false,
        }
        while bytes.get(i) == Some(&0xFF) {
            i += 1; // fill bytes may precede any marker
        }
        let Some(&marker) = bytes.get(i) else {
            return true;
        };
        i += 1;
        match marker {
            0xD9 => return false,
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = bytes.get(i..i + 2) else {
            return true;
        };
        i += usize::from(u16::from_be_bytes([len[0], len[1]]));
        if marker == 0xDA {
            match skip_scan(bytes, i) {
                Some(next) => i = next,
                None => return true,
            }
        }
    }
}

/// Index of the first marker after entropy-coded data starting at `i`, or
/// `None` if the data runs to the end of the input.
fn skip_scan(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let ff = i + bytes.get(i..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(ff + 1)? {
            0x00 | 0xD0..=0xD7 => i = ff + 2,
            0xFF => i = ff + 1,
            _ => return Some(ff),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_image;
    use crate::test_support::{bmp_claiming, encode, largest_allocation, png_claiming, Fmt, Rng};
    use image::ExtendedColorType as E;

    fn fixtures() -> Vec<(Fmt, Vec<u8>)> {
        let rgb: Vec<u8> = (0..24 * 24 * 3).map(|i| (i * 7 % 251) as u8).collect();
        [Fmt::Png, Fmt::Jpeg, Fmt::Bmp, Fmt::Tiff, Fmt::WebP]
            .into_iter()
            .map(|f| (f, encode(f, 24, 24, &rgb, E::Rgb8)))
            .collect()
    }

    #[test]
    fn truncated_files_are_errors() {
        for (fmt, bytes) in fixtures() {
            for cut in [
                1,
                2,
                5,
                8,
                12,
                20,
                40,
                bytes.len() / 3,
                bytes.len() / 2,
                bytes.len() * 3 / 4,
            ] {
                let result = decode_image(&bytes[..cut]);
                assert!(
                    result.is_err(),
                    "{fmt:?} cut at {cut}/{} decoded",
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn random_bytes_are_errors() {
        let mut rng = Rng(0x5eed);
        for len in [1, 3, 16, 100, 4096] {
            for _ in 0..20 {
                assert!(decode_image(&rng.bytes(len)).is_err());
            }
        }
        // Valid magic followed by garbage reaches each decoder proper.
        for magic in [
            &b"\x89PNG\r\n\x1a\n"[..],
            b"\xff\xd8\xff",
            b"BM",
            b"II*\0",
            b"MM\0*",
            b"RIFF\x10\0\0\0WEBPVP8L",
        ] {
            for _ in 0..50 {
                let mut bytes = magic.to_vec();
                let len = rng.below(300);
                bytes.extend(rng.bytes(len));
                assert!(decode_image(&bytes).is_err(), "{magic:?}");
            }
        }
    }

    #[test]
    fn mutated_files_never_panic() {
        // UNET_FUZZ_ITERS raises the count for a longer local soak.
        let iters = std::env::var("UNET_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(150);
        let mut rng = Rng(42);
        for (_, original) in fixtures() {
            for _ in 0..iters {
                let mut bytes = original.clone();
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next_u64() as u8;
                }
                let _ = decode_image(&bytes);
            }
        }
    }

    #[test]
    fn huge_png_header_is_rejected_before_allocating() {
        let bytes = png_claiming(100_000, 100_000);
        let (result, largest) = largest_allocation(|| decode_image(&bytes));
        assert_eq!(
            result,
            Err(ImagingError::TooLarge {
                width: 100_000,
                height: 100_000,
                max_pixels: MAX_PIXELS
            })
        );
        assert!(largest < 1 << 20, "largest allocation {largest} bytes");
    }

    #[test]
    fn huge_bmp_header_is_rejected_before_allocating() {
        let bmp = bmp_claiming(20_000, 20_000);
        let (result, largest) = largest_allocation(|| decode_image(&bmp));
        assert!(
            matches!(
                result,
                Err(ImagingError::TooLarge {
                    width: 20_000,
                    height: 20_000,
                    ..
                })
            ),
            "{result:?}"
        );
        assert!(largest < 1 << 20, "largest allocation {largest} bytes");
    }

    #[test]
    fn limit_is_inclusive_and_dimensions_checked_as_product() {
        assert!(check_dimensions(16384, 16384).is_ok());
        assert!(check_dimensions(1, u32::MAX).is_err());
        assert!(check_dimensions(16385, 16384).is_err());
        assert_eq!(check_dimensions(0, 5), Err(ImagingError::Empty));
    }

    #[test]
    fn webp_size_bound_scales_with_the_file() {
        assert!(webp_is_implausible(16384, 16384, 4096));
        assert!(!webp_is_implausible(4000, 3000, 50_000));
    }

    #[test]
    fn jpeg_walker_finds_the_real_end_of_image() {
        let rgb: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 5 % 256) as u8).collect();
        let jpeg = encode(Fmt::Jpeg, 16, 16, &rgb, E::Rgb8);
        assert!(!jpeg_is_truncated(&jpeg));
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 10]);
        assert!(
            !jpeg_is_truncated(&padded),
            "trailing bytes after EOI are fine"
        );
        assert!(jpeg_is_truncated(&jpeg[..jpeg.len() - 2]));

        // An APP1 segment holding an EOI (as an EXIF thumbnail does) must be
        // skipped by length, so cutting the main scan is still noticed.
        let mut with_thumb = jpeg[..2].to_vec();
        with_thumb.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD9]);
        with_thumb.extend_from_slice(&jpeg[2..]);
        assert!(!jpeg_is_truncated(&with_thumb));
        assert!(jpeg_is_truncated(&with_thumb[..with_thumb.len() - 40]));
    }
}
