//! Downloads, made in the page: the selected item's mask PNG (class indices, 0/255 for one
//! class, at the image's own resolution — the same bytes `unet predict` writes), its overlay
//! PNG as currently displayed, every finished image as one zip, and for a volume its label map
//! as `.nii.gz` (the same file `unet predict` writes) and its classes' surfaces as STL (as
//! `unet predict --stl` writes them); for DICOM inputs, the mask as a DICOM SEG over the source
//! images (as `unet predict --dicom-seg`).

use leptos::prelude::*;
use unet_imaging::{
    class_surface, classes_present, encode_dicom_seg, encode_mask_png, encode_rgba_png,
    overlay_rgba, surface_file_name, SegOrigin, Segment,
};

use crate::export::{mask_name, overlay_name, zip};
use crate::state::{use_state, AppState, Item, ItemState};
use crate::{edit, platform, volume, web};

/// The three export buttons.
#[component]
pub fn ExportButtons() -> impl IntoView {
    let state = use_state();
    let selected_done = move || {
        state
            .selected_item()
            .is_some_and(|i| i.volume().is_none() && matches!(i.state, ItemState::Done(_)))
    };
    let selected_volume = move || state.selected_item().is_some_and(|i| i.volume().is_some());
    let selected_dicom = move || {
        state
            .selected_item()
            .is_some_and(|i| i.info.dicom.is_some())
    };
    let finished = move || {
        state
            .items
            .with(|items| items.iter().filter(|i| flat_done(i)).count())
    };
    view! {
        <div class="export">
            <button
                class="button primary"
                data-testid="export-mask"
                prop:disabled=move || !selected_done()
                on:click=move |_| export_selected(state, false)
            >
                "Download mask PNG"
            </button>
            <button
                class="button"
                data-testid="export-overlay"
                prop:disabled=move || !selected_done()
                on:click=move |_| export_selected(state, true)
            >
                "Download overlay PNG"
            </button>
            <Show when=selected_volume>
                <button
                    class="button primary"
                    data-testid="export-nifti"
                    title="Segments the slices not done yet, then saves the label map"
                    prop:disabled=move || {
                        state.ready_model().is_none()
                            || state.volume_job.get().is_some_and(|j| j.running)
                    }
                    on:click=move |_| volume::segment_all(state, true)
                >
                    "Download mask NIfTI (.nii.gz)"
                </button>
            </Show>
            {optional_export(
                selected_volume,
                "export-stl",
                "Download surface STL",
                "Each class's closed surface in the scan's millimetres (after \"Segment all\"), for 3-D printing or a mesh viewer",
                move || has_labels(state),
                move || export_surfaces(state),
            )}
            {optional_export(
                selected_dicom,
                "export-seg",
                "Download DICOM SEG",
                "The mask as a DICOM SEG over the source images (for a series, after \"Segment all\"), for a PACS, OHIF or 3D Slicer",
                move || seg_ready(state),
                move || export_seg(state),
            )}
            <button
                class="button"
                data-testid="export-zip"
                prop:disabled=move || finished() == 0
                on:click=move |_| export_all(state)
            >
                {move || format!("Download all ({}) as zip", finished())}
            </button>
        </div>
    }
}

/// An export button shown only `when` the selection has that kind of result, enabled once it
/// is `ready`.
fn optional_export(
    when: impl Fn() -> bool + Send + Sync + 'static,
    id: &'static str,
    label: &'static str,
    title: &'static str,
    ready: impl Fn() -> bool + Send + Sync + Copy + 'static,
    action: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    view! {
        <Show when=when>
            <button
                class="button"
                data-testid=id
                title=title
                prop:disabled=move || !ready()
                on:click=move |_| action()
            >
                {label}
            </button>
        </Show>
    }
}

fn has_labels(state: AppState) -> bool {
    volume::selected_labels(state).is_some()
}

/// Saves `STEM.CLASS.stl` (one class) or `STEM.stl.zip` (several), as `unet predict --stl`.
fn export_surfaces(state: AppState) {
    let Some((item, _, labels)) = untrack(|| volume::selected_edited_labels(state)) else {
        return;
    };
    let Some(volume) = item.volume() else {
        return;
    };
    let names: Vec<String> = state
        .ready_model_untracked()
        .map(|m| m.card.classes.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let stem = unet_imaging::file_stem(&item.name);
    let mut files = Vec::new();
    for class in classes_present(&labels.data) {
        match class_surface(&labels.data, volume.dims, &volume.affine, class) {
            Ok(surface) => files.push((
                surface_file_name(&stem, class, &names),
                surface.to_stl(&format!("unet-web surface of class {class}, mm")),
            )),
            Err(e) => return report(state, Err(e.to_string())),
        }
    }
    let result = match files.as_slice() {
        [] => Err("the label map holds no class but the background".to_string()),
        [(name, bytes)] => web::download::save(name, bytes, "model/stl"),
        _ => zip(&files).and_then(|bytes| {
            web::download::save(&format!("{stem}.stl.zip"), &bytes, "application/zip")
        }),
    };
    report(state, result);
}

/// A DICOM item with a finished mask: a 2-D image segmented, or a volume's label map made.
fn seg_ready(state: AppState) -> bool {
    let Some(item) = state.selected_item() else {
        return false;
    };
    match item.volume() {
        Some(_) => has_labels(state),
        None => matches!(item.state, ItemState::Done(_)),
    }
}

/// Saves `STEM.seg.dcm`, as `unet predict --dicom-seg` writes it.
fn export_seg(state: AppState) {
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let Some(reference) = item.info.dicom.as_deref() else {
        return;
    };
    let Some(model) = state.ready_model_untracked() else {
        return;
    };
    let names: Vec<String> = model.card.classes.iter().map(|c| c.name.clone()).collect();
    // Corrected by hand: the segments are then SEMIAUTOMATIC, as the standard defines it.
    let edited = match untrack(|| state.slice_for(&item)) {
        Some(key) => untrack(|| edit::volume_edited(state, key.item, key.frame)),
        None => state.edited_items.with_untracked(|s| s.contains(&item.id)),
    };
    let origin = SegOrigin {
        algorithm: model.card.name.clone(),
        edited,
        unix_seconds: platform::unix_seconds(),
    };
    let seg = |labels: &[u8]| {
        encode_dicom_seg(
            reference,
            labels,
            &Segment::present(labels, &names),
            &origin,
        )
        .map_err(|e| e.to_string())
    };
    let bytes = match (&item.state, item.volume()) {
        (_, Some(_)) => match untrack(|| volume::selected_edited_labels(state)) {
            Some((_, _, labels)) => seg(&labels.data),
            None => return,
        },
        (ItemState::Done(result), None) => seg(&result.mask.data),
        _ => return,
    };
    let name = format!("{}.seg.dcm", unet_imaging::file_stem(&item.name));
    report(
        state,
        bytes.and_then(|b| web::download::save(&name, &b, "application/dicom")),
    );
}

/// A finished 2-D item (volumes export as NIfTI, not in the zip).
fn flat_done(item: &Item) -> bool {
    item.volume().is_none() && matches!(item.state, ItemState::Done(_))
}

fn report(state: AppState, result: Result<(), String>) {
    state
        .notice
        .set(result.err().map(|e| format!("export failed: {e}")));
}

fn export_selected(state: AppState, overlay: bool) {
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let ItemState::Done(result) = &item.state else {
        return;
    };
    let result = if overlay {
        let view = state.view.get_untracked();
        let colours = state
            .ready_model_untracked()
            .map(|m| m.card.colours())
            .unwrap_or_default();
        let rgba = overlay_rgba(
            &result.image,
            &result.mask,
            &colours,
            view.opacity,
            view.outline,
        );
        let png = encode_rgba_png(result.image.width, result.image.height, &rgba);
        web::download::save(&overlay_name(&item.name), &png, "image/png")
    } else {
        let png = encode_mask_png(&result.mask);
        web::download::save(&mask_name(&item.name), &png, "image/png")
    };
    report(state, result);
}

fn export_all(state: AppState) {
    let view = state.view.get_untracked();
    let colours = state
        .ready_model_untracked()
        .map(|m| m.card.colours())
        .unwrap_or_default();
    let mut entries = Vec::new();
    state.items.with_untracked(|items| {
        for item in items.iter().filter(|i| flat_done(i)) {
            if let ItemState::Done(result) = &item.state {
                entries.push((
                    format!("masks/{}", mask_name(&item.name)),
                    encode_mask_png(&result.mask),
                ));
                let rgba = overlay_rgba(
                    &result.image,
                    &result.mask,
                    &colours,
                    view.opacity,
                    view.outline,
                );
                let png = encode_rgba_png(result.image.width, result.image.height, &rgba);
                entries.push((format!("overlays/{}", overlay_name(&item.name)), png));
            }
        }
    });
    let result = zip(&entries)
        .and_then(|bytes| web::download::save("unet-web-masks.zip", &bytes, "application/zip"));
    report(state, result);
}
