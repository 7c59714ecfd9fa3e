//! `[data-testid=stats]`: per-class measurements of the selected item's mask (pixels, and mm²
//! when the file states its spacing, for an image; voxels and mL for a volume's finished label
//! map; the mean intensity inside), and `[data-testid=export-stats]`, the same table as the CSV
//! `unet stats` prints.

use std::sync::Arc;

use leptos::prelude::*;
use unet_imaging::{class_stats, grey_values, stats_csv, Cell, ClassStats};

use crate::export::stats_name;
use crate::state::{use_state, AppState, ItemState};
use crate::{volume, web};

/// What the table shows: the measured classes, their names and the file to save them as.
#[derive(Debug, Clone, PartialEq)]
struct Measured {
    stats: Vec<ClassStats>,
    names: Vec<String>,
    file: String,
}

/// The table and its download button, once the selected item has a mask to measure.
#[component]
pub fn StatsTable() -> impl IntoView {
    let state = use_state();
    // Measured again only when the mask itself changes: not on every slice scrolled through
    // or every other item's progress.
    let source = Memo::new(move |_| source(state));
    let measured = Memo::new(move |_| source.get().and_then(|s| measure(state, s)));
    let rows = move || {
        measured.get().map_or_else(Vec::new, |m| {
            m.stats
                .iter()
                .map(|s| (s.clone(), m.names.get(s.class).cloned()))
                .collect()
        })
    };
    let download = move |_| {
        if let Some(m) = measured.get_untracked() {
            let csv = stats_csv(&m.stats, &m.names);
            let saved = web::download::save(&m.file, csv.as_bytes(), "text/csv");
            state
                .notice
                .set(saved.err().map(|e| format!("export failed: {e}")));
        }
    };
    view! {
        <Show when=move || measured.with(Option::is_some)>
            <section class="stats" data-testid="stats">
                <table>
                    <thead>
                        <tr>
                            <th>"Class"</th>
                            <th>"Count"</th>
                            <th>"Area (mm²)"</th>
                            <th>"Volume (mL)"</th>
                            <th>"Mean intensity"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=rows
                            key=|(s, name)| (s.class, name.clone(), s.count)
                            children=|(s, name)| {
                                let name = name.unwrap_or_else(|| format!("class {}", s.class));
                                view! {
                                    <tr data-testid="stats-row" data-class=s.class.to_string()>
                                        <td>{name}</td>
                                        <td data-field="count">{s.count.to_string()}</td>
                                        <td data-field="area_mm2">{number(s.area_mm2, 1)}</td>
                                        <td data-field="volume_ml">{number(s.volume_ml, 2)}</td>
                                        <td data-field="mean_intensity">
                                            {number(s.mean_intensity, 1)}
                                        </td>
                                    </tr>
                                }
                            }
                        />
                    </tbody>
                </table>
                <button class="button" data-testid="export-stats" on:click=download>
                    "Download stats CSV"
                </button>
            </section>
        </Show>
    }
}

fn number(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
}

/// What is measured: the selected item, the volume frame, the mask's identity (the
/// segmentation's or the label map's allocation) and, for a volume, the count of hand edits, so
/// the measurement reruns only on a new or edited mask. (A 2-D edit makes a new segmentation.)
type Source = (u64, usize, usize, u64);

fn source(state: AppState) -> Option<Source> {
    let item = state.selected_item()?;
    match (item.volume(), &item.state) {
        (None, ItemState::Done(result)) => Some((item.id, 0, Arc::as_ptr(result) as usize, 0)),
        (Some(_), _) => {
            let (item, frame, labels) = volume::selected_labels(state)?;
            let edits = state.edits.get();
            Some((item.id, frame, Arc::as_ptr(&labels) as usize, edits))
        }
        _ => None,
    }
}

/// The measurements of `source`: an image's mask, or a volume frame's label map once "segment
/// all" has made it (single slices are not a volume's measure).
fn measure(state: AppState, (id, frame, _, _): Source) -> Option<Measured> {
    let model = state.ready_model()?;
    let item = state
        .items
        .with_untracked(|items| items.iter().find(|i| i.id == id).cloned())?;
    let names: Vec<String> = model.card.classes.iter().map(|c| c.name.clone()).collect();
    let classes = model.config.n_classes.max(2);
    let file = stats_name(&item.name);
    let stats = match (item.volume(), &item.state) {
        (None, ItemState::Done(result)) => class_stats(
            &result.mask.data,
            classes,
            Cell::pixel(item.info.pixel_spacing),
            Some(&grey_values(&result.image)),
        ),
        (Some(volume), _) => {
            let labels = volume::edited_labels_of(state, id, frame)?;
            class_stats(
                &labels.data,
                classes,
                Cell::voxel(volume.spacing),
                Some(volume.frame(frame)),
            )
        }
        _ => return None,
    }
    .ok()?;
    Some(Measured { stats, names, file })
}
