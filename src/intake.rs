//! Files arriving from the drop zone, the file picker or the clipboard: checkpoints go to the
//! model loader, everything else becomes an image item (decoding decides whether it is one).

use web_sys::File;

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
    if files.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        let mut images = Vec::new();
        for file in files {
            let name = match file.name() {
                n if n.is_empty() => format!("pasted-{}.png", state.fresh_id()),
                n => n,
            };
            // An unreadable file still becomes an item (empty, so it fails with a message
            // where the user looks) rather than vanishing.
            let bytes = web::files::read(&file).await.unwrap_or_default();
            if is_model_file(&name) {
                models::load_file(state, name, bytes);
            } else {
                images.push((name, bytes));
            }
        }
        batch::add(state, images);
    });
}
