//! `unet train`: trains the brain-extraction model on the MNI template (see crates/train).

use crate::device::{open, DeviceChoice};
use clap::Args;
use std::path::PathBuf;
use unet_train::{Run, Settings};

/// Arguments of `unet train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Folder with the MNI ICBM152 2009a template (scripts/data/fetch_mni.sh writes data/mni).
    #[arg(long, default_value = "data/mni")]
    data: PathBuf,
    /// Folder with real whole heads and their brain masks (scripts/data/fetch_heads.sh writes
    /// data/heads); trained on unless --synthetic-only.
    #[arg(long, default_value = "data/heads")]
    heads: PathBuf,
    /// Train on the synthetic heads around the template only (the model before real heads).
    #[arg(long)]
    synthetic_only: bool,
    /// Output folder: last/best checkpoints, state.json, held-out slices.
    #[arg(long, default_value = "runs/brain")]
    out: PathBuf,
    /// Epochs in total.
    #[arg(long, default_value_t = 16)]
    epochs: usize,
    /// Optimiser steps per epoch.
    #[arg(long, default_value_t = 150)]
    steps: usize,
    /// Crops per step.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Side of the square training crops.
    #[arg(long, default_value_t = 128)]
    size: usize,
    /// U-Net width (channels of the first level).
    #[arg(long, default_value_t = 16)]
    base: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Share of each batch drawn from the real heads (the rest: synthetic heads, 3 % blanks)
    #[arg(long, default_value_t = unet_train::data::HEAD_SHARE)]
    head_share: f32,
    /// Of the real heads' examples, the share cut through slices that hold no brain (neck,
    /// face, scalp above the vertex: empty targets); 0 draws every slice evenly
    #[arg(long, default_value_t = 0.0)]
    brain_free_share: f32,
    /// A real head to train on, by its name in --heads (`NAME.nii.gz` and its mask
    /// `NAME_brain.nii.gz`); repeat for several, which share --head-share equally. A head
    /// trained on is no longer a held-out evaluation: BENCHMARKS.md says which heads each
    /// shipped model saw
    #[arg(long = "train-head", default_values_t = unet_train::state::default_train_heads())]
    train_heads: Vec<String>,
    /// Start from these weights instead of a random initialisation (fine-tuning, e.g. from the
    /// shipped model): same width as --base, trained with this run's data and schedule
    #[arg(long)]
    init: Option<PathBuf>,
    /// Seed of initialisation and data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Augmented validation crops per plane.
    #[arg(long, default_value_t = 16)]
    val_per_plane: usize,
    /// Only write the held-out slices to OUT/heldout/{images,masks} (for `unet eval`), no training.
    #[arg(long)]
    heldout_only: bool,
    /// Continue the run in --out from its last finished epoch.
    #[arg(long)]
    resume: bool,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
}

/// Runs the training and prints where the model went.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=0.97).contains(&args.head_share),
        "--head-share {}: a share from 0 to 0.97 (3 % of each batch is blank images)",
        args.head_share
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.brain_free_share),
        "--brain-free-share {}: a share from 0 to 1",
        args.brain_free_share
    );
    let command = std::env::args()
        .skip(1)
        .filter(|a| a != "--resume")
        .collect::<Vec<_>>()
        .join(" ");
    let run = Run {
        settings: Settings {
            epochs: args.epochs,
            steps: args.steps,
            batch: args.batch,
            size: args.size,
            base: args.base,
            lr: args.lr,
            seed: args.seed,
            val_per_plane: args.val_per_plane,
            real_heads: !args.synthetic_only,
            head_share: args.head_share,
            init: args.init.as_ref().map(|p| p.display().to_string()),
            train_heads: args.train_heads.clone(),
            brain_free_share: args.brain_free_share,
        },
        data: args.data.clone(),
        heads: args.heads.clone(),
        out: args.out.clone(),
        device: open(args.device)?,
        resume: args.resume,
        command: format!("unet {command}"),
    };
    if args.heldout_only {
        let n = run.write_heldout_only()?;
        println!(
            "wrote {n} held-out slices to {}",
            args.out.join("heldout").display()
        );
        return Ok(());
    }
    let state = run.execute()?;
    if let Some(best) = state.best() {
        println!(
            "best epoch {}: held-out Dice {:.4}; model in {}",
            best.epoch,
            best.dice_heldout,
            args.out.join(unet_train::train::BEST).display()
        );
    }
    Ok(())
}
