//! How the `decode_files` target (and its regression test) cuts one input into files: byte 0
//! selects the number of files (1 + byte % 3); the rest is cut at [`SEPARATOR`] when present
//! (the seeds are built that way), else into equal parts.

/// Between two files of a `decode_files` input.
pub const SEPARATOR: &[u8] = b"\xffFILE\xff";

/// The files, named like the slices of one DICOM series folder.
pub fn split(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Some((&first, rest)) = data.split_first() else {
        return Vec::new();
    };
    let count = 1 + usize::from(first % 3);
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut tail = rest;
    while parts.len() + 1 < count {
        match tail.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                parts.push(&tail[..at]);
                tail = &tail[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    if parts.len() + 1 < count {
        // No (more) separators: cut what is left into equal pieces.
        let pieces = count - parts.len();
        let size = tail.len().div_ceil(pieces).max(1);
        parts.extend(tail.chunks(size));
    } else {
        parts.push(tail);
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| (format!("series/IM{i:04}.dcm"), bytes.to_vec()))
        .collect()
}
