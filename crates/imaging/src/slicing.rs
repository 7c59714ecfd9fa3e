//! Cutting a volume into 2-D slices in a plane, in the usual radiological display orientation,
//! and putting per-slice results back: one geometry for reading and writing, so a label map
//! lands exactly on the voxels its slices came from.

use crate::nifti::Volume;

/// A slicing direction, named by the patient's anatomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plane {
    /// Perpendicular to superior–inferior: anterior at the top, the patient's right on the left.
    Axial,
    /// Perpendicular to anterior–posterior: superior at the top, the patient's right on the left.
    Coronal,
    /// Perpendicular to left–right: superior at the top, anterior on the left.
    Sagittal,
}

impl Plane {
    /// All three, in a fixed order.
    pub const ALL: [Plane; 3] = [Plane::Axial, Plane::Coronal, Plane::Sagittal];

    /// Lower-case name, as model cards and flags spell it.
    pub fn name(self) -> &'static str {
        match self {
            Plane::Axial => "axial",
            Plane::Coronal => "coronal",
            Plane::Sagittal => "sagittal",
        }
    }

    /// Parses a lower-case name.
    pub fn from_name(name: &str) -> Option<Plane> {
        Plane::ALL.into_iter().find(|p| p.name() == name)
    }

    /// World (RAS) axes of: the slice normal, image rows (top = the axis' positive end), and
    /// image columns (left = the axis' positive end).
    fn world_axes(self) -> [usize; 3] {
        const R: usize = 0;
        const A: usize = 1;
        const S: usize = 2;
        match self {
            Plane::Axial => [S, A, R],
            Plane::Coronal => [A, S, R],
            Plane::Sagittal => [R, S, A],
        }
    }
}

/// How slices of one plane map onto a volume's voxels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slicing {
    dims: [usize; 3],
    /// Voxel axis along the slice normal, and whether its index runs opposite to the world axis.
    normal: (usize, bool),
    /// Voxel axis down the rows.
    rows: (usize, bool),
    /// Voxel axis across the columns.
    cols: (usize, bool),
}

impl Slicing {
    /// The slicing of `plane` for a volume with this size and voxel-to-world affine. Each voxel
    /// axis is matched to the world axis it points along most (an oblique volume is cut along
    /// its nearest voxel axes, as viewers do without resampling).
    pub fn new(dims: [usize; 3], affine: &[[f64; 4]; 4], plane: Plane) -> Slicing {
        // Greedy: strongest (voxel axis, world axis) pairs first, so the result is a permutation.
        let mut pairs: Vec<(f64, usize, usize)> = (0..3)
            .flat_map(|v| (0..3).map(move |w| (v, w)))
            .map(|(v, w)| (affine[w][v].abs(), v, w))
            .collect();
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut voxel_of_world = [usize::MAX; 3];
        let mut used = [false; 3];
        for (_, v, w) in pairs {
            if !used[v] && voxel_of_world[w] == usize::MAX {
                used[v] = true;
                voxel_of_world[w] = v;
            }
        }
        let axis = |world: usize| {
            let v = voxel_of_world[world];
            (v, affine[world][v] < 0.0)
        };
        let [n, r, c] = plane.world_axes();
        Slicing {
            dims,
            normal: axis(n),
            rows: axis(r),
            cols: axis(c),
        }
    }

    /// Slices in this plane.
    pub fn count(&self) -> usize {
        self.dims[self.normal.0]
    }

    /// (rows, columns) of each slice.
    pub fn shape(&self) -> (usize, usize) {
        (self.dims[self.rows.0], self.dims[self.cols.0])
    }

    /// Linear voxel index (x fastest) shown at (`row`, `col`) of slice `index` (0 = the world
    /// axis' negative end: inferior, posterior or left).
    pub fn voxel(&self, index: usize, row: usize, col: usize) -> usize {
        let mut ijk = [0usize; 3];
        // Slice 0 at the negative end; rows and columns start at the positive end.
        let place = |(axis, reversed): (usize, bool), display: usize, from_positive: bool| {
            let n = self.dims[axis];
            let toward_positive = if from_positive {
                n - 1 - display
            } else {
                display
            };
            (
                axis,
                if reversed {
                    n - 1 - toward_positive
                } else {
                    toward_positive
                },
            )
        };
        for (axis, value) in [
            place(self.normal, index, false),
            place(self.rows, row, true),
            place(self.cols, col, true),
        ] {
            ijk[axis] = value;
        }
        ijk[0] + self.dims[0] * (ijk[1] + self.dims[1] * ijk[2])
    }

    /// Where linear voxel `voxel` shows in this plane: (slice index, row, column), the inverse
    /// of [`Slicing::voxel`]. A three-plane view uses it to put each plane's slice through the
    /// same point.
    pub fn locate(&self, voxel: usize) -> (usize, usize, usize) {
        let ijk = [
            voxel % self.dims[0],
            voxel / self.dims[0] % self.dims[1],
            voxel / (self.dims[0] * self.dims[1]),
        ];
        let display = |(axis, reversed): (usize, bool), from_positive: bool| {
            let n = self.dims[axis];
            let toward_positive = if reversed {
                n - 1 - ijk[axis]
            } else {
                ijk[axis]
            };
            if from_positive {
                n - 1 - toward_positive
            } else {
                toward_positive
            }
        };
        (
            display(self.normal, false),
            display(self.rows, true),
            display(self.cols, true),
        )
    }

    /// Slice `index` of `data` (one frame, x fastest), row-major.
    pub fn extract<T: Copy>(&self, data: &[T], index: usize) -> Vec<T> {
        let (h, w) = self.shape();
        (0..h * w)
            .map(|p| data[self.voxel(index, p / w, p % w)])
            .collect()
    }

    /// Writes a row-major slice back into `data` at slice `index`.
    pub fn store<T: Copy>(&self, data: &mut [T], index: usize, slice: &[T]) {
        let (h, w) = self.shape();
        for (p, &v) in slice.iter().enumerate().take(h * w) {
            data[self.voxel(index, p / w, p % w)] = v;
        }
    }
}

impl Volume {
    /// The slicing of this volume in `plane`.
    pub fn slicing(&self, plane: Plane) -> Slicing {
        Slicing::new(self.dims, &self.affine, plane)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_inverts_voxel_in_every_plane() {
        // A mirrored, permuted affine: x → -y, y → z, z → -x.
        let affine = [
            [0.0, 0.0, -2.0, 0.0],
            [-1.0, 0.0, 0.0, 0.0],
            [0.0, 1.5, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let dims = [5, 4, 3];
        for plane in [Plane::Axial, Plane::Coronal, Plane::Sagittal] {
            let slicing = Slicing::new(dims, &affine, plane);
            let (h, w) = slicing.shape();
            for index in 0..slicing.count() {
                for row in 0..h {
                    for col in 0..w {
                        let v = slicing.voxel(index, row, col);
                        assert_eq!(slicing.locate(v), (index, row, col), "{plane:?}");
                    }
                }
            }
        }
    }

    const RAS: [[f64; 4]; 4] = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];

    #[test]
    fn ras_volumes_display_radiologically() {
        let dims = [4, 3, 2]; // x (R), y (A), z (S)
        let axial = Slicing::new(dims, &RAS, Plane::Axial);
        assert_eq!((axial.count(), axial.shape()), (2, (3, 4)));
        // Top-left of an axial slice: most anterior (y = 2), patient's right (x = 3).
        assert_eq!(axial.voxel(1, 0, 0), 23); // (3, 2, 1)
        let coronal = Slicing::new(dims, &RAS, Plane::Coronal);
        assert_eq!(coronal.shape(), (2, 4));
        assert_eq!(coronal.voxel(0, 0, 0), 15); // (3, 0, 1): superior, right
        let sagittal = Slicing::new(dims, &RAS, Plane::Sagittal);
        assert_eq!(sagittal.shape(), (2, 3));
        assert_eq!(sagittal.voxel(0, 1, 0), 8); // (0, 2, 0): inferior, anterior, left-most slice
    }

    #[test]
    fn a_flipped_and_permuted_volume_shows_the_same_anatomy() {
        // The same 3×3×3 anatomy stored LPS with axes permuted (k = R, i = A, j = S), reversed.
        let ras: Vec<u32> = (0..27).collect();
        let lps_perm = [
            [0.0, 0.0, -1.0, 0.0],
            [-1.0, 0.0, 0.0, 0.0],
            [0.0, -1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        // Voxel (i, j, k) of the second volume is world (R = 2-k, A = 2-i, S = 2-j).
        let mut other = vec![0u32; 27];
        for k in 0..3 {
            for j in 0..3 {
                for i in 0..3 {
                    let (x, y, z) = (2 - k, 2 - i, 2 - j);
                    other[i + 3 * (j + 3 * k)] = ras[x + 3 * (y + 3 * z)];
                }
            }
        }
        for plane in Plane::ALL {
            let a = Slicing::new([3, 3, 3], &RAS, plane);
            let b = Slicing::new([3, 3, 3], &lps_perm, plane);
            for s in 0..3 {
                assert_eq!(a.extract(&ras, s), b.extract(&other, s), "{plane:?} {s}");
            }
        }
    }

    #[test]
    fn store_puts_a_slice_back_where_it_came_from() {
        let dims = [5, 4, 3];
        let data: Vec<u16> = (0..60).collect();
        for plane in Plane::ALL {
            let s = Slicing::new(dims, &RAS, plane);
            let mut copy = vec![0u16; 60];
            for i in 0..s.count() {
                s.store(&mut copy, i, &s.extract(&data, i));
            }
            assert_eq!(copy, data, "{plane:?}");
        }
    }
}
