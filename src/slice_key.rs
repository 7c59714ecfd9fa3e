//! Which slice of which volume: the key of the per-slice mask cache and of a slice's edits.

use unet_imaging::Plane;

/// One slice of one volume item: the key of the per-slice mask cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceKey {
    /// The item.
    pub item: u64,
    /// Volume of a 4-D file.
    pub frame: usize,
    /// Cutting plane.
    pub plane: Plane,
    /// Slice in that plane (0 = inferior, posterior or left).
    pub index: usize,
}
