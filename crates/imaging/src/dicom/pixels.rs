//! Decoded DICOM samples to `f32`: stored bits, sign, modality LUT (rescale), planar layout,
//! YBR to RGB and palette colour, the way pydicom's `pixel_array` + `apply_modality_lut`
//! (grey) or `convert_color_space`/`apply_color_lut` (colour) read them.

use dicom_pixeldata::{DecodedPixelData, PixelRepresentation, PlanarConfiguration};

use super::attributes::{Attributes, PaletteLut};
use crate::error::ImagingError;
use crate::BitDepth;

/// Samples ready for an [`crate::Image`] or [`crate::Volume`].
pub(super) struct Converted {
    /// 1 or 3 values per pixel.
    pub samples: usize,
    /// frames × rows × columns × samples.
    pub values: Vec<f32>,
    pub bit_depth: BitDepth,
}

/// `big_endian_words`: the file was explicit VR big endian, whose OW pixel data dicom-rs hands
/// over as 16-bit words in host order; 32-bit samples then arrive with their halves swapped.
pub(super) fn convert(
    decoded: &DecodedPixelData<'_>,
    attrs: &Attributes,
    big_endian_words: bool,
) -> Result<Converted, ImagingError> {
    let pixels = attrs.rows * attrs.columns * attrs.frames;
    let spp = usize::from(decoded.samples_per_pixel());
    // 1-bit data arrives expanded to one byte per pixel (0 or 255).
    let bits_allocated = match decoded.bits_allocated() {
        1 => 8,
        b => b,
    };
    let bytes_per_sample = match bits_allocated {
        8 => 1,
        16 => 2,
        32 => 4,
        b => {
            return Err(ImagingError::Unsupported(format!(
                "DICOM with {b} bits allocated per sample"
            )))
        }
    };
    if spp != 1 && spp != 3 {
        return Err(ImagingError::Unsupported(format!(
            "DICOM with {spp} samples per pixel"
        )));
    }
    let photometric = decoded.photometric_interpretation().to_string();
    let upsampled;
    let mut data = decoded.data();
    let needed = pixels * spp * bytes_per_sample;
    if photometric == "YBR_FULL_422" && spp == 3 && bytes_per_sample == 1 && data.len() < needed {
        // Native 4:2:2 keeps Y Y Cb Cr for each pair of pixels in a row.
        upsampled = upsample_422(data, attrs.columns, pixels);
        data = &upsampled;
    }
    if data.len() < needed {
        return Err(ImagingError::Dicom(format!(
            "the pixel data has {} bytes but {} frame(s) of {}×{} need {needed}",
            data.len(),
            attrs.frames,
            attrs.columns,
            attrs.rows
        )));
    }
    let stored = decoded.bits_stored().clamp(1, bits_allocated);
    let signed = decoded.pixel_representation() == PixelRepresentation::Signed;
    let sample = |i: usize| -> i64 {
        let at = i * bytes_per_sample;
        let raw = match bytes_per_sample {
            1 => u32::from(data[at]),
            2 => u32::from(u16::from_le_bytes([data[at], data[at + 1]])),
            _ if big_endian_words => {
                u32::from_le_bytes([data[at + 2], data[at + 3], data[at], data[at + 1]])
            }
            _ => u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]),
        };
        let mask = if stored >= 32 {
            u32::MAX
        } else {
            (1u32 << stored) - 1
        };
        let v = raw & mask;
        if signed && stored < 64 && v >> (stored - 1) & 1 == 1 {
            i64::from(v) - (1i64 << stored)
        } else {
            i64::from(v)
        }
    };

    if spp == 1 {
        if let Some(palette) = &attrs.palette {
            return Ok(apply_palette(palette, (0..pixels).map(sample)));
        }
        let (slope, intercept) = (attrs.slope, attrs.intercept);
        let identity = slope == 1.0 && intercept == 0.0 && !signed;
        let rescale = |v: i64| v as f64 * slope + intercept;
        // MONOCHROME1 (high is dark) is flipped within the stored range, the same for every
        // slice of a series, so the app, the CLI and the model all see bright-is-dense.
        let flip = if attrs.photometric == "MONOCHROME1" {
            let (lo, hi) = stored_range(stored, signed);
            rescale(lo) + rescale(hi)
        } else {
            f64::NAN
        };
        let values = (0..pixels)
            .map(|i| {
                let v = rescale(sample(i));
                (if flip.is_nan() { v } else { flip - v }) as f32
            })
            .collect();
        let bit_depth = match bits_allocated {
            8 if identity => BitDepth::U8,
            16 if identity => BitDepth::U16,
            _ => BitDepth::F32,
        };
        return Ok(Converted {
            samples: 1,
            values,
            bit_depth,
        });
    }

    // Colour: interleave planar data frame by frame, then convert YBR to RGB.
    let planar = decoded.planar_configuration() == PlanarConfiguration::PixelFirst;
    let frame_pixels = attrs.rows * attrs.columns;
    let mut values = Vec::with_capacity(pixels * 3);
    for p in 0..pixels {
        let (frame, within) = (p / frame_pixels, p % frame_pixels);
        for c in 0..3 {
            let index = if planar {
                frame * frame_pixels * 3 + c * frame_pixels + within
            } else {
                p * 3 + c
            };
            values.push(sample(index) as f32);
        }
    }
    if photometric.starts_with("YBR_FULL") {
        if bits_allocated != 8 {
            return Err(ImagingError::Unsupported(format!(
                "{photometric} with {bits_allocated}-bit samples"
            )));
        }
        for px in values.chunks_exact_mut(3) {
            let [r, g, b] = ybr_full_to_rgb(px[0], px[1], px[2]);
            px.copy_from_slice(&[r, g, b]);
        }
    }
    Ok(Converted {
        samples: 3,
        values,
        bit_depth: match bits_allocated {
            8 => BitDepth::U8,
            16 => BitDepth::U16,
            _ => BitDepth::F32,
        },
    })
}

/// Smallest and largest stored value of `bits` bits.
pub(super) fn stored_range(bits: u16, signed: bool) -> (i64, i64) {
    let bits = u32::from(bits.clamp(1, 32));
    if signed {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    } else {
        (0, (1i64 << bits) - 1)
    }
}

/// Y0 Y1 Cb Cr per horizontal pair to Y Cb Cr per pixel (an odd last column reuses its pair's
/// chroma). Short data yields a short result, which the caller reports.
fn upsample_422(data: &[u8], columns: usize, pixels: usize) -> Vec<u8> {
    let rows = pixels / columns.max(1);
    let row_bytes = columns.div_ceil(2) * 4;
    let mut out = Vec::with_capacity(pixels * 3);
    for row in data.chunks_exact(row_bytes).take(rows) {
        for (pair, chunk) in row.chunks_exact(4).enumerate() {
            let [y0, y1, cb, cr] = [chunk[0], chunk[1], chunk[2], chunk[3]];
            out.extend_from_slice(&[y0, cb, cr]);
            if pair * 2 + 1 < columns {
                out.extend_from_slice(&[y1, cb, cr]);
            }
        }
    }
    out
}

/// Full-range YCbCr (ITU-R BT.601, as PS3.3 C.7.6.3.1.2 defines YBR_FULL) to RGB, rounded.
fn ybr_full_to_rgb(y: f32, cb: f32, cr: f32) -> [f32; 3] {
    let (cb, cr) = (cb - 128.0, cr - 128.0);
    let r = y + 1.402 * cr;
    let g = y - 0.344_136 * cb - 0.714_136 * cr;
    let b = y + 1.772 * cb;
    [r, g, b].map(|v| v.round().clamp(0.0, 255.0))
}

/// Indexes each colour's table; values outside the table take its first or last entry.
fn apply_palette(luts: &[PaletteLut; 3], indices: impl Iterator<Item = i64>) -> Converted {
    let mut values = Vec::new();
    for index in indices {
        for lut in luts {
            let at = (index - lut.first).clamp(0, lut.entries.len() as i64 - 1) as usize;
            values.push(f32::from(lut.entries[at]));
        }
    }
    let wide = luts.iter().any(|l| l.bits > 8);
    Converted {
        samples: 3,
        values,
        bit_depth: if wide { BitDepth::U16 } else { BitDepth::U8 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ybr_greys_stay_grey_and_primaries_round_trip() {
        assert_eq!(ybr_full_to_rgb(100.0, 128.0, 128.0), [100.0, 100.0, 100.0]);
        // Pure red in BT.601 full range: Y 76, Cb 85, Cr 255.
        let [r, g, b] = ybr_full_to_rgb(76.0, 85.0, 255.0);
        assert!(r >= 253.0 && g <= 1.0 && b <= 1.0, "{r} {g} {b}");
    }

    #[test]
    fn stored_ranges() {
        assert_eq!(stored_range(12, false), (0, 4095));
        assert_eq!(stored_range(16, true), (-32768, 32767));
    }

    #[test]
    fn palette_indices_clamp_to_the_table() {
        let lut = |scale: u16| PaletteLut {
            first: 10,
            bits: 16,
            entries: vec![0, scale, 2 * scale],
        };
        let out = apply_palette(&[lut(100), lut(10), lut(1)], [5, 11, 99].into_iter());
        assert_eq!(out.values, vec![0., 0., 0., 100., 10., 1., 200., 20., 2.]);
        assert_eq!(out.bit_depth, BitDepth::U16);
    }
}
