//! NIfTI-1 and NIfTI-2 volumes (`.nii`, `.nii.gz`): header, scaling and the voxel-to-world affine.
//!
//! Read from bytes so the browser and the CLI share it. Sizes come from the header, so every
//! allocation is checked against [`MAX_VOXELS`] and against what the file can actually hold
//! before it is made: a hostile header cannot make us reserve gigabytes.

use std::io::Read;

use crate::error::ImagingError;
use header::Header;

mod header;

/// Largest volume accepted, in voxels over all frames: 512³ (a 2 GiB `f32` buffer at most,
/// the practical ceiling of a wasm32 tab).
pub const MAX_VOXELS: u64 = 512 * 512 * 512;

/// A decoded volume: voxel values after `scl_slope`/`scl_inter`, x fastest (NIfTI order).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Voxels along i, j, k.
    pub dims: [usize; 3],
    /// Volumes in a 4-D file (1 for 3-D).
    pub frames: usize,
    /// Voxel size in millimetres along i, j, k.
    pub spacing: [f32; 3],
    /// Voxel (i, j, k) to world (x, y, z) in millimetres, RAS+: sform if set, else qform,
    /// else a plain scaling by the spacing.
    pub affine: [[f64; 4]; 4],
    /// `dims[0]·dims[1]·dims[2]·frames` values.
    pub data: Vec<f32>,
    /// The NIfTI datatype code of the stored voxels.
    pub datatype: i16,
    /// NIfTI-1 or NIfTI-2.
    pub version: u8,
}

impl Volume {
    /// Bytes its decoded samples take (32-bit floats).
    pub fn bytes(&self) -> u64 {
        self.data.len() as u64 * 4
    }

    /// Voxels per frame.
    pub fn voxels(&self) -> usize {
        self.dims.iter().product()
    }

    /// One frame's values.
    pub fn frame(&self, t: usize) -> &[f32] {
        let n = self.voxels();
        &self.data[t * n..(t + 1) * n]
    }

    /// The value at voxel (i, j, k) of frame 0.
    pub fn at(&self, i: usize, j: usize, k: usize) -> f32 {
        self.data[i + self.dims[0] * (j + self.dims[1] * k)]
    }
}

/// Whether `bytes` look like a NIfTI file (plain or gzipped; for gzip only the wrapper is checked).
pub fn is_nifti(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b]) || Header::parse(bytes).is_ok()
}

/// Decodes a `.nii` or `.nii.gz` file.
///
/// # Errors
/// [`ImagingError::Nifti`] for a file that is not NIfTI, is truncated, or uses a datatype this
/// reader does not handle (complex and RGB voxels); [`ImagingError::TooLarge`]-style limits are
/// reported as `Nifti` messages naming [`MAX_VOXELS`].
pub fn decode_nifti(bytes: &[u8]) -> Result<Volume, ImagingError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::read::MultiGzDecoder::new(bytes);
        // The header first: it says how much the rest may inflate to.
        let mut head = Vec::with_capacity(544);
        (&mut gz)
            .take(540)
            .read_to_end(&mut head)
            .map_err(|e| nifti_err(format!("the gzip stream is corrupt ({e})")))?;
        let header = Header::parse(&head)?;
        let need = header.data_end()?;
        // Reserved no further than the stream could inflate to (deflate peaks at 1032:1), so
        // a few compressed bytes claiming gigabytes cannot reserve them; the read stops at
        // the end of the stream, and the size check below reports the shortfall.
        let reserve = need.min(head.len() + bytes.len().saturating_mul(1032));
        let mut all = Vec::new();
        all.try_reserve_exact(reserve)
            .map_err(|_| nifti_err(format!("not enough memory for {need} bytes")))?;
        all.extend_from_slice(&head);
        (&mut gz)
            .take((need - head.len().min(need)) as u64)
            .read_to_end(&mut all)
            .map_err(|e| nifti_err(format!("the gzip stream is corrupt ({e})")))?;
        return header.read_voxels(&all);
    }
    Header::parse(bytes)?.read_voxels(bytes)
}

fn nifti_err(msg: impl Into<String>) -> ImagingError {
    ImagingError::Nifti(msg.into())
}

impl Header {
    fn read_voxels(&self, bytes: &[u8]) -> Result<Volume, ImagingError> {
        let end = self.data_end()?;
        if bytes.len() < end {
            return Err(nifti_err(format!(
                "the file is truncated: the header needs {end} bytes, the file has {}",
                bytes.len()
            )));
        }
        let n = self.voxel_count()? as usize;
        let raw = &bytes[self.vox_offset as usize..end];
        let bpv = self.bytes_per_voxel()?;
        let mut data = Vec::new();
        data.try_reserve_exact(n)
            .map_err(|_| nifti_err(format!("not enough memory for {n} voxels")))?;
        let big = self.big_endian;
        let word = |c: &[u8]| -> [u8; 8] {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            if big {
                b[..c.len()].reverse();
            }
            b
        };
        for c in raw.chunks_exact(bpv) {
            let b = word(c);
            let v = match self.datatype {
                2 => b[0] as f64,
                256 => b[0] as i8 as f64,
                4 => i16::from_le_bytes([b[0], b[1]]) as f64,
                512 => u16::from_le_bytes([b[0], b[1]]) as f64,
                8 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                768 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                16 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                64 => f64::from_le_bytes(b),
                1024 => i64::from_le_bytes(b) as f64,
                _ => u64::from_le_bytes(b) as f64,
            };
            data.push(v);
        }
        // scl_slope = 0 means "no scaling" (the standard says so).
        let (slope, inter) = if self.scl_slope.is_finite() && self.scl_slope != 0.0 {
            let inter = if self.scl_inter.is_finite() {
                self.scl_inter
            } else {
                0.0
            };
            (self.scl_slope, inter)
        } else {
            (1.0, 0.0)
        };
        let data = data
            .into_iter()
            .map(|v| (v * slope + inter) as f32)
            .collect();
        let frames: u64 = self.dims[4..8].iter().product();
        Ok(Volume {
            dims: [
                self.dims[1] as usize,
                self.dims[2] as usize,
                self.dims[3] as usize,
            ],
            frames: frames as usize,
            spacing: [1, 2, 3].map(|i| {
                let p = self.pixdim[i].abs();
                if p.is_finite() && p > 0.0 {
                    p as f32
                } else {
                    1.0
                }
            }),
            affine: self.affine(),
            data,
            datatype: self.datatype,
            version: self.version,
        })
    }
}

/// Writes a `uint8` label map (`.nii`; gzip it for `.nii.gz`) with the given geometry: NIfTI-1,
/// or NIfTI-2 when an axis is longer than NIfTI-1's 16-bit dimensions hold (32,767).
pub fn encode_nifti_u8(
    dims: [usize; 3],
    spacing: [f32; 3],
    affine: &[[f64; 4]; 4],
    data: &[u8],
) -> Vec<u8> {
    if dims.iter().any(|&d| d > i16::MAX as usize) {
        return encode_nifti2_u8(dims, spacing, affine, data);
    }
    let mut h = vec![0u8; 352];
    let put = |h: &mut Vec<u8>, at: usize, b: &[u8]| h[at..at + b.len()].copy_from_slice(b);
    put(&mut h, 0, &348i32.to_le_bytes());
    // Each axis fits: checked above.
    let d = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1].map(|v| v as i16);
    for (i, v) in d.iter().enumerate() {
        put(&mut h, 40 + 2 * i, &v.to_le_bytes());
    }
    put(&mut h, 70, &2i16.to_le_bytes()); // uint8
    put(&mut h, 72, &8i16.to_le_bytes());
    let p = [
        1.0f32, spacing[0], spacing[1], spacing[2], 0.0, 0.0, 0.0, 0.0,
    ];
    for (i, v) in p.iter().enumerate() {
        put(&mut h, 76 + 4 * i, &v.to_le_bytes());
    }
    put(&mut h, 108, &352f32.to_le_bytes());
    put(&mut h, 112, &1f32.to_le_bytes());
    put(&mut h, 254, &2i16.to_le_bytes()); // sform: aligned
    for (r, row) in affine.iter().take(3).enumerate() {
        for (c, value) in row.iter().enumerate() {
            put(&mut h, 280 + 16 * r + 4 * c, &(*value as f32).to_le_bytes());
        }
    }
    put(&mut h, 344, b"n+1\0");
    h.extend_from_slice(data);
    h
}

/// The NIfTI-2 form of [`encode_nifti_u8`]: 64-bit dimensions and double-precision geometry.
fn encode_nifti2_u8(
    dims: [usize; 3],
    spacing: [f32; 3],
    affine: &[[f64; 4]; 4],
    data: &[u8],
) -> Vec<u8> {
    let mut h = vec![0u8; 544];
    let put = |h: &mut Vec<u8>, at: usize, b: &[u8]| h[at..at + b.len()].copy_from_slice(b);
    put(&mut h, 0, &540i32.to_le_bytes());
    put(&mut h, 4, b"n+2\0\r\n\x1a\n");
    put(&mut h, 12, &2i16.to_le_bytes()); // uint8
    put(&mut h, 14, &8i16.to_le_bytes());
    let d = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1];
    for (i, v) in d.iter().enumerate() {
        put(&mut h, 16 + 8 * i, &(*v as i64).to_le_bytes());
    }
    let p = [1.0, spacing[0], spacing[1], spacing[2], 0.0, 0.0, 0.0, 0.0];
    for (i, v) in p.iter().enumerate() {
        put(&mut h, 104 + 8 * i, &f64::from(*v).to_le_bytes());
    }
    put(&mut h, 168, &544i64.to_le_bytes());
    put(&mut h, 176, &1f64.to_le_bytes());
    put(&mut h, 348, &2i32.to_le_bytes()); // sform: aligned
    for (r, row) in affine.iter().take(3).enumerate() {
        for (c, value) in row.iter().enumerate() {
            put(&mut h, 400 + 32 * r + 8 * c, &value.to_le_bytes());
        }
    }
    put(&mut h, 500, &2i32.to_le_bytes()); // millimetres
    h.extend_from_slice(data);
    h
}

/// [`encode_nifti_u8`], gzipped: the `.nii.gz` label map that viewers open.
pub fn encode_nifti_u8_gz(
    dims: [usize; 3],
    spacing: [f32; 3],
    affine: &[[f64; 4]; 4],
    data: &[u8],
) -> Vec<u8> {
    gzip(&encode_nifti_u8(dims, spacing, affine, data))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    enc.write_all(bytes).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affine() -> [[f64; 4]; 4] {
        [
            [-2.0, 0.0, 0.0, 90.0],
            [0.0, 2.0, 0.0, -126.0],
            [0.0, 0.0, 3.0, -72.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    }

    #[test]
    fn an_axis_beyond_32767_is_written_as_nifti2() {
        let dims = [40_000, 1, 2];
        let data: Vec<u8> = (0..80_000).map(|i| (i % 7) as u8).collect();
        let file = encode_nifti_u8(dims, [0.5, 1.0, 2.0], &affine(), &data);
        assert_eq!(&file[..4], &540i32.to_le_bytes());
        let back = decode_nifti(&file).unwrap();
        assert_eq!(back.dims, dims);
        assert_eq!(back.affine, affine());
        assert_eq!(back.frame(0).len(), data.len());
        assert!(back
            .frame(0)
            .iter()
            .zip(&data)
            .all(|(&a, &b)| a == f32::from(b)));
        // Below the limit the same call stays NIfTI-1.
        let small = encode_nifti_u8([4, 3, 2], [1.0; 3], &affine(), &[0; 24]);
        assert_eq!(&small[..4], &348i32.to_le_bytes());
    }

    #[test]
    fn label_map_round_trips_with_geometry_plain_and_gzipped() {
        let data: Vec<u8> = (0..4 * 3 * 2).map(|v| (v % 3) as u8).collect();
        let file = encode_nifti_u8([4, 3, 2], [2.0, 2.0, 3.0], &affine(), &data);
        for bytes in [file.clone(), gzip(&file)] {
            let v = decode_nifti(&bytes).unwrap();
            assert_eq!(v.dims, [4, 3, 2]);
            assert_eq!(v.frames, 1);
            assert_eq!(v.spacing, [2.0, 2.0, 3.0]);
            assert_eq!(v.affine, affine());
            assert_eq!(v.data, data.iter().map(|&b| b as f32).collect::<Vec<_>>());
            assert_eq!(v.at(3, 2, 1), data[3 + 4 * (2 + 3)] as f32);
        }
    }

    #[test]
    fn truncated_and_foreign_files_get_one_line_messages() {
        let data = vec![1u8; 64];
        let file = encode_nifti_u8([4, 4, 4], [1.0; 3], &affine(), &data);
        let cases: Vec<Vec<u8>> = vec![
            file[..file.len() - 1].to_vec(),
            gzip(&file[..file.len() - 10]),
            file[..200].to_vec(),
            b"\x89PNG\r\n\x1a\n not nifti at all, but long enough to be read as a header ...."
                .repeat(8),
            gzip(b"short"),
            vec![0x1f, 0x8b, 0, 0, 0],
        ];
        for bytes in cases {
            let msg = decode_nifti(&bytes).unwrap_err().to_string();
            assert!(msg.contains("NIfTI"), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn a_header_claiming_a_huge_volume_is_refused_before_allocating() {
        let mut file = encode_nifti_u8([4, 4, 4], [1.0; 3], &affine(), &[0; 64]);
        for i in 1..=3 {
            file[40 + 2 * i..42 + 2 * i].copy_from_slice(&30000i16.to_le_bytes());
        }
        let msg = decode_nifti(&gzip(&file)).unwrap_err().to_string();
        assert!(msg.contains("limit"), "{msg}");
    }

    #[test]
    fn scaling_and_big_endian_int16_are_applied() {
        // Build a big-endian int16 file by hand: slope 0.5, intercept 10.
        let mut h = vec![0u8; 352];
        h[0..4].copy_from_slice(&348i32.to_be_bytes());
        for (i, v) in [3i16, 2, 2, 1, 1, 1, 1, 1].iter().enumerate() {
            h[40 + 2 * i..42 + 2 * i].copy_from_slice(&v.to_be_bytes());
        }
        h[70..72].copy_from_slice(&4i16.to_be_bytes());
        h[108..112].copy_from_slice(&352f32.to_be_bytes());
        h[112..116].copy_from_slice(&0.5f32.to_be_bytes());
        h[116..120].copy_from_slice(&10f32.to_be_bytes());
        h[344..348].copy_from_slice(b"n+1\0");
        for v in [-4i16, 0, 2, 300] {
            h.extend_from_slice(&v.to_be_bytes());
        }
        let v = decode_nifti(&h).unwrap();
        assert_eq!(v.data, vec![8.0, 10.0, 11.0, 160.0]);
        assert_eq!(
            v.affine[0][0], -1.0,
            "no qform/sform: nibabel's base affine"
        );
        assert_eq!(v.affine[0][3], 0.5, "centred on the volume");
    }
}
