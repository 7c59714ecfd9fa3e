//! The U-Net's operations on plain `f32` planes, for [`super::CpuUNet`].
//!
//! Every convolution is one or a few calls into the `gemm` crate (the kernels burn's `flex` backend
//! uses too), with the im2col matrix laid out so that gemm writes straight into the output planes:
//! no NHWC copy, no scatter, and bias and ReLU applied while the band is still in cache.

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

/// A feature map: `channels` planes of `height × width`, channel-major, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    /// Channels.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `channels · height · width` values.
    pub data: Vec<f32>,
}

impl Planes {
    /// Zero-filled planes.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    fn plane(&self, c: usize) -> &[f32] {
        let hw = self.height * self.width;
        &self.data[c * hw..(c + 1) * hw]
    }
}

/// A raw pointer that rayon tasks may share; every task writes a disjoint part of the buffer.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);
// SAFETY: the callers hand each task a disjoint range of the allocation behind the pointer.
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    // A method, not the field: closures then capture the whole (Send + Sync) wrapper.
    fn get(self) -> *mut f32 {
        self.0
    }
}

// About 4 MB of im2col matrix per band: big enough for gemm's blocking, small enough that each
// thread's band stays in its cache hierarchy and memory stays bounded on huge images.
const BAND_VALUES: usize = 1 << 20;
// Below this many output pixels one band with gemm's own threading beats several small bands,
// which would each repack the (then large) weight matrix.
const SMALL_MAP: usize = 4096;

thread_local! {
    // Each thread's im2col matrix, kept between bands and layers: allocating and zeroing it
    // afresh cost as much memory traffic as filling it.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` values of this thread's scratch space (a fresh buffer if it is in use).
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
            f(&mut buffer[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// `dst[m × n] = lhs[m × k] · rhs[k × n]`, all row-major except that `dst`'s rows are
/// `dst_stride` apart and `lhs` is read through the given strides.
///
/// # Safety
///
/// `dst` must be valid for writes of `m` rows of `n` values, `dst_stride` apart; `lhs` for reads
/// of `m × k` values at the given strides; `rhs` must hold `k · n` values.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_stride: usize,
    lhs: *const f32,
    lhs_row_stride: usize,
    lhs_col_stride: usize,
    rhs: &[f32],
    parallelism: Parallelism,
) {
    debug_assert!(rhs.len() >= k * n);
    gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_stride as isize,
        false,
        lhs,
        lhs_col_stride as isize,
        lhs_row_stride as isize,
        rhs.as_ptr(),
        1,
        n as isize,
        0.0,
        1.0,
        false,
        false,
        false,
        parallelism,
    );
}

/// Fills `col` (`[c_in · 9, (r1 − r0) · width]`) with the 3×3 neighbourhoods of rows `r0..r1`,
/// zero outside the image (padding 1), row order `(c_in, ky, kx)` as PyTorch's weights are laid out.
fn im2col_3x3(x: &Planes, r0: usize, r1: usize, col: &mut [f32]) {
    let (h, w) = (x.height, x.width);
    let n = (r1 - r0) * w;
    for ci in 0..x.channels {
        let plane = x.plane(ci);
        for ky in 0..3 {
            for kx in 0..3 {
                let row = &mut col[(ci * 9 + ky * 3 + kx) * n..][..n];
                for (i, r) in (r0..r1).enumerate() {
                    let dst = &mut row[i * w..(i + 1) * w];
                    let Some(sr) = (r + ky).checked_sub(1).filter(|&sr| sr < h) else {
                        dst.fill(0.0);
                        continue;
                    };
                    let src = &plane[sr * w..(sr + 1) * w];
                    match kx {
                        0 => {
                            dst[0] = 0.0;
                            dst[1..].copy_from_slice(&src[..w - 1]);
                        }
                        1 => dst.copy_from_slice(src),
                        _ => {
                            dst[..w - 1].copy_from_slice(&src[1..]);
                            dst[w - 1] = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// 3×3 convolution with padding 1, plus bias, then ReLU.
///
/// # Shapes
///
/// - x: `[c_in, h, w]`
/// - weight: `[c_out, c_in, 3, 3]` row-major; bias: `[c_out]`
/// - output: `[c_out, h, w]`
pub fn conv3x3_bias_relu(x: &Planes, weight: &[f32], bias: &[f32]) -> Planes {
    let (h, w) = (x.height, x.width);
    let c_out = bias.len();
    let k = x.channels * 9;
    debug_assert_eq!(weight.len(), c_out * k);
    let hw = h * w;
    let mut out = Planes::zeros(c_out, h, w);
    let threads = threads();
    let rows = if hw < SMALL_MAP {
        h
    } else {
        (BAND_VALUES / (k * w)).clamp(1, h.div_ceil(2 * threads))
    };
    let bands: Vec<(usize, usize)> = (0..h)
        .step_by(rows)
        .map(|r0| (r0, (r0 + rows).min(h)))
        .collect();
    let dst = SharedMut(out.data.as_mut_ptr());
    let run = |&(r0, r1): &(usize, usize), parallelism: Parallelism| {
        let n = (r1 - r0) * w;
        with_scratch(k * n, |col| {
            im2col_3x3(x, r0, r1, col);
            // SAFETY: this band owns columns r0·w..r1·w of every output plane.
            unsafe {
                let band = dst.get().add(r0 * w);
                matmul(
                    c_out,
                    n,
                    k,
                    band,
                    hw,
                    weight.as_ptr(),
                    k,
                    1,
                    col,
                    parallelism,
                );
                for (co, &b) in bias.iter().enumerate() {
                    let seg = std::slice::from_raw_parts_mut(band.add(co * hw), n);
                    for v in seg {
                        *v = (*v + b).max(0.0);
                    }
                }
            }
        });
    };
    if bands.len() > 1 && threads > 1 {
        bands.par_iter().for_each(|b| run(b, Parallelism::None));
    } else {
        let parallelism = if threads > 1 {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        };
        bands.iter().for_each(|b| run(b, parallelism));
    }
    out
}

/// 1×1 convolution plus bias (no activation): the output logits.
///
/// # Shapes
///
/// - x: `[c_in, h, w]`; weight: `[c_out, c_in]`; bias: `[c_out]`
/// - output: `[c_out, h, w]`
pub fn conv1x1_bias(x: &Planes, weight: &[f32], bias: &[f32]) -> Planes {
    let (c_out, hw) = (bias.len(), x.height * x.width);
    let mut out = Planes::zeros(c_out, x.height, x.width);
    // SAFETY: `out` holds c_out rows of hw values; weight holds c_out × c_in.
    unsafe {
        matmul(
            c_out,
            hw,
            x.channels,
            out.data.as_mut_ptr(),
            hw,
            weight.as_ptr(),
            x.channels,
            1,
            &x.data,
            gemm_parallelism(),
        );
    }
    for (plane, &b) in out.data.chunks_mut(hw.max(1)).zip(bias) {
        plane.iter_mut().for_each(|v| *v += b);
    }
    out
}

fn gemm_parallelism() -> Parallelism {
    match threads() {
        1 => Parallelism::None,
        n => Parallelism::Rayon(n),
    }
}

/// 2×2 transposed convolution with stride 2, plus bias.
///
/// # Shapes
///
/// - x: `[c_in, h, w]`; weight: `[c_in, c_out, 2, 2]` (PyTorch's layout); bias: `[c_out]`
/// - output: `[c_out, 2h, 2w]`
pub fn conv_transpose2x2_bias(x: &Planes, weight: &[f32], bias: &[f32]) -> Planes {
    let (h, w, c_out) = (x.height, x.width, bias.len());
    let hw = h * w;
    // Every input pixel spreads to a 2×2 block: one product [c_out·4, c_in] · [c_in, h·w], whose
    // left factor is the weight read transposed.
    let mut spread = vec![0.0f32; c_out * 4 * hw];
    // SAFETY: `spread` holds c_out·4 rows of hw; weight holds c_in × (c_out·4).
    unsafe {
        matmul(
            c_out * 4,
            hw,
            x.channels,
            spread.as_mut_ptr(),
            hw,
            weight.as_ptr(),
            1,
            c_out * 4,
            &x.data,
            gemm_parallelism(),
        );
    }
    let mut out = Planes::zeros(c_out, 2 * h, 2 * w);
    out.data
        .par_chunks_mut(4 * hw)
        .enumerate()
        .for_each(|(co, plane)| {
            for ky in 0..2 {
                for kx in 0..2 {
                    let src = &spread[(co * 4 + ky * 2 + kx) * hw..][..hw];
                    for i in 0..h {
                        let row = &mut plane[(2 * i + ky) * 2 * w..][..2 * w];
                        for j in 0..w {
                            row[2 * j + kx] = src[i * w + j] + bias[co];
                        }
                    }
                }
            }
        });
    out
}

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

    fn planes(channels: usize, height: usize, width: usize, seed: u32) -> Planes {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        let data = (0..channels * height * width)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        Planes {
            channels,
            height,
            width,
            data,
        }
    }

    fn at(x: &Planes, c: usize, i: isize, j: isize) -> f32 {
        if i < 0 || j < 0 || i >= x.height as isize || j >= x.width as isize {
            return 0.0;
        }
        x.data[(c * x.height + i as usize) * x.width + j as usize]
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "at {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn conv3x3_matches_the_definition_on_odd_sizes_and_many_bands() {
        // 70 rows of 61 with 5 channels: several bands, so band edges are crossed.
        for (c_in, h, w) in [(1, 5, 3), (5, 70, 61), (3, 1, 1)] {
            let x = planes(c_in, h, w, 7);
            let c_out = 4;
            let weight = planes(c_out, c_in, 9, 11).data;
            let bias = vec![0.5, -0.25, 0.0, 1.0];
            let got = conv3x3_bias_relu(&x, &weight, &bias);
            let mut want = Planes::zeros(c_out, h, w);
            for co in 0..c_out {
                for i in 0..h {
                    for j in 0..w {
                        let mut sum = bias[co];
                        for ci in 0..c_in {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    sum += weight[((co * c_in + ci) * 3 + ky) * 3 + kx]
                                        * at(
                                            &x,
                                            ci,
                                            i as isize + ky as isize - 1,
                                            j as isize + kx as isize - 1,
                                        );
                                }
                            }
                        }
                        want.data[(co * h + i) * w + j] = sum.max(0.0);
                    }
                }
            }
            close(&got.data, &want.data);
        }
    }

    #[test]
    fn transposed_conv_spreads_each_pixel_to_a_2x2_block() {
        let (c_in, c_out, h, w) = (3, 2, 4, 5);
        let x = planes(c_in, h, w, 3);
        let weight = planes(c_in, c_out, 4, 5).data;
        let bias = vec![0.1, -0.2];
        let got = conv_transpose2x2_bias(&x, &weight, &bias);
        assert_eq!((got.channels, got.height, got.width), (c_out, 2 * h, 2 * w));
        for co in 0..c_out {
            for oi in 0..2 * h {
                for oj in 0..2 * w {
                    let (i, j, ky, kx) = (oi / 2, oj / 2, oi % 2, oj % 2);
                    let want = bias[co]
                        + (0..c_in)
                            .map(|ci| {
                                weight[((ci * c_out + co) * 2 + ky) * 2 + kx]
                                    * at(&x, ci, i as isize, j as isize)
                            })
                            .sum::<f32>();
                    close(&[got.data[(co * 2 * h + oi) * 2 * w + oj]], &[want]);
                }
            }
        }
    }

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

    #[test]
    fn pointwise_conv_adds_bias() {
        let x = planes(3, 2, 2, 5);
        let weight = [1.0, 0.0, 0.0, 0.5, 0.5, 0.5];
        let got = conv1x1_bias(&x, &weight, &[0.0, 1.0]);
        for p in 0..4 {
            close(&[got.data[p]], &[x.data[p]]);
            let mean = 0.5 * (x.data[p] + x.data[4 + p] + x.data[8 + p]) + 1.0;
            close(&[got.data[4 + p]], &[mean]);
        }
    }
}
