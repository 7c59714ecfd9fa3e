//! `unet convert MODEL -o OUT`.

use crate::output::{load_model, Outputs};
use anyhow::{anyhow, Context};
use clap::Args;
use std::path::PathBuf;
use unet::{ModelCard, StorageDtype};

/// Arguments of `unet convert`.
#[derive(Args)]
pub struct ConvertArgs {
    /// A .pth, .safetensors or unet-web model file.
    model: PathBuf,
    /// Where to write the unet-web model (conventionally `NAME.unet.safetensors`).
    #[arg(short, long)]
    out: PathBuf,
    /// A JSON model card to embed instead of the checkpoint's own or the default one.
    #[arg(long)]
    card: Option<PathBuf>,
    /// Store weights as float16 (half the size).
    #[arg(long)]
    half: bool,
    /// Overwrite OUT if it exists (never the input model or card).
    #[arg(long)]
    force: bool,
}

/// Converts and writes, then reads the result back to prove it loads.
pub fn run(args: &ConvertArgs) -> anyhow::Result<()> {
    let inputs: Vec<PathBuf> = std::iter::once(args.model.clone())
        .chain(args.card.clone())
        .collect();
    let mut outputs = Outputs::new(&inputs, args.force);
    // Checked before the work, so a refused -o costs nothing.
    outputs.claim(&args.out)?;
    let mut model = load_model(&args.model)?;
    if let Some(card_path) = &args.card {
        let text = std::fs::read_to_string(card_path)
            .with_context(|| format!("{}: cannot read", card_path.display()))?;
        let card: ModelCard = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid model card", card_path.display()))?;
        card.check_against(&model.config)
            .with_context(|| format!("{}: invalid model card", card_path.display()))?;
        model.card = card;
    }
    let dtype = if args.half {
        StorageDtype::F16
    } else {
        StorageDtype::F32
    };
    let bytes = model.to_unet_web(dtype)?;
    crate::output::write(&args.out, &bytes)?;
    unet::Checkpoint::from_bytes(&bytes, "converted").map_err(|e| {
        anyhow!(
            "{}: the converted file does not load back: {e}",
            args.out.display()
        )
    })?;
    println!("wrote {} ({} bytes)", args.out.display(), bytes.len());
    Ok(())
}
