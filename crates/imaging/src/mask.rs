//! From model logits to masks, and from masks to pictures people can look at.

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

use crate::raster::{BitDepth, Image};

/// Per-pixel class indices predicted by the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Number of output channels of the model; 1 means a binary
    /// (sigmoid) model whose mask holds 0 or 1.
    pub classes: usize,
    /// Class index per pixel, row-major.
    pub data: Vec<u8>,
}

/// Fallback palette, indexed by class. Entry 0 is background and is never
/// painted; classes past the end reuse entries 1.. cyclically.
pub const DEFAULT_COLOURS: [[u8; 3]; 8] = [
    [0, 0, 0],
    [230, 25, 75],
    [60, 180, 75],
    [0, 130, 200],
    [255, 225, 25],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
];

/// Turns CHW logits (`classes` × `height` × `width`) into a class mask.
///
/// One class: a pixel is foreground when its logit is above 0. That is the
/// same decision as `sigmoid(x) > 0.5` because sigmoid is monotone with
/// sigmoid(0) = 0.5, and skips an `exp` per pixel. More classes: argmax over
/// channels; ties go to the lowest index and a NaN wins, both as
/// `torch.argmax` does.
///
/// # Panics
///
/// If `classes` is 0 or above 256 (indices must fit a byte), if
/// `logits.len() != classes * height * width`, or if a side exceeds `u32::MAX`.
pub fn mask_from_logits(logits: &[f32], classes: usize, height: usize, width: usize) -> Mask {
    assert!(
        (1..=256).contains(&classes),
        "mask_from_logits: classes must be 1..=256, got {classes}"
    );
    let plane = height * width;
    assert_eq!(
        logits.len(),
        classes * plane,
        "mask_from_logits: expected {classes}×{height}×{width} logits"
    );
    let width_u32 = u32::try_from(width).expect("mask width exceeds u32");
    let height_u32 = u32::try_from(height).expect("mask height exceeds u32");

    let data = if classes == 1 {
        logits.iter().map(|&v| u8::from(v > 0.0)).collect()
    } else {
        (0..plane)
            .map(|p| {
                let mut best = 0usize;
                let mut best_value = logits[p];
                for c in 1..classes {
                    let v = logits[c * plane + p];
                    // Strict `>` keeps the first of equal maxima.
                    if !best_value.is_nan() && (v.is_nan() || v > best_value) {
                        best = c;
                        best_value = v;
                    }
                }
                best as u8
            })
            .collect()
    };
    Mask {
        width: width_u32,
        height: height_u32,
        classes,
        data,
    }
}

/// [`mask_from_logits`] at a model card's `threshold`: a one-class model's pixel is foreground
/// where sigmoid(logit) > `threshold` (at 0.5 exactly [`mask_from_logits`]); with more classes
/// the threshold plays no part.
///
/// # Panics
///
/// As [`mask_from_logits`].
pub fn mask_above(
    logits: &[f32],
    classes: usize,
    height: usize,
    width: usize,
    threshold: f32,
) -> Mask {
    let mut mask = mask_from_logits(logits, classes, height, width);
    if classes == 1 && threshold != 0.5 {
        for (label, &logit) in mask.data.iter_mut().zip(logits) {
            *label = u8::from(sigmoid(logit) > threshold);
        }
    }
    mask
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Encodes a mask as an 8-bit greyscale PNG.
///
/// A one-class mask is written as 0/255 so it is visible in any viewer;
/// multi-class masks store the class index itself, which is what training
/// pipelines read back.
///
/// # Panics
///
/// If the mask has zero width or height, or `data` does not hold
/// width × height entries.
pub fn encode_mask_png(mask: &Mask) -> Vec<u8> {
    let grey: Vec<u8> = if mask.classes == 1 {
        mask.data
            .iter()
            .map(|&c| if c > 0 { 255 } else { 0 })
            .collect()
    } else {
        mask.data.clone()
    };
    encode_png(mask.width, mask.height, &grey, ExtendedColorType::L8)
}

/// Encodes 8-bit greyscale pixels (row-major) as a PNG.
///
/// # Panics
///
/// If `width` or `height` is zero or `grey.len() != width * height`.
pub fn encode_gray_png(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
    encode_png(width, height, grey, ExtendedColorType::L8)
}

/// Encodes 8-bit RGBA pixels (row-major) as a PNG.
///
/// # Panics
///
/// If `width` or `height` is zero or `rgba.len() != width * height * 4`.
pub fn encode_rgba_png(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    encode_png(width, height, rgba, ExtendedColorType::Rgba8)
}

fn encode_png(width: u32, height: u32, pixels: &[u8], color: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(pixels, width, height, color)
        // Writing to a Vec cannot fail, so only a caller's size mistake gets here.
        .unwrap_or_else(|e| panic!("cannot encode {width}×{height} PNG: {e}"));
    out
}

/// The image as opaque 8-bit RGBA for display.
///
/// Greyscale is shown on all three colour channels. 8-bit samples are shown
/// as stored; 16-bit and float images are stretched from their own minimum to
/// maximum, because medical 16-bit images often use only the bottom few
/// thousand levels and would look black scaled by 1/257. Alpha is ignored so
/// that what is shown is what the model sees.
pub fn display_rgba(image: &Image) -> Vec<u8> {
    let channels = image.channel_count();
    let colour = image.channels.without_alpha().count();
    let (offset, scale) = display_scale(image);
    let to_u8 = |v: f32| {
        let s = (f64::from(v) - offset) * scale;
        if s.is_nan() {
            0
        } else {
            s.round().clamp(0.0, 255.0) as u8
        }
    };
    let mut out = vec![0u8; image.pixel_count() * 4];
    for (px, dst) in image
        .pixels
        .chunks_exact(channels)
        .zip(out.chunks_exact_mut(4))
    {
        let rgb = if colour == 1 {
            [px[0]; 3]
        } else {
            [px[0], px[1], px[2]]
        };
        dst[..3].copy_from_slice(&rgb.map(to_u8));
        dst[3] = 255;
    }
    out
}

/// `(offset, scale)` such that `(v - offset) * scale` is the display value.
fn display_scale(image: &Image) -> (f64, f64) {
    if image.bit_depth == BitDepth::U8 {
        return (0.0, 1.0);
    }
    let channels = image.channel_count();
    let colour = image.channels.without_alpha().count();
    let (lo, hi) = image
        .pixels
        .chunks_exact(channels)
        .flat_map(|px| px[..colour].iter())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(f64::from(v)), hi.max(f64::from(v)))
        });
    if hi > lo {
        (lo, 255.0 / (hi - lo))
    } else if image.bit_depth == BitDepth::U16 {
        // A flat image has no range to stretch; show its absolute level.
        (0.0, 255.0 / 65535.0)
    } else {
        (0.0, 255.0)
    }
}

/// The image (as [`display_rgba`]) with mask classes 1 and up painted over it.
///
/// `colours` is indexed by class index, so `colours[0]` belongs to the
/// background and is never used: class 0 is never painted. Classes without an
/// entry take [`DEFAULT_COLOURS`]. `opacity` (clamped to 0–1) is the weight of
/// the class colour. With `outline`, only mask pixels that have a 4-neighbour
/// of another class are painted; the image border does not count as a
/// neighbour, so a region touching the edge stays open there.
///
/// # Panics
///
/// If the mask's width and height differ from the image's, or its data does
/// not hold width × height entries.
pub fn overlay_rgba(
    image: &Image,
    mask: &Mask,
    colours: &[[u8; 3]],
    opacity: f32,
    outline: bool,
) -> Vec<u8> {
    assert!(
        mask.width == image.width && mask.height == image.height,
        "overlay_rgba: mask is {}×{} but image is {}×{}",
        mask.width,
        mask.height,
        image.width,
        image.height
    );
    let (w, h) = (mask.width as usize, mask.height as usize);
    assert_eq!(mask.data.len(), w * h, "overlay_rgba: mask data length");

    let alpha = if opacity.is_nan() {
        0.0
    } else {
        opacity.clamp(0.0, 1.0)
    };
    let mut out = display_rgba(image);
    for (i, &class) in mask.data.iter().enumerate() {
        if class == 0 || (outline && !on_boundary(&mask.data, w, h, i)) {
            continue;
        }
        let colour = colour_for(class, colours);
        for (dst, &c) in out[i * 4..i * 4 + 3].iter_mut().zip(&colour) {
            let blended = f32::from(*dst) * (1.0 - alpha) + f32::from(c) * alpha;
            *dst = blended.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

fn colour_for(class: u8, colours: &[[u8; 3]]) -> [u8; 3] {
    let class = usize::from(class);
    colours.get(class).copied().unwrap_or_else(|| {
        let painted = DEFAULT_COLOURS.len() - 1;
        DEFAULT_COLOURS[1 + (class - 1) % painted]
    })
}

/// Whether pixel `i` has a left/right/up/down neighbour of a different class.
fn on_boundary(data: &[u8], w: usize, h: usize, i: usize) -> bool {
    let (x, y) = (i % w, i / w);
    let class = data[i];
    (x > 0 && data[i - 1] != class)
        || (x + 1 < w && data[i + 1] != class)
        || (y > 0 && data[i - w] != class)
        || (y + 1 < h && data[i + w] != class)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_image;
    use crate::raster::Channels;
    use crate::test_support::image;

    #[test]
    fn one_class_thresholds_logits_at_zero() {
        let m = mask_from_logits(&[-1.0, 0.0, 0.5, -0.0, f32::NAN, 1e-30], 1, 2, 3);
        assert_eq!(m.data, vec![0, 0, 1, 0, 0, 1]);
        assert_eq!((m.width, m.height, m.classes), (3, 2, 1));
    }

    #[test]
    fn argmax_ties_go_to_the_lowest_class_and_nan_wins() {
        // Three classes over four pixels, CHW.
        let logits = [
            1.0,
            2.0,
            0.0,
            5.0, // class 0
            1.0,
            3.0,
            0.0,
            f32::NAN, // class 1
            0.5,
            3.0,
            0.0,
            9.0, // class 2
        ];
        let m = mask_from_logits(&logits, 3, 2, 2);
        assert_eq!(m.data, vec![0, 1, 0, 1]);
    }

    #[test]
    #[should_panic(expected = "expected 2×2×2 logits")]
    fn wrong_logit_count_panics_with_a_clear_message() {
        mask_from_logits(&[0.0; 7], 2, 2, 2);
    }

    #[test]
    fn mask_pngs_decode_back_to_the_documented_values() {
        let binary = Mask {
            width: 3,
            height: 1,
            classes: 1,
            data: vec![0, 1, 0],
        };
        let img = decode_image(&encode_mask_png(&binary)).unwrap();
        assert_eq!(
            (img.channels, img.bit_depth),
            (Channels::Gray, BitDepth::U8)
        );
        assert_eq!(img.pixels, vec![0.0, 255.0, 0.0]);

        let multi = Mask {
            classes: 4,
            data: vec![0, 3, 2],
            ..binary
        };
        let img = decode_image(&encode_mask_png(&multi)).unwrap();
        assert_eq!(img.pixels, vec![0.0, 3.0, 2.0]);
    }

    #[test]
    fn display_stretches_16_bit_and_keeps_8_bit() {
        let img16 = image(
            3,
            1,
            Channels::Gray,
            BitDepth::U16,
            vec![1000., 2000., 3000.],
        );
        let rgba = display_rgba(&img16);
        assert_eq!(
            rgba,
            vec![0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]
        );

        let img8 = image(1, 1, Channels::Rgba, BitDepth::U8, vec![10., 20., 30., 0.]);
        assert_eq!(display_rgba(&img8), vec![10, 20, 30, 255]);
    }

    #[test]
    fn overlay_blends_class_colours_and_skips_background() {
        let img = image(2, 1, Channels::Gray, BitDepth::U8, vec![100., 100.]);
        let mask = Mask {
            width: 2,
            height: 1,
            classes: 2,
            data: vec![0, 1],
        };
        let colours = [[9, 9, 9], [200, 0, 50]];
        let out = overlay_rgba(&img, &mask, &colours, 0.5, false);
        assert_eq!(out, vec![100, 100, 100, 255, 150, 50, 75, 255]);
        // Class 5 has no entry: the default palette supplies one.
        let mask = Mask {
            data: vec![0, 5],
            ..mask
        };
        let out = overlay_rgba(&img, &mask, &colours, 1.0, false);
        assert_eq!(&out[4..7], &DEFAULT_COLOURS[5]);
    }

    #[test]
    fn outline_paints_only_region_borders() {
        let img = image(5, 5, Channels::Gray, BitDepth::U8, vec![0.; 25]);
        // A 3×3 square of class 1 in the middle.
        let data = (0..25)
            .map(|i| u8::from((1..4).contains(&(i % 5)) && (1..4).contains(&(i / 5))))
            .collect();
        let mask = Mask {
            width: 5,
            height: 5,
            classes: 1,
            data,
        };
        let out = overlay_rgba(&img, &mask, &[[0; 3], [255, 255, 255]], 1.0, true);
        let painted: Vec<usize> = (0..25).filter(|&i| out[i * 4] == 255).collect();
        assert_eq!(painted, vec![6, 7, 8, 11, 13, 16, 17, 18]);
    }

    #[test]
    fn rgba_png_round_trips() {
        let rgba = [1, 2, 3, 4, 250, 251, 252, 253];
        let img = decode_image(&encode_rgba_png(2, 1, &rgba)).unwrap();
        assert_eq!(img.channels, Channels::Rgba);
        assert_eq!(img.pixels, rgba.map(f32::from).to_vec());
    }
}
