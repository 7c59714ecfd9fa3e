//! The feature maps the CPU network passes between its operations.

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
            // Checked: on wasm32 a wrapped product would size the buffer smaller than the
            // kernels index it.
            data: vec![
                0.0;
                channels
                    .checked_mul(height)
                    .and_then(|n| n.checked_mul(width))
                    .expect("feature map size overflows usize")
            ],
        }
    }

    pub(crate) fn plane(&self, c: usize) -> &[f32] {
        let hw = self.height * self.width;
        &self.data[c * hw..(c + 1) * hw]
    }
}

/// Shared by the operations' tests: deterministic planes, padded reads, tolerant comparison.
#[cfg(test)]
pub(crate) mod testing {
    use super::Planes;

    pub fn planes(channels: usize, height: usize, width: usize, seed: u32) -> Planes {
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

    pub fn at(x: &Planes, c: usize, i: isize, j: isize) -> f32 {
        if i < 0 || j < 0 || i >= x.height as isize || j >= x.width as isize {
            return 0.0;
        }
        x.data[(c * x.height + i as usize) * x.width + j as usize]
    }

    pub fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "at {i}: {x} vs {y}"
            );
        }
    }

    /// A 3×3 convolution with padding 1, plus bias, then ReLU, summed from the definition.
    pub fn conv3x3_direct(x: &Planes, weight: &[f32], bias: &[f32]) -> Vec<f32> {
        let (c_in, h, w, c_out) = (x.channels, x.height, x.width, bias.len());
        let mut want = vec![0.0; c_out * h * w];
        for co in 0..c_out {
            for i in 0..h {
                for j in 0..w {
                    let mut sum = bias[co];
                    for ci in 0..c_in {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                sum += weight[((co * c_in + ci) * 3 + ky) * 3 + kx]
                                    * at(x, ci, (i + ky) as isize - 1, (j + kx) as isize - 1);
                            }
                        }
                    }
                    want[(co * h + i) * w + j] = sum.max(0.0);
                }
            }
        }
        want
    }
}
