//! `unet mesh` and `unet predict --stl`: closed STL surfaces in the scan's millimetres whose
//! enclosed volume is the class's voxel volume within 5 %. The STL is read back here from its
//! bytes (binary STL: 80-byte header, count, 50 bytes a triangle), not through unet's code.

mod common;

use common::{ok, root, scratch, text, unet};
use std::path::Path;

/// Triangles of a binary STL file, each as three vertices.
fn read_stl(path: &Path) -> Vec<[[f64; 3]; 3]> {
    let bytes = std::fs::read(path).unwrap();
    let count = u32::from_le_bytes(bytes[80..84].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 84 + 50 * count, "{}", path.display());
    let f = |at: usize| f64::from(f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
    (0..count)
        .map(|t| {
            let at = 84 + 50 * t + 12; // past the normal
            [0, 1, 2].map(|v| [0, 1, 2].map(|c| f(at + 12 * v + 4 * c)))
        })
        .collect()
}

/// Enclosed volume (divergence theorem) and the mean vertex.
fn volume_and_centre(triangles: &[[[f64; 3]; 3]]) -> (f64, [f64; 3]) {
    let mut volume = 0.0;
    let mut centre = [0.0; 3];
    for [a, b, c] in triangles {
        volume += (a[0] * (b[1] * c[2] - b[2] * c[1])
            + a[1] * (b[2] * c[0] - b[0] * c[2])
            + a[2] * (b[0] * c[1] - b[1] * c[0]))
            / 6.0;
        for v in [a, b, c] {
            for k in 0..3 {
                centre[k] += v[k] / (3 * triangles.len()) as f64;
            }
        }
    }
    (volume, centre)
}

#[test]
fn a_label_map_meshes_to_its_voxel_volume_where_the_scan_is() {
    let dir = scratch("mesh");
    // Two balls of classes 1 and 2 on a 0.8 × 0.9 × 1.5 mm grid with a mirrored x axis.
    let dims = [60, 56, 40];
    let spacing = [0.8f32, 0.9, 1.5];
    let affine = [
        [-0.8, 0.0, 0.0, 30.0],
        [0.0, 0.9, 0.0, -25.0],
        [0.0, 0.0, 1.5, -10.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let mut labels = vec![0u8; 60 * 56 * 40];
    let balls = [
        (1u8, [18.0, 28.0, 20.0], 12.0),
        (2, [44.0, 28.0, 20.0], 9.0),
    ];
    for z in 0..40 {
        for y in 0..56 {
            for x in 0..60 {
                for (class, c, r) in balls {
                    let d2 = (x as f64 - c[0]).powi(2)
                        + (y as f64 - c[1]).powi(2)
                        + ((z as f64 - c[2]) * 1.5 / 0.8).powi(2);
                    if d2 <= r * r {
                        labels[(z * 56 + y) * 60 + x] = class;
                    }
                }
            }
        }
    }
    let mask = dir.join("balls.mask.nii.gz");
    let nifti = unet_imaging::encode_nifti_u8_gz(dims, spacing, &affine, &labels);
    std::fs::write(&mask, nifti).unwrap();
    let out = dir.join("meshes");
    let printed = ok(&unet(&[
        "mesh",
        &mask.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]));
    assert_eq!(printed.lines().count(), 2, "{printed}");
    for (class, c, _) in balls {
        let triangles = read_stl(&out.join(format!("balls.class{class}.stl")));
        let (volume, centre) = volume_and_centre(&triangles);
        let voxels = labels.iter().filter(|&&l| l == class).count() as f64;
        let voxel_mm3 = voxels * 0.8 * 0.9 * 1.5;
        assert!(
            (volume / voxel_mm3 - 1.0).abs() < 0.05,
            "class {class}: mesh {volume:.0} mm³, voxels {voxel_mm3:.0} mm³"
        );
        let want = [30.0 - 0.8 * c[0], -25.0 + 0.9 * c[1], -10.0 + 1.5 * c[2]];
        for k in 0..3 {
            assert!(
                (centre[k] - want[k]).abs() < 1.0,
                "class {class}: centre {centre:?} vs {want:?}"
            );
        }
    }
    // A second run does not replace them without --force.
    let again = unet(&[
        "mesh",
        &mask.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("--force"));
}

#[test]
fn predict_writes_a_surface_per_class_of_a_volume() {
    let dir = scratch("predict-stl");
    let model = root().join("assets/models/brain-extraction.unet.safetensors");
    let volume = root().join("data/fixtures/nibabel/anatomical.nii");
    let run = ok(&unet(&[
        "predict",
        "--model",
        &model.display().to_string(),
        "--plane",
        "sagittal",
        "--stl",
        "--stats",
        "--out",
        &dir.display().to_string(),
        &volume.display().to_string(),
    ]));
    assert!(run.contains("anatomical.brain.stl"), "{run}");
    let triangles = read_stl(&dir.join("anatomical.brain.stl"));
    let (volume, _) = volume_and_centre(&triangles);
    let csv = std::fs::read_to_string(dir.join("anatomical.stats.csv")).unwrap();
    let brain_ml: f64 = csv
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    assert!(volume > 0.0 && brain_ml > 0.0, "{volume} mm³, {csv}");
}
