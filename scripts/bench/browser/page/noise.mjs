// The benchmark input: the same fixed-seed xorshift as `unet::inference::fixed_noise` (crates/unet/src/inference.rs), so
// unet-web and ORT see identical values.
export function fixedNoise(len) {
  const out = new Float32Array(len);
  let state = 0x9e3779b9;
  for (let i = 0; i < len; i++) {
    state = (state ^ (state << 13)) >>> 0;
    state = (state ^ (state >>> 17)) >>> 0;
    state = (state ^ (state << 5)) >>> 0;
    out[i] = (state >>> 8) / (1 << 24);
  }
  return out;
}
