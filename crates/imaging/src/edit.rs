//! Mask editing primitives for the page's brush, eraser and fill: which pixels of a `width` ×
//! `height` slice a stroke or a fill covers. They return pixel indices (row-major) rather than
//! write, so the same stroke can go into a 2-D mask or through a volume's slicing into its
//! voxels, and the caller can record what it replaced for undo.

/// Pixels within `radius` of the segment `from`–`to` (pixel centres at `x + 0.5`), each once, in
/// increasing order: a brush dragged between two pointer events leaves no gaps. A radius below
/// 0.5 still covers the pixel under the pointer.
pub fn stroke_pixels(
    width: usize,
    height: usize,
    from: (f64, f64),
    to: (f64, f64),
    radius: f64,
) -> Vec<usize> {
    if width == 0
        || height == 0
        || ![from.0, from.1, to.0, to.1, radius]
            .iter()
            .all(|v| v.is_finite())
    {
        return Vec::new();
    }
    let r = radius.max(0.5);
    let clamp = |v: f64, n: usize| (v.max(0.0) as usize).min(n - 1);
    let (x0, x1) = (
        clamp(from.0.min(to.0) - r, width),
        clamp(from.0.max(to.0) + r, width),
    );
    let (y0, y1) = (
        clamp(from.1.min(to.1) - r, height),
        clamp(from.1.max(to.1) + r, height),
    );
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let length2 = dx * dx + dy * dy;
    let mut pixels = Vec::new();
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            // Distance from the pixel centre to the closest point of the segment.
            let t = if length2 > 0.0 {
                (((px - from.0) * dx + (py - from.1) * dy) / length2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (cx, cy) = (from.0 + t * dx - px, from.1 + t * dy - py);
            if cx * cx + cy * cy <= r * r {
                pixels.push(y * width + x);
            }
        }
    }
    pixels
}

/// The 4-connected region of `labels` (a `width`-wide row-major slice) holding the same class
/// as the pixel at `(x, y)`, in increasing order; empty outside the slice.
pub fn fill_region(labels: &[u8], width: usize, x: usize, y: usize) -> Vec<usize> {
    if width == 0 || x >= width || y * width + x >= labels.len() {
        return Vec::new();
    }
    let height = labels.len() / width;
    let class = labels[y * width + x];
    let mut seen = vec![false; labels.len()];
    let mut stack = vec![y * width + x];
    seen[y * width + x] = true;
    let mut region = Vec::new();
    while let Some(p) = stack.pop() {
        region.push(p);
        let (px, py) = (p % width, p / width);
        let mut visit = |q: usize| {
            if !seen[q] && labels[q] == class {
                seen[q] = true;
                stack.push(q);
            }
        };
        if px > 0 {
            visit(p - 1);
        }
        if px + 1 < width {
            visit(p + 1);
        }
        if py > 0 {
            visit(p - width);
        }
        if py + 1 < height {
            visit(p + width);
        }
    }
    region.sort_unstable();
    region
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dot_covers_the_disc_around_the_pointer() {
        // Radius 1.5 around the centre of pixel (5, 5): the pixel and its 8 neighbours
        // (corners at distance √2 ≈ 1.41), not the pixels two away.
        let p = stroke_pixels(11, 11, (5.5, 5.5), (5.5, 5.5), 1.5);
        let expected: Vec<usize> = (4..=6)
            .flat_map(|y| (4..=6).map(move |x| y * 11 + x))
            .collect();
        assert_eq!(p, expected);
        // The smallest brush is one pixel.
        assert_eq!(
            stroke_pixels(11, 11, (2.2, 3.7), (2.2, 3.7), 0.0),
            vec![3 * 11 + 2]
        );
    }

    #[test]
    fn a_drag_leaves_no_gap_and_stays_inside() {
        // A fast horizontal drag from x 0.5 to 9.5 on row 2, radius 0.5: the whole row.
        let p = stroke_pixels(10, 5, (0.5, 2.5), (9.5, 2.5), 0.5);
        assert_eq!(p, (20..30).collect::<Vec<_>>());
        // Past the edges: clipped, never out of bounds.
        let p = stroke_pixels(4, 4, (-10.0, -10.0), (20.0, 20.0), 1.0);
        assert!(p.iter().all(|&i| i < 16) && p.contains(&0) && p.contains(&15));
        assert!(stroke_pixels(4, 4, (f64::NAN, 0.0), (1.0, 1.0), 1.0).is_empty());
    }

    #[test]
    fn fill_takes_the_connected_region_of_the_seed_class_only() {
        // Two regions of class 1 separated by a column of 0; fill from the left one.
        #[rustfmt::skip]
        let labels = [
            1, 1, 0, 1,
            1, 0, 0, 1,
            0, 0, 1, 1,
        ];
        assert_eq!(fill_region(&labels, 4, 0, 0), vec![0, 1, 4]);
        assert_eq!(fill_region(&labels, 4, 3, 0), vec![3, 7, 10, 11]);
        // The background region, 4-connected (diagonals do not join).
        assert_eq!(fill_region(&labels, 4, 2, 0), vec![2, 5, 6, 8, 9]);
        assert!(fill_region(&labels, 4, 4, 0).is_empty());
        assert!(fill_region(&labels, 4, 0, 3).is_empty());
    }
}
