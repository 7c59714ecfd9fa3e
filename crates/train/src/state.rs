//! A run's settings and record (`state.json`): what the loop resumes from and the card reports.

use serde::{Deserialize, Serialize};

/// Everything that decides what a run computes; a resumed run must match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Epochs to train in total.
    pub epochs: usize,
    /// Optimiser steps per epoch.
    pub steps: usize,
    /// Examples per step.
    pub batch: usize,
    /// Side of the square training crops, in pixels.
    pub size: usize,
    /// U-Net width (channels of the first level).
    pub base: usize,
    /// Peak learning rate (cosine decay to 5 % of it, after 100 warm-up steps).
    pub lr: f64,
    /// Seed of initialisation and of every epoch's data stream.
    pub seed: u64,
    /// Augmented validation examples per plane.
    pub val_per_plane: usize,
    /// Whether real heads (`Run::heads`) were trained on besides the synthetic ones.
    #[serde(default)]
    pub real_heads: bool,
    /// Share of each batch drawn from the real heads (when `real_heads`).
    #[serde(default = "default_head_share")]
    pub head_share: f32,
    /// Weights the run starts from instead of a random initialisation (a fine-tuning run).
    #[serde(default)]
    pub init: Option<String>,
    /// Real heads trained on (when `real_heads`): names in the heads folder, each read from
    /// `NAME.nii.gz` with its mask `NAME_brain.nii.gz`.
    #[serde(default = "default_train_heads")]
    pub train_heads: Vec<String>,
    /// Of the real heads' examples, the share cut through slices without brain (neck, face,
    /// scalp); 0: slices drawn evenly, as before the setting existed.
    #[serde(default)]
    pub brain_free_share: f32,
}

/// Runs before `train_heads` existed trained on pydeface's mean head alone.
pub fn default_train_heads() -> Vec<String> {
    vec![crate::head::MEAN_HEAD.to_string()]
}

fn default_head_share() -> f32 {
    crate::data::HEAD_SHARE
}

/// One finished epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Dice on augmented examples from the held-out slabs.
    pub dice_val_augmented: f64,
    /// Dice on the whole held-out slices, un-augmented (the model card's figure).
    pub dice_heldout: f64,
    /// Wall-clock seconds the epoch took, validation included.
    pub seconds: f64,
}

/// What `state.json` in the output folder holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The run's settings.
    pub settings: Settings,
    /// Finished epochs.
    pub history: Vec<EpochRecord>,
    /// Training seconds so far, over all sessions of the run.
    pub seconds: f64,
}

impl State {
    /// The epoch to ship: the best Dice on the augmented validation crops (ties: the later
    /// one). They vary contrast, geometry and head like other subjects' scans do, so they are the
    /// better guide to new data than the clean held-out slices, which saturate early.
    pub fn best(&self) -> Option<&EpochRecord> {
        self.history
            .iter()
            .max_by(|a, b| a.dice_val_augmented.total_cmp(&b.dice_val_augmented))
    }
}
