//! The display window (window/level) of a volume or DICOM image: the file's own window, the
//! full range, CT presets, or centre and width typed in (or dragged on the viewer). Display
//! only: the model input is what the model card's preprocessing makes of the raw values.

use leptos::prelude::*;
use unet_imaging::Window;

use crate::state::{use_state, AppState, Item, WindowChoice};

/// `[data-testid=window-controls]`, for items shown through a window.
#[component]
pub fn WindowControls() -> impl IntoView {
    let state = use_state();
    let item = move || state.selected_item().filter(Item::windowed);
    let choice = move || item().map(|i| state.window_for(&i));
    let has_file_window = move || item().is_some_and(|i| i.info.window.is_some());
    let set_preset = move |e: leptos::ev::Event| {
        let Some(item) = state.selected_item_untracked() else {
            return;
        };
        let preset = event_target_value(&e);
        let window = match preset.as_str() {
            "file" => item.info.window,
            "full range" => Some(item.full_range),
            name => Window::preset(name),
        };
        if let Some(window) = window {
            state.window.set(Some(WindowChoice {
                item: item.id,
                preset,
                window,
            }));
        }
    };
    let preset_option = move |value: &'static str| {
        let selected = move || choice().is_some_and(|c| c.preset == value);
        view! { <option value=value selected=selected prop:selected=selected>{value}</option> }
    };
    view! {
        <Show when=move || item().is_some()>
            <div class="window-controls" data-testid="window-controls">
                <label class="control">
                    "Window"
                    <select data-testid="window-preset" on:change=set_preset>
                        <Show when=has_file_window>{preset_option("file")}</Show>
                        {preset_option("full range")}
                        {Window::PRESETS.iter().map(|(name, _)| preset_option(name)).collect_view()}
                        <Show when=move || choice().is_some_and(|c| c.preset == "custom")>
                            {preset_option("custom")}
                        </Show>
                    </select>
                </label>
                <label class="control">
                    "Centre"
                    <input
                        type="number"
                        step="any"
                        data-testid="window-center"
                        prop:value=move || choice().map(|c| round(c.window.center)).unwrap_or_default()
                        on:change=move |e| edit(state, &e, true)
                    />
                </label>
                <label class="control">
                    "Width"
                    <input
                        type="number"
                        step="any"
                        min="1"
                        data-testid="window-width"
                        prop:value=move || choice().map(|c| round(c.window.width)).unwrap_or_default()
                        on:change=move |e| edit(state, &e, false)
                    />
                </label>
            </div>
        </Show>
    }
}

/// Shown to two decimals at most, without trailing zeros.
fn round(value: f32) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A typed centre (`center`) or width: the window becomes "custom".
fn edit(state: AppState, e: &leptos::ev::Event, center: bool) {
    let Some(value) = event_target_value(e)
        .parse::<f32>()
        .ok()
        .filter(|v| v.is_finite())
    else {
        return;
    };
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let current = untrack(|| state.window_for(&item)).window;
    let window = if center {
        Window::new(value, current.width)
    } else {
        Window::new(current.center, value)
    };
    state.window.set(Some(WindowChoice {
        item: item.id,
        preset: "custom".into(),
        window,
    }));
}
