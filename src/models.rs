//! Loading a model: a bundled one from `assets/models/` (with download progress) or the
//! user's own file. A model that fails to load leaves the previous one in place.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::manifest::{asset_url, ModelEntry};
use crate::state::{AppState, ModelStatus, Offline};
use crate::{batch, web};

/// Fetches and loads a bundled model.
pub fn load_entry(state: AppState, entry: ModelEntry) {
    spawn_local(async move {
        let previous = state.model.get_untracked();
        begin(state, &entry.name);
        let url = asset_url("models", &entry.file);
        let name = entry.name.clone();
        let progress = move |loaded: u64, total: Option<u64>| {
            let fraction = total.map(|t| (loaded as f64 / t.max(1) as f64).min(1.0));
            state.model.set(ModelStatus::Loading {
                name: name.clone(),
                progress: fraction,
            });
        };
        match web::fetch::bytes(&url, progress).await {
            Ok(bytes) => match entry.verify(&bytes) {
                Ok(()) => finish(state, previous, entry.file, bytes, Some(entry.id)).await,
                Err(message) => fail(state, previous, message),
            },
            Err(message) => fail(
                state,
                previous,
                format!("cannot download the model: {message}"),
            ),
        }
    });
}

/// Loads the user's own checkpoint (`.pth`, `.safetensors` or the project's format).
pub fn load_file(state: AppState, name: String, bytes: Vec<u8>) {
    spawn_local(async move {
        let previous = state.model.get_untracked();
        begin(state, &name);
        finish(state, previous, name, bytes, None).await;
    });
}

fn begin(state: AppState, name: &str) {
    state.model_error.set(None);
    state.model.set(ModelStatus::Loading {
        name: name.to_string(),
        progress: None,
    });
}

async fn finish(
    state: AppState,
    previous: ModelStatus,
    source: String,
    bytes: Vec<u8>,
    id: Option<String>,
) {
    let Some(engine) = state.engine.get_untracked() else {
        return fail(
            state,
            previous,
            "the inference engine is not running".into(),
        );
    };
    // Building and warming up happen in the engine; show that phase as indeterminate.
    state.model.update(|m| {
        if let ModelStatus::Loading { progress, .. } = m {
            *progress = None;
        }
    });
    match engine.load_model(source, bytes).await {
        Ok(info) => {
            state.backend.set(Some(info.backend.clone()));
            state.model.set(ModelStatus::Ready(info));
            state.model_id.set(id);
            batch::rerun_all(state);
            if state.offline.get_untracked() == Offline::NotYet {
                state.offline.set(Offline::Storing);
                spawn_local(async move {
                    state.offline.set(match web::offline::keep().await {
                        Ok(()) => Offline::Kept,
                        Err(why) => Offline::Unavailable(why),
                    });
                });
            }
        }
        Err(message) => fail(state, previous, message),
    }
}

fn fail(state: AppState, previous: ModelStatus, message: String) {
    state.model_error.set(Some(message.clone()));
    match previous {
        ModelStatus::Ready(_) => state.model.set(previous),
        _ => state.model.set(ModelStatus::Failed(message)),
    }
}
