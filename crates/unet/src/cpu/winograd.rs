//! 3×3 convolution by Winograd's F(2×2, 3×3): each 2×2 block of output pixels costs 16
//! multiplications per input channel instead of 36, so the wide layers, where nearly all of the
//! network's arithmetic is, need 2.25× fewer multiply-adds.
//!
//! The input is cut into overlapping 4×4 tiles (stride 2), each tile and each filter is carried
//! into the transform domain (`Bᵀ d B`, `G g Gᵀ`), and there the convolution is 16 independent
//! products `U[e] (c_out × c_in) · V[e] (c_in × tiles)`, one per transform position `e`, done by
//! gemm. `Aᵀ M A` brings each tile's 4×4 back to its 2×2 outputs, where bias and ReLU are applied.
//! The transforms are exact in real arithmetic; in float32 the result differs from the direct
//! sum by a few units in the last place (the products are of sums of up to four terms).

use gemm::Parallelism;
use rayon::prelude::*;

use super::matmul::{matmul, run_bands, threads, with_scratch, SharedMut, BAND_VALUES, SMALL_MAP};
use super::planes::Planes;

/// Transform positions: a tile is 4×4.
const E: usize = 16;

/// `G g Gᵀ` of every filter, laid out `[16][c_out][c_in]`: for each position the left factor of
/// that position's product.
///
/// # Shapes
///
/// - weight: `[c_out, c_in, 3, 3]` row-major
/// - output: `[16, c_out, c_in]`
fn transform_filters(weight: &[f32], c_out: usize, c_in: usize) -> Vec<f32> {
    let mut u = vec![0.0f32; E * c_out * c_in];
    for (f, g) in weight.chunks_exact(9).enumerate() {
        // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], applied to the columns, then to the rows.
        let mut t = [[0.0f32; 3]; 4];
        for c in 0..3 {
            let (g0, g1, g2) = (g[c], g[3 + c], g[6 + c]);
            t[0][c] = g0;
            t[1][c] = 0.5 * (g0 + g1 + g2);
            t[2][c] = 0.5 * (g0 - g1 + g2);
            t[3][c] = g2;
        }
        for (r, row) in t.iter().enumerate() {
            let [g0, g1, g2] = *row;
            let out = [g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2];
            for (c, v) in out.into_iter().enumerate() {
                u[(r * 4 + c) * c_out * c_in + f] = v;
            }
        }
    }
    u
}

/// `Bᵀ d B` for one row of tiles, all at once: `even` and `odd` are the tile row's four input
/// rows (zero-padded by one column on the left), split into their even and odd columns, so
/// that every step below is a pass over contiguous slices that the compiler vectorises.
/// Writes position `e` of tile `t` to `v[e * step + t]`.
fn transform_tile_row(
    even: [&[f32]; 4],
    odd: [&[f32]; 4],
    v: &mut [f32],
    step: usize,
    t: &mut Lanes,
) {
    let n = t.n;
    // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], first down the columns…
    for (half, rows) in t.rows.iter_mut().zip([even, odd]) {
        let [t0, t1, t2, t3] = half;
        let [d0, d1, d2, d3] = rows;
        for ((((t0, t1), t2), t3), ((&a, &b), (&c, &d))) in t0
            .iter_mut()
            .zip(t1.iter_mut())
            .zip(t2.iter_mut())
            .zip(t3.iter_mut())
            .zip(d0.iter().zip(d1).zip(d2.iter().zip(d3)))
        {
            *t0 = a - c;
            *t1 = b + c;
            *t2 = c - b;
            *t3 = b - d;
        }
    }
    // …then along each row: tile j's columns are even j, odd j, even j+1, odd j+1.
    for r in 0..4 {
        let (e, o) = (&t.rows[0][r][..=n], &t.rows[1][r][..=n]);
        let (v0, rest) = v[r * 4 * step..].split_at_mut(step);
        let (v1, rest) = rest.split_at_mut(step);
        let (v2, v3) = rest.split_at_mut(step);
        let (v0, v1, v2, v3) = (&mut v0[..n], &mut v1[..n], &mut v2[..n], &mut v3[..n]);
        for (j, (((v0, v1), v2), v3)) in v0
            .iter_mut()
            .zip(v1.iter_mut())
            .zip(v2.iter_mut())
            .zip(v3.iter_mut())
            .enumerate()
        {
            let (e0, e1, o0, o1) = (e[j], e[j + 1], o[j], o[j + 1]);
            *v0 = e0 - e1;
            *v1 = o0 + e1;
            *v2 = e1 - o0;
            *v3 = o0 - o1;
        }
    }
}

/// Rows `first..first + 4` of a buffer of rows `width` long.
fn four_rows(rows: &[f32], first: usize, width: usize) -> [&[f32]; 4] {
    std::array::from_fn(|k| &rows[(first + k) * width..][..width])
}

/// Working rows for one row of tiles: the column-transformed input (even and odd columns, four
/// rows each) and the output transform's sums, `n + 1` values each for `n` tiles.
struct Lanes {
    n: usize,
    rows: [[Vec<f32>; 4]; 2],
}

impl Lanes {
    fn new(n: usize) -> Self {
        let row = || vec![0.0f32; n + 1];
        Self {
            n,
            rows: [[row(), row(), row(), row()], [row(), row(), row(), row()]],
        }
    }
}

/// `Aᵀ M A` for one row of tiles of one output channel, plus bias, then ReLU: `m[e]` holds
/// position `e` of the `n` tiles; writes the two output rows' even and odd pixels.
fn untransform_tile_row(m: [&[f32]; 16], bias: f32, out: [[&mut [f32]; 2]; 2]) {
    let n = m[0].len();
    let [[even0, odd0], [even1, odd1]] = out;
    // Aᵀ = [1 1 1 0; 0 1 −1 −1]: down the columns, then along the rows.
    for j in 0..n {
        let col = |c: usize| {
            let (m0, m1, m2, m3) = (m[c][j], m[4 + c][j], m[8 + c][j], m[12 + c][j]);
            (m0 + m1 + m2, m1 - m2 - m3)
        };
        let ((a0, b0), (a1, b1), (a2, b2), (a3, b3)) = (col(0), col(1), col(2), col(3));
        even0[j] = (a0 + a1 + a2 + bias).max(0.0);
        odd0[j] = (a1 - a2 - a3 + bias).max(0.0);
        even1[j] = (b0 + b1 + b2 + bias).max(0.0);
        odd1[j] = (b1 - b2 - b3 + bias).max(0.0);
    }
}

/// 3×3 convolution with padding 1, plus bias, then ReLU; the same result as
/// [`super::conv::conv3x3_bias_relu`]'s im2col path to float32 rounding.
///
/// # Shapes
///
/// - x: `[c_in, h, w]`
/// - weight: `[c_out, c_in, 3, 3]` row-major; bias: `[c_out]`
/// - output: `[c_out, h, w]`
pub fn conv3x3_bias_relu(x: &Planes, weight: &[f32], bias: &[f32]) -> Planes {
    let (c_in, h, w) = (x.channels, x.height, x.width);
    let c_out = bias.len();
    // A real check: the gemm reads the transformed filters through a raw pointer.
    assert_eq!(
        weight.len(),
        c_out * c_in * 9,
        "conv3x3: weight does not match [c_out, c_in, 3, 3]"
    );
    let u = transform_filters(weight, c_out, c_in);
    let (tiles_y, tiles_x) = (h.div_ceil(2), w.div_ceil(2));
    let mut out = Planes::zeros(c_out, h, w);
    let threads = threads();
    // One band of tile rows holds its transformed input and products in the thread's scratch;
    // at least two bands per thread, so that the threads stay busy to the end.
    let per_tile_row = E * (c_in + c_out) * tiles_x;
    let rows = if h * w < SMALL_MAP {
        // Small maps are the deep, wide layers: one band, so that the transformed filters
        // (often larger than the map) are packed once, and gemm's own threads share the work.
        tiles_y
    } else {
        (BAND_VALUES / per_tile_row).clamp(1, tiles_y.div_ceil(2 * threads).max(1))
    };
    let dst = SharedMut(out.data.as_mut_ptr());
    run_bands(tiles_y, rows, |(t0, t1), parallelism: Parallelism| {
        let n = (t1 - t0) * tiles_x;
        // The band's input rows, zero-padded by one on every side, as even and odd columns.
        let (pad_h, half_w) = (2 * (t1 - t0) + 2, tiles_x + 1);
        let len = E * c_in * n + E * c_out * n + 2 * pad_h * half_w;
        with_scratch(len, |scratch| {
            let (v, rest) = scratch.split_at_mut(E * c_in * n);
            let (m, padded) = rest.split_at_mut(E * c_out * n);
            let (even, odd) = padded.split_at_mut(pad_h * half_w);
            let mut lanes = Lanes::new(tiles_x);
            for ci in 0..c_in {
                let plane = x.plane(ci);
                for pr in 0..pad_h {
                    let (e, o) = (
                        &mut even[pr * half_w..(pr + 1) * half_w],
                        &mut odd[pr * half_w..(pr + 1) * half_w],
                    );
                    // Padded row pr is image row 2·t0 − 1 + pr; padded column c is image
                    // column c − 1: even column 2j is pixel 2j − 1, odd column 2j + 1 pixel 2j.
                    let Some(r) = (2 * t0 + pr).checked_sub(1).filter(|&r| r < h) else {
                        e.fill(0.0);
                        o.fill(0.0);
                        continue;
                    };
                    let src = &plane[r * w..(r + 1) * w];
                    e.fill(0.0);
                    o.fill(0.0);
                    for ((pair, o), e) in src.chunks_exact(2).zip(o.iter_mut()).zip(&mut e[1..]) {
                        *o = pair[0];
                        *e = pair[1];
                    }
                    if w % 2 == 1 {
                        o[w / 2] = src[w - 1];
                    }
                }
                for ty in 0..t1 - t0 {
                    transform_tile_row(
                        four_rows(even, 2 * ty, half_w),
                        four_rows(odd, 2 * ty, half_w),
                        &mut v[ci * n + ty * tiles_x..],
                        c_in * n,
                        &mut lanes,
                    );
                }
            }
            // The 16 products are independent: a band that has the threads to itself (a small
            // map, one band) gives each thread whole products rather than splitting each small
            // product inside gemm, which measured 1.2 × on two threads where the banded
            // layers reach 2 ×.
            let product = |(e, m_e): (usize, &mut [f32])| {
                // SAFETY: m_e holds c_out rows of n; u[e] is c_out × c_in; v[e] is c_in × n.
                unsafe {
                    matmul(
                        c_out,
                        n,
                        c_in,
                        m_e.as_mut_ptr(),
                        n,
                        u[e * c_out * c_in..].as_ptr(),
                        c_in,
                        1,
                        &v[e * c_in * n..(e + 1) * c_in * n],
                        Parallelism::None,
                    );
                }
            };
            match parallelism {
                Parallelism::None => m.chunks_mut(c_out * n).enumerate().for_each(product),
                _ => m.par_chunks_mut(c_out * n).enumerate().for_each(product),
            }
            let mut rows_out = [
                [vec![0.0f32; tiles_x], vec![0.0f32; tiles_x]],
                [vec![0.0f32; tiles_x], vec![0.0f32; tiles_x]],
            ];
            for (co, &b) in bias.iter().enumerate() {
                // SAFETY: this band owns output rows 2·t0..min(2·t1, h) of every plane.
                let plane =
                    unsafe { std::slice::from_raw_parts_mut(dst.get().add(co * h * w), h * w) };
                for ty in 0..t1 - t0 {
                    let at = co * n + ty * tiles_x;
                    let tiles: [&[f32]; 16] =
                        std::array::from_fn(|e| &m[e * c_out * n + at..][..tiles_x]);
                    let [[e0, o0], [e1, o1]] = &mut rows_out;
                    untransform_tile_row(tiles, b, [[e0, o0], [e1, o1]]);
                    let r0 = 2 * (t0 + ty);
                    for (dy, [even_px, odd_px]) in rows_out.iter().enumerate() {
                        if r0 + dy >= h {
                            break;
                        }
                        let row = &mut plane[(r0 + dy) * w..(r0 + dy + 1) * w];
                        for (pair, (&a, &b)) in
                            row.chunks_exact_mut(2).zip(even_px.iter().zip(odd_px))
                        {
                            pair[0] = a;
                            pair[1] = b;
                        }
                        if w % 2 == 1 {
                            row[w - 1] = even_px[w / 2];
                        }
                    }
                }
            }
        });
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::planes::testing::{close, conv3x3_direct, planes};

    #[test]
    fn matches_the_definition_on_odd_even_and_tiny_sizes() {
        // Odd sides end in half tiles; 1×1 is all padding; 70×61 with 40 channels makes
        // several bands, so band edges are crossed.
        for (c_in, c_out, h, w) in [(3, 4, 5, 3), (2, 3, 1, 1), (4, 2, 6, 8), (40, 24, 70, 61)] {
            let x = planes(c_in, h, w, 7);
            let weight = planes(c_out, c_in, 9, 11).data;
            let bias: Vec<f32> = (0..c_out).map(|c| 0.25 * c as f32 - 0.5).collect();
            let got = conv3x3_bias_relu(&x, &weight, &bias);
            assert_eq!((got.channels, got.height, got.width), (c_out, h, w));
            close(&got.data, &conv3x3_direct(&x, &weight, &bias));
        }
    }
}
