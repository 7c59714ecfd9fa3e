//! One 2-D image through a model, the same steps in the same order for `unet predict` and the
//! page: the model input as the card (or a volume) scales it, the network, every check on the
//! way, and the mask. That both call this is why the page's mask equals the CLI's.

use std::future::Future;

use unet_imaging::{mask_above, to_planes, Image, ImagingError, Mask, Normalization};

use crate::card::ModelCard;
use crate::checkpoint::MAX_CLASSES;
use crate::inference::{InferenceError, Logits};
use crate::runner::Runner;

/// An image's mask, with the logits it was taken from.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmented {
    /// The network's raw output, `[classes, height, width]`.
    pub logits: Logits,
    /// Class index per pixel, at the image's resolution.
    pub mask: Mask,
    /// Conversions applied to the input (e.g. RGB → grey), one sentence each, for the user.
    pub notes: Vec<String>,
}

/// Why an image could not be segmented.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// The image cannot become the model's input (its scaling, its channels).
    #[error(transparent)]
    Image(#[from] ImagingError),
    /// The input does not fit the network (too small), or the device failed.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// More outputs than a mask can name (a mask holds one byte per pixel).
    #[error("the model has {0} outputs; masks support 1 to {MAX_CLASSES} classes")]
    Classes(usize),
}

impl SegmentError {
    /// Whether the device failed (another device may succeed), rather than the input.
    pub fn is_device(&self) -> bool {
        matches!(self, SegmentError::Inference(InferenceError::Device(_)))
    }
}

/// Segments `image` with `runner`, scaled by `scaling` or else by the card's rule, awaiting
/// `pause()` between the network's blocks (see [`Runner::logits_pausing`]).
///
/// The mask is taken at the card's `threshold`. An image segmented on its own (no `scaling`)
/// then gets the card's `postprocess` in 2-D, at 1 mm per pixel: on a single slice of a head,
/// the brain model's opening and largest component drop the neck, tongue and eyes that no 3-D
/// context rules out (scripts/bench/brain_slices.py measures it). A volume's slice (`scaling`
/// given) is left as predicted: its volume is post-processed in 3-D once all slices are in.
pub async fn segment_pausing<F: Future<Output = ()>>(
    card: &ModelCard,
    runner: &Runner,
    image: &Image,
    scaling: Option<&Normalization>,
    pause: impl Fn() -> F,
) -> Result<Segmented, SegmentError> {
    let planes = to_planes(
        image,
        runner.config().n_channels,
        scaling.unwrap_or(&card.preprocessing),
    )?;
    let logits = runner
        .logits_pausing(
            &planes.data,
            planes.channels,
            planes.height,
            planes.width,
            pause,
        )
        .await?;
    if !(1..=MAX_CLASSES).contains(&logits.classes) {
        return Err(SegmentError::Classes(logits.classes));
    }
    let threshold = card.foreground_threshold();
    let mut mask = mask_above(
        &logits.data,
        logits.classes,
        logits.height,
        logits.width,
        threshold,
    );
    if scaling.is_none() && !card.postprocess.is_empty() {
        let dims = [logits.width, logits.height, 1];
        unet_imaging::postprocess(&card.postprocess, &mut mask.data, dims, [1.0; 3]);
    }
    Ok(Segmented {
        logits,
        mask,
        notes: planes.notes,
    })
}

/// [`segment_pausing`] with the card's scaling, blocking (native only).
#[cfg(not(target_family = "wasm"))]
pub fn segment(
    card: &ModelCard,
    runner: &Runner,
    image: &Image,
) -> Result<Segmented, SegmentError> {
    crate::runner::finish_ready(segment_pausing(card, runner, image, None, || {
        std::future::ready(())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{tensors_of, Checkpoint};
    use crate::inference::cpu_device;
    use crate::model::UNetConfig;
    use unet_imaging::{decode_image, mask_from_logits, BitDepth, Channels};

    /// An untrained net whose convolutions hold fixed He-uniform noise: burn's initialiser is
    /// unseeded, and a net this narrow sometimes starts with every ReLU dead, which makes the
    /// output a constant and a test on its mask depend on the draw.
    fn model(channels: usize, classes: usize) -> Checkpoint {
        let config = UNetConfig::new(channels, classes).with_base_channels(2);
        let mut tensors = tensors_of(&config.init(&cpu_device())).unwrap();
        let kernels = tensors.values().filter(|t| t.shape.len() == 4);
        let mut noise =
            crate::inference::fixed_noise(kernels.map(|t| t.data.len()).sum()).into_iter();
        for kernel in tensors.values_mut().filter(|t| t.shape.len() == 4) {
            let fan_in: usize = kernel.shape[1..].iter().product();
            let bound = (6.0 / fan_in as f32).sqrt();
            for (w, u) in kernel.data.iter_mut().zip(noise.by_ref()) {
                *w = (2.0 * u - 1.0) * bound;
            }
        }
        Checkpoint {
            config,
            card: ModelCard::for_bare_checkpoint("test", &config),
            format: crate::SourceFormat::Safetensors,
            tensors,
        }
    }

    fn grey(width: u32, height: u32) -> Image {
        Image {
            width,
            height,
            channels: Channels::Gray,
            bit_depth: BitDepth::U8,
            format: "PNG",
            pixels: (0..width * height).map(|i| (i % 251) as f32).collect(),
        }
    }

    #[test]
    fn the_mask_is_the_argmax_of_the_logits_at_the_images_size() {
        let checkpoint = model(1, 3);
        let runner = Runner::folded(&checkpoint).unwrap();
        let out = segment(&checkpoint.card, &runner, &grey(40, 33)).unwrap();
        assert_eq!((out.mask.width, out.mask.height), (40, 33));
        assert_eq!((out.logits.classes, out.logits.height), (3, 33));
        let want = mask_from_logits(&out.logits.data, 3, 33, 40);
        assert_eq!(out.mask, want);
    }

    #[test]
    fn an_image_on_its_own_is_post_processed_as_its_card_says_a_volume_slice_is_not() {
        let mut checkpoint = model(1, 1);
        let runner = Runner::folded(&checkpoint).unwrap();
        let image = grey(48, 40);
        let plain = segment(&checkpoint.card, &runner, &image).unwrap();
        // A threshold at the median probability leaves the untrained net's mask in pieces.
        let mut probabilities: Vec<f32> = plain
            .logits
            .data
            .iter()
            .map(|&x| 1.0 / (1.0 + (-x).exp()))
            .collect();
        probabilities.sort_by(f32::total_cmp);
        let median = probabilities[probabilities.len() / 2];
        checkpoint.card.threshold = Some(f64::from(median));
        checkpoint.card.postprocess = vec![
            unet_imaging::PostStep::LargestComponent,
            unet_imaging::PostStep::FillHoles,
        ];
        let thresholded = mask_above(&plain.logits.data, 1, 40, 48, median);
        let mut expected = thresholded.clone();
        unet_imaging::postprocess(
            &checkpoint.card.postprocess,
            &mut expected.data,
            [48, 40, 1],
            [1.0; 3],
        );
        assert_ne!(
            expected, thresholded,
            "nothing to post-process: the test proves nothing"
        );

        let alone = segment(&checkpoint.card, &runner, &image).unwrap();
        assert_eq!(alone.mask, expected);
        let scaling = checkpoint.card.preprocessing.clone();
        let slice = crate::runner::finish_ready(segment_pausing(
            &checkpoint.card,
            &runner,
            &image,
            Some(&scaling),
            || std::future::ready(()),
        ))
        .unwrap();
        assert_eq!(slice.mask, thresholded);
    }

    #[test]
    fn inputs_the_model_cannot_take_are_refused_with_the_reason() {
        let checkpoint = model(1, 1);
        let runner = Runner::folded(&checkpoint).unwrap();
        let small = segment(&checkpoint.card, &runner, &grey(15, 40)).unwrap_err();
        assert!(matches!(
            small,
            SegmentError::Inference(InferenceError::TooSmall { .. })
        ));
        assert!(!small.is_device());
        let png = include_bytes!("../tests/fixtures/parity/bilinear_c1_k1.png");
        let image = decode_image(png).unwrap();
        let rgb = model(3, 1);
        let runner = Runner::folded(&rgb).unwrap();
        // A grey image for an RGB model is widened (with a note), not refused.
        let out = segment(&rgb.card, &runner, &image).unwrap();
        assert_eq!(out.mask.width, image.width);
    }
}
