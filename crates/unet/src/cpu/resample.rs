//! Changing resolution and joining maps: pooling, bilinear up-sampling, padded concatenation.

use rayon::prelude::*;

use super::planes::Planes;

/// 2×2 max-pooling with stride 2; odd trailing rows and columns are dropped, as in PyTorch.
///
/// # Shapes
///
/// - x: `[c, h, w]`
/// - output: `[c, floor(h / 2), floor(w / 2)]`
pub fn max_pool2(x: &Planes) -> Planes {
    let (h, w) = (x.height / 2, x.width / 2);
    let mut out = Planes::zeros(x.channels, h, w);
    if h * w == 0 {
        return out;
    }
    out.data
        .par_chunks_mut(h * w)
        .enumerate()
        .for_each(|(c, plane)| {
            let src = x.plane(c);
            let sw = x.width;
            for i in 0..h {
                let (top, bottom) = (&src[2 * i * sw..], &src[(2 * i + 1) * sw..]);
                for j in 0..w {
                    plane[i * w + j] = top[2 * j]
                        .max(top[2 * j + 1])
                        .max(bottom[2 * j])
                        .max(bottom[2 * j + 1]);
                }
            }
        });
    out
}

/// Where a tile's rows (or columns) lie in the whole image's at one level of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The whole image's extent at this level.
    pub extent: usize,
    /// The tile's first row (or column) in it.
    pub offset: usize,
}

/// Source index pairs and weights of align-corners linear interpolation from `from` samples to
/// `2 · from`, on the whole image's grid: aligned corners stretch the grid with the input size,
/// so a tile must sample where the whole image would, not where a lone image of its size would.
/// Positions past the tile's edge are clamped; they feed only the overlap that is discarded.
fn linear_taps(from: usize, placement: Placement) -> Vec<(usize, usize, f32)> {
    let Placement { extent, offset } = placement;
    let scale = if extent > 0 {
        (extent as f32 - 1.0) / (2.0 * extent as f32 - 1.0)
    } else {
        0.0
    };
    (0..2 * from)
        .map(|o| {
            // The same product as for the whole image, then an exact shift by an integer.
            let src =
                (scale * (o + 2 * offset) as f32 - offset as f32).clamp(0.0, (from - 1) as f32);
            let i0 = (src as usize).min(from - 1);
            let i1 = (i0 + 1).min(from - 1);
            (i0, i1, src - i0 as f32)
        })
        .collect()
}

/// Bilinear up-sampling by two with aligned corners (milesial's `nn.Upsample`), on the grid of
/// the whole image that `rows` and `cols` place `x` in (`x`'s own extent at offset 0 when `x` is
/// the whole image).
///
/// # Shapes
///
/// - x: `[c, h, w]`
/// - output: `[c, 2h, 2w]`
pub fn upsample_bilinear2(x: &Planes, rows: Placement, cols: Placement) -> Planes {
    let (oh, ow) = (2 * x.height, 2 * x.width);
    let (rows, cols) = (linear_taps(x.height, rows), linear_taps(x.width, cols));
    let mut out = Planes::zeros(x.channels, oh, ow);
    out.data
        .par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(c, plane)| {
            let src = x.plane(c);
            let sw = x.width;
            for (i, &(r0, r1, fy)) in rows.iter().enumerate() {
                let (a, b) = (&src[r0 * sw..][..sw], &src[r1 * sw..][..sw]);
                for (j, &(c0, c1, fx)) in cols.iter().enumerate() {
                    let top = a[c0] * (1.0 - fx) + a[c1] * fx;
                    let bottom = b[c0] * (1.0 - fx) + b[c1] * fx;
                    plane[i * ow + j] = top * (1.0 - fy) + bottom * fy;
                }
            }
        });
    out
}

/// `[skip, up]` along channels, `up` zero-padded to `skip`'s size with the extra row or column
/// last (milesial's `F.pad` with `diff // 2` first).
///
/// # Shapes
///
/// - skip: `[c_s, H, W]`; up: `[c_u, h, w]` with `h ≤ H`, `w ≤ W`
/// - output: `[c_s + c_u, H, W]`
pub fn pad_concat(skip: Planes, up: &Planes) -> Planes {
    let (h, w) = (skip.height, skip.width);
    let (top, left) = ((h - up.height) / 2, (w - up.width) / 2);
    let mut data = skip.data;
    let start = data.len();
    data.resize(start + up.channels * h * w, 0.0);
    data[start..]
        .par_chunks_mut(h * w)
        .enumerate()
        .for_each(|(c, plane)| {
            let src = up.plane(c);
            for i in 0..up.height {
                plane[(top + i) * w + left..][..up.width]
                    .copy_from_slice(&src[i * up.width..(i + 1) * up.width]);
            }
        });
    Planes {
        channels: skip.channels + up.channels,
        height: h,
        width: w,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::planes::testing::{at, close, planes};

    #[test]
    fn pooling_floors_and_upsampling_aligns_corners() {
        let x = planes(2, 5, 7, 9);
        let pooled = max_pool2(&x);
        assert_eq!((pooled.height, pooled.width), (2, 3));
        let want = (0..4)
            .map(|k| at(&x, 1, 2 + k / 2, 4 + k % 2))
            .fold(f32::MIN, f32::max);
        assert_eq!(pooled.data[6 + 3 + 2], want);

        let whole = |extent| Placement { extent, offset: 0 };
        let up = upsample_bilinear2(&x, whole(5), whole(7));
        assert_eq!((up.height, up.width), (10, 14));
        // Aligned corners: the four corners are copied, and the middle is a blend.
        for c in 0..2 {
            assert_eq!(at(&up, c, 0, 0), at(&x, c, 0, 0));
            assert_eq!(at(&up, c, 9, 13), at(&x, c, 4, 6));
        }
        // Output column 13 of 14 maps to input 6 exactly; row 1 of 10 maps to 4/9.
        let fy = 4.0 / 9.0;
        let want = at(&x, 0, 0, 6) * (1.0 - fy) + at(&x, 0, 1, 6) * fy;
        close(&[at(&up, 0, 1, 13)], &[want]);

        // Rows 2..5 of x, placed at offset 2 of a 5-row image, sample exactly where x does.
        let tail = Planes {
            channels: 1,
            height: 3,
            width: 7,
            data: x.data[14..35].to_vec(),
        };
        let part = upsample_bilinear2(
            &tail,
            Placement {
                extent: 5,
                offset: 2,
            },
            whole(7),
        );
        // Output row 4 of the whole needs input row 1, which the tail lacks; rows 5..10 match.
        for i in 1..6 {
            for j in 0..14 {
                assert_eq!(at(&part, 0, i, j), at(&up, 0, i + 4, j), "({i}, {j})");
            }
        }
    }

    #[test]
    fn concatenation_puts_skip_first_and_pads_the_extra_pixel_last() {
        let skip = planes(1, 5, 4, 1);
        let up = planes(2, 4, 2, 2);
        let both = pad_concat(skip.clone(), &up);
        assert_eq!((both.channels, both.height, both.width), (3, 5, 4));
        assert_eq!(&both.data[..20], &skip.data[..]);
        // dh = 1 → 0 rows on top; dw = 2 → 1 column left.
        assert_eq!(at(&both, 1, 0, 1), at(&up, 0, 0, 0));
        assert_eq!(at(&both, 2, 3, 2), at(&up, 1, 3, 1));
        assert_eq!(at(&both, 1, 4, 1), 0.0);
        assert_eq!(at(&both, 1, 0, 0), 0.0);
    }
}
