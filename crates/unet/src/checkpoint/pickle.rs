//! A minimal pickle reader for the `data.pkl` that `torch.save` writes. Nothing is executed:
//! only torch's tensor globals and `collections.OrderedDict` mean anything, any other call yields
//! an inert value, so foreign objects (numpy scalars, user classes) can only be ignored. Each
//! opcode pushes at most one value, cheap to clone (`Rc`), so memory stays proportional to input.

use std::collections::HashMap;
use std::rc::Rc;

use super::CheckpointError;

/// Far above what a state dict needs, so hostile input fails before exhausting memory, or
/// the call stack when a chain of nested tuples is dropped (torch nests them 3 deep).
const MAX_STACK: usize = 1 << 20;
const MAX_MEMO: usize = 1 << 24;
const MAX_TUPLE_DEPTH: u8 = 16;

/// An element type torch stores: its legacy storage class ("" for newer dtypes, which torch
/// saves as an `UntypedStorage` plus a dtype), its `torch.<name>`, its width in bytes and the
/// conversion of exactly that many little-endian bytes to `f32`.
pub(super) struct Dtype {
    class: &'static str,
    name: &'static str,
    pub size: usize,
    pub decode: Decode,
}

// One row per dtype reads better than rustfmt's five lines per row.
#[rustfmt::skip]
static DTYPES: [Dtype; 13] = [
    dt("DoubleStorage", "float64", 8, |b| f64::from_le_bytes(le(b)) as f32),
    dt("FloatStorage", "float32", 4, |b| f32::from_le_bytes(le(b))),
    dt("HalfStorage", "float16", 2, |b| half::f16::from_le_bytes(le(b)).to_f32()),
    dt("BFloat16Storage", "bfloat16", 2, |b| half::bf16::from_le_bytes(le(b)).to_f32()),
    dt("LongStorage", "int64", 8, |b| i64::from_le_bytes(le(b)) as f32),
    dt("IntStorage", "int32", 4, |b| i32::from_le_bytes(le(b)) as f32),
    dt("ShortStorage", "int16", 2, |b| i16::from_le_bytes(le(b)).into()),
    dt("CharStorage", "int8", 1, |b| i8::from_le_bytes(le(b)).into()),
    dt("ByteStorage", "uint8", 1, |b| b[0].into()),
    dt("BoolStorage", "bool", 1, |b| f32::from(u8::from(b[0] != 0))),
    dt("", "uint16", 2, |b| u16::from_le_bytes(le(b)).into()),
    dt("", "uint32", 4, |b| u32::from_le_bytes(le(b)) as f32),
    dt("", "uint64", 8, |b| u64::from_le_bytes(le(b)) as f32),
];

const fn dt(class: &'static str, name: &'static str, size: usize, decode: Decode) -> Dtype {
    Dtype {
        class,
        name,
        size,
        decode,
    }
}

type Decode = fn(&[u8]) -> f32;

fn le<const N: usize>(b: &[u8]) -> [u8; N] {
    b[..N].try_into().unwrap_or([0; N])
}

/// A storage named by a persistent id; its bytes live in `data/<key>`.
pub(super) struct StorageRef {
    pub key: Rc<str>,
    /// `None` for storage types we do not convert (complex, quantized, ...).
    pub dtype: Option<&'static Dtype>,
    pub nbytes: usize,
}

/// A strided view into a storage, as `_rebuild_tensor_v2/v3` describe it.
pub(super) struct TensorRef {
    pub storage: Rc<StorageRef>,
    /// `None` for element types we skip (float8, complex, ...).
    pub dtype: Option<&'static Dtype>,
    pub offset: usize,
    pub size: Vec<usize>,
    pub stride: Vec<usize>,
}

/// The few kinds of Python values the reader needs to tell apart.
#[derive(Clone)]
pub(super) enum Value {
    Int(i64),
    Str(Rc<str>),
    /// Items and nesting depth; deeper ones become [`Value::Opaque`].
    Tuple(Rc<[Value]>, u8),
    /// Index into [`Unpickled::dicts`], as dicts are filled after memoizing.
    Dict(usize),
    /// `module.qualname` of a global; never resolved to code.
    Global(Rc<str>),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
    /// An instance of a class we do not interpret, by class name.
    Object(Rc<str>),
    /// None, bools, floats, bytes, lists, sets, big ints: never needed.
    Opaque,
}

/// The object a pickle builds, and the dicts it refers to.
pub(super) struct Unpickled {
    pub root: Value,
    pub dicts: Vec<Vec<(Value, Value)>>,
}

/// Runs the pickle program in `data`.
pub(super) fn unpickle(data: &[u8]) -> Result<Unpickled, CheckpointError> {
    let mut vm = Vm {
        data,
        ..Vm::default()
    };
    let root = vm.run()?;
    let dicts = vm.dicts;
    Ok(Unpickled { root, dicts })
}

/// What an opcode leaves to push, if anything.
type Step = Result<Option<Value>, CheckpointError>;

#[derive(Default)]
struct Vm<'a> {
    data: &'a [u8],
    pos: usize,
    op_pos: usize,
    op: u8,
    stack: Vec<Value>,
    marks: Vec<usize>, // stack heights
    memo: HashMap<u32, Value>,
    dicts: Vec<Vec<(Value, Value)>>,
}

impl Vm<'_> {
    fn run(&mut self) -> Result<Value, CheckpointError> {
        loop {
            self.op_pos = self.pos;
            self.op = self.data.get(self.pos).copied().unwrap_or(0);
            let op = self.take(1)?[0];
            let pushed = match op {
                0x80 if self.uint(1)? > 5 => return Err(self.err("unsupported pickle protocol")),
                0x80 => None,
                0x95 => self.take(8).map(|_| None)?, // FRAME: framing is irrelevant in memory
                b'.' => return self.pop(),
                b'(' => self.mark()?,
                b'}' => Some(self.new_dict()),
                b']' | 0x8f | b'N' | 0x88 | 0x89 => Some(Value::Opaque), // list, set, None, bools
                b')' => Some(tuple(Vec::new())),
                b't' => Some(tuple(self.pop_mark()?)),
                0x85..=0x87 => self.tuple(usize::from(op - 0x84))?,
                b's' => self.set_items(false)?,
                b'u' => self.set_items(true)?,
                // APPEND(S), ADDITEMS and BUILD feed objects whose content we never use.
                b'a' | b'b' => self.pop().and_then(|_| self.top().map(|_| None))?,
                b'e' | 0x90 => self.pop_mark().and_then(|_| self.top().map(|_| None))?,
                0x91 => self.pop_mark().map(|_| Some(Value::Opaque))?,
                b'q' | b'r' => self.memo_put(if op == b'q' { 1 } else { 4 })?,
                0x94 => self.memo_put(0)?,
                b'h' | b'j' => self.memo_get(if op == b'h' { 1 } else { 4 })?,
                b'c' => self.global()?,
                0x93 => self.stack_global()?,
                b'R' => self.reduce()?,
                0x81 => self.reduce()?,
                0x92 => self.pop().and_then(|_| self.reduce())?, // NEWOBJ_EX: kwargs unused
                b'Q' => self.persistent()?,
                b'J' => Some(Value::Int((self.uint(4)? as u32 as i32).into())), // signed
                b'K' => Some(Value::Int(self.uint(1)? as i64)),
                b'M' => Some(Value::Int(self.uint(2)? as i64)),
                0x8a | 0x8b => self.long(if op == 0x8a { 1 } else { 4 })?,
                b'G' => self.take(8).map(|_| Some(Value::Opaque))?,
                b'X' | b'T' => self.text(4)?,
                0x8c | b'U' => self.text(1)?,
                0x8d => self.text(8)?,
                b'C' => self.blob(1)?,
                b'B' => self.blob(4)?,
                0x8e | 0x96 => self.blob(8)?,
                // Like CPython: POP with nothing above the MARK discards the MARK.
                b'0' if self.stack.len() > self.floor() => self.pop().map(|_| None)?,
                b'0' | b'1' => self.pop_mark().map(|_| None)?,
                b'2' => Some(self.top()?.clone()),
                _ => return Err(self.err("unsupported pickle opcode")),
            };
            if let Some(v) = pushed {
                if self.stack.len() >= MAX_STACK {
                    return Err(self.err("pickle stack too deep"));
                }
                self.stack.push(v);
            }
        }
    }

    fn err(&self, msg: &str) -> CheckpointError {
        let (op, at) = (self.op, self.op_pos);
        CheckpointError::Corrupt(format!("data.pkl opcode 0x{op:02x} at offset {at}: {msg}"))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], CheckpointError> {
        let end = self.pos.saturating_add(n);
        if end > self.data.len() {
            return Err(self.err("pickle data ends early"));
        }
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// A little-endian unsigned argument of `width` (at most 8) bytes. As a
    /// length it needs no other bound: `take` checks it against what remains.
    fn uint(&mut self, width: usize) -> Result<usize, CheckpointError> {
        let mut buf = [0; 8];
        buf[..width].copy_from_slice(self.take(width)?);
        let n = u64::from_le_bytes(buf);
        usize::try_from(n).map_err(|_| self.err("length does not fit in memory"))
    }

    fn text(&mut self, width: usize) -> Step {
        let n = self.uint(width)?;
        let text = String::from_utf8_lossy(self.take(n)?);
        Ok(Some(Value::Str(text.into())))
    }

    fn blob(&mut self, width: usize) -> Step {
        let n = self.uint(width)?;
        self.take(n).map(|_| Some(Value::Opaque))
    }

    /// LONG1/LONG4: little-endian two's complement; wider than i64 is opaque.
    fn long(&mut self, width: usize) -> Step {
        let n = self.uint(width)?;
        let bytes = self.take(n)?;
        if bytes.len() > 8 {
            return Ok(Some(Value::Opaque));
        }
        let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
        let mut buf = [if negative { 0xff } else { 0 }; 8];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(Some(Value::Int(i64::from_le_bytes(buf))))
    }

    /// A `\n`-terminated line, as GLOBAL's arguments are.
    fn line(&mut self) -> Result<String, CheckpointError> {
        let rest = &self.data[self.pos..];
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(self.err("unterminated GLOBAL name"));
        };
        self.pos += len + 1;
        Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
    }

    fn mark(&mut self) -> Step {
        if self.marks.len() >= MAX_STACK {
            return Err(self.err("too many MARKs"));
        }
        self.marks.push(self.stack.len());
        Ok(None)
    }

    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn top(&self) -> Result<&Value, CheckpointError> {
        let above_mark = self.stack.len() > self.floor();
        let top = self.stack.last().filter(|_| above_mark);
        top.ok_or_else(|| self.err("pickle stack underflow"))
    }

    fn pop(&mut self) -> Result<Value, CheckpointError> {
        let v = self.top()?.clone();
        self.stack.pop();
        Ok(v)
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, CheckpointError> {
        let Some(mark) = self.marks.pop() else {
            return Err(self.err("no MARK on the stack"));
        };
        Ok(self.stack.split_off(mark))
    }

    fn tuple(&mut self, n: usize) -> Step {
        let start = self
            .stack
            .len()
            .checked_sub(n)
            .filter(|&s| s >= self.floor());
        let start = start.ok_or_else(|| self.err("pickle stack underflow"))?;
        Ok(Some(tuple(self.stack.split_off(start))))
    }

    /// `width` 0 is MEMOIZE, which stores under the next free index.
    fn memo_put(&mut self, width: usize) -> Step {
        let index = match width {
            0 => self.memo.len(),
            _ => self.uint(width)?,
        };
        let index = u32::try_from(index).map_err(|_| self.err("memo index too large"))?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
            return Err(self.err("pickle memo too large"));
        }
        let v = self.top()?.clone();
        self.memo.insert(index, v);
        Ok(None)
    }

    fn memo_get(&mut self, width: usize) -> Step {
        let index = self.uint(width)? as u32;
        let v = self.memo.get(&index).cloned();
        v.map(Some)
            .ok_or_else(|| self.err("memo entry read before it was stored"))
    }

    fn new_dict(&mut self) -> Value {
        self.dicts.push(Vec::new());
        Value::Dict(self.dicts.len() - 1)
    }

    /// SETITEM(S) into the dict on top; other targets (objects we do not
    /// model) just drop the items.
    fn set_items(&mut self, many: bool) -> Step {
        let items = match many {
            true => self.pop_mark()?,
            false => {
                let v = self.pop()?;
                vec![self.pop()?, v]
            }
        };
        if !items.len().is_multiple_of(2) {
            return Err(self.err("SETITEMS with an odd number of values"));
        }
        if let Value::Dict(id) = *self.top()? {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                self.dicts[id].push((k, v));
            }
        }
        Ok(None)
    }

    fn global(&mut self) -> Step {
        let module = self.line()?;
        let name = self.line()?;
        Ok(Some(Value::Global(format!("{module}.{name}").into())))
    }

    fn stack_global(&mut self) -> Step {
        let name = self.pop()?;
        let (Value::Str(module), Value::Str(name)) = (self.pop()?, name) else {
            return Err(self.err("STACK_GLOBAL needs two strings"));
        };
        Ok(Some(Value::Global(format!("{module}.{name}").into())))
    }

    /// REDUCE, and NEWOBJ which has the same stack effect: only torch's tensor
    /// rebuilders and OrderedDict mean anything; other classes stay opaque.
    fn reduce(&mut self) -> Step {
        let args = self.pop()?;
        let (Value::Global(name), Value::Tuple(args, _)) = (self.pop()?, args) else {
            return Ok(Some(Value::Opaque));
        };
        let (name, args) = match (&*name, &args[..]) {
            ("collections.OrderedDict", _) => return Ok(Some(self.new_dict())),
            // Tensors with Python-side state wrap the real rebuild call.
            (
                "torch._tensor._rebuild_from_type_v2",
                [Value::Global(f), _, Value::Tuple(a, _), ..],
            ) => (f, &a[..]),
            _ => (&name, &args[..]),
        };
        let tensor = |dtype| self.tensor(args, dtype);
        match name.strip_prefix("torch._utils.").unwrap_or("") {
            "_rebuild_tensor_v2" => tensor(None),
            "_rebuild_tensor_v3" => match args.get(6) {
                Some(Value::Global(d)) => tensor(Some(dtype_named(d))),
                _ => Err(self.err("_rebuild_tensor_v3 without a dtype")),
            },
            "_rebuild_parameter" | "_rebuild_parameter_with_state" => match args.first() {
                Some(t @ Value::Tensor(_)) => Ok(Some(t.clone())),
                _ => Ok(Some(Value::Opaque)),
            },
            _ => Ok(Some(Value::Object(name.clone()))),
        }
    }

    /// `v3_dtype` is `_rebuild_tensor_v3`'s explicit dtype; v2 takes the storage's.
    fn tensor(&self, args: &[Value], v3_dtype: Option<Option<&'static Dtype>>) -> Step {
        let [Value::Storage(storage), offset, size, stride, ..] = args else {
            return Err(self.err("malformed _rebuild_tensor arguments"));
        };
        let bad = || self.err("tensor offset, size or stride is not a non-negative int");
        Ok(Some(Value::Tensor(Rc::new(TensorRef {
            storage: storage.clone(),
            dtype: v3_dtype.unwrap_or(storage.dtype),
            offset: as_usize(offset).ok_or_else(bad)?,
            size: usize_tuple(size).ok_or_else(bad)?,
            stride: usize_tuple(stride).ok_or_else(bad)?,
        }))))
    }

    /// BINPERSID: torch's `('storage', storage_type, key, location, numel)`.
    fn persistent(&mut self) -> Step {
        let Value::Tuple(pid, _) = self.pop()? else {
            return Err(self.err("bad persistent id"));
        };
        let [Value::Str(tag), Value::Global(class), Value::Str(key), _, numel] = &pid[..] else {
            return Err(self.err("persistent id is not a torch storage reference"));
        };
        let numel = as_usize(numel).filter(|_| &**tag == "storage");
        let numel = numel.ok_or_else(|| self.err("malformed storage reference"))?;
        // UntypedStorage counts bytes and leaves the element type to the tensor.
        let (dtype, width) = match class.strip_prefix("torch.").unwrap_or("") {
            c if c.ends_with("UntypedStorage") => (dtype_named("torch.uint8"), 1),
            c => {
                let dtype = DTYPES.iter().find(|t| !c.is_empty() && t.class == c);
                (dtype, dtype.map_or(1, |d| d.size))
            }
        };
        let nbytes = numel.checked_mul(width);
        let nbytes = nbytes.ok_or_else(|| self.err("storage too large"))?;
        let key = key.clone();
        Ok(Some(Value::Storage(Rc::new(StorageRef {
            key,
            dtype,
            nbytes,
        }))))
    }
}

fn as_usize(v: &Value) -> Option<usize> {
    let Value::Int(n) = v else { return None };
    usize::try_from(*n).ok()
}

fn usize_tuple(v: &Value) -> Option<Vec<usize>> {
    let Value::Tuple(items, _) = v else {
        return None;
    };
    items.iter().map(as_usize).collect()
}

/// The `torch.<name>` dtype global named `global`, if we convert it.
fn dtype_named(global: &str) -> Option<&'static Dtype> {
    let name = global.strip_prefix("torch.")?;
    DTYPES.iter().find(|t| t.name == name)
}

fn tuple(items: Vec<Value>) -> Value {
    let depth = |v: &Value| if let Value::Tuple(_, d) = v { *d } else { 0 };
    match items.iter().map(depth).max().unwrap_or(0) {
        d if d < MAX_TUPLE_DEPTH => Value::Tuple(items.into(), d + 1),
        _ => Value::Opaque,
    }
}
