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

/**
 * `{ dims, pixdim, srow, data: Float32Array }` of a uint8 `.nii(.gz)` averaged over blocks of
 * `factor`³ voxels (a trailing partial block is dropped): a coarser scan of the same head, its
 * grid placed where the blocks' centres lie.
 */
export function blockMean(bytes, factor) {
  const v = readNifti(bytes);
  if (v.datatype !== 2) throw new Error(`blockMean reads uint8 volumes, not datatype ${v.datatype}`);
  const [nx, ny, nz] = v.dims;
  const dims = v.dims.map((n) => Math.floor(n / factor));
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2] * factor; k++) {
    for (let j = 0; j < dims[1] * factor; j++) {
      const row = nx * (j + ny * k);
      const out = dims[0] * (Math.floor(j / factor) + dims[1] * Math.floor(k / factor));
      for (let i = 0; i < dims[0] * factor; i++) data[out + Math.floor(i / factor)] += v.data[row + i];
    }
  }
  const cube = factor ** 3;
  for (let p = 0; p < data.length; p++) data[p] /= cube;
  const shift = (factor - 1) / 2;
  const srow = v.srow.map((r) => [r[0] * factor, r[1] * factor, r[2] * factor, r[3] + shift * (r[0] + r[1] + r[2])]);
  return { dims, pixdim: v.pixdim.map((p) => p * factor), srow, data };
}

/** An uncompressed float32 NIfTI-1 file (sform only, millimetres) of `{ dims, pixdim, srow, data }`. */
export function writeNifti({ dims, pixdim, srow, data }) {
  const b = Buffer.alloc(352 + data.length * 4);
  b.writeInt32LE(348, 0);
  [3, ...dims, 1, 1, 1, 1].forEach((d, k) => b.writeInt16LE(d, 40 + 2 * k));
  b.writeInt16LE(16, 70); // float32
  b.writeInt16LE(32, 72);
  [1, ...pixdim].forEach((p, k) => b.writeFloatLE(p, 76 + 4 * k));
  b.writeFloatLE(352, 108);
  b.writeFloatLE(1, 112); // scl_slope
  b.writeUInt8(2, 123); // millimetres
  b.writeInt16LE(1, 254); // sform_code: scanner
  srow.forEach((r, n) => r.forEach((x, c) => b.writeFloatLE(x, 280 + 16 * n + 4 * c)));
  b.write('n+1\0', 344, 'latin1');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(b, 352);
  return b;
}
