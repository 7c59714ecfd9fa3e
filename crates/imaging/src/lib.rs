//! Bytes in, typed image out: decoding, preprocessing and mask encoding for
//! unet-web.
//!
//! Shared by the browser app and the `unet` CLI so that one file gives the
//! same model input and the same mask everywhere. Deliberately free of burn
//! and web-sys: it compiles unchanged for native targets and
//! `wasm32-unknown-unknown`.

#![warn(missing_docs)]

mod decode;
mod decoded;
mod dicom;
mod edit;
mod error;
mod guard;
mod labels;
mod mask;
mod medical;
mod mesh;
mod morphology;
mod nifti;
mod normalize;
mod npy;
mod postprocess;
mod preprocess;
mod raster;
mod slicing;
mod stats;
#[cfg(test)]
mod test_support;
mod volume_seg;
// openjp2's C library calls, which wasm32-unknown-unknown lacks: for every wasm module that
// links this crate (the page's and the threaded engine's alike).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod wasm_libc;

pub use decode::decode_image;
pub use decoded::{Content, Decoded, DecodedGroup, FileInfo, Window};
pub use dicom::{
    decode_dicom, encode_dicom_seg, is_dicom, DicomReference, SegOrigin, Segment, SourceFrame,
    StudyIds,
};
pub use edit::{fill_region, stroke_pixels};
pub use error::ImagingError;
pub use guard::MAX_PIXELS;
pub use labels::{slice_image, LabelVolume};
pub use mask::{
    display_rgba, encode_gray_png, encode_mask_png, encode_rgba_png, mask_above, mask_from_logits,
    overlay_rgba, Mask, DEFAULT_COLOURS,
};
pub use medical::{decode_file, decode_files, file_stem, orientation_codes};
pub use mesh::{class_surface, classes_present, surface_file_name, Surface};
pub use morphology::open;
pub use nifti::{decode_nifti, encode_nifti_u8, encode_nifti_u8_gz, is_nifti, Volume, MAX_VOXELS};
pub use normalize::{volume_normalization, Normalization};
pub use npy::{decode_npy_f32, encode_npy_f32};
pub use postprocess::{apply as postprocess, fill_holes, keep_largest_component, PostStep};
pub use preprocess::{to_planes, Planes};
pub use raster::{BitDepth, Channels, Image};
pub use slicing::{Plane, Slicing};
pub use stats::{class_stats, grey_values, stats_csv, Cell, ClassStats};
pub use volume_seg::{PlaneChoice, VolumeSegmenter};
