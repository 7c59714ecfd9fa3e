//! Running a [`UNet`] on one image's planes, on whichever device it was built on.
//!
//! Reading results back is asynchronous on WebGPU (a synchronous read panics there), so the
//! async path is the one every target can use; native callers also get a blocking one.

use crate::model::{UNet, MIN_SIDE};
use burn::tensor::{Device, Tensor, TensorData};

/// Raw per-class logits of one image, `[classes, height, width]` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits {
    /// Output channels of the network.
    pub classes: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `classes · height · width` values, class-major.
    pub data: Vec<f32>,
}

/// Why inference could not run.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    /// The four poolings need at least [`MIN_SIDE`] pixels per side.
    #[error(
        "the image is {width}×{height} pixels; the U-Net needs at least {MIN_SIDE}×{MIN_SIDE}"
    )]
    TooSmall {
        /// Columns.
        width: usize,
        /// Rows.
        height: usize,
    },
    /// The planes do not match the model's input channels.
    #[error("the input has {got} channel(s) but the model expects {expected}")]
    Channels {
        /// What the model takes.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// `data.len()` disagrees with the stated shape.
    #[error("input of {len} values does not fill {channels}×{height}×{width}")]
    Shape {
        /// Values given.
        len: usize,
        /// Channels stated.
        channels: usize,
        /// Rows stated.
        height: usize,
        /// Columns stated.
        width: usize,
    },
    /// The device failed to run or to return the result.
    #[error("the device failed: {0}")]
    Device(String),
}

/// Checks that `planes` fill `[channels, height, width]`, that a model taking `expected`
/// channels can take them, and that the four poolings have room.
pub fn check_input(
    expected: usize,
    planes: &[f32],
    channels: usize,
    height: usize,
    width: usize,
) -> Result<(), InferenceError> {
    if channels != expected {
        return Err(InferenceError::Channels {
            expected,
            got: channels,
        });
    }
    if planes.len() != channels * height * width {
        return Err(InferenceError::Shape {
            len: planes.len(),
            channels,
            height,
            width,
        });
    }
    if height < MIN_SIDE || width < MIN_SIDE {
        return Err(InferenceError::TooSmall { width, height });
    }
    Ok(())
}

/// Checks the input and uploads it as a `[1, channels, height, width]` tensor.
pub fn input_tensor(
    model: &UNet,
    planes: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    device: &Device,
) -> Result<Tensor<4>, InferenceError> {
    let expected = model.inc.conv1.weight.lazy_shape().to_vec()[1];
    check_input(expected, planes, channels, height, width)?;
    Ok(Tensor::from_data(
        TensorData::new(planes.to_vec(), [1, channels, height, width]),
        device,
    ))
}

/// Reads a `[1, classes, height, width]` output back asynchronously (every target, WebGPU included).
pub async fn read_logits_async(output: Tensor<4>) -> Result<Logits, InferenceError> {
    let data = output
        .into_data_async()
        .await
        .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
    logits_from(data)
}

fn logits_from(data: TensorData) -> Result<Logits, InferenceError> {
    let [_, classes, height, width] = match data.shape().to_vec()[..] {
        [b, c, h, w] => [b, c, h, w],
        _ => return Err(InferenceError::Device("output is not 4-D".into())),
    };
    let data = data
        .try_into_vec_as::<f32>()
        .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
    Ok(Logits {
        classes,
        height,
        width,
        data,
    })
}

/// Runs the model and reads the logits back asynchronously (every target, WebGPU included).
pub async fn predict_async(
    model: &UNet,
    planes: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    device: &Device,
) -> Result<Logits, InferenceError> {
    let input = input_tensor(model, planes, channels, height, width, device)?;
    read_logits_async(model.forward(input)).await
}

/// Runs the model and reads the logits back, blocking (native only).
#[cfg(not(target_family = "wasm"))]
pub fn predict(
    model: &UNet,
    planes: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    device: &Device,
) -> Result<Logits, InferenceError> {
    let input = input_tensor(model, planes, channels, height, width, device)?;
    let data = model
        .forward(input)
        .try_into_data()
        .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
    logits_from(data)
}

/// `len` values in [0, 1) from a fixed-seed xorshift: the benchmarks' input, the same on every
/// run, machine and browser, with no random-number crate (speed does not depend on the values).
pub fn fixed_noise(len: usize) -> Vec<f32> {
    let mut state: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect()
}

/// The CPU device every target has (burn's pure-Rust `flex` backend).
pub fn cpu_device() -> Device {
    Device::flex()
}

/// Burn's Wgpu device on the default adapter (native: Vulkan, Metal or DX12).
#[cfg(all(feature = "wgpu", not(target_family = "wasm")))]
pub fn wgpu_device() -> Result<Device, InferenceError> {
    Device::wgpu_options()
        .init()
        .map_err(|e| InferenceError::Device(e.to_string()))
}

/// Burn's Wgpu device, initialised asynchronously (the only way in a browser).
#[cfg(feature = "wgpu")]
pub async fn wgpu_device_async() -> Result<Device, InferenceError> {
    Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| InferenceError::Device(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::fixed_noise;

    #[test]
    fn the_noise_is_fixed_and_in_the_unit_interval() {
        let a = fixed_noise(1000);
        assert_eq!(a, fixed_noise(1000));
        assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(a.iter().any(|v| *v > 0.5) && a.iter().any(|v| *v < 0.5));
    }
}
