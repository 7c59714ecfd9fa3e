//! How the mask is drawn: show/hide (also the `m` key), opacity, filled or outline.

use leptos::prelude::*;

use crate::state::use_state;

/// The mask display controls.
#[component]
pub fn Controls() -> impl IntoView {
    let state = use_state();
    let view = state.view;
    let toggle = move |_| view.update(|v| v.show_mask = !v.show_mask);
    let set_opacity = move |e: leptos::ev::Event| {
        if let Ok(percent) = event_target_value(&e).parse::<f32>() {
            view.update(|v| v.opacity = (percent / 100.0).clamp(0.0, 1.0));
        }
    };
    let set_outline = move |e: leptos::ev::Event| {
        let outline = event_target_value(&e) == "outline";
        view.update(|v| v.outline = outline);
    };
    view! {
        <div class="controls">
            <button
                class="button"
                data-testid="toggle-mask"
                aria-pressed=move || view.get().show_mask.to_string()
                title="Show or hide the mask (M)"
                on:click=toggle
            >
                {move || if view.get().show_mask { "Hide mask (M)" } else { "Show mask (M)" }}
            </button>
            <label class="control">
                "Opacity"
                <input
                    type="range"
                    min="0"
                    max="100"
                    data-testid="opacity"
                    prop:value=move || (view.get().opacity * 100.0).round().to_string()
                    on:input=set_opacity
                />
            </label>
            <label class="control">
                "Style"
                <select data-testid="mask-style" on:change=set_outline>
                    <option value="filled" selected=move || !view.get().outline>"Filled"</option>
                    <option value="outline" selected=move || view.get().outline>"Outline"</option>
                </select>
            </label>
        </div>
    }
}
