//! The milesial/Pytorch-UNet key layout: which key holds which tensor of which shape, and how
//! the architecture is read off the tensors (putting them into a model: `tensors.rs`).

use super::{CheckpointError, TensorMap};
use crate::model::UNetConfig;
use std::collections::BTreeSet;

/// Masks hold one class index per byte.
pub const MAX_CLASSES: usize = 256;
/// Far beyond any imaging input (RGBA, multi-contrast MRI); a bound, so that a hostile file
/// cannot make the sizes computed from it overflow.
pub const MAX_INPUT_CHANNELS: usize = 64;
/// Channels of the first level; the bottleneck has 16 times as many.
pub const MAX_BASE_CHANNELS: usize = 1024;

/// Refuses an architecture no mask or device could hold, before anything is allocated for it.
pub fn check_limits(config: &UNetConfig) -> Result<(), CheckpointError> {
    let limits = [
        (
            config.n_classes,
            MAX_CLASSES,
            "output classes",
            " (masks hold one byte per pixel)",
        ),
        (config.n_channels, MAX_INPUT_CHANNELS, "input channels", ""),
        (
            config.base_channels,
            MAX_BASE_CHANNELS,
            "first-level channels",
            "",
        ),
    ];
    for (value, max, what, why) in limits {
        if value == 0 || value > max {
            return Err(CheckpointError::Unsupported(format!(
                "{value} {what}; this app supports 1 to {max}{why}. Use a model with at most {max} {what}"
            )));
        }
    }
    Ok(())
}

/// Reads the architecture off the tensors, so a user never has to state it.
pub fn infer_config(tensors: &TensorMap) -> Result<UNetConfig, CheckpointError> {
    let shape_of = |key: &str| {
        tensors.get(key).map(|t| t.shape.clone()).ok_or_else(|| {
            let some: Vec<&str> = tensors.keys().take(4).map(String::as_str).collect();
            CheckpointError::NotUNet(format!(
                "no tensor `{key}` among its {} tensors (first keys: {})",
                tensors.len(),
                if some.is_empty() {
                    "none".into()
                } else {
                    some.join(", ")
                }
            ))
        })
    };
    let inc_key = Slot::Conv(Block::Inc, Stage::First).key();
    let outc_key = Slot::Out { bias: false }.key();
    let inc = shape_of(&inc_key)?;
    let outc = shape_of(&outc_key)?;
    if inc.len() != 4 || outc.len() != 4 || inc[0] == 0 || inc[1] == 0 || outc[0] == 0 {
        return Err(CheckpointError::NotUNet(format!(
            "`{inc_key}` has shape {inc:?} and `{outc_key}` {outc:?}; expected 4-D convolution weights"
        )));
    }
    let config = UNetConfig::new(inc[1], outc[0])
        .with_base_channels(inc[0])
        .with_bilinear(
            !tensors.contains_key(
                &Slot::Transposed {
                    step: 1,
                    bias: false,
                }
                .key(),
            ),
        );
    check_limits(&config)?;
    Ok(config)
}

/// Checks every key and shape the architecture needs, and that nothing unknown is left over.
pub fn check(config: &UNetConfig, tensors: &TensorMap) -> Result<(), CheckpointError> {
    let mut problems = Vec::new();
    let expected: Vec<(String, Vec<usize>)> = layout(config)
        .into_iter()
        .map(|entry| (entry.slot.key(), entry.shape))
        .collect();
    for (key, shape) in &expected {
        match tensors.get(key) {
            None => problems.push(format!("missing `{key}` {shape:?}")),
            Some(t) if &t.shape != shape => problems.push(format!(
                "`{key}` has shape {:?}, expected {shape:?}",
                t.shape
            )),
            Some(_) => {}
        }
    }
    let known: BTreeSet<&str> = expected.iter().map(|(k, _)| k.as_str()).collect();
    let unexpected: Vec<&str> = tensors
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k) && !k.ends_with("num_batches_tracked"))
        .collect();
    if !unexpected.is_empty() {
        problems.push(format!("unexpected {}", quoted(&unexpected)));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let total = problems.len();
    problems.truncate(8);
    if total > 8 {
        problems.push(format!("and {} more", total - 8));
    }
    Err(CheckpointError::Mismatch {
        config: describe(config),
        details: problems.join("; "),
    })
}

/// A one-line description of an architecture, as messages and `unet info` print it.
pub fn describe(config: &UNetConfig) -> String {
    format!(
        "{} → {} classes, base {}, {}",
        match config.n_channels {
            1 => "1 channel".to_string(),
            n => format!("{n} channels"),
        },
        config.n_classes,
        config.base_channels,
        if config.bilinear {
            "bilinear up-sampling"
        } else {
            "transposed-convolution up-sampling"
        }
    )
}

fn quoted(keys: &[&str]) -> String {
    let shown: Vec<String> = keys.iter().take(4).map(|k| format!("`{k}`")).collect();
    match keys.len() {
        n if n > 4 => format!("{} and {} more", shown.join(", "), n - 4),
        _ => shown.join(", "),
    }
}

/// A block that holds a [`DoubleConv`], as milesial names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The first DoubleConv (`inc`).
    Inc,
    /// The DoubleConv of encoder level 1 to 4 (`downN.maxpool_conv.1`).
    Down(u8),
    /// The DoubleConv of decoder step 1 to 4 (`upN.conv`).
    Up(u8),
}

impl Block {
    fn prefix(self) -> String {
        match self {
            Block::Inc => "inc".into(),
            Block::Down(level) => format!("down{level}.maxpool_conv.1"),
            Block::Up(step) => format!("up{step}.conv"),
        }
    }
}

/// Which of a DoubleConv's two `conv → BatchNorm → ReLU` stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `double_conv.0` and `double_conv.1`.
    First,
    /// `double_conv.3` and `double_conv.4`.
    Second,
}

/// One of a BatchNorm's four tensors, under PyTorch's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormField {
    /// γ (`weight`).
    Weight,
    /// β (`bias`).
    Bias,
    /// μ (`running_mean`).
    RunningMean,
    /// σ² (`running_var`).
    RunningVar,
}

impl NormField {
    const ALL: [NormField; 4] = [
        NormField::Weight,
        NormField::Bias,
        NormField::RunningMean,
        NormField::RunningVar,
    ];

    fn name(self) -> &'static str {
        match self {
            NormField::Weight => "weight",
            NormField::Bias => "bias",
            NormField::RunningMean => "running_mean",
            NormField::RunningVar => "running_var",
        }
    }
}

/// Where one tensor sits in the U-Net; [`Slot::key`] is its milesial state-dict key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A DoubleConv stage's 3×3 convolution weight (no bias: the BatchNorm after it cancels one).
    Conv(Block, Stage),
    /// One tensor of the BatchNorm after that convolution.
    Norm(Block, Stage, NormField),
    /// A 2×2 transposed convolution; only without bilinear up-sampling.
    Transposed {
        /// Decoder step 1 to 4.
        step: u8,
        /// The bias, else the weight.
        bias: bool,
    },
    /// The 1×1 output convolution.
    Out {
        /// The bias, else the weight.
        bias: bool,
    },
}

impl Slot {
    /// The state-dict key milesial/Pytorch-UNet saves this tensor under.
    pub fn key(self) -> String {
        let weight_or_bias = |bias| if bias { "bias" } else { "weight" };
        match self {
            Slot::Conv(block, Stage::First) => format!("{}.double_conv.0.weight", block.prefix()),
            Slot::Conv(block, Stage::Second) => format!("{}.double_conv.3.weight", block.prefix()),
            Slot::Norm(block, stage, field) => format!(
                "{}.double_conv.{}.{}",
                block.prefix(),
                if stage == Stage::First { 1 } else { 4 },
                field.name()
            ),
            Slot::Transposed { step, bias } => format!("up{step}.up.{}", weight_or_bias(bias)),
            Slot::Out { bias } => format!("outc.conv.{}", weight_or_bias(bias)),
        }
    }
}

/// One row of the layout: a tensor's place and its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it sits.
    pub slot: Slot,
    /// Its extents, outermost first, as PyTorch stores them.
    pub shape: Vec<usize>,
}

/// The milesial layout of a U-Net of architecture `config`: every tensor, its place and its
/// shape, from the architecture alone. Checking, loading, export and BatchNorm folding all read
/// this one table.
pub fn layout(config: &UNetConfig) -> Vec<Entry> {
    let mut rows = Vec::new();
    let mut double = |block, input: usize, mid: usize, output: usize| {
        for (stage, from, to) in [(Stage::First, input, mid), (Stage::Second, mid, output)] {
            rows.push(Entry {
                slot: Slot::Conv(block, stage),
                shape: vec![to, from, 3, 3],
            });
            for field in NormField::ALL {
                rows.push(Entry {
                    slot: Slot::Norm(block, stage, field),
                    shape: vec![to],
                });
            }
        }
    };
    // Bilinear up-sampling keeps the channel count, so the bottleneck and the decoder narrow by
    // half to leave room for the skip tensor (as in milesial).
    let factor = if config.bilinear { 2 } else { 1 };
    let w = |level| config.width(level);
    double(Block::Inc, config.n_channels, w(0), w(0));
    for level in 1..=4u8 {
        let l = u32::from(level);
        let output = if level == 4 { w(4) / factor } else { w(l) };
        double(Block::Down(level), w(l - 1), output, output);
    }
    for step in 1..=4u8 {
        let input = w(5 - u32::from(step));
        let output = if step == 4 {
            w(0)
        } else {
            w(4 - u32::from(step)) / factor
        };
        let mid = if config.bilinear { input / 2 } else { output };
        double(Block::Up(step), input, mid, output);
    }
    if !config.bilinear {
        for step in 1..=4u8 {
            let input = w(5 - u32::from(step));
            rows.push(Entry {
                slot: Slot::Transposed { step, bias: false },
                shape: vec![input, input / 2, 2, 2],
            });
            rows.push(Entry {
                slot: Slot::Transposed { step, bias: true },
                shape: vec![input / 2],
            });
        }
    }
    rows.push(Entry {
        slot: Slot::Out { bias: false },
        shape: vec![config.n_classes, w(0), 1, 1],
    });
    rows.push(Entry {
        slot: Slot::Out { bias: true },
        shape: vec![config.n_classes],
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{load_into, tensors_of};
    use crate::inference::cpu_device;

    #[test]
    fn layout_has_milesial_keys_and_export_then_load_is_the_identity() {
        for (bilinear, keys) in [(false, 100), (true, 92)] {
            let config = UNetConfig::new(3, 2)
                .with_base_channels(4)
                .with_bilinear(bilinear);
            let rows = layout(&config);
            // milesial's state dict less its `num_batches_tracked` counters: ten tensors per
            // DoubleConv, two per transposed convolution, two for `outc`.
            assert_eq!(rows.len(), keys);
            let keys: BTreeSet<String> = rows.iter().map(|e| e.slot.key()).collect();
            assert_eq!(keys.len(), rows.len(), "keys are unique");
            assert!(keys.contains("down4.maxpool_conv.1.double_conv.4.running_var"));
            assert_eq!(keys.contains("up3.up.bias"), !bilinear);

            let device = cpu_device();
            let mut tensors = tensors_of(&config.init(&device)).unwrap();
            for (i, t) in tensors.values_mut().enumerate() {
                t.data.iter_mut().enumerate().for_each(|(j, v)| {
                    *v = ((i * 31 + j * 7) % 97) as f32 / 97.0 + 0.01;
                });
            }
            assert_eq!(
                tensors.keys().cloned().collect::<BTreeSet<_>>(),
                keys,
                "export writes the layout's keys"
            );
            let mut model = config.init(&device);
            load_into(&mut model, &config, &tensors, &device).unwrap();
            assert_eq!(tensors_of(&model).unwrap(), tensors);
        }
    }
}
