//! Volumes through a 2-D model: the slice image a model is given, and the per-slice masks back
//! as one label volume in the input's voxel order. The CLI and the app both cut and reassemble
//! here, so a volume segmented in the browser and by `unet predict` gives the same label map.

use crate::encode_nifti_u8_gz;
use crate::nifti::Volume;
use crate::raster::{BitDepth, Channels, Image};
use crate::slicing::Slicing;

/// Slice `index` of frame `frame`, cut by `slicing`, as the grey 2-D image a model is given.
/// An 8-bit volume (NIfTI datatype 2) is an 8-bit image, so milesial's `/255` rule applies to it
/// as to a PNG; every other datatype keeps its values as `f32`.
///
/// # Panics
/// If `frame` or `index` is out of range.
pub fn slice_image(volume: &Volume, frame: usize, slicing: &Slicing, index: usize) -> Image {
    let (height, width) = slicing.shape();
    Image {
        width: width as u32,
        height: height as u32,
        channels: Channels::Gray,
        bit_depth: if volume.datatype == 2 {
            BitDepth::U8
        } else {
            BitDepth::F32
        },
        format: "NIfTI",
        pixels: slicing.extract(volume.frame(frame), index),
    }
}

/// A uint8 label volume with `volume`'s voxel grid, filled slice by slice.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelVolume {
    dims: [usize; 3],
    spacing: [f32; 3],
    affine: [[f64; 4]; 4],
    /// Class index per voxel, x fastest (NIfTI order); 0 where no slice was stored.
    pub data: Vec<u8>,
}

impl LabelVolume {
    /// All-background labels on `volume`'s grid.
    pub fn new(volume: &Volume) -> LabelVolume {
        LabelVolume {
            dims: volume.dims,
            spacing: volume.spacing,
            affine: volume.affine,
            data: vec![0; volume.voxels()],
        }
    }

    /// Voxels along i, j, k.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Voxel size along i, j, k in mm.
    pub fn spacing(&self) -> [f32; 3] {
        self.spacing
    }

    /// Puts the row-major mask of slice `index` (as cut by `slicing`) onto its voxels.
    pub fn store(&mut self, slicing: &Slicing, index: usize, mask: &[u8]) {
        slicing.store(&mut self.data, index, mask);
    }

    /// The `.nii.gz` label map (NIfTI-1, uint8) with the input's dimensions, spacing and affine.
    pub fn encode_nifti_gz(&self) -> Vec<u8> {
        encode_nifti_u8_gz(self.dims, self.spacing, &self.affine, &self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_nifti, Plane};

    fn volume(datatype: i16) -> Volume {
        Volume {
            dims: [4, 3, 2],
            frames: 2,
            spacing: [1.0, 2.0, 3.0],
            affine: [
                [-1.0, 0.0, 0.0, 10.0],
                [0.0, 2.0, 0.0, -5.0],
                [0.0, 0.0, 3.0, 1.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            data: (0..48).map(|v| v as f32).collect(),
            datatype,
            version: 1,
        }
    }

    #[test]
    fn slices_keep_the_volume_values_and_bit_depth() {
        let v = volume(4);
        let slicing = v.slicing(Plane::Axial);
        let image = slice_image(&v, 1, &slicing, 0);
        assert_eq!((image.height, image.width), (3, 4));
        assert_eq!(image.bit_depth, BitDepth::F32);
        assert_eq!(image.pixels, slicing.extract(v.frame(1), 0));
        assert_eq!(
            slice_image(&volume(2), 0, &slicing, 0).bit_depth,
            BitDepth::U8
        );
    }

    #[test]
    fn stored_masks_come_back_with_the_input_geometry() {
        let v = volume(4);
        for plane in Plane::ALL {
            let slicing = v.slicing(plane);
            let mut labels = LabelVolume::new(&v);
            for index in 0..slicing.count() {
                let cut = slicing.extract(v.frame(0), index);
                let mask: Vec<u8> = cut.iter().map(|&x| (x as u8) % 3).collect();
                labels.store(&slicing, index, &mask);
            }
            let expected: Vec<u8> = (0..24).map(|x| (x % 3) as u8).collect();
            assert_eq!(labels.data, expected, "{plane:?}");
            let back = decode_nifti(&labels.encode_nifti_gz()).unwrap();
            assert_eq!((back.dims, back.spacing), (v.dims, v.spacing));
            assert_eq!(back.affine, v.affine);
            assert_eq!(
                back.data,
                expected.iter().map(|&x| x as f32).collect::<Vec<_>>()
            );
        }
    }
}
