//! The U-Net's forward pass one block at a time, returning to the event loop between blocks.
//!
//! On the CPU backend burn computes every op eagerly on the page's only thread, so a whole
//! forward pass would freeze the tab for its full duration; split at the ten blocks, the longest
//! pause is the largest block (the full-resolution `up4`, about a fifth of the work). On WebGPU
//! the device works asynchronously anyway and the plain `UNet::forward` is used.
//!
//! Mirrors `unet::UNet::forward`; `tests` checks that both give identical logits.

use burn::tensor::Tensor;
use unet::{InferenceError, Logits, UNet};

use crate::platform::yield_now;

/// `net.forward(input)` with a pause after every block.
pub async fn forward(net: &UNet, input: Tensor<4>) -> Tensor<4> {
    let x1 = net.inc.forward(input);
    yield_now().await;
    let x2 = net.down1.forward(x1.clone());
    yield_now().await;
    let x3 = net.down2.forward(x2.clone());
    yield_now().await;
    let x4 = net.down3.forward(x3.clone());
    yield_now().await;
    let x5 = net.down4.forward(x4.clone());
    yield_now().await;
    let x = net.up1.forward(x5, x4);
    yield_now().await;
    let x = net.up2.forward(x, x3);
    yield_now().await;
    let x = net.up3.forward(x, x2);
    yield_now().await;
    let x = net.up4.forward(x, x1);
    yield_now().await;
    net.outc.forward(x)
}

/// Reads a `[1, classes, height, width]` output back as [`Logits`] (asynchronously, as every
/// backend allows).
pub async fn read_logits(output: Tensor<4>) -> Result<Logits, InferenceError> {
    unet::inference::read_logits_async(output).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use unet::UNetConfig;

    /// Natively `yield_now` is ready at once and the CPU backend is synchronous, so one poll
    /// finishes the future.
    fn run<T>(future: impl Future<Output = T>) -> T {
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the future should finish in one poll natively"),
        }
    }

    #[test]
    fn stepwise_forward_equals_the_model_forward() {
        let device = unet::inference::cpu_device();
        // Odd sizes exercise the padding in the up-sampling blocks.
        for (bilinear, h, w) in [(true, 37, 29), (false, 33, 48)] {
            let config = UNetConfig::new(2, 3)
                .with_bilinear(bilinear)
                .with_base_channels(4);
            let net = config.init(&device);
            let values: Vec<f32> = (0..2 * h * w)
                .map(|i| ((i * 7919) % 255) as f32 / 255.0)
                .collect();
            let input =
                || Tensor::<4>::from_data(TensorData::new(values.clone(), [1, 2, h, w]), &device);
            let expected = run(read_logits(net.forward(input()))).unwrap();
            let stepwise = run(async { read_logits(forward(&net, input()).await).await }).unwrap();
            assert_eq!(
                (stepwise.classes, stepwise.height, stepwise.width),
                (3, h, w)
            );
            assert_eq!(stepwise.data, expected.data);
        }
    }
}
