// Just enough NIfTI-1 reading to check label maps: header fields and the voxel bytes, either
// byte order, plain or gzipped.
import zlib from 'node:zlib';

/** { dims: [x, y, z], pixdim: [x, y, z], srow: 3×4, datatype, data: Buffer } of a `.nii(.gz)`. */
export function readNifti(bytes) {
  const b = bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
  const le = b.readInt32LE(0) === 348;
  if (!le && b.readInt32BE(0) !== 348) throw new Error('not a NIfTI-1 file');
  const i16 = (at) => (le ? b.readInt16LE(at) : b.readInt16BE(at));
  const f32 = (at) => (le ? b.readFloatLE(at) : b.readFloatBE(at));
  const dims = [1, 2, 3].map((k) => i16(40 + 2 * k));
  const pixdim = [1, 2, 3].map((k) => f32(76 + 4 * k));
  const srow = [280, 296, 312].map((at) => [0, 1, 2, 3].map((c) => f32(at + 4 * c)));
  const datatype = i16(70);
  const offset = Math.round(f32(108));
  const voxels = dims[0] * dims[1] * dims[2];
  const bytesPer = { 2: 1, 4: 2, 8: 4, 16: 4 }[datatype] ?? 1;
  return { dims, pixdim, srow, datatype, data: b.subarray(offset, offset + voxels * bytesPer) };
}
