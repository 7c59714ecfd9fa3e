//! Files the user dropped (folders too), picked or pasted, as bytes.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemDirectoryReader,
    FileSystemEntry, FileSystemFileEntry,
};

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

/// What a drop holds, taken while the drop event lasts (its `DataTransfer` is emptied after):
/// the file-system entries when the browser gives them (so folders can be walked), else the
/// plain files.
pub enum Dropped {
    /// Entries of files and folders.
    Entries(Vec<FileSystemEntry>),
    /// Files only (no entry API).
    Files(Vec<File>),
}

/// Takes the drop's contents; call it in the drop handler itself.
pub fn dropped(transfer: Option<DataTransfer>) -> Dropped {
    let Some(transfer) = transfer else {
        return Dropped::Files(Vec::new());
    };
    let items = transfer.items();
    let entries: Vec<FileSystemEntry> = (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect();
    if entries.is_empty() {
        Dropped::Files(list(transfer.files()))
    } else {
        Dropped::Entries(entries)
    }
}

/// Every file under `entries`, folders walked recursively, named by their path relative to the
/// drop (`series1/IM001.dcm`), so a dropped DICOM folder stays together.
pub async fn walk(entries: Vec<FileSystemEntry>) -> Vec<(String, File)> {
    let mut out = Vec::new();
    let mut pending = entries;
    while let Some(entry) = pending.pop() {
        let name = entry.full_path().trim_start_matches('/').to_string();
        if entry.is_directory() {
            let reader = entry
                .unchecked_into::<FileSystemDirectoryEntry>()
                .create_reader();
            // readEntries gives at most 100 entries a call; an empty batch means done.
            while let Ok(batch) = read_entries(&reader).await {
                if batch.is_empty() {
                    break;
                }
                // Reversed, so the pop order follows the folder order.
                pending.extend(batch.into_iter().rev());
            }
        } else if entry.is_file() {
            let name = if name.is_empty() { entry.name() } else { name };
            if let Ok(file) = entry_file(entry.unchecked_into()).await {
                out.push((name, file));
            }
        }
    }
    out
}

async fn read_entries(reader: &FileSystemDirectoryReader) -> Result<Vec<FileSystemEntry>, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        if let Err(e) = reader.read_entries_with_callback_and_callback(&resolve, &reject) {
            let _ = reject.call1(&JsValue::UNDEFINED, &e);
        }
    });
    let batch = JsFuture::from(promise).await.map_err(|e| js_error(&e))?;
    Ok(Array::from(&batch)
        .iter()
        .map(|v| v.unchecked_into::<FileSystemEntry>())
        .collect())
}

async fn entry_file(entry: FileSystemFileEntry) -> Result<File, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        entry.file_with_callback_and_callback(&resolve, &reject);
    });
    let file = JsFuture::from(promise).await.map_err(|e| js_error(&e))?;
    Ok(file.unchecked_into())
}
