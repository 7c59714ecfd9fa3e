//! `unet init`: a U-Net with fresh random weights in the project's format, for placeholders,
//! tests and as the starting point of training.

use crate::output::Outputs;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use unet::checkpoint::{check_limits, tensors_of};
use unet::inference::cpu_device;
use unet::{Checkpoint, ModelCard, SourceFormat, StorageDtype, UNetConfig};

/// Arguments of `unet init`.
#[derive(Args)]
pub struct InitArgs {
    /// Input channels.
    #[arg(long, default_value_t = 1)]
    channels: usize,
    /// Output classes (1 = sigmoid).
    #[arg(long, default_value_t = 1)]
    classes: usize,
    /// Channels of the first level.
    #[arg(long, default_value_t = 64)]
    base: usize,
    /// Bilinear up-sampling instead of transposed convolutions.
    #[arg(long)]
    bilinear: bool,
    /// A JSON model card; by default an "untrained" card.
    #[arg(long)]
    card: Option<PathBuf>,
    /// Where to write the model.
    #[arg(short, long)]
    out: PathBuf,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    force: bool,
}

/// Builds, randomises and writes the model.
pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    let config = UNetConfig::new(args.channels, args.classes)
        .with_bilinear(args.bilinear)
        .with_base_channels(args.base);
    check_limits(&config)?;
    let mut outputs = Outputs::new(args.card.as_slice(), args.force);
    outputs.claim(&args.out)?;
    let model = config.init(&cpu_device());
    let tensors = tensors_of(&model)?;
    let card = match &args.card {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: invalid model card", path.display()))?
        }
        None => {
            let mut card = ModelCard::for_bare_checkpoint("untrained", &config);
            card.name = "untrained (random weights)".into();
            card.trained = false;
            card.task = "none: random weights, not trained".into();
            card.provenance = "unet init (random initialisation)".into();
            card.license = "MIT OR Apache-2.0".into();
            card
        }
    };
    card.check_against(&config).context("invalid model card")?;
    let checkpoint = Checkpoint {
        config,
        card,
        format: SourceFormat::UnetWeb,
        tensors,
    };
    let bytes = checkpoint.to_unet_web(StorageDtype::F32)?;
    crate::output::write(&args.out, &bytes)?;
    println!(
        "wrote {} ({} bytes, {} parameters)",
        args.out.display(),
        bytes.len(),
        checkpoint.parameter_count()
    );
    Ok(())
}
