//! What the page is doing: the status line (with the `data-state` tests wait on), the batch
//! progress bar with its cancel button, per-run timings, and the backend badge.

use leptos::prelude::*;

use crate::batch;
use crate::engine::{BackendKind, EngineHome, ThreadsInfo};
use crate::state::{use_state, AppState, ItemState, ModelStatus, Offline};

/// `[data-testid=status]`: `data-state` is loading | idle | running | done | error.
#[component]
pub fn Status() -> impl IntoView {
    let state = use_state();
    let running = move || state.batch_running.get();
    let (done, total) = (
        move || state.progress.get().0,
        move || state.progress.get().1.max(1),
    );
    view! {
        <div class="status" data-testid="status" data-state=move || state.status_word()>
            <span class="status-text">{move || message(state)}</span>
            <Show when=running>
                <progress
                    data-testid="progress"
                    max=move || total().to_string()
                    value=move || done().to_string()
                ></progress>
                <span class="progress-count">{move || format!("{} / {}", done(), total())}</span>
                <button class="button small" data-testid="cancel" on:click=move |_| batch::cancel(state)>
                    "Cancel"
                </button>
            </Show>
        </div>
        <p class="timings" data-testid="timings">{move || timings(state)}</p>
        <Show when=move || state.notice.get().is_some()>
            <p class="notice" role="alert">{move || state.notice.get()}</p>
        </Show>
    }
}

fn message(state: AppState) -> String {
    match state.model.get() {
        ModelStatus::Loading { name, progress } => {
            return match progress {
                _ if name.is_empty() => {
                    "Starting: looking for WebGPU, reading the model list…".into()
                }
                Some(p) => format!("Downloading model “{name}”… {:.0} %", p * 100.0),
                None => format!("Preparing model “{name}” (building and warming up)…"),
            };
        }
        ModelStatus::Failed(message) => return format!("The model could not be loaded: {message}"),
        ModelStatus::Ready(_) => {}
    }
    if state.batch_running.get() {
        let (done, total) = state.progress.get();
        return format!("Segmenting… {done} of {total} done");
    }
    match state.selected_item() {
        None => "Model ready. Drop an image, paste one, or try a sample.".into(),
        Some(item) => match item.state {
            ItemState::Done(result) => {
                let notes = result.notes.join(" ");
                format!("Mask ready for {}. {notes}", item.name)
            }
            ItemState::Failed(message) => format!("{}: {message}", item.name),
            ItemState::Cancelled => format!("{}: cancelled", item.name),
            ItemState::Queued | ItemState::Running => format!("Segmenting {}…", item.name),
        },
    }
}

fn timings(state: AppState) -> String {
    let mut parts = Vec::new();
    if let Some(info) = state.ready_model() {
        parts.push(format!(
            "model: load {:.0} ms, warm-up {:.0} ms",
            info.load_ms, info.warmup_ms
        ));
    }
    if let Some(ItemState::Done(result)) = state.selected_item().map(|i| i.state) {
        let t = result.timings;
        parts.push(format!(
            "this image: decode {:.0} ms · inference {:.0} ms · total {:.0} ms",
            t.decode_ms, t.inference_ms, t.total_ms
        ));
    }
    parts.join(" — ")
}

/// `[data-testid=backend]`: says `WebGPU` (with the adapter) or `CPU` (with the reason).
#[component]
pub fn BackendBadge() -> impl IntoView {
    let state = use_state();
    let kind = move || match state.backend.get().map(|b| b.kind) {
        Some(BackendKind::WebGpu) => "webgpu",
        Some(BackendKind::Cpu) => "cpu",
        None => "unknown",
    };
    let label = move || match state.backend.get() {
        Some(info) => info.label(),
        None => "Backend: detecting…".into(),
    };
    view! {
        <p class="backend" data-testid="backend" data-backend=kind title=label>
            {label}
        </p>
        <EngineThreads/>
    }
}

/// `[data-testid=engine-threads]`: where inference runs and on how many threads, and why
/// (`data-home` is worker | page, `data-threads` the CPU path's count).
#[component]
fn EngineThreads() -> impl IntoView {
    let state = use_state();
    let home = move || state.engine.with(|e| e.as_ref().map(|e| e.home().clone()));
    let threads = move || {
        state
            .backend
            .with(|b| b.as_ref().and_then(|b| b.threads.clone()))
    };
    let word = move || match home() {
        Some(EngineHome::Worker) => "worker",
        Some(EngineHome::Page { .. }) => "page",
        None => "",
    };
    let count = move || threads().map_or(1, |t| t.count).to_string();
    let text = move || match (home(), threads()) {
        (Some(EngineHome::Worker), Some(ThreadsInfo { count, why })) => format!(
            "Inference: {count} thread{}, in a Web Worker, so the page stays responsive ({why})",
            if count == 1 { "" } else { "s" }
        ),
        (Some(EngineHome::Worker), None) => {
            "Inference: on the GPU, driven from a Web Worker, so the page stays responsive".into()
        }
        (Some(EngineHome::Page { reason }), _) => format!(
            "Inference: 1 thread, on the page's own thread, pausing between steps ({reason})"
        ),
        (None, _) => String::new(),
    };
    view! {
        <p class="engine-threads" data-testid="engine-threads" data-home=word data-threads=count>
            {text}
        </p>
    }
}

/// `[data-testid=offline]`: whether the app is stored for offline use (`data-offline` is
/// not-yet | storing | kept | unavailable).
#[component]
pub fn OfflineNote() -> impl IntoView {
    let state = use_state();
    let word = move || match state.offline.get() {
        Offline::NotYet => "not-yet",
        Offline::Storing => "storing",
        Offline::Kept => "kept",
        Offline::Unavailable(_) => "unavailable",
    };
    let text = move || match state.offline.get() {
        Offline::NotYet => String::new(),
        Offline::Storing => "Storing the app for offline use…".into(),
        Offline::Kept => "Works offline: the app and its models are stored in this browser.".into(),
        Offline::Unavailable(why) => format!("Not available offline: {why}"),
    };
    view! { <span class="offline" data-testid="offline" data-offline=word>{text}</span> }
}
