//! One line about the selected file: format, size, voxel spacing, modality, transfer syntax.

use leptos::prelude::*;

use crate::state::{use_state, Content, Item};

/// `[data-testid=item-info]`.
#[component]
pub fn ItemInfo() -> impl IntoView {
    let state = use_state();
    let text = move || state.selected_item().and_then(|item| describe(&item));
    view! {
        <Show when=move || text().is_some()>
            <p class="item-info" data-testid="item-info">{text}</p>
        </Show>
    }
}

/// "NIfTI-1 · 33×41×25 voxels · 3 × 3 × 3 mm · orientation RAS", "DICOM · 128×128 · CT · …".
fn describe(item: &Item) -> Option<String> {
    let info = &item.info;
    let mut parts = vec![info.format.clone()];
    match &item.content {
        Content::Nothing => return None,
        Content::Image(image) => parts.push(format!("{}×{} pixels", image.width, image.height)),
        Content::Volume(volume) => {
            let [i, j, k] = volume.dims;
            let frames = match volume.frames {
                1 => String::new(),
                n => format!(" × {n} frames"),
            };
            parts.push(format!("{i}×{j}×{k} voxels{frames}"));
            let [x, y, z] = volume.spacing.map(|s| {
                let text = format!("{s:.3}");
                text.trim_end_matches('0').trim_end_matches('.').to_string()
            });
            parts.push(format!("spacing {x} × {y} × {z} mm"));
            parts.push(format!(
                "orientation {}",
                unet_imaging::orientation_codes(&volume.affine)
            ));
        }
    }
    if info.files > 1 {
        parts.push(format!("{} files", info.files));
    }
    parts.extend(info.modality.iter().map(|m| format!("modality {m}")));
    parts.extend(info.transfer_syntax.iter().cloned());
    parts.extend(info.photometric.iter().cloned());
    parts.extend(info.description.iter().cloned());
    Some(parts.join(" · "))
}
