//! Augmentation: where a user's slice may differ from the template's. Geometry (any in-plane
//! orientation, size, small rotations, elastic warps, crops) is applied to image and mask alike;
//! intensity (blur, bias field, noise, gamma, 8-bit quantisation) to the image only.

use crate::field::{gaussian_blur, smooth_field};
use crate::rng::Rng;

/// How the output grid maps into the source: `src = centre + matrix · (out − size/2) + elastic`.
#[derive(Debug, Clone)]
pub struct View {
    /// Output rows and columns (square).
    pub size: usize,
    /// Source (row, col) at the centre of the output.
    pub centre: (f32, f32),
    /// 2×2 map from output offsets to source offsets: rotation, flips and scale.
    pub matrix: [[f32; 2]; 2],
    /// Per-output-pixel displacement (rows, cols) in source pixels, if any.
    pub elastic: Option<(Vec<f32>, Vec<f32>)>,
}

impl View {
    /// The identity crop of `size` around `centre`.
    pub fn plain(size: usize, centre: (f32, f32)) -> View {
        View {
            size,
            centre,
            matrix: [[1.0, 0.0], [0.0, 1.0]],
            elastic: None,
        }
    }

    /// A random view: any multiple of 90° plus up to ±15°, a random flip, log-uniform scale
    /// 0.6–2.0 (above 1 shrinks the head, so small and large images both appear), slight
    /// anisotropy, an elastic warp and a jittered centre.
    pub fn random(rng: &mut Rng, size: usize, centre: (f32, f32)) -> View {
        let angle =
            rng.below(4) as f32 * std::f32::consts::FRAC_PI_2 + rng.range(-15.0, 15.0).to_radians();
        let scale = rng.range(0.6f32.ln(), 2.0f32.ln()).exp();
        let aniso = rng.range(-0.1, 0.1).exp();
        let (sy, sx) = (scale * aniso, scale / aniso);
        let flip = if rng.chance(0.5) { -1.0 } else { 1.0 };
        let (sin, cos) = angle.sin_cos();
        let matrix = [[cos * sy, -sin * sx * flip], [sin * sy, cos * sx * flip]];
        let jitter = size as f32 * scale * 0.2;
        let centre = (
            centre.0 + jitter * rng.normal(),
            centre.1 + jitter * rng.normal(),
        );
        let elastic = rng.chance(0.7).then(|| {
            let amp = rng.range(0.0, 4.0);
            let dy = smooth_field(rng, size, size, 4);
            let dx = smooth_field(rng, size, size, 4);
            (
                dy.into_iter().map(|v| v * amp).collect(),
                dx.into_iter().map(|v| v * amp).collect(),
            )
        });
        View {
            size,
            centre,
            matrix,
            elastic,
        }
    }

    /// Resamples `src` (`height × width`) bilinearly; outside the source, the nearest edge value.
    pub fn apply(&self, src: &[f32], height: usize, width: usize) -> Vec<f32> {
        let n = self.size;
        let half = n as f32 / 2.0;
        let m = self.matrix;
        let mut out = vec![0.0; n * n];
        for r in 0..n {
            for c in 0..n {
                let (u, v) = (r as f32 - half, c as f32 - half);
                let mut y = self.centre.0 + m[0][0] * u + m[0][1] * v;
                let mut x = self.centre.1 + m[1][0] * u + m[1][1] * v;
                if let Some((dy, dx)) = &self.elastic {
                    y += dy[r * n + c];
                    x += dx[r * n + c];
                }
                out[r * n + c] = bilinear(src, height, width, y, x);
            }
        }
        out
    }
}

fn bilinear(src: &[f32], h: usize, w: usize, y: f32, x: f32) -> f32 {
    let y = y.clamp(0.0, (h - 1) as f32);
    let x = x.clamp(0.0, (w - 1) as f32);
    let (y0, x0) = (y.floor() as usize, x.floor() as usize);
    let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
    let (ty, tx) = (y - y0 as f32, x - x0 as f32);
    let top = src[y0 * w + x0] * (1.0 - tx) + src[y0 * w + x1] * tx;
    let bottom = src[y1 * w + x0] * (1.0 - tx) + src[y1 * w + x1] * tx;
    top * (1.0 - ty) + bottom * ty
}

/// Scanner-like degradations of a `size × size` image with values in 0–1.
pub fn degrade(img: &mut [f32], height: usize, width: usize, rng: &mut Rng) {
    if rng.chance(0.3) {
        gaussian_blur(img, height, width, rng.range(0.3, 1.2));
    }
    if rng.chance(0.8) {
        let strength = rng.range(0.0, 0.5);
        let bias = smooth_field(rng, height, width, 3);
        for (v, b) in img.iter_mut().zip(bias) {
            *v *= (strength * b).exp();
        }
    }
    if rng.chance(0.8) {
        // Rician noise, as magnitude MR images have.
        let sigma = rng.range(0.0, 0.06);
        for v in img.iter_mut() {
            let (a, b) = (*v + sigma * rng.normal(), sigma * rng.normal());
            *v = (a * a + b * b).sqrt();
        }
    }
    let max = img.iter().cloned().fold(1e-6f32, f32::max);
    if rng.chance(0.5) {
        let gamma = (0.3 * rng.normal()).exp();
        for v in img.iter_mut() {
            *v = (*v / max).powf(gamma) * max;
        }
    }
    if rng.chance(0.5) {
        // An 8-bit export, as most PNG slices are. The scale is kept, so that a volume's window
        // still applies to the result.
        for v in img.iter_mut() {
            *v = (*v / max * 255.0).round() * max / 255.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_view_crops_and_quarter_turn_rotates() {
        let (h, w) = (6, 8);
        let src: Vec<f32> = (0..h * w).map(|i| i as f32).collect();
        let crop = View::plain(4, (3.0, 4.0)).apply(&src, h, w);
        assert_eq!(crop[0], src[w + 2]); // (1, 2)
        let mut turned = View::plain(4, (3.0, 4.0));
        turned.matrix = [[0.0, 1.0], [-1.0, 0.0]];
        let rot = turned.apply(&src, h, w);
        // Output (r, c) reads source (3 + (c-2), 4 - (r-2)).
        assert_eq!(rot[0], src[w + 6]);
        assert_eq!(rot[4 * 3 + 3], src[4 * w + 3]);
    }

    #[test]
    fn random_views_keep_mask_and_image_aligned() {
        let (h, w) = (64, 64);
        let mut mask = vec![0.0; h * w];
        for r in 20..40 {
            for c in 24..44 {
                mask[r * w + c] = 1.0;
            }
        }
        let image: Vec<f32> = mask.iter().map(|m| 0.2 + 0.6 * m).collect();
        let mut rng = Rng::new(5, 0);
        for _ in 0..20 {
            let view = View::random(&mut rng, 48, (30.0, 34.0));
            let m = view.apply(&mask, h, w);
            let i = view.apply(&image, h, w);
            for (mv, iv) in m.iter().zip(&i) {
                assert!((iv - (0.2 + 0.6 * mv)).abs() < 1e-4);
            }
        }
        let mut img = image.clone();
        degrade(&mut img, h, w, &mut rng);
        assert!(img.iter().all(|v| v.is_finite() && *v >= 0.0));
    }
}
