//! Tensors out of `torch.save` files, the zip container of PyTorch 1.6 and later.
//!
//! The archive holds `<folder>/data.pkl`, a pickle in which each tensor points at a storage by
//! key, and one `<folder>/data/<key>` entry of raw little-endian bytes per storage. Everything is
//! read from a byte slice, so the browser build shares this code.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::rc::Rc;

use zip::ZipArchive;

use super::pickle::{unpickle, Dtype, TensorRef, Unpickled, Value};
use super::CheckpointError::{self, Corrupt, NotPytorch};
use super::{RawTensor, TensorMap};

type Res<T> = Result<T, CheckpointError>;

/// Keys under which training scripts commonly nest the model's state dict.
const WRAPPER_KEYS: [&str; 3] = ["state_dict", "model_state_dict", "model"];
/// Real checkpoints nest dicts a few levels deep; more means a cycle.
const MAX_DEPTH: usize = 32;
const MAX_KEY_LEN: usize = 4096;
const MIB: usize = 1 << 20;

const LEGACY: &str = "this is the legacy (pre-1.6) torch.save format, which is not supported; \
    re-save it with a modern torch.save or convert it to .safetensors";
const NOT_ZIP: &str = "the file is not a zip archive, so not a torch.save checkpoint";
const TORCHSCRIPT: &str =
    "this is a TorchScript archive (torch.jit.save); torch.save the state_dict instead";
const BIG_ENDIAN: &str =
    "big-endian checkpoints are not supported; re-save it on a little-endian machine";
const NOT_DICT: &str = "not a state dict; torch.save the model's state_dict instead";

fn corrupt<T>(msg: impl Into<String>) -> Res<T> {
    Err(Corrupt(msg.into()))
}

/// Reads the tensors of a `torch.save`d state dict from the file's bytes.
///
/// Keys are the state-dict keys. A training checkpoint whose top-level dict
/// keeps the model under `state_dict`, `model_state_dict` or `model` yields
/// that dict's tensors; other nested dicts are flattened with `.` joins.
/// Float tensors (f32, f16, bf16, f64) and integer/bool tensors are converted
/// to `f32` (integers beyond 2^24 lose precision); tensors of other types
/// (complex, float8, quantized) and non-tensor values are skipped.
pub fn read_pth(bytes: &[u8]) -> Result<TensorMap, CheckpointError> {
    if bytes.is_empty() {
        return Err(NotPytorch("the file is empty".into()));
    }
    if !bytes.starts_with(b"PK") {
        // Before 1.6 torch.save wrote a bare pickle stream (before 0.4, a tar).
        let legacy = bytes[0] == 0x80 || bytes.get(257..262) == Some(b"ustar".as_slice());
        return Err(NotPytorch(if legacy { LEGACY } else { NOT_ZIP }.into()));
    }
    let zip = ZipArchive::new(Cursor::new(bytes));
    let zip = zip.map_err(|e| Corrupt(format!("damaged or truncated zip archive: {e}")))?;
    // torch names the top folder after the saved file, so only data.pkl tells it.
    let names = zip.file_names_raw().filter_map(|n| str::from_utf8(n).ok());
    let pkl_names = names.filter(|n| *n == "data.pkl" || n.ends_with("/data.pkl"));
    let Some(pkl_name) = pkl_names.min_by_key(|n| n.len()).map(str::to_owned) else {
        return Err(NotPytorch("the zip archive has no data.pkl entry".into()));
    };
    let prefix = pkl_name[..pkl_name.len() - "data.pkl".len()].to_owned();
    let torchscript = format!("{prefix}constants.pkl");
    if zip.index_for_name_raw(torchscript.as_bytes()).is_some() {
        return Err(NotPytorch(TORCHSCRIPT.into()));
    }
    let mut loader = Loader {
        zip,
        prefix,
        storages: HashMap::new(),
        // Deflated entries may expand, but not without bound: that is a zip bomb.
        read_cap: bytes.len().saturating_mul(16).saturating_add(MIB),
        read_total: 0,
        out_spent: 0,
        visits_left: 0,
    };
    loader.check_byteorder()?;
    let pkl = loader.read(&pkl_name, usize::MAX)?.unwrap_or_default();
    // A legitimate tree visits each pickled dict entry about once.
    loader.visits_left = pkl.len().saturating_add(1024);
    loader.collect(&unpickle(&pkl)?)
}

/// Reads entries and turns tensor descriptions into data, within budgets
/// derived from the file size.
struct Loader<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    prefix: String,
    storages: HashMap<Rc<str>, Vec<u8>>,
    read_cap: usize,
    read_total: usize,
    out_spent: usize,
    visits_left: usize,
}

impl Loader<'_> {
    /// Reads up to `want` bytes of entry `name`; `None` if there is no such entry.
    fn read(&mut self, name: &str, want: usize) -> Res<Option<Vec<u8>>> {
        let bad = |e: &dyn std::fmt::Display| Corrupt(format!("zip entry {name:?}: {e}"));
        // `by_name_raw` would return the still-compressed bytes.
        let Some(index) = self.zip.index_for_name_raw(name.as_bytes()) else {
            return Ok(None);
        };
        let file = self.zip.by_index(index).map_err(|e| bad(&e))?;
        let limit = want.min(self.read_cap.saturating_sub(self.read_total));
        let declared = usize::try_from(file.size()).unwrap_or(usize::MAX);
        let mut buf = Vec::with_capacity(declared.min(limit));
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        file.take(cap).read_to_end(&mut buf).map_err(|e| bad(&e))?;
        if buf.len() > limit && limit < want {
            return Err(bad(&"expands far beyond the file's size"));
        }
        buf.truncate(want);
        self.read_total += buf.len();
        Ok(Some(buf))
    }

    fn check_byteorder(&mut self) -> Res<()> {
        // torch 1.6 to 1.9 wrote no byteorder entry, and only little-endian.
        let name = format!("{}byteorder", self.prefix);
        let order = self.read(&name, 16)?.unwrap_or_else(|| b"little".to_vec());
        match String::from_utf8_lossy(&order).trim() {
            "little" => Ok(()),
            "big" => Err(NotPytorch(BIG_ENDIAN.into())),
            other => corrupt(format!("unknown byteorder {other:?}")),
        }
    }

    /// Copies a tensor's view out of its storage; `None` for skipped dtypes.
    fn tensor(&mut self, key: &str, t: &TensorRef) -> Res<Option<RawTensor>> {
        let (Some(dtype), nbytes) = (t.dtype, t.storage.nbytes) else {
            return Ok(None);
        };
        let numel = t.size.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let dims = t.size.iter().zip(&t.stride);
        let mut spans = dims.map(|(&d, &s)| d.saturating_sub(1).checked_mul(s));
        let last = spans.try_fold(t.offset, |at, span| at.checked_add(span?));
        let elems = nbytes / dtype.size;
        let fits = numel == Some(0) || last.is_some_and(|last| last < elems);
        let (Some(numel), true) = (numel, fits && t.size.len() == t.stride.len()) else {
            let (offset, size, stride) = (t.offset, &t.size, &t.stride);
            return corrupt(format!(
                "tensor {key:?}: view (offset {offset}, size {size:?}, stride {stride:?}) does not \
                 fit its storage of {elems} elements"
            ));
        };
        let storage = &t.storage;
        if numel > 0 && !self.storages.contains_key(&storage.key) {
            let name = format!("{}data/{}", self.prefix, storage.key);
            let data = self.read(&name, nbytes)?.unwrap_or_default();
            if data.len() < nbytes {
                return corrupt(format!(
                    "storage {name:?} is missing or shorter than {nbytes} bytes"
                ));
            }
            self.storages.insert(storage.key.clone(), data);
        }
        // Views may share a storage, so output may exceed the input somewhat;
        // far beyond it (say a huge stride-0 expand) is refused.
        let allowance = (4 * MIB).saturating_add(self.read_total.saturating_mul(16));
        let cost = numel.saturating_mul(4).saturating_add(key.len());
        self.out_spent = self.out_spent.saturating_add(cost);
        if self.out_spent > allowance {
            return corrupt(format!("tensor {key:?} expands far beyond the file's data"));
        }
        let Some(data) = gather(self.storages.get(&storage.key), dtype, t, numel) else {
            return corrupt(format!("tensor {key:?} overruns its storage"));
        };
        // Dropping storages no other tensor uses keeps peak memory near twice the file.
        if Rc::strong_count(storage) == 1 {
            self.storages.remove(&storage.key);
        }
        let shape = t.size.clone();
        Ok(Some(RawTensor { shape, data }))
    }

    /// Picks the dict holding the model's tensors and flattens it.
    fn collect(&mut self, un: &Unpickled) -> Res<TensorMap> {
        let root = match &un.root {
            Value::Dict(id) => *id,
            Value::Object(class) => {
                return Err(NotPytorch(format!(
                    "the file holds a {class} object, {NOT_DICT}"
                )))
            }
            _ => return Err(NotPytorch(format!("the file holds no dict, {NOT_DICT}"))),
        };
        let has_tensors = |id: usize| un.dicts[id].iter().any(|e| matches!(e.1, Value::Tensor(_)));
        // The last occurrence of a key wins, as in the Python dict.
        let entry = |name: &str| {
            let mut entries = un.dicts[root].iter().rev();
            entries.find(|(k, _)| matches!(k, Value::Str(s) if &**s == name))
        };
        let wrapped = WRAPPER_KEYS.iter().find_map(|name| match entry(name)? {
            (_, Value::Dict(id)) if has_tensors(*id) => Some(*id),
            _ => None,
        });
        let mut out = TensorMap::new();
        self.walk(un, wrapped.unwrap_or(root), "", 0, &mut out)?;
        if out.is_empty() {
            return Err(NotPytorch("the file holds no readable tensors".into()));
        }
        Ok(out)
    }

    fn walk(
        &mut self,
        un: &Unpickled,
        dict: usize,
        at: &str,
        depth: usize,
        out: &mut TensorMap,
    ) -> Res<()> {
        if depth > MAX_DEPTH {
            return corrupt(format!("dicts nested more than {MAX_DEPTH} deep"));
        }
        for (k, v) in &un.dicts[dict] {
            // Shared sub-dicts repeat a little; exponential sharing is an attack.
            if self.visits_left == 0 {
                return corrupt("dicts shared too often to flatten");
            }
            self.visits_left -= 1;
            let name = match k {
                Value::Str(s) => s.to_string(),
                Value::Int(i) => i.to_string(),
                _ => continue,
            };
            let key = if at.is_empty() {
                name
            } else {
                format!("{at}.{name}")
            };
            if key.len() > MAX_KEY_LEN {
                return corrupt(format!("a state-dict key is over {MAX_KEY_LEN} bytes"));
            }
            match v {
                Value::Tensor(t) => {
                    if let Some(raw) = self.tensor(&key, t)? {
                        out.insert(key, raw);
                    }
                }
                Value::Dict(id) => self.walk(un, *id, &key, depth + 1, out)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Reads a strided view element by element, or in one run when contiguous;
/// `None` if an index leaves `bytes`, which validation already rules out.
fn gather(bytes: Option<&Vec<u8>>, dtype: &Dtype, t: &TensorRef, numel: usize) -> Option<Vec<f32>> {
    let mut out = Vec::with_capacity(numel);
    if numel == 0 {
        return Some(out);
    }
    let (bytes, width) = (bytes?, dtype.size);
    let mut dims = t.size.iter().zip(&t.stride).rev();
    let contiguous = dims.try_fold(1, |want, (&d, &s)| (d == 1 || s == want).then(|| want * d));
    if contiguous.is_some() {
        let run = bytes.get(t.offset * width..(t.offset + numel) * width)?;
        out.extend(run.chunks_exact(width).map(dtype.decode));
        return Some(out);
    }
    // Odometer over the index; wrapping arithmetic because a carry briefly
    // steps past the view before stepping back.
    let mut index = vec![0usize; t.size.len()];
    let mut at = t.offset;
    for _ in 0..numel {
        let start = at.checked_mul(width)?;
        out.push((dtype.decode)(bytes.get(start..start.checked_add(width)?)?));
        for d in (0..index.len()).rev() {
            index[d] += 1;
            at = at.wrapping_add(t.stride[d]);
            if index[d] < t.size[d] {
                break;
            }
            at = at.wrapping_sub(t.stride[d].wrapping_mul(t.size[d]));
            index[d] = 0;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::Value as Json;
    use zip::{write::SimpleFileOptions, ZipWriter};

    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pth/");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Each torch-written file against the keys, shapes and values (or the error) torch reported.
    #[test]
    fn fixtures_match_their_json() {
        let mut checked = 0;
        for entry in std::fs::read_dir(DIR).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".pth") else {
                continue;
            };
            let want: Json = serde_json::from_slice(&fixture(&format!("{stem}.json"))).unwrap();
            let got = read_pth(&fixture(&name));
            checked += 1;
            if let Some(kind) = want["error"].as_str() {
                let (err, says) = (got.expect_err(stem), want["message"].as_str().unwrap());
                let text = err.to_string();
                let ok = format!("{err:?}").starts_with(kind) && text.contains(says);
                assert!(ok && !text.contains('\n'), "{stem}: {err}");
                continue;
            }
            let got = got.unwrap_or_else(|e| panic!("{stem}: {e}"));
            let want = want["tensors"].as_object().unwrap();
            let want_keys: std::collections::BTreeSet<_> = want.keys().collect();
            assert!(got.keys().eq(want_keys), "{stem}: {:?}", got.keys());
            for (key, t) in want {
                let bits = |v: &Json| (v.as_f64().unwrap() as f32).to_bits();
                let values: Vec<u32> = t["values"].as_array().unwrap().iter().map(bits).collect();
                let got_bits: Vec<u32> = got[key].data.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got_bits, values, "{stem}: values of {key}");
                let shape = Json::from(got[key].shape.clone());
                assert_eq!(shape, t["shape"], "{stem}: shape of {key}");
            }
        }
        assert!(checked >= 12, "fixtures missing");
    }

    fn noise(seed: &mut u64, len: usize) -> Vec<u8> {
        let mut next = || {
            *seed = seed.wrapping_mul(0x5851f42d4c957f2d).wrapping_add(1);
            (*seed >> 33) as u8
        };
        (0..len).map(|_| next()).collect()
    }

    #[test]
    fn empty_random_and_truncated_bytes_are_errors() {
        assert!(matches!(read_pth(b""), Err(NotPytorch(_))));
        let mut seed = 7;
        for round in 0..200 {
            let mut bytes = noise(&mut seed, round * 13);
            if round % 2 == 1 && bytes.len() > 4 {
                bytes[..4].copy_from_slice(b"PK\x03\x04");
            }
            assert!(read_pth(&bytes).is_err());
        }
        let bytes = fixture("float32_state_dict.pth");
        for cut in 0..bytes.len() {
            match read_pth(&bytes[..cut]) {
                Err(Corrupt(_)) => {}
                Err(NotPytorch(_)) if cut < 2 => {}
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }

    /// The float32 fixture's entries, data.pkl first; its storage "0" holds 18 floats.
    fn entries() -> Vec<(String, Vec<u8>)> {
        let bytes = fixture("float32_state_dict.pth");
        let mut zip = ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut out = Vec::new();
        for i in 0..zip.len() {
            let mut file = zip.by_index(i).unwrap();
            let mut body = Vec::new();
            file.read_to_end(&mut body).unwrap();
            out.push((file.name().unwrap().into_owned(), body));
        }
        out
    }

    /// That fixture with another data.pkl.
    fn with_pickle(pkl: &[u8]) -> Res<TensorMap> {
        let mut out = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in entries() {
            let is_pkl = name.ends_with("/data.pkl");
            out.start_file(name, SimpleFileOptions::default()).unwrap();
            out.write_all(if is_pkl { pkl } else { &body }).unwrap();
        }
        read_pth(&out.finish().unwrap().into_inner())
    }

    #[test]
    fn mutated_pickles_never_panic() {
        let (name, pkl) = entries().swap_remove(0);
        assert!(name.ends_with("/data.pkl"));
        let mut seed = 11;
        for _ in 0..300 {
            let mut m = pkl.clone();
            for r in noise(&mut seed, 6).chunks(2) {
                let at = usize::from(r[0]) * m.len() / 256;
                m[at] = r[1];
            }
            if let Err(e) = with_pickle(&m) {
                assert!(!e.to_string().contains('\n'), "{e}");
            }
        }
    }

    /// `{'w': _rebuild_tensor_v2(FloatStorage "0" of `numel`, offset, size, stride)}`.
    fn tensor(numel: &[i32], offset: &[i32], size: &[i32], stride: &[i32]) -> Vec<u8> {
        let mut p = b"\x80\x02}(\x8c\x01wctorch._utils\n_rebuild_tensor_v2\n((\x8c\x07storage\
            ctorch\nFloatStorage\n\x8c\x010\x8c\x03cpu"
            .to_vec();
        let ends: [&[u8]; 4] = [b"tQ", b"(", b"t(", b"t\x89)tRu."];
        for (ints, end) in [numel, offset, size, stride].into_iter().zip(ends) {
            ints.iter()
                .for_each(|n| p.extend([b'J'].into_iter().chain(n.to_le_bytes())));
            p.extend(end);
        }
        p
    }

    fn corrupt(pkl: &[u8]) -> String {
        let err = with_pickle(pkl).unwrap_err();
        assert!(matches!(err, Corrupt(_)), "{err}");
        err.to_string()
    }

    #[test]
    fn crafted_pickles_are_checked() {
        let map = read_pth(&fixture("float32_state_dict.pth")).unwrap();
        let w = &map["0.weight"].data;
        let view = with_pickle(&tensor(&[18], &[2], &[2, 2], &[1, 3])).unwrap();
        assert_eq!(view["w"].data, [w[2], w[5], w[3], w[6]]);
        assert!(corrupt(&tensor(&[18], &[10], &[3, 3], &[3, 1])).contains("does not fit"));
        assert!(corrupt(&tensor(&[18], &[0], &[2], &[1, 1])).contains("does not fit"));
        assert!(corrupt(&tensor(&[1 << 30], &[0], &[1 << 30], &[1])).contains("shorter"));
        assert!(corrupt(&tensor(&[18], &[0], &[1 << 30, 1 << 30], &[0, 0])).contains("far beyond"));
        assert!(corrupt(b"\x80\x02}\xff.").contains("opcode 0xff at offset 3"));
        assert!(corrupt(b"\x80\x02h\x05.").contains("before it was stored"));
        assert!(corrupt(b"\x80\x02X\xff\xff\xff\x7fab.").contains("ends early"));
        assert!(corrupt(b"\x80\x02s.").contains("underflow"));
        // d = {}; d['d'] = d
        assert!(corrupt(b"\x80\x02}q\x00X\x01\x00\x00\x00dh\x00s.").contains("nested"));
        // Thirty dicts each holding the previous one twice: 2^30 paths.
        let level = b"}(X\x01\x00\x00\x00ah\x00X\x01\x00\x00\x00bh\x00uq\x000";
        let bomb = [&b"\x80\x02}q\x000"[..], &level.repeat(30), b"h\x00."].concat();
        assert!(corrupt(&bomb).contains("shared"));
    }
}
