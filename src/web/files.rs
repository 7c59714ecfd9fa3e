//! Files the user dropped, picked or pasted, as bytes.

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, FileList};

use super::js_error;

/// The files of a `FileList` (from an input, a drop or a paste).
pub fn list(files: Option<FileList>) -> Vec<File> {
    let Some(files) = files else {
        return Vec::new();
    };
    (0..files.length()).filter_map(|i| files.get(i)).collect()
}

/// The whole file, read into memory.
pub async fn read(file: &File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("cannot read the file: {}", js_error(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
