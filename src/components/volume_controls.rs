//! A volume's slice controls: plane, frame (4-D files), slice slider and "i / n", the
//! three-plane view's switch, and "segment all slices" with its progress and cancel button.
//! Only shown for a volume item.

use leptos::prelude::*;
use unet_imaging::Plane;

use crate::state::use_state;
use crate::volume;

/// `[data-testid=volume-controls]`.
#[component]
pub fn VolumeControls() -> impl IntoView {
    let state = use_state();
    // (volume frames, slices in the shown plane, the shown slice), for a volume item.
    let current = move || {
        let item = state.selected_item()?;
        let volume = item.volume()?.clone();
        let key = state.slice_for(&item)?;
        Some((volume.frames, volume.slicing(key.plane).count(), key))
    };
    let set_plane = move |e: leptos::ev::Event| {
        if let (Some(plane), Some((_, _, key))) =
            (Plane::from_name(&event_target_value(&e)), current())
        {
            volume::set_plane_frame(state, plane, key.frame);
        }
    };
    let set_frame = move |e: leptos::ev::Event| {
        if let (Ok(frame), Some((_, _, key))) = (event_target_value(&e).parse::<usize>(), current())
        {
            volume::set_plane_frame(state, key.plane, frame);
        }
    };
    let set_slice = move |e: leptos::ev::Event| {
        if let Ok(index) = event_target_value(&e).parse::<usize>() {
            volume::go_to(state, index);
        }
    };
    let job = move || {
        let job = state.volume_job.get()?;
        (Some(job.item) == state.selected.get()).then_some(job)
    };
    view! {
        <Show when=move || current().is_some()>
            <div class="volume-controls" data-testid="volume-controls">
                <label class="control">
                    "Plane"
                    <select data-testid="plane-select" on:change=set_plane>
                        {Plane::ALL
                            .into_iter()
                            .map(|plane| {
                                let selected = move || {
                                    current().is_some_and(|(_, _, key)| key.plane == plane)
                                };
                                view! {
                                    <option value=plane.name() selected=selected prop:selected=selected>
                                        {plane.name()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <Show when=move || current().is_some_and(|(frames, _, _)| frames > 1)>
                    <label class="control">
                        "Frame"
                        <select data-testid="frame-select" on:change=set_frame>
                            {move || {
                                current()
                                    .map(|(frames, _, key)| {
                                        (0..frames)
                                            .map(|f| {
                                                view! {
                                                    <option value=f.to_string() selected=f == key.frame>
                                                        {format!("{} / {frames}", f + 1)}
                                                    </option>
                                                }
                                            })
                                            .collect_view()
                                    })
                            }}
                        </select>
                    </label>
                </Show>
                <label class="control slice-control">
                    "Slice"
                    <input
                        type="range"
                        min="0"
                        data-testid="slice-slider"
                        prop:max=move || current().map(|(_, n, _)| n.saturating_sub(1)).unwrap_or(0).to_string()
                        prop:value=move || current().map(|(_, _, k)| k.index).unwrap_or(0).to_string()
                        on:input=set_slice
                    />
                    <span class="slice-index" data-testid="slice-index">
                        {move || current().map(|(_, n, k)| format!("{} / {n}", k.index + 1))}
                    </span>
                </label>
                <label class="control">
                    <input
                        type="checkbox"
                        data-testid="three-planes"
                        prop:checked=move || state.three_planes.get()
                        on:change=move |e| state.three_planes.set(event_target_checked(&e))
                    />
                    "Three planes"
                </label>
                <button
                    class="button"
                    data-testid="segment-all"
                    prop:disabled=move || {
                        state.volume_job.get().is_some_and(|j| j.running) || state.ready_model().is_none()
                    }
                    on:click=move |_| volume::segment_all(state, false)
                >
                    "Segment all slices"
                </button>
                <Show when=move || job().is_some()>
                    <progress
                        max=move || job().map(|j| j.total).unwrap_or(1).to_string()
                        value=move || job().map(|j| j.done).unwrap_or(0).to_string()
                    ></progress>
                    <span class="progress-count" data-testid="volume-progress">
                        {move || job().map(|j| format!("{} / {}", j.done, j.total))}
                    </span>
                    <Show when=move || job().is_some_and(|j| j.running)>
                        <button
                            class="button small"
                            data-testid="cancel-all"
                            on:click=move |_| volume::cancel_all(state)
                        >
                            "Cancel"
                        </button>
                    </Show>
                </Show>
            </div>
        </Show>
    }
}
