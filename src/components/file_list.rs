//! The list of files: thumbnail, name, state and, for a file that failed, its message.
//! Clicking an item shows it in the viewer.

use leptos::prelude::*;

use super::thumbnail::Thumbnail;
use crate::state::{use_state, Item, ItemState};
use crate::{batch, edit};

/// `[data-testid=file-list]` with one `[data-testid=item]` per file.
#[component]
pub fn FileList() -> impl IntoView {
    let state = use_state();
    let clear = move |_| {
        batch::cancel(state);
        state.items.update(|items| {
            items.retain(|i| i.state == ItemState::Running);
        });
        edit::forget_removed(state);
        state.selected.set(None);
    };
    view! {
        <div class="file-list-header">
            <h2>"Files"</h2>
            <Show when=move || state.items.with(|i| !i.is_empty())>
                <button class="button small" data-testid="clear" on:click=clear>"Clear"</button>
            </Show>
        </div>
        <ul class="file-list" data-testid="file-list">
            <For
                each=move || state.items.get()
                key=|item| (item.id, item.state.word())
                children=move |item| view! { <Row item=item/> }
            />
        </ul>
    }
}

#[component]
fn Row(item: Item) -> impl IntoView {
    let state = use_state();
    let id = item.id;
    let selected = move || state.selected.get() == Some(id);
    let word = item.state.word();
    let thumb = match &item.state {
        ItemState::Done(result) => view! { <Thumbnail result=result.clone()/> }.into_any(),
        ItemState::Running => {
            view! { <span class="thumb-badge spinner" aria-label="running"></span> }.into_any()
        }
        ItemState::Failed(_) => view! { <span class="thumb-badge">"✕"</span> }.into_any(),
        _ => view! { <span class="thumb-badge">"…"</span> }.into_any(),
    };
    let error = match &item.state {
        ItemState::Failed(message) => Some(view! {
            <span class="item-error" data-testid="item-error" role="alert">{message.clone()}</span>
        }),
        _ => None,
    };
    let can_retry = matches!(item.state, ItemState::Cancelled | ItemState::Failed(_));
    let remove = move |e: leptos::ev::MouseEvent| {
        e.stop_propagation();
        state.items.update(|items| items.retain(|i| i.id != id));
        edit::forget_removed(state);
        if state.selected.get_untracked() == Some(id) {
            state
                .selected
                .set(state.items.with_untracked(|i| i.last().map(|i| i.id)));
        }
    };
    let retry = move |e: leptos::ev::MouseEvent| {
        e.stop_propagation();
        batch::retry(state, id);
    };
    view! {
        <li
            class="item"
            class:selected=selected
            data-testid="item"
            data-state=word
            data-name=item.name.clone()
            on:click=move |_| state.selected.set(Some(id))
        >
            <div class="thumb">{thumb}</div>
            <div class="item-text">
                <span class="item-name" title=item.name.clone()>{item.name.clone()}</span>
                <span class=format!("item-state state-{word}")>{word}</span>
                {error}
            </div>
            <div class="item-actions">
                <Show when=move || can_retry>
                    <button class="button small" title="Run again" on:click=retry>"↻"</button>
                </Show>
                <Show when=move || word != "running">
                    <button class="button small" title="Remove" on:click=remove>"×"</button>
                </Show>
            </div>
        </li>
    }
}
