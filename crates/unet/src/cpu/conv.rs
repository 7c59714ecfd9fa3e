//! The convolutions: each is one or a few calls into the `gemm` crate (the kernels burn's `flex`
//! backend uses too), with the im2col matrix laid out so that gemm writes straight into the
//! output planes: no NHWC copy, no scatter, and bias and ReLU applied while the band is still in
//! cache.
//! A 3×3 convolution with many input channels goes to [`super::winograd`] instead.

use gemm::Parallelism;
use rayon::prelude::*;

use super::matmul::{
    gemm_parallelism, matmul, run_bands, threads, with_scratch, SharedMut, BAND_VALUES, SMALL_MAP,
};
use super::planes::Planes;

/// From this many input channels on, Winograd's F(2×2, 3×3) beats im2col (1.3–1.5× for the
/// whole network at 1 thread, BENCHMARKS.md); the first layer's one channel stays with im2col.
const WINOGRAD_MIN_CHANNELS: usize = 16;

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
    if x.channels >= WINOGRAD_MIN_CHANNELS {
        return super::winograd::conv3x3_bias_relu(x, weight, bias);
    }
    let (h, w) = (x.height, x.width);
    let c_out = bias.len();
    let k = x.channels * 9;
    // A real check: the gemm reads `weight` through a raw pointer.
    assert_eq!(
        weight.len(),
        c_out * k,
        "conv3x3: weight does not match [c_out, c_in, 3, 3]"
    );
    let hw = h * w;
    let mut out = Planes::zeros(c_out, h, w);
    let threads = threads();
    let rows = if hw < SMALL_MAP {
        h
    } else {
        (BAND_VALUES / (k * w)).clamp(1, h.div_ceil(2 * threads))
    };
    let dst = SharedMut(out.data.as_mut_ptr());
    run_bands(h, rows, |(r0, r1), parallelism: Parallelism| {
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
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::planes::testing::{at, close, conv3x3_direct, planes};

    #[test]
    fn conv3x3_matches_the_definition_on_odd_sizes_and_many_bands() {
        // 70 rows of 61 with 5 channels: several bands, so band edges are crossed.
        for (c_in, h, w) in [(1, 5, 3), (5, 70, 61), (3, 1, 1)] {
            let x = planes(c_in, h, w, 7);
            let c_out = 4;
            let weight = planes(c_out, c_in, 9, 11).data;
            let bias = vec![0.5, -0.25, 0.0, 1.0];
            let got = conv3x3_bias_relu(&x, &weight, &bias);
            close(&got.data, &conv3x3_direct(&x, &weight, &bias));
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
