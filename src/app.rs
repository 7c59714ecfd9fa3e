//! The page: layout, shared state, start-up (backend, manifests, default model) and the
//! page-wide inputs (drag and drop anywhere, paste, the `m` and undo/redo shortcuts).

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{
    BackendBadge, Controls, DropOverlay, DropZone, EditTools, ExportButtons, FileList, ItemInfo,
    Legend, ModelPicker, OfflineNote, PlaneViews, Samples, StatsTable, Status, Viewer,
    VolumeControls, WindowControls,
};
use crate::engine::EngineHandle;
use crate::manifest::{asset_url, ModelManifest, SampleManifest};
use crate::state::{AppState, ModelStatus};
use crate::{edit, intake, models, volume, web};

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    spawn_local(start(state));

    let dragging = RwSignal::new(false);
    page_wide_inputs(state, dragging);

    view! {
        <header class="top">
            <h1>"unet-web"</h1>
            <p class="tagline">"U-Net segmentation of medical images, in your browser"</p>
            <BackendBadge/>
        </header>
        <p class="privacy" data-testid="privacy">
            "Private by design: your images never leave this computer. After the page and the \
             model have loaded, dropping, segmenting and exporting make no network request."
        </p>
        <ModelPicker/>
        <main class="layout">
            <aside class="sidebar">
                <DropZone/>
                <Samples/>
                <FileList/>
            </aside>
            <section class="stage">
                <Status/>
                <div class="toolbar">
                    <Controls/>
                    <ExportButtons/>
                </div>
                <ItemInfo/>
                <div class="toolbar">
                    <VolumeControls/>
                    <WindowControls/>
                </div>
                <Legend/>
                <EditTools/>
                <PlaneViews/>
                <Viewer/>
                <StatsTable/>
            </section>
        </main>
        <footer class="bottom">
            "Research software, not a medical device: do not use its masks for diagnosis. "
            <OfflineNote/>
        </footer>
        <DropOverlay visible=dragging/>
    }
}

/// Backend first (so the model is built on the right device), then the manifests and the
/// default model.
async fn start(state: AppState) {
    let webgpu = if web::query_param("backend").as_deref() == Some("cpu") {
        Err("the CPU was requested with ?backend=cpu".to_string())
    } else {
        web::gpu::probe().await
    };
    let (engine, backend) = EngineHandle::start(webgpu).await;
    state.engine.set(Some(engine));
    state.backend.set(Some(backend));

    spawn_local(async move {
        // Samples are optional: without the manifest the buttons just do not appear.
        let url = asset_url("samples", "manifest.json");
        if let Ok(manifest) = web::fetch::text(&url).await {
            if let Ok(parsed) = serde_json::from_str::<SampleManifest>(&manifest) {
                state.samples.set(parsed.samples);
            }
        }
    });

    let url = asset_url("models", "manifest.json");
    let manifest = web::fetch::text(&url).await.and_then(|text| {
        serde_json::from_str::<ModelManifest>(&text).map_err(|e| format!("{url}: {e}"))
    });
    match manifest {
        Ok(manifest) => {
            let wanted = web::query_param("model");
            let initial = manifest.initial(wanted.as_deref()).cloned();
            state.models.set(manifest.models);
            match initial {
                Some(entry) => models::load_entry(state, entry),
                None => state.model.set(ModelStatus::Failed(
                    "no bundled model: load your own with “Load your own model”".into(),
                )),
            }
        }
        Err(message) => state.model.set(ModelStatus::Failed(format!(
            "cannot read the model list ({message}); you can still load your own model"
        ))),
    }
}

/// Drag and drop anywhere on the page, paste, and the `m` shortcut.
fn page_wide_inputs(state: AppState, dragging: RwSignal<bool>) {
    // Without preventDefault on dragover the browser would open the dropped file instead.
    let _ = window_event_listener(ev::dragover, move |e| {
        e.prevent_default();
        dragging.set(true);
    });
    let _ = window_event_listener(ev::dragleave, move |e| {
        // Leaving to outside the window has no related target.
        if e.related_target().is_none() {
            dragging.set(false);
        }
    });
    let _ = window_event_listener(ev::drop, move |e| {
        e.prevent_default();
        dragging.set(false);
        if inside(&e, "[data-drop=model]") {
            return; // The model area loads what is dropped on it as a model.
        }
        intake::take_dropped(state, web::files::dropped(e.data_transfer()));
    });
    let _ = window_event_listener(ev::paste, move |e| {
        let files = e.clipboard_data().and_then(|d| d.files());
        let files = web::files::list(files);
        if !files.is_empty() {
            e.prevent_default();
            intake::take(state, files);
        }
    });
    let _ = window_event_listener(ev::keydown, move |e| {
        if typing_into_a_field(&e) {
            return;
        }
        // Ctrl+Z undoes a mask edit, Ctrl+Shift+Z (or Ctrl+Y) redoes it; ⌘ on a Mac.
        if (e.ctrl_key() || e.meta_key()) && !e.alt_key() {
            let key = e.key().to_ascii_lowercase();
            if key == "z" && !e.shift_key() {
                e.prevent_default();
                edit::undo(state);
            } else if (key == "z" && e.shift_key()) || key == "y" {
                e.prevent_default();
                edit::redo(state);
            }
            return;
        }
        if e.alt_key() {
            return;
        }
        let key = e.key();
        if key.eq_ignore_ascii_case("m") {
            state.view.update(|v| v.show_mask = !v.show_mask);
        }
        // Arrow keys scroll a volume's slices (PageUp/PageDown by ten).
        let delta = match key.as_str() {
            "ArrowUp" | "ArrowRight" => 1,
            "ArrowDown" | "ArrowLeft" => -1,
            "PageUp" => 10,
            "PageDown" => -10,
            _ => 0,
        };
        if delta != 0 && volume::step(state, delta) {
            e.prevent_default();
        }
    });
}

fn target_element(e: &web_sys::Event) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
}

fn inside(e: &web_sys::Event, selector: &str) -> bool {
    target_element(e)
        .and_then(|el| el.closest(selector).ok().flatten())
        .is_some()
}

fn typing_into_a_field(e: &web_sys::KeyboardEvent) -> bool {
    target_element(e)
        .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
        .unwrap_or(false)
}
