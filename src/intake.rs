//! Files arriving from the drop zone, the file picker or the clipboard: checkpoints go to the
//! model loader, everything else is decoded into items (DICOM files of one series become one
//! volume item; decoding decides whether a file is an image at all).

use web_sys::File;

use crate::limits::too_large_to_read;
use crate::state::AppState;
use crate::{batch, models, web};

/// File name endings that mean "this is a model, not an image".
const MODEL_ENDINGS: [&str; 4] = [".pth", ".pt", ".safetensors", ".ckpt"];

/// Whether `name` looks like a checkpoint.
pub fn is_model_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    MODEL_ENDINGS.iter().any(|end| lower.ends_with(end))
}

/// Reads `files` and routes each one; unnamed clipboard images get a generated name.
pub fn take(state: AppState, files: Vec<File>) {
    let named = files.into_iter().map(|f| (f.name(), f)).collect();
    take_named(state, named);
}

/// A drop: folders are walked first (their files named by relative path).
pub fn take_dropped(state: AppState, dropped: web::files::Dropped) {
    match dropped {
        web::files::Dropped::Files(files) => take(state, files),
        web::files::Dropped::Entries(entries) => leptos::task::spawn_local(async move {
            take_named(state, web::files::walk(entries).await);
        }),
    }
}

/// Reads `(name, file)` pairs and routes each one.
fn take_named(state: AppState, files: Vec<(String, File)>) {
    if files.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        let mut images = Vec::new();
        let mut refused = Vec::new();
        let mut read = 0u64;
        for (name, file) in files {
            let name = match name {
                n if n.is_empty() => format!("pasted-{}.png", state.fresh_id()),
                n => n,
            };
            // `File.size` is a double of bytes; anything unrepresentable counts as too large.
            let size = file.size();
            let size = if size.is_finite() && size >= 0.0 {
                size as u64
            } else {
                u64::MAX
            };
            if let Some(why) = too_large_to_read(size, read) {
                refused.push((name, why));
                continue;
            }
            read += size;
            // An unreadable file still becomes an item (empty, so it fails with a message
            // where the user looks) rather than vanishing.
            let bytes = web::files::read(&file).await.unwrap_or_default();
            if is_model_file(&name) {
                models::load_file(state, name, bytes);
            } else {
                images.push((name, bytes));
            }
        }
        batch::add_with_refusals(state, images, refused);
    });
}
