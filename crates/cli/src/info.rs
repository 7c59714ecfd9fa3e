//! `unet info FILE`: what a model, an image, a volume or a DICOM series holds.

use crate::inputs::gather;
use crate::output::load_model;
use anyhow::anyhow;
use std::path::Path;
use unet::checkpoint::describe;
use unet_imaging::{orientation_codes, Content, Decoded};

/// File name endings of checkpoints; everything else is read as an image or volume.
const MODEL_ENDINGS: [&str; 4] = [".pth", ".pt", ".ckpt", ".safetensors"];

/// Describes a model, or else an image, volume or series.
pub fn run(path: &Path) -> anyhow::Result<()> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if MODEL_ENDINGS.iter().any(|end| name.ends_with(end)) {
        return model(path);
    }
    let mut failed = false;
    for input in gather(&[path.to_path_buf()]) {
        match &input.decoded {
            Ok(decoded) => image(&input.label, &input.stem, decoded),
            Err(message) => {
                eprintln!("error: {}: {message}", input.label);
                failed = true;
            }
        }
    }
    if failed {
        Err(anyhow!("{}: could not be read", path.display()))
    } else {
        Ok(())
    }
}

/// Prints what was decoded, one `key: value` per line.
fn image(label: &str, stem: &str, decoded: &Decoded) {
    let info = &decoded.info;
    let line = |key: &str, value: &str| println!("{:<15}{value}", format!("{key}:"));
    line("file", label);
    line("name", stem);
    line("format", &info.format);
    let values: &[f32] = match &decoded.content {
        Content::Image(image) => {
            line("kind", "2-D image");
            line("dimensions", &format!("{}×{}", image.width, image.height));
            line("channels", image.channels.name());
            line("bit depth", &format!("{:?}", image.bit_depth));
            &image.pixels
        }
        Content::Volume(volume) => {
            line("kind", "volume");
            let [x, y, z] = volume.dims;
            let frames = match volume.frames {
                1 => String::new(),
                n => format!(" × {n} frames"),
            };
            line("dimensions", &format!("{x}×{y}×{z}{frames}"));
            let [sx, sy, sz] = volume.spacing;
            line("spacing", &format!("{sx}×{sy}×{sz} mm"));
            line("orientation", &orientation_codes(&volume.affine));
            let rows: Vec<String> = volume.affine[..3]
                .iter()
                .map(|r| format!("[{:.4} {:.4} {:.4} {:.4}]", r[0], r[1], r[2], r[3]))
                .collect();
            line("affine", &rows.join(" "));
            &volume.data
        }
    };
    if info.files > 1 {
        line("files", &info.files.to_string());
    }
    let optional = [
        ("modality", info.modality.clone()),
        ("transfer syntax", info.transfer_syntax.clone()),
        ("photometric", info.photometric.clone()),
        ("description", info.description.clone()),
        (
            "window",
            info.window
                .map(|w| format!("center {} width {}", w.center, w.width)),
        ),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            line(key, &value);
        }
    }
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi {
        line("values", &format!("{lo} to {hi}"));
    }
}

/// Prints the model's inferred architecture, size and card.
fn model(path: &Path) -> anyhow::Result<()> {
    let model = load_model(path)?;
    let card = &model.card;
    println!("file:          {}", path.display());
    println!("format:        {}", model.format);
    println!("architecture:  U-Net, {}", describe(&model.config));
    println!("n_channels:    {}", model.config.n_channels);
    println!("n_classes:     {}", model.config.n_classes);
    println!("bilinear:      {}", model.config.bilinear);
    println!("base_channels: {}", model.config.base_channels);
    println!("parameters:    {}", model.parameter_count());
    println!("name:          {}", card.name);
    println!(
        "trained:       {}",
        if card.trained {
            "yes"
        } else {
            "NO (placeholder weights)"
        }
    );
    println!(
        "preprocessing: {}",
        serde_json::to_string(&card.preprocessing).unwrap_or_default()
    );
    let classes: Vec<String> = card
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{i}={} {}", c.name, c.colour))
        .collect();
    println!("classes:       {}", classes.join(", "));
    // How a volume becomes a label map: what `unet predict` will do with this card.
    println!("volumes:       planes {}", card.volume_planes().name());
    if model.config.n_classes == 1 {
        println!("threshold:     {}", card.foreground_threshold());
    }
    if !card.postprocess.is_empty() {
        println!(
            "postprocess:   {}",
            serde_json::to_string(&card.postprocess).unwrap_or_default()
        );
    }
    if !card.metrics.is_empty() {
        let metrics: Vec<String> = card
            .metrics
            .iter()
            .map(|(k, v)| format!("{k}={v:.4}"))
            .collect();
        println!("metrics:       {}", metrics.join(", "));
    }
    if !card.license.is_empty() {
        println!("license:       {}", card.license);
    }
    Ok(())
}
