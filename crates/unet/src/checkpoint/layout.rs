//! The milesial/Pytorch-UNet key layout: which key holds which tensor of which shape, how the
//! architecture is read off the tensors, and how the tensors are put into a [`UNet`].

use super::{CheckpointError, RawTensor, TensorMap};
use crate::model::{DoubleConv, UNet, UNetConfig, Up};
use burn::module::{Param, RunningState};
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::BatchNorm;
use burn::tensor::{Device, Tensor, TensorData};
use std::collections::BTreeSet;

const INC_WEIGHT: &str = "inc.double_conv.0.weight";
const OUTC_WEIGHT: &str = "outc.conv.weight";
const UP1_WEIGHT: &str = "up1.up.weight";

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
    let inc = shape_of(INC_WEIGHT)?;
    let outc = shape_of(OUTC_WEIGHT)?;
    if inc.len() != 4 || outc.len() != 4 || inc[0] == 0 || inc[1] == 0 || outc[0] == 0 {
        return Err(CheckpointError::NotUNet(format!(
            "`{INC_WEIGHT}` has shape {inc:?} and `{OUTC_WEIGHT}` {outc:?}; expected 4-D convolution weights"
        )));
    }
    let config = UNetConfig::new(inc[1], outc[0])
        .with_base_channels(inc[0])
        .with_bilinear(!tensors.contains_key(UP1_WEIGHT));
    check_limits(&config)?;
    Ok(config)
}

/// Checks every key and shape the architecture needs, and that nothing unknown is left over.
pub fn check(config: &UNetConfig, tensors: &TensorMap) -> Result<(), CheckpointError> {
    let mut problems = Vec::new();
    let expected = expected_shapes(config);
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

/// Every key of the milesial layout for `config`, with its shape, from the architecture alone.
fn expected_shapes(config: &UNetConfig) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let mut double = |prefix: &str, input: usize, output: usize, mid: usize| {
        let p = format!("{prefix}.double_conv");
        out.push((format!("{p}.0.weight"), vec![mid, input, 3, 3]));
        for field in ["weight", "bias", "running_mean", "running_var"] {
            out.push((format!("{p}.1.{field}"), vec![mid]));
        }
        out.push((format!("{p}.3.weight"), vec![output, mid, 3, 3]));
        for field in ["weight", "bias", "running_mean", "running_var"] {
            out.push((format!("{p}.4.{field}"), vec![output]));
        }
    };
    let factor = if config.bilinear { 2 } else { 1 };
    let w = |level| config.width(level);
    double("inc", config.n_channels, w(0), w(0));
    for level in 1..=4 {
        let output = if level == 4 { w(4) / factor } else { w(level) };
        let prefix = format!("down{level}.maxpool_conv.1");
        double(&prefix, w(level - 1), output, output);
    }
    let mut transposed = Vec::new();
    for i in 1..=4u32 {
        let input = w(5 - i);
        let output = if i == 4 { w(0) } else { w(4 - i) / factor };
        if config.bilinear {
            double(&format!("up{i}.conv"), input, output, input / 2);
        } else {
            transposed.push((format!("up{i}.up.weight"), vec![input, input / 2, 2, 2]));
            transposed.push((format!("up{i}.up.bias"), vec![input / 2]));
            double(&format!("up{i}.conv"), input, output, output);
        }
    }
    out.extend(transposed);
    out.push((OUTC_WEIGHT.to_string(), vec![config.n_classes, w(0), 1, 1]));
    out.push(("outc.conv.bias".to_string(), vec![config.n_classes]));
    out
}

/// Visits the milesial key and the shape of every tensor of `model`, in a fixed order.
fn walk(model: &UNet, visit: &mut dyn FnMut(String, Vec<usize>)) {
    let conv = |prefix: &str, conv: &Conv2d, visit: &mut dyn FnMut(String, Vec<usize>)| {
        visit(
            format!("{prefix}.weight"),
            conv.weight.lazy_shape().to_vec(),
        );
        if let Some(bias) = &conv.bias {
            visit(format!("{prefix}.bias"), bias.lazy_shape().to_vec());
        }
    };
    let norm = |prefix: &str, norm: &BatchNorm, visit: &mut dyn FnMut(String, Vec<usize>)| {
        let n = norm.gamma.lazy_shape().to_vec();
        for field in ["weight", "bias", "running_mean", "running_var"] {
            visit(format!("{prefix}.{field}"), n.clone());
        }
    };
    let double = |prefix: &str, block: &DoubleConv, visit: &mut dyn FnMut(String, Vec<usize>)| {
        conv(&format!("{prefix}.double_conv.0"), &block.conv1, visit);
        norm(&format!("{prefix}.double_conv.1"), &block.norm1, visit);
        conv(&format!("{prefix}.double_conv.3"), &block.conv2, visit);
        norm(&format!("{prefix}.double_conv.4"), &block.norm2, visit);
    };
    double("inc", &model.inc, visit);
    for (i, down) in [&model.down1, &model.down2, &model.down3, &model.down4]
        .into_iter()
        .enumerate()
    {
        double(&format!("down{}.maxpool_conv.1", i + 1), &down.conv, visit);
    }
    for (i, up) in up_blocks(model).into_iter().enumerate() {
        if let Some(t) = &up.up {
            visit(
                format!("up{}.up.weight", i + 1),
                t.weight.lazy_shape().to_vec(),
            );
            if let Some(bias) = &t.bias {
                visit(format!("up{}.up.bias", i + 1), bias.lazy_shape().to_vec());
            }
        }
        double(&format!("up{}.conv", i + 1), &up.conv, visit);
    }
    conv("outc.conv", &model.outc.conv, visit);
}

fn up_blocks(model: &UNet) -> [&Up; 4] {
    [&model.up1, &model.up2, &model.up3, &model.up4]
}

/// Puts the checkpoint's tensors into `model`, which must have been built from `config`.
pub fn load_into(
    model: &mut UNet,
    config: &UNetConfig,
    tensors: &TensorMap,
    device: &Device,
) -> Result<(), CheckpointError> {
    check(config, tensors)?;
    let take = |key: String| -> &RawTensor { &tensors[&key] };
    let tensor = |raw: &RawTensor| TensorData::new(raw.data.clone(), raw.shape.clone());
    let param4 = |key: String| Param::from_data(tensor(take(key)), device);
    let param1 = |key: String| Param::<Tensor<1>>::from_data(tensor(take(key)), device);
    let state1 = |key: String| RunningState::new(Tensor::<1>::from_data(tensor(take(key)), device));

    let set_conv = |prefix: &str, conv: &mut Conv2d| {
        conv.weight = param4(format!("{prefix}.weight"));
        if conv.bias.is_some() {
            conv.bias = Some(param1(format!("{prefix}.bias")));
        }
    };
    let set_norm = |prefix: &str, norm: &mut BatchNorm| {
        norm.gamma = param1(format!("{prefix}.weight"));
        norm.beta = param1(format!("{prefix}.bias"));
        norm.running_mean = state1(format!("{prefix}.running_mean"));
        norm.running_var = state1(format!("{prefix}.running_var"));
    };
    let set_double = |prefix: &str, block: &mut DoubleConv| {
        set_conv(&format!("{prefix}.double_conv.0"), &mut block.conv1);
        set_norm(&format!("{prefix}.double_conv.1"), &mut block.norm1);
        set_conv(&format!("{prefix}.double_conv.3"), &mut block.conv2);
        set_norm(&format!("{prefix}.double_conv.4"), &mut block.norm2);
    };
    let set_transposed = |prefix: &str, up: &mut ConvTranspose2d| {
        up.weight = param4(format!("{prefix}.weight"));
        if up.bias.is_some() {
            up.bias = Some(param1(format!("{prefix}.bias")));
        }
    };

    set_double("inc", &mut model.inc);
    for (i, down) in [
        &mut model.down1,
        &mut model.down2,
        &mut model.down3,
        &mut model.down4,
    ]
    .into_iter()
    .enumerate()
    {
        set_double(&format!("down{}.maxpool_conv.1", i + 1), &mut down.conv);
    }
    for (i, up) in [
        &mut model.up1,
        &mut model.up2,
        &mut model.up3,
        &mut model.up4,
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(t) = up.up.as_mut() {
            set_transposed(&format!("up{}.up", i + 1), t);
        }
        set_double(&format!("up{}.conv", i + 1), &mut up.conv);
    }
    set_conv("outc.conv", &mut model.outc.conv);
    Ok(())
}

/// The model's tensors under their milesial keys: the inverse of [`load_into`], for export.
pub fn tensors_of(model: &UNet) -> Result<TensorMap, String> {
    let mut keys = Vec::new();
    walk(model, &mut |key, _| keys.push(key));
    let mut values = Vec::new();
    collect_values(model, &mut values);
    if keys.len() != values.len() {
        return Err(format!("{} keys but {} tensors", keys.len(), values.len()));
    }
    Ok(keys.into_iter().zip(values).collect())
}

fn collect_values(model: &UNet, out: &mut Vec<RawTensor>) {
    let read = |data: TensorData| RawTensor {
        shape: data.shape().to_vec(),
        data: data.try_to_vec_as::<f32>().unwrap_or_default(),
    };
    let conv = |c: &Conv2d, out: &mut Vec<RawTensor>| {
        out.push(read(c.weight.val().into_data()));
        if let Some(b) = &c.bias {
            out.push(read(b.val().into_data()));
        }
    };
    let norm = |n: &BatchNorm, out: &mut Vec<RawTensor>| {
        out.push(read(n.gamma.val().into_data()));
        out.push(read(n.beta.val().into_data()));
        out.push(read(n.running_mean.value().into_data()));
        out.push(read(n.running_var.value().into_data()));
    };
    let double = |d: &DoubleConv, out: &mut Vec<RawTensor>| {
        conv(&d.conv1, out);
        norm(&d.norm1, out);
        conv(&d.conv2, out);
        norm(&d.norm2, out);
    };
    double(&model.inc, out);
    for down in [&model.down1, &model.down2, &model.down3, &model.down4] {
        double(&down.conv, out);
    }
    for up in up_blocks(model) {
        if let Some(t) = &up.up {
            out.push(read(t.weight.val().into_data()));
            if let Some(b) = &t.bias {
                out.push(read(b.val().into_data()));
            }
        }
        double(&up.conv, out);
    }
    conv(&model.outc.conv, out);
}
