//! The NIfTI-1 and NIfTI-2 headers: one parser over a table of where each version keeps its
//! fields, in either byte order.

use super::nifti_err;
use crate::error::ImagingError;
use crate::nifti::MAX_VOXELS;

#[derive(Debug)]
pub(super) struct Header {
    /// 1 or 2.
    pub(super) version: u8,
    pub(super) big_endian: bool,
    pub(super) dims: [u64; 8],
    pub(super) datatype: i16,
    pub(super) pixdim: [f64; 8],
    pub(super) vox_offset: u64,
    pub(super) scl_slope: f64,
    pub(super) scl_inter: f64,
    pub(super) qform_code: i16,
    pub(super) sform_code: i16,
    pub(super) quatern: [f64; 6],
    pub(super) srow: [[f64; 4]; 3],
}

/// Where a header version keeps each field (byte offsets), and how wide its numbers are.
struct Layout {
    /// Bytes per `dim` entry.
    int: usize,
    /// Bytes per float (pixdim, scaling, quaternion, srow).
    float: usize,
    /// Bytes per qform/sform code.
    code: usize,
    datatype: usize,
    dims: usize,
    pixdim: usize,
    vox_offset: usize,
    /// NIfTI-1 stores the data offset as a float.
    float_vox_offset: bool,
    /// `scl_slope`; `scl_inter` follows it.
    slope: usize,
    /// `qform_code`; `sform_code` follows it.
    qform_code: usize,
    quatern: usize,
    srow: usize,
    /// Where data starts when `vox_offset` is 0.
    header_end: u64,
}

const NIFTI1: Layout = Layout {
    int: 2,
    float: 4,
    code: 2,
    datatype: 70,
    dims: 40,
    pixdim: 76,
    vox_offset: 108,
    float_vox_offset: true,
    slope: 112,
    qform_code: 252,
    quatern: 256,
    srow: 280,
    header_end: 352,
};

const NIFTI2: Layout = Layout {
    int: 8,
    float: 8,
    code: 4,
    datatype: 12,
    dims: 16,
    pixdim: 104,
    vox_offset: 168,
    float_vox_offset: false,
    slope: 176,
    qform_code: 344,
    quatern: 352,
    srow: 400,
    header_end: 544,
};

/// Reads numbers of either byte order from a header.
struct Fields<'a> {
    bytes: &'a [u8],
    big: bool,
}

impl Fields<'_> {
    fn raw<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut b: [u8; N] = self.bytes[at..at + N].try_into().expect("in bounds");
        if self.big {
            b.reverse();
        }
        b
    }

    /// A signed integer of `width` bytes (2, 4 or 8).
    fn int(&self, at: usize, width: usize) -> i64 {
        match width {
            2 => i64::from(i16::from_le_bytes(self.raw(at))),
            4 => i64::from(i32::from_le_bytes(self.raw(at))),
            _ => i64::from_le_bytes(self.raw(at)),
        }
    }

    /// A float of `width` bytes (4 or 8).
    fn float(&self, at: usize, width: usize) -> f64 {
        match width {
            4 => f64::from(f32::from_le_bytes(self.raw(at))),
            _ => f64::from_le_bytes(self.raw(at)),
        }
    }
}

impl Header {
    pub(super) fn parse(bytes: &[u8]) -> Result<Header, ImagingError> {
        if bytes.len() < 348 {
            return Err(nifti_err(format!(
                "{} bytes is too short for a NIfTI header (348)",
                bytes.len()
            )));
        }
        let size_le = i32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes"));
        let size_be = i32::from_be_bytes(bytes[0..4].try_into().expect("4 bytes"));
        let (version, big) = match (size_le, size_be) {
            (348, _) => (1, false),
            (_, 348) => (1, true),
            (540, _) => (2, false),
            (_, 540) => (2, true),
            _ => {
                return Err(nifti_err(
                    "the header size is neither 348 (NIfTI-1) nor 540 (NIfTI-2)",
                ))
            }
        };
        let layout = if version == 1 {
            let magic = &bytes[344..348];
            if magic == b"ni1\0" {
                return Err(nifti_err(
                    "this is a two-file NIfTI (.hdr/.img): convert it to a single .nii file",
                ));
            }
            if magic != b"n+1\0" {
                return Err(nifti_err(
                    "the NIfTI-1 magic is missing (an Analyze 7.5 file?)",
                ));
            }
            &NIFTI1
        } else {
            if bytes.len() < 540 {
                return Err(nifti_err("the NIfTI-2 header is truncated"));
            }
            if &bytes[4..7] != b"n+2" {
                return Err(nifti_err("the NIfTI-2 magic is missing"));
            }
            &NIFTI2
        };
        let f = Fields { bytes, big };
        let l = layout;
        let int = |at: usize| f.int(at, l.int);
        let float = |at: usize| f.float(at, l.float);
        let vox_offset = if l.float_vox_offset {
            float(l.vox_offset).max(0.0) as u64
        } else {
            int(l.vox_offset).max(0) as u64
        };
        let mut h = Header {
            version,
            big_endian: big,
            dims: std::array::from_fn(|i| int(l.dims + l.int * i).max(0) as u64),
            datatype: f.int(l.datatype, 2) as i16,
            pixdim: std::array::from_fn(|i| float(l.pixdim + l.float * i)),
            vox_offset,
            scl_slope: float(l.slope),
            scl_inter: float(l.slope + l.float),
            qform_code: f.int(l.qform_code, l.code) as i16,
            sform_code: f.int(l.qform_code + l.code, l.code) as i16,
            quatern: std::array::from_fn(|i| float(l.quatern + l.float * i)),
            srow: std::array::from_fn(|r| {
                std::array::from_fn(|c| float(l.srow + l.float * (4 * r + c)))
            }),
        };
        let ndim = h.dims[0];
        if !(1..=7).contains(&ndim) {
            return Err(nifti_err(format!("dim[0] = {ndim} is not 1–7")));
        }
        for i in (ndim as usize + 1)..8 {
            h.dims[i] = 1;
        }
        for i in 1..=ndim as usize {
            if h.dims[i] == 0 {
                return Err(nifti_err(format!("dimension {i} is zero")));
            }
        }
        if h.vox_offset == 0 {
            h.vox_offset = l.header_end;
        }
        Ok(h)
    }

    pub(super) fn bytes_per_voxel(&self) -> Result<usize, ImagingError> {
        Ok(match self.datatype {
            2 | 256 => 1,      // uint8, int8
            4 | 512 => 2,      // int16, uint16
            8 | 16 | 768 => 4, // int32, float32, uint32
            64 | 1024 | 1280 => 8,
            32 | 1792 | 2048 | 128 | 2304 => {
                return Err(nifti_err(format!(
                    "datatype {} (complex or RGB voxels) is not supported: save the volume as a scalar type",
                    self.datatype
                )))
            }
            other => return Err(nifti_err(format!("unknown datatype code {other}"))),
        })
    }

    pub(super) fn voxel_count(&self) -> Result<u64, ImagingError> {
        // Saturating: dimensions are up to 2^63 each (NIfTI-2), their product anything.
        let product = |dims: &[u64]| dims.iter().fold(1u64, |n, &d| n.saturating_mul(d));
        let n = product(&self.dims[1..8]);
        if n > MAX_VOXELS {
            return Err(nifti_err(format!(
                "the header claims {}×{}×{}×{} voxels, more than the limit of {MAX_VOXELS}: crop or downsample the volume",
                self.dims[1], self.dims[2], self.dims[3], product(&self.dims[4..8])
            )));
        }
        Ok(n)
    }

    /// Where the voxel data ends, checked against the limits.
    pub(super) fn data_end(&self) -> Result<usize, ImagingError> {
        let n = self.voxel_count()?;
        // Checked, not `as usize`: on wasm32 a vox_offset above 4 GiB would wrap to a small
        // end before the data's start.
        self.vox_offset
            .checked_add(n * self.bytes_per_voxel()? as u64)
            .and_then(|end| usize::try_from(end).ok())
            .ok_or_else(|| {
                nifti_err(format!(
                    "the header puts the voxel data at byte {}, beyond any file",
                    self.vox_offset
                ))
            })
    }

    pub(super) fn affine(&self) -> [[f64; 4]; 4] {
        let spacing = [1, 2, 3].map(|i| {
            let p = self.pixdim[i].abs();
            if p.is_finite() && p > 0.0 {
                p
            } else {
                1.0
            }
        });
        if self.sform_code > 0 {
            let s = self.srow;
            return [s[0], s[1], s[2], [0.0, 0.0, 0.0, 1.0]];
        }
        if self.qform_code > 0 {
            let [b, c, d, qx, qy, qz] = self.quatern;
            let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
            let r = [
                [
                    a * a + b * b - c * c - d * d,
                    2.0 * (b * c - a * d),
                    2.0 * (b * d + a * c),
                ],
                [
                    2.0 * (b * c + a * d),
                    a * a + c * c - b * b - d * d,
                    2.0 * (c * d - a * b),
                ],
                [
                    2.0 * (b * d - a * c),
                    2.0 * (c * d + a * b),
                    a * a + d * d - c * c - b * b,
                ],
            ];
            let qfac = if self.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
            let scale = [spacing[0], spacing[1], spacing[2] * qfac];
            let mut m = [[0.0; 4]; 4];
            for i in 0..3 {
                for j in 0..3 {
                    m[i][j] = r[i][j] * scale[j];
                }
            }
            m[0][3] = qx;
            m[1][3] = qy;
            m[2][3] = qz;
            m[3][3] = 1.0;
            return m;
        }
        // Neither is set (Analyze heritage): nibabel's base affine, radiological x and the
        // origin at the centre, so the volume sits where nibabel and FSL put it.
        let centre = |axis: usize| (self.dims[axis + 1].max(1) - 1) as f64 / 2.0 * spacing[axis];
        [
            [-spacing[0], 0.0, 0.0, centre(0)],
            [0.0, spacing[1], 0.0, -centre(1)],
            [0.0, 0.0, spacing[2], -centre(2)],
            [0.0, 0.0, 0.0, 1.0],
        ]
    }
}
