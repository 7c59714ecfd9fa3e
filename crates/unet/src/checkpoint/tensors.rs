//! A burn [`UNet`]'s tensors under the layout's slots: a checkpoint put in ([`load_into`]) and
//! read back out ([`tensors_of`]).

use super::layout::{check, describe, layout, Block, NormField, Slot, Stage};
use super::{CheckpointError, RawTensor, TensorMap};
use crate::model::{DoubleConv, UNet, UNetConfig, Up};
use burn::module::{Param, RunningState};
use burn::nn::conv::Conv2d;
use burn::nn::BatchNorm;
use burn::tensor::{Device, Tensor, TensorData};

fn double_conv(model: &UNet, block: Block) -> &DoubleConv {
    match block {
        Block::Inc => &model.inc,
        Block::Down(level) => {
            &[&model.down1, &model.down2, &model.down3, &model.down4][usize::from(level) - 1].conv
        }
        Block::Up(step) => &up_block(model, step).conv,
    }
}

fn double_conv_mut(model: &mut UNet, block: Block) -> &mut DoubleConv {
    match block {
        Block::Inc => &mut model.inc,
        Block::Down(level) => {
            let downs = [
                &mut model.down1,
                &mut model.down2,
                &mut model.down3,
                &mut model.down4,
            ];
            &mut downs
                .into_iter()
                .nth(usize::from(level) - 1)
                .expect("level 1-4")
                .conv
        }
        Block::Up(step) => &mut up_block_mut(model, step).conv,
    }
}

fn up_block(model: &UNet, step: u8) -> &Up {
    [&model.up1, &model.up2, &model.up3, &model.up4][usize::from(step) - 1]
}

fn up_block_mut(model: &mut UNet, step: u8) -> &mut Up {
    let ups = [
        &mut model.up1,
        &mut model.up2,
        &mut model.up3,
        &mut model.up4,
    ];
    ups.into_iter()
        .nth(usize::from(step) - 1)
        .expect("step 1-4")
}

fn stage_of(block: &DoubleConv, stage: Stage) -> (&Conv2d, &BatchNorm) {
    match stage {
        Stage::First => (&block.conv1, &block.norm1),
        Stage::Second => (&block.conv2, &block.norm2),
    }
}

fn stage_of_mut(block: &mut DoubleConv, stage: Stage) -> (&mut Conv2d, &mut BatchNorm) {
    match stage {
        Stage::First => (&mut block.conv1, &mut block.norm1),
        Stage::Second => (&mut block.conv2, &mut block.norm2),
    }
}

/// The architecture of a built model, read off its tensors' shapes.
fn config_of(model: &UNet) -> UNetConfig {
    let inc = model.inc.conv1.weight.lazy_shape().to_vec();
    let outc = model.outc.conv.weight.lazy_shape().to_vec();
    UNetConfig::new(inc[1], outc[0])
        .with_base_channels(inc[0])
        .with_bilinear(model.up1.up.is_none())
}

/// Puts the checkpoint's tensors into `model`, which must have been built from `config`.
pub fn load_into(
    model: &mut UNet,
    config: &UNetConfig,
    tensors: &TensorMap,
    device: &Device,
) -> Result<(), CheckpointError> {
    check(config, tensors)?;
    for entry in layout(config) {
        let raw = &tensors[&entry.slot.key()];
        let data = || TensorData::new(raw.data.clone(), raw.shape.clone());
        let param1 = || Param::<Tensor<1>>::from_data(data(), device);
        let state1 = || RunningState::new(Tensor::<1>::from_data(data(), device));
        match entry.slot {
            Slot::Conv(block, stage) => {
                stage_of_mut(double_conv_mut(model, block), stage).0.weight =
                    Param::from_data(data(), device);
            }
            Slot::Norm(block, stage, field) => {
                let norm = stage_of_mut(double_conv_mut(model, block), stage).1;
                match field {
                    NormField::Weight => norm.gamma = param1(),
                    NormField::Bias => norm.beta = param1(),
                    NormField::RunningMean => norm.running_mean = state1(),
                    NormField::RunningVar => norm.running_var = state1(),
                }
            }
            Slot::Transposed { step, bias } => {
                if let Some(t) = up_block_mut(model, step).up.as_mut() {
                    set_weight_or_bias(&mut t.weight, &mut t.bias, bias, data(), device);
                }
            }
            Slot::Out { bias } => {
                let conv = &mut model.outc.conv;
                set_weight_or_bias(&mut conv.weight, &mut conv.bias, bias, data(), device);
            }
        }
    }
    Ok(())
}

fn set_weight_or_bias(
    weight: &mut Param<Tensor<4>>,
    bias: &mut Option<Param<Tensor<1>>>,
    is_bias: bool,
    data: TensorData,
    device: &Device,
) {
    if is_bias {
        *bias = Some(Param::from_data(data, device));
    } else {
        *weight = Param::from_data(data, device);
    }
}

/// The model's tensors under their milesial keys: the inverse of [`load_into`], for export.
/// Reads the weights back synchronously (natively, or from burn's CPU backend).
pub fn tensors_of(model: &UNet) -> Result<TensorMap, CheckpointError> {
    let config = config_of(model);
    let mismatch = |details: String| CheckpointError::Mismatch {
        config: describe(&config),
        details,
    };
    let mut out = TensorMap::new();
    for entry in layout(&config) {
        let key = entry.slot.key();
        let data = match entry.slot {
            Slot::Conv(block, stage) => Some(
                stage_of(double_conv(model, block), stage)
                    .0
                    .weight
                    .val()
                    .into_data(),
            ),
            Slot::Norm(block, stage, field) => {
                let norm = stage_of(double_conv(model, block), stage).1;
                Some(match field {
                    NormField::Weight => norm.gamma.val().into_data(),
                    NormField::Bias => norm.beta.val().into_data(),
                    NormField::RunningMean => norm.running_mean.value().into_data(),
                    NormField::RunningVar => norm.running_var.value().into_data(),
                })
            }
            Slot::Transposed { step, bias } => up_block(model, step)
                .up
                .as_ref()
                .and_then(|t| weight_or_bias(&t.weight, t.bias.as_ref(), bias)),
            Slot::Out { bias } => {
                let conv = &model.outc.conv;
                weight_or_bias(&conv.weight, conv.bias.as_ref(), bias)
            }
        }
        .ok_or_else(|| mismatch(format!("the model has no `{key}`")))?;
        if data.shape().to_vec() != entry.shape {
            return Err(mismatch(format!(
                "`{key}` has shape {:?}, expected {:?}",
                data.shape().to_vec(),
                entry.shape
            )));
        }
        let values = data
            .try_to_vec_as::<f32>()
            .map_err(|e| mismatch(format!("`{key}` cannot be read as f32: {e:?}")))?;
        out.insert(
            key,
            RawTensor {
                shape: entry.shape,
                data: values,
            },
        );
    }
    Ok(out)
}

fn weight_or_bias(
    weight: &Param<Tensor<4>>,
    bias: Option<&Param<Tensor<1>>>,
    is_bias: bool,
) -> Option<TensorData> {
    if is_bias {
        bias.map(|b| b.val().into_data())
    } else {
        Some(weight.val().into_data())
    }
}
