//! Minimal NumPy `.npy` reading and writing for `f32` arrays.
//!
//! Used to hand model inputs and logits to Python for comparison and to load
//! reference fixtures, so the writer reproduces `numpy.save` byte for byte
//! and the reader accepts what `numpy.save` writes for float arrays.

use crate::error::ImagingError;

const MAGIC: &[u8] = b"\x93NUMPY";
/// numpy aligns the data start to 64 bytes so the file can be memory-mapped.
const ALIGN: usize = 64;
/// numpy leaves room in the header for the first axis to grow to this many
/// digits, so arrays can be appended in place; we copy it to match its bytes.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Writes `data` with the given `shape` as a `.npy` file (little-endian
/// `'<f4'`, C order), byte-identical to
/// `numpy.save(f, np.asarray(data, dtype='<f4').reshape(shape))`.
///
/// Format version 1.0 is used unless the header exceeds 65535 bytes, then 2.0,
/// as numpy chooses.
///
/// # Panics
///
/// If the product of `shape` differs from `data.len()`.
pub fn encode_npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let count: usize = shape.iter().product();
    assert_eq!(
        count,
        data.len(),
        "encode_npy_f32: shape {shape:?} needs {count} values, got {}",
        data.len()
    );

    let shape_repr = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_repr}, }}");
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        header.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }

    // Version 1.0 stores the header length in 2 bytes, 2.0 in 4.
    let mut length_bytes = 2;
    let mut padded = padded_len(header.len(), length_bytes);
    if padded > usize::from(u16::MAX) {
        length_bytes = 4;
        padded = padded_len(header.len(), length_bytes);
    }

    let mut out = Vec::with_capacity(MAGIC.len() + 2 + length_bytes + padded + data.len() * 4);
    out.extend_from_slice(MAGIC);
    if length_bytes == 2 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(padded as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(padded as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + padded - header.len() - 1, b' ');
    out.push(b'\n');
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Header length after padding with spaces and a newline. numpy always pads
/// by 1–64 bytes (a full 64 when already aligned), so we do the same.
fn padded_len(header: usize, length_bytes: usize) -> usize {
    let unpadded = MAGIC.len() + 2 + length_bytes + header + 1;
    header + 1 + (ALIGN - unpadded % ALIGN)
}

/// Reads a `.npy` file holding a C-order `'<f4'` or `'<f8'` array (format
/// version 1.0, 2.0 or 3.0); `'<f8'` values are rounded to `f32`.
///
/// Returns the shape and the values in C order.
///
/// # Errors
///
/// [`ImagingError::Npy`] for a bad magic, an unknown version, a header that
/// cannot be parsed, another dtype, Fortran order, or a data section whose
/// length does not match the shape.
pub fn decode_npy_f32(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), ImagingError> {
    let err = |msg: &str| ImagingError::Npy(msg.to_string());
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| err("missing \\x93NUMPY magic"))?;
    let (&major, rest) = rest.split_first().ok_or_else(|| err("truncated header"))?;
    let (_, rest) = rest.split_first().ok_or_else(|| err("truncated header"))?;
    let (len_bytes, rest) = match major {
        1 => rest
            .split_at_checked(2)
            .map(|(l, r)| (usize::from(u16::from_le_bytes([l[0], l[1]])), r)),
        2 | 3 => rest
            .split_at_checked(4)
            .map(|(l, r)| (u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize, r)),
        _ => return Err(err(&format!("unsupported format version {major}"))),
    }
    .ok_or_else(|| err("truncated header"))?;
    let (header, payload) = rest
        .split_at_checked(len_bytes)
        .ok_or_else(|| err("truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| err("header is not text"))?;

    let descr = dict_value(header, "descr").ok_or_else(|| err("header has no 'descr'"))?;
    let width = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => 4,
        "<f8" => 8,
        other => return Err(err(&format!("dtype {other} is not '<f4' or '<f8'"))),
    };
    let fortran =
        dict_value(header, "fortran_order").ok_or_else(|| err("header has no 'fortran_order'"))?;
    if fortran != "False" {
        return Err(err("Fortran-order arrays are not supported"));
    }
    let shape =
        parse_shape(dict_value(header, "shape").ok_or_else(|| err("header has no 'shape'"))?)
            .ok_or_else(|| err("cannot parse 'shape'"))?;

    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err("shape overflows"))?;
    if count.checked_mul(width) != Some(payload.len()) {
        return Err(err(&format!(
            "shape {shape:?} needs {count} values but the data holds {} bytes",
            payload.len()
        )));
    }
    let values = if width == 4 {
        payload
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        payload
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    Ok((shape, values))
}

/// The raw text of `key`'s value in a numpy header dict literal.
///
/// Deliberately tiny: numpy writes a fixed, flat dict whose only nested
/// value is the shape tuple, so scanning to the next top-level comma suffices.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?
        + key.len()
        + 2;
    let after = header[start..].trim_start().strip_prefix(':')?.trim_start();
    let end = if after.starts_with('(') {
        after.find(')')? + 1
    } else {
        after.find([',', '}'])?
    };
    Some(after[..end].trim())
}

/// Parses `(2, 3)`, `(5,)` or `()`.
fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `numpy.save` (numpy 2.4) of
    /// `np.array([[1.5, -2.0, 0.1], [3.0, 1e-8, np.inf]], dtype='<f4')`.
    const NUMPY_2X3_F4: &str = "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c0cdcccc3d0000404077cc2b320000807f";

    #[test]
    fn encoding_is_byte_identical_to_numpy() {
        let data = [1.5, -2.0, 0.1, 3.0, 1e-8, f32::INFINITY];
        assert_eq!(encode_npy_f32(&[2, 3], &data), hex(NUMPY_2X3_F4));
    }

    #[test]
    fn headers_match_numpy_for_other_shapes() {
        // Headers numpy 2.4 writes for zero-filled '<f4' arrays; all are 118 bytes long.
        for (shape, dict) in [
            (
                &[5][..],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
            ),
            (
                &[],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
            ),
            (
                &[1, 3, 4, 4],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 4), }",
            ),
            (
                &[0],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }",
            ),
        ] {
            let count = shape.iter().product();
            let bytes = encode_npy_f32(shape, &vec![0.0; count]);
            assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
            let header = std::str::from_utf8(&bytes[10..128]).unwrap();
            assert!(
                header.starts_with(dict) && header.ends_with('\n'),
                "{header:?}"
            );
            assert!(header[dict.len()..117].bytes().all(|b| b == b' '));
            assert_eq!(bytes.len(), 128 + count * 4);
        }
    }

    #[test]
    fn round_trips_and_reads_float64() {
        let data: Vec<f32> = (0..24).map(|i| i as f32 * -0.25).collect();
        let bytes = encode_npy_f32(&[2, 3, 4], &data);
        assert_eq!(decode_npy_f32(&bytes).unwrap(), (vec![2, 3, 4], data));
        assert_eq!(decode_npy_f32(&hex(NUMPY_2X3_F4)).unwrap().0, vec![2, 3]);

        // numpy.save of np.array([1.5, -2.0, 1/3], dtype='<f8').
        let f8 = hex("934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000f83f00000000000000c0555555555555d53f");
        assert_eq!(
            decode_npy_f32(&f8).unwrap(),
            (vec![3], vec![1.5, -2.0, 1.0 / 3.0])
        );
    }

    #[test]
    fn bad_files_are_errors() {
        let good = hex(NUMPY_2X3_F4);
        let fortran = String::from_utf8_lossy(&good).replace("False", "True ");
        let big_endian = String::from_utf8_lossy(&good).replace("<f4", ">f4");
        for bytes in [
            b"not numpy".to_vec(),
            good[..9].to_vec(),
            good[..60].to_vec(),
            good[..good.len() - 1].to_vec(),
            fortran.into_bytes(),
            big_endian.into_bytes(),
        ] {
            assert!(matches!(decode_npy_f32(&bytes), Err(ImagingError::Npy(_))));
        }
    }
}
