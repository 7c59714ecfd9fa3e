//! `unet info MODEL`.

use crate::output::load_model;
use std::path::Path;
use unet::checkpoint::describe;

/// Prints the model's inferred architecture, size and card.
pub fn run(path: &Path) -> Result<(), String> {
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
