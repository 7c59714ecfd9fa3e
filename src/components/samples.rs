//! "Try a sample": one button per bundled sample image. A sample is fetched from this site
//! when clicked and then handled exactly like a dropped file.

use leptos::prelude::*;

use crate::manifest::{asset_url, SampleEntry};
use crate::state::use_state;
use crate::{batch, web};

/// The sample buttons (nothing when the manifest lists none).
#[component]
pub fn Samples() -> impl IntoView {
    let state = use_state();
    let load = move |sample: SampleEntry| {
        leptos::task::spawn_local(async move {
            let url = asset_url("samples", &sample.file);
            match web::fetch::bytes(&url, |_, _| {}).await {
                Ok(bytes) => batch::add(state, vec![(sample.file.clone(), bytes)]),
                Err(message) => state
                    .notice
                    .set(Some(format!("cannot load the sample: {message}"))),
            }
        });
    };
    view! {
        <Show when=move || state.samples.with(|s| !s.is_empty())>
            <div class="samples" data-testid="samples">
                <span class="samples-title">"Try a sample:"</span>
                <For
                    each=move || state.samples.get()
                    key=|s| s.file.clone()
                    children=move |sample| {
                        let title = if sample.source.is_empty() { sample.name.clone() } else { format!("{} — {}", sample.name, sample.source) };
                        let name = sample.name.clone();
                        view! {
                            <button
                                class="button small"
                                data-testid="sample"
                                title=title
                                on:click=move |_| load(sample.clone())
                            >
                                {name}
                            </button>
                        }
                    }
                />
            </div>
        </Show>
    }
}
