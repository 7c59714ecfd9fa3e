//! A class of a label volume as a closed triangle surface in patient millimetres, written as
//! binary STL (what 3-D printing and mesh tools read; Brain2print exports the same).
//!
//! Surface nets (the `fast-surface-nets` crate) on the class's indicator: −1 inside, +1
//! outside, the volume padded with background so every surface closes. Vertices go
//! through the volume's affine, so the mesh lands where the scan is in world (NIfTI RAS)
//! coordinates; triangles are wound with outward normals whatever the affine's handedness.

use fast_surface_nets::ndshape::{RuntimeShape, Shape};
use fast_surface_nets::{surface_nets, SurfaceNetsBuffer};

use crate::error::ImagingError;

/// A closed triangle mesh in millimetres.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    /// Vertex positions (x, y, z) in mm.
    pub vertices: Vec<[f32; 3]>,
    /// Triangles as vertex indices, wound counter-clockwise seen from outside.
    pub triangles: Vec<[u32; 3]>,
}

impl Surface {
    /// The enclosed volume in mm³ (divergence theorem; exact for a closed mesh).
    pub fn volume_mm3(&self) -> f64 {
        self.triangles
            .iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| self.vertices[i as usize].map(f64::from));
                let cross = [
                    b[1] * c[2] - b[2] * c[1],
                    b[2] * c[0] - b[0] * c[2],
                    b[0] * c[1] - b[1] * c[0],
                ];
                (a[0] * cross[0] + a[1] * cross[1] + a[2] * cross[2]) / 6.0
            })
            .sum()
    }

    /// Binary STL: an 80-byte header, the triangle count, then per triangle its unit normal,
    /// its three vertices and a zero attribute.
    pub fn to_stl(&self, header: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(84 + 50 * self.triangles.len());
        let mut head = [b' '; 80];
        for (slot, byte) in head.iter_mut().zip(header.bytes()) {
            *slot = byte;
        }
        out.extend_from_slice(&head);
        out.extend_from_slice(&(self.triangles.len() as u32).to_le_bytes());
        for t in &self.triangles {
            let [a, b, c] = t.map(|i| self.vertices[i as usize]);
            let (u, v) = (sub(b, a), sub(c, a));
            let n = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            let length = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2])
                .sqrt()
                .max(f32::MIN_POSITIVE);
            for value in n
                .map(|x| x / length)
                .iter()
                .chain(a.iter())
                .chain(&b)
                .chain(&c)
            {
                out.extend_from_slice(&value.to_le_bytes());
            }
            out.extend_from_slice(&[0, 0]);
        }
        out
    }
}

/// The classes 1..=255 that `labels` holds, in order (background, 0, has no surface to give).
pub fn classes_present(labels: &[u8]) -> Vec<u8> {
    let mut present = [false; 256];
    for &l in labels {
        present[usize::from(l)] = true;
    }
    (1..=255u8).filter(|&c| present[usize::from(c)]).collect()
}

/// `STEM.NAME.stl`, NAME the model's name for `class` in letters, digits and dashes (else
/// `classN`): what `unet predict --stl`, `unet mesh` and the page call a class's surface.
pub fn surface_file_name(stem: &str, class: u8, names: &[String]) -> String {
    let named = names.get(usize::from(class)).map(|n| {
        let part: String = n
            .chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        part.trim_matches('-').to_string()
    });
    match named.filter(|n| !n.is_empty()) {
        Some(name) => format!("{stem}.{name}.stl"),
        None => format!("{stem}.class{class}.stl"),
    }
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// The surface of `class` in `labels` (x fastest, `dims` voxels), placed by `affine` (voxel
/// index → mm). An absent class gives an empty surface.
///
/// # Errors
/// [`ImagingError::Measure`] if `labels` does not hold `dims` voxels or the padded grid is too
/// large to index.
pub fn class_surface(
    labels: &[u8],
    dims: [usize; 3],
    affine: &[[f64; 4]; 4],
    class: u8,
) -> Result<Surface, ImagingError> {
    let [nx, ny, nz] = dims;
    if labels.len() != nx * ny * nz {
        return Err(ImagingError::Measure(format!(
            "{} labels for {nx}×{ny}×{nz} voxels",
            labels.len()
        )));
    }
    // One background voxel below each axis and two above: the library makes no faces on a
    // grid's upper boundary, so that side needs an extra layer.
    let padded = [nx + 3, ny + 3, nz + 3];
    let too_large = || ImagingError::Measure(format!("{nx}×{ny}×{nz} voxels are too many to mesh"));
    let size = u32::try_from(padded.iter().product::<usize>()).map_err(|_| too_large())?;
    let shape = RuntimeShape::<u32, 3>::new(padded.map(|n| n as u32));
    let mut sdf = vec![1f32; size as usize];
    for z in 0..nz {
        for y in 0..ny {
            let row = (z * ny + y) * nx;
            for x in 0..nx {
                if labels[row + x] == class {
                    sdf[shape.linearize([x as u32 + 1, y as u32 + 1, z as u32 + 1]) as usize] =
                        -1.0;
                }
            }
        }
    }
    let mut buffer = SurfaceNetsBuffer::default();
    let max = padded.map(|n| n as u32 - 1);
    surface_nets(&sdf, &shape, [0; 3], max, &mut buffer);
    drop(sdf);

    let vertices: Vec<[f32; 3]> = buffer
        .positions
        .iter()
        .map(|p| {
            // Padded grid → voxel indices → mm.
            let ijk = p.map(|v| f64::from(v) - 1.0);
            let mm = |r: usize| {
                affine[r][0] * ijk[0] + affine[r][1] * ijk[1] + affine[r][2] * ijk[2] + affine[r][3]
            };
            [mm(0) as f32, mm(1) as f32, mm(2) as f32]
        })
        .collect();
    let triangles: Vec<[u32; 3]> = buffer
        .indices
        .chunks_exact(3)
        .map(|t| [t[0], t[1], t[2]])
        .collect();
    let mut surface = Surface {
        vertices,
        triangles,
    };
    // One consistent winding comes out; outward is whichever encloses a positive volume (a
    // mirroring affine or the library's convention could give the other).
    if surface.volume_mm3() < 0.0 {
        for t in &mut surface.triangles {
            t.swap(1, 2);
        }
    }
    Ok(surface)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ball(dims: [usize; 3], centre: [f64; 3], radius: f64) -> Vec<u8> {
        let mut labels = vec![0u8; dims.iter().product()];
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                for x in 0..dims[0] {
                    let d = [
                        x as f64 - centre[0],
                        y as f64 - centre[1],
                        z as f64 - centre[2],
                    ];
                    if d.iter().map(|v| v * v).sum::<f64>() <= radius * radius {
                        labels[(z * dims[1] + y) * dims[0] + x] = 2;
                    }
                }
            }
        }
        labels
    }

    #[test]
    fn a_ball_meshes_to_its_voxel_volume_in_millimetres() {
        let dims = [40, 36, 30];
        let labels = ball(dims, [20.0, 18.0, 15.0], 12.0);
        let voxels = labels.iter().filter(|&&l| l == 2).count() as f64;
        // Anisotropic voxels and a mirrored x axis (as in LAS data).
        let affine = [
            [-0.9, 0.0, 0.0, 50.0],
            [0.0, 1.1, 0.0, -20.0],
            [0.0, 0.0, 2.0, 5.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let surface = class_surface(&labels, dims, &affine, 2).unwrap();
        let voxel_mm3 = voxels * 0.9 * 1.1 * 2.0;
        let mesh_mm3 = surface.volume_mm3();
        assert!(
            (mesh_mm3 / voxel_mm3 - 1.0).abs() < 0.05,
            "{mesh_mm3} vs {voxel_mm3}"
        );
        // Centred where the affine puts the ball's centre.
        let n = surface.vertices.len() as f64;
        let mean_x = surface
            .vertices
            .iter()
            .map(|v| f64::from(v[0]))
            .sum::<f64>()
            / n;
        assert!((mean_x - (50.0 - 0.9 * 20.0)).abs() < 0.5, "{mean_x}");

        let stl = surface.to_stl("unet-web test");
        assert_eq!(stl.len(), 84 + 50 * surface.triangles.len());
        assert_eq!(
            u32::from_le_bytes(stl[80..84].try_into().unwrap()) as usize,
            surface.triangles.len()
        );
    }

    #[test]
    fn surfaces_are_named_by_class() {
        let names = ["background".to_string(), "Grey matter, left".to_string()];
        assert_eq!(surface_file_name("a", 1, &names), "a.grey-matter--left.stl");
        assert_eq!(surface_file_name("a", 2, &names), "a.class2.stl");
        assert_eq!(classes_present(&[0, 3, 1, 3]), [1, 3]);
    }

    #[test]
    fn a_class_touching_the_border_still_closes_and_an_absent_one_is_empty() {
        // Every voxel is of the class: the padding closes the surface at the volume's faces.
        let dims = [30, 24, 20];
        let labels = vec![1u8; 30 * 24 * 20];
        let identity = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        let full = class_surface(&labels, dims, &identity, 1).unwrap();
        let volume = full.volume_mm3();
        assert!((volume / 14_400.0 - 1.0).abs() < 0.05, "{volume}");
        let none = class_surface(&labels, dims, &identity, 3).unwrap();
        assert!(none.triangles.is_empty());
        assert!(class_surface(&labels[1..], dims, &identity, 1).is_err());
    }
}
