//! Choosing the model: the bundled ones from the manifest, or the user's own checkpoint picked
//! or dropped onto this area. Shows load progress, load errors, the untrained warning and the
//! model card.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::{use_state, ModelStatus};
use crate::{models, web};

/// The model bar.
#[component]
pub fn ModelPicker() -> impl IntoView {
    let state = use_state();
    let choose = move |e: leptos::ev::Event| {
        let id = event_target_value(&e);
        let entry = state
            .models
            .with_untracked(|m| m.iter().find(|m| m.id == id).cloned());
        if let Some(entry) = entry {
            models::load_entry(state, entry);
        }
    };
    let load_first = move |files: Vec<web_sys::File>| {
        let Some(file) = files.into_iter().next() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match web::files::read(&file).await {
                Ok(bytes) => models::load_file(state, file.name(), bytes),
                Err(message) => state.model_error.set(Some(message)),
            }
        });
    };
    let on_pick = move |e: leptos::ev::Event| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            load_first(web::files::list(input.files()));
            input.set_value("");
        }
    };
    let on_drop = move |e: leptos::ev::DragEvent| {
        e.prevent_default();
        load_first(web::files::list(e.data_transfer().and_then(|d| d.files())));
    };
    let loading = move || matches!(state.model.get(), ModelStatus::Loading { .. });
    let fraction = move || match state.model.get() {
        ModelStatus::Loading {
            progress: Some(p), ..
        } => Some(p),
        _ => None,
    };
    let custom_name = move || match (state.model_id.get(), state.ready_model()) {
        (None, Some(info)) => Some(info.source.clone()),
        _ => None,
    };
    let untrained = move || state.ready_model().is_some_and(|m| !m.card.trained);

    view! {
        <section class="model-bar" data-drop="model" data-testid="model-area" on:drop=on_drop>
            <label class="control">
                "Model"
                <select data-testid="model-select" on:change=choose prop:disabled=loading>
                    <For
                        each=move || state.models.get()
                        key=|m| m.id.clone()
                        children=move |m| {
                            let id = m.id.clone();
                            let selected = move || state.model_id.get().as_deref() == Some(id.as_str());
                            let says_so = m.name.to_lowercase().contains("untrained");
                            let label = if m.trained || says_so { m.name.clone() } else { format!("{} (untrained)", m.name) };
                            view! { <option value=m.id.clone() title=m.description.clone() selected=selected>{label}</option> }
                        }
                    />
                    {move || custom_name().map(|name| view! {
                        <option value="" selected=true disabled=true>{format!("Your model: {name}")}</option>
                    })}
                </select>
            </label>
            <label class="button">
                "Load your own model…"
                <input
                    type="file"
                    accept=".pth,.pt,.safetensors"
                    data-testid="model-input"
                    class="visually-hidden"
                    on:change=on_pick
                />
            </label>
            <span class="hint">".pth / .safetensors (milesial U-Net) — or drop it here"</span>
            <Show when=loading>
                <progress
                    data-testid="model-progress"
                    max="1"
                    value=move || fraction().map(|p| p.to_string())
                ></progress>
            </Show>
        </section>
        <Show when=move || state.model_error.get().is_some()>
            <p class="model-error" data-testid="model-error" role="alert">
                {move || state.model_error.get()}
            </p>
        </Show>
        <Show when=untrained>
            <p class="untrained" data-testid="untrained-warning" role="alert">
                {move || format!(
                    "⚠ “{}” is not a trained model: its masks are not meaningful segmentations. \
                     Pick the bundled brain-extraction model, or load your own model, for \
                     real results.",
                    state.ready_model().map(|m| m.card.name.clone()).unwrap_or_default()
                )}
            </p>
        </Show>
        <ModelCard/>
    }
}

/// What the loaded model is: task, input, classes, provenance.
#[component]
fn ModelCard() -> impl IntoView {
    let state = use_state();
    move || {
        state.ready_model().map(|info| {
            let card = &info.card;
            let metrics = card
                .metrics
                .iter()
                .map(|(k, v)| format!("{k} {v:.3}"))
                .collect::<Vec<_>>()
                .join(", ");
            let classes = card.classes.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ");
            view! {
                <details class="model-card" data-testid="model-card">
                    <summary>{format!("About “{}”", card.name)}</summary>
                    <dl>
                        <dt>"Task"</dt><dd>{card.task.clone()}</dd>
                        <dt>"Input"</dt><dd>{format!("{} channel(s), {:?} normalisation", info.config.n_channels, card.preprocessing)}</dd>
                        <dt>"Classes"</dt><dd>{classes}</dd>
                        <dt>"Network"</dt><dd>{format!(
                            "U-Net, base {} channels, {} upsampling, {} parameters ({})",
                            info.config.base_channels,
                            if info.config.bilinear { "bilinear" } else { "transposed-conv" },
                            info.parameters,
                            info.format
                        )}</dd>
                        <dt>"Trained"</dt><dd>{if card.trained { "yes" } else { "no (placeholder)" }}</dd>
                        <dt>"Metrics"</dt><dd>{if metrics.is_empty() { "none reported".to_string() } else { metrics }}</dd>
                        <dt>"Licence"</dt><dd>{card.license.clone()}</dd>
                        <dt>"Provenance"</dt><dd>{card.provenance.clone()}</dd>
                    </dl>
                </details>
            }
        })
    }
}
