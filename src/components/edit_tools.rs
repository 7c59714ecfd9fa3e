//! The mask editing toolbar: pan, brush, eraser and fill (`data-testid="tool-NAME"`, the active
//! one `aria-pressed`), the brush size, the class painted, undo and redo, a badge on an edited
//! image or slice, and "Discard edits" for a volume.

use leptos::prelude::*;

use crate::edit::{self, Tool};
use crate::state::{use_state, AppState, ItemState};

/// The toolbar, shown once the selected item can be edited.
#[component]
pub fn EditTools() -> impl IntoView {
    let state = use_state();
    let editable = move || {
        state.ready_model().is_some()
            && state
                .selected_item()
                .is_some_and(|i| i.volume().is_some() || matches!(i.state, ItemState::Done(_)))
    };
    // Background is the eraser's; the brush and fill paint the others.
    let classes = move || state.classes().into_iter().skip(1).collect::<Vec<_>>();
    let tool_button = move |tool: Tool, label: &'static str, title: &'static str| {
        view! {
            <button
                class="button tool"
                data-testid=format!("tool-{}", tool.name())
                title=title
                aria-pressed=move || (state.edit.get().tool == tool).to_string()
                on:click=move |_| state.edit.update(|s| s.tool = tool)
            >
                {label}
            </button>
        }
    };
    view! {
        <Show when=editable>
            <div
                class="edit-tools"
                data-testid="edit-tools"
                data-tool=move || state.edit.get().tool.name()
            >
                {tool_button(Tool::Pan, "Pan", "Drag to move the image")}
                {tool_button(Tool::Brush, "Brush", "Paint the chosen class")}
                {tool_button(Tool::Eraser, "Eraser", "Paint background")}
                {tool_button(Tool::Fill, "Fill", "Fill the connected region under the pointer with the chosen class")}
                <label class="field">
                    "Size "
                    <input
                        type="range"
                        data-testid="brush-size"
                        min="0"
                        max="50"
                        step="1"
                        prop:value=move || state.edit.get().radius.to_string()
                        on:input=move |e| {
                            if let Ok(r) = event_target_value(&e).parse::<f64>() {
                                state.edit.update(|s| s.radius = r);
                            }
                        }
                    />
                    <span data-testid="brush-size-value">
                        {move || format!("{} px", state.edit.get().radius)}
                    </span>
                </label>
                <label class="field">
                    "Class "
                    <select
                        data-testid="edit-class"
                        prop:value=move || state.edit.get().class.to_string()
                        on:change=move |e| {
                            if let Ok(c) = event_target_value(&e).parse::<u8>() {
                                state.edit.update(|s| s.class = c);
                            }
                        }
                    >
                        <For
                            each=classes
                            key=|(index, class)| (*index, class.name.clone())
                            children=move |(index, class)| {
                                view! { <option value=index.to_string()>{class.name.clone()}</option> }
                            }
                        />
                    </select>
                </label>
                {history_button(state, false)}
                {history_button(state, true)}
                // Hidden, not removed: the toolbar keeps its size, so the image under the pointer
                // does not move when the first stroke marks the slice.
                <span
                    class="badge"
                    class:invisible=move || !edited(state)
                    data-testid="edited-badge"
                >
                    "edited by hand"
                </span>
                <button
                    class="button"
                    class:invisible=move || !volume_edited(state)
                    data-testid="discard-edits"
                    title="Drop every hand edit of this volume: the model's labels show and export again"
                    on:click=move |_| discard(state)
                >
                    "Discard edits"
                </button>
            </div>
        </Show>
    }
}

/// Undo (Ctrl+Z) or redo (Ctrl+Shift+Z), enabled while there is an edit to take back or redo.
fn history_button(state: AppState, redo: bool) -> impl IntoView {
    let (id, label, title) = if redo {
        ("redo", "Redo", "Redo the edit undone last (Ctrl+Shift+Z)")
    } else {
        ("undo", "Undo", "Undo the last edit (Ctrl+Z)")
    };
    let possible = move || {
        state.edits.track();
        state
            .history
            .with_value(|h| if redo { h.can_redo() } else { h.can_undo() })
    };
    view! {
        <button
            class="button"
            data-testid=id
            title=title
            prop:disabled=move || !possible()
            on:click=move |_| if redo { edit::redo(state) } else { edit::undo(state) }
        >
            {label}
        </button>
    }
}

/// The selected 2-D image, or the volume slice shown, holds hand edits.
fn edited(state: AppState) -> bool {
    let Some(item) = state.selected_item() else {
        return false;
    };
    match item.volume() {
        Some(volume) => state
            .slice_for(&item)
            .is_some_and(|key| edit::slice_edited(state, key, &volume.slicing(key.plane))),
        None => state.edited_items.with(|s| s.contains(&item.id)),
    }
}

/// The selected volume frame holds hand edits.
fn volume_edited(state: AppState) -> bool {
    let Some(item) = state.selected_item() else {
        return false;
    };
    item.volume().is_some()
        && state
            .slice_for(&item)
            .is_some_and(|key| edit::volume_edited(state, key.item, key.frame))
}

fn discard(state: AppState) {
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    if let Some(key) = untrack(|| state.slice_for(&item)) {
        edit::discard(state, key.item, key.frame);
    }
}
