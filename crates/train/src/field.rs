//! Smooth random fields: the one ingredient behind bias fields, elastic deformation, uneven
//! tissue thickness and random blobs of non-brain tissue.

use crate::rng::Rng;

/// A `height × width` field of standard-normal values on a coarse `cells × cells` lattice,
/// interpolated with smoothstep weights so it has no visible grid.
pub fn smooth_field(rng: &mut Rng, height: usize, width: usize, cells: usize) -> Vec<f32> {
    let n = cells + 1;
    let lattice: Vec<f32> = (0..n * n).map(|_| rng.normal()).collect();
    let mut out = vec![0.0; height * width];
    let fy = cells as f32 / height.max(2) as f32;
    let fx = cells as f32 / width.max(2) as f32;
    for y in 0..height {
        let gy = y as f32 * fy;
        let y0 = (gy as usize).min(cells - 1);
        let ty = smoothstep(gy - y0 as f32);
        for x in 0..width {
            let gx = x as f32 * fx;
            let x0 = (gx as usize).min(cells - 1);
            let tx = smoothstep(gx - x0 as f32);
            let at = |j: usize, i: usize| lattice[j * n + i];
            let top = at(y0, x0) * (1.0 - tx) + at(y0, x0 + 1) * tx;
            let bottom = at(y0 + 1, x0) * (1.0 - tx) + at(y0 + 1, x0 + 1) * tx;
            out[y * width + x] = top * (1.0 - ty) + bottom * ty;
        }
    }
    out
}

fn smoothstep(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// Separable Gaussian blur with clamped edges, in place.
pub fn gaussian_blur(data: &mut [f32], height: usize, width: usize, sigma: f32) {
    if sigma < 0.2 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let mut tmp = vec![0.0; data.len()];
    for y in 0..height {
        for x in 0..width {
            let mut acc = 0.0;
            for (k, w) in kernel.iter().enumerate() {
                let xx = (x as isize + k as isize - radius).clamp(0, width as isize - 1) as usize;
                acc += w * data[y * width + xx];
            }
            tmp[y * width + x] = acc;
        }
    }
    for y in 0..height {
        for x in 0..width {
            let mut acc = 0.0;
            for (k, w) in kernel.iter().enumerate() {
                let yy = (y as isize + k as isize - radius).clamp(0, height as isize - 1) as usize;
                acc += w * tmp[yy * width + x];
            }
            data[y * width + x] = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_smooth_and_blur_keeps_the_mean() {
        let mut rng = Rng::new(3, 0);
        let f = smooth_field(&mut rng, 64, 80, 4);
        let max_step = f
            .windows(2)
            .enumerate()
            .filter(|(i, _)| (i + 1) % 80 != 0)
            .map(|(_, w)| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(max_step < 0.5, "neighbouring values jump by {max_step}");
        assert!(f.iter().any(|v| v.abs() > 0.3), "not flat");
        let mut img: Vec<f32> = (0..64 * 80).map(|i| (i % 7) as f32).collect();
        let mean = img.iter().sum::<f32>() / img.len() as f32;
        gaussian_blur(&mut img, 64, 80, 1.5);
        let after = img.iter().sum::<f32>() / img.len() as f32;
        assert!((mean - after).abs() < 0.05);
        assert!(img.iter().all(|v| (0.5..5.5).contains(v)), "blurred");
    }
}
