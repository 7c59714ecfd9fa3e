//! The classes of the loaded model, with their colours, from its model card.

use leptos::prelude::*;

use crate::state::use_state;

/// One swatch per class; class 0 (background) is listed but never painted.
#[component]
pub fn Legend() -> impl IntoView {
    let state = use_state();
    let classes = move || state.classes();
    view! {
        <ul class="legend" data-testid="legend">
            <For
                each=classes
                key=|(index, class)| (*index, class.name.clone(), class.colour.clone())
                children=move |(index, class)| {
                    let background = index == 0;
                    view! {
                        <li class="legend-item" data-class=index.to_string()>
                            <span
                                class="swatch"
                                class:background=background
                                style:background-color=if background { "transparent".to_string() } else { class.colour.clone() }
                            ></span>
                            {class.name.clone()}
                            {background.then_some(" (not painted)")}
                        </li>
                    }
                }
            />
        </ul>
    }
}
