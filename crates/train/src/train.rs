//! The training loop: Adam on BCE + soft Dice, a validation Dice every epoch, a checkpoint and
//! a state file after every epoch (so `--resume` continues where a run stopped), and the best
//! epoch's weights written with their model card.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use unet::checkpoint::tensors_of;
use unet::inference::predict;
use unet::{Checkpoint, InferenceError, SourceFormat, StorageDtype, UNet, UNetConfig};
use unet_imaging::{encode_gray_png, encode_mask_png, Mask};

use crate::card::brain_card;
use crate::data::{
    heldout_slices, normalise, training_example, validation_examples, Example, Sources, Split,
};
use crate::error::TrainError;
use crate::head::Head;
use crate::metrics::DiceCounts;
use crate::progress::{clock, Bar};
use crate::rng::Rng;
use crate::template::Template;

// Where callers have always found them.
pub use crate::state::{EpochRecord, Settings, State};

/// A training run.
pub struct Run {
    /// What to compute.
    pub settings: Settings,
    /// Folder with the template (scripts/data/fetch_mni.sh).
    pub data: PathBuf,
    /// Folder with real heads and their brain masks (scripts/data/fetch_heads.sh), used when
    /// `settings.real_heads` is set.
    pub heads: PathBuf,
    /// Folder for checkpoints, state and the held-out slices.
    pub out: PathBuf,
    /// The device to train on (a plain one; autodiff is added here).
    pub device: Device,
    /// Continue from `out/state.json` and `out/last.unet.safetensors`.
    pub resume: bool,
    /// The command line, for the model card.
    pub command: String,
}

/// Files a run writes inside its output folder.
pub const LAST: &str = "last.unet.safetensors";
/// The best epoch's weights with the full model card.
pub const BEST: &str = "best.unet.safetensors";
/// Folder of every epoch's checkpoint (`epoch-NN.unet.safetensors`).
pub const EPOCHS: &str = "epochs";
/// Run state for `--resume`.
pub const STATE: &str = "state.json";

impl Run {
    /// Only writes the held-out slices (`out/heldout/{images,masks}`), for `unet eval`.
    pub fn write_heldout_only(&self) -> Result<usize, TrainError> {
        let template = Template::load(&self.data)?;
        let heldout = heldout_slices(&template, &Split::new(&template));
        write_heldout(&self.out.join("heldout"), &heldout)?;
        Ok(heldout.len())
    }

    /// Trains, printing progress to stderr and a summary line per epoch to stdout.
    pub fn execute(&self) -> Result<State, TrainError> {
        let s = &self.settings;
        std::fs::create_dir_all(&self.out).map_err(|e| TrainError::io(&self.out, e))?;
        let template = Template::load(&self.data)?;
        let split = Split::new(&template);
        let heldout = heldout_slices(&template, &split);
        write_heldout(&self.out.join("heldout"), &heldout)?;
        let validation = validation_examples(&template, &split, s.val_per_plane, s.size, s.seed);
        let heads = if s.real_heads {
            s.train_heads
                .iter()
                .map(|name| Head::load(&self.heads, name))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let sources = Sources {
            template,
            split,
            heads,
            head_share: s.head_share,
            brain_free_share: s.brain_free_share,
        };

        let train_device = self.device.clone().autodiff();
        let (mut model, mut state) = self.start(&train_device)?;
        let mut optimizer = AdamConfig::new().init();
        let total_steps = s.epochs * s.steps;

        for epoch in state.history.len() + 1..=s.epochs {
            let started = Instant::now();
            let mut rng = Rng::new(s.seed, epoch as u64);
            let mut bar = Bar::new(epoch, s.epochs, s.steps);
            let mut loss_sum = 0.0;
            for step in 0..s.steps {
                let examples: Vec<Example> = (0..s.batch)
                    .map(|_| training_example(&sources, s.size, &mut rng))
                    .collect();
                let (x, y) = batch(&examples, &train_device);
                let loss = loss(model.forward(x), y);
                loss_sum += f64::from(loss.clone().into_scalar::<f32>());
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                let global = (epoch - 1) * s.steps + step;
                model = optimizer.step(learning_rate(s.lr, global, total_steps), model, grads);
                bar.update(step + 1, (loss_sum / (step + 1) as f64) as f32);
            }

            let eval = model.valid();
            let dice_val_augmented = dice_of_examples(&eval, &validation, &self.device)?;
            let dice_heldout = dice_of_heldout(&eval, &heldout, &self.device)?;
            let seconds = started.elapsed().as_secs_f64();
            state.seconds += seconds;
            state.history.push(EpochRecord {
                epoch,
                loss: loss_sum / s.steps as f64,
                dice_val_augmented,
                dice_heldout,
                seconds,
            });
            println!(
                "epoch {epoch}/{}: loss {:.4}, validation Dice {dice_val_augmented:.4} (augmented), held-out Dice {dice_heldout:.4}, {} (total {})",
                s.epochs,
                loss_sum / s.steps as f64,
                clock(seconds as f32),
                clock(state.seconds as f32),
            );
            let bytes = self.checkpoint(&eval, &state, state.history.last())?;
            std::fs::write(self.out.join(LAST), &bytes)
                .map_err(|e| TrainError::io(&self.out, e))?;
            // Every epoch is kept: the shipped weights average the last few
            // (scripts/data/ship_brain_model.sh).
            let kept = self
                .out
                .join(EPOCHS)
                .join(format!("epoch-{epoch:02}.unet.safetensors"));
            std::fs::create_dir_all(self.out.join(EPOCHS))
                .map_err(|e| TrainError::io(&self.out, e))?;
            std::fs::write(&kept, &bytes).map_err(|e| TrainError::io(&kept, e))?;
            if state.best().map(|b| b.epoch) == Some(epoch) {
                std::fs::write(self.out.join(BEST), &bytes)
                    .map_err(|e| TrainError::io(&self.out, e))?;
            }
            let json = serde_json::to_string_pretty(&state)
                .map_err(|e| TrainError::Resume(format!("the run state: {e}")))?;
            std::fs::write(self.out.join(STATE), json).map_err(|e| TrainError::io(&self.out, e))?;
        }
        // The best weights' card learns the run's final totals.
        if let Some(best) = state.best().cloned() {
            let path = self.out.join(BEST);
            let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
            let model = Checkpoint::from_bytes(&bytes, BEST).and_then(|c| c.build(&self.device))?;
            let bytes = self.checkpoint(&model, &state, Some(&best))?;
            std::fs::write(&path, bytes).map_err(|e| TrainError::io(&path, e))?;
        }
        Ok(state)
    }

    /// A fresh model, or the last checkpoint and state when resuming.
    fn start(&self, device: &Device) -> Result<(UNet, State), TrainError> {
        let state_path = self.out.join(STATE);
        if self.resume && state_path.exists() {
            let text =
                std::fs::read_to_string(&state_path).map_err(|e| TrainError::io(&state_path, e))?;
            let mut state: State = serde_json::from_str(&text)
                .map_err(|e| TrainError::Resume(format!("{}: {e}", state_path.display())))?;
            let mut wanted = self.settings.clone();
            wanted.epochs = state.settings.epochs;
            if wanted != state.settings {
                return Err(TrainError::Resume(format!(
                    "--resume: the settings differ from the run in {} ({:?}); use the same flags or another --out",
                    self.out.display(),
                    state.settings
                )));
            }
            state.settings.epochs = self.settings.epochs;
            let last = self.out.join(LAST);
            let bytes = std::fs::read(&last).map_err(|e| TrainError::io(&last, e))?;
            let model = Checkpoint::from_bytes(&bytes, LAST).and_then(|c| c.build(device))?;
            eprintln!(
                "resuming after epoch {} of {}",
                state.history.len(),
                self.settings.epochs
            );
            return Ok((model, state));
        }
        let model =
            match &self.settings.init {
                // Fine-tuning: a shipped model's weights, trained on with this run's data and schedule.
                Some(init) => {
                    let bytes =
                        std::fs::read(init).map_err(|e| TrainError::io(Path::new(init), e))?;
                    let checkpoint = Checkpoint::from_bytes(&bytes, init)?;
                    let c = &checkpoint.config;
                    if (c.n_channels, c.n_classes, c.bilinear, c.base_channels)
                        != (1, 1, true, self.settings.base)
                    {
                        return Err(TrainError::Mismatch(format!(
                        "--init {init}: a U-Net with {} input channel(s), {} class(es), {} and \
                         {} base channels; this run trains one channel, one class, bilinear, \
                         with --base {}",
                        c.n_channels,
                        c.n_classes,
                        if c.bilinear { "bilinear" } else { "transposed convolutions" },
                        c.base_channels,
                        self.settings.base
                    )));
                    }
                    eprintln!("starting from the weights in {init}");
                    checkpoint.build(device)?
                }
                None => {
                    let config = UNetConfig::new(1, 1)
                        .with_bilinear(true)
                        .with_base_channels(self.settings.base);
                    // burn's initialisers draw from the device's seeded generator.
                    self.device.seed(self.settings.seed);
                    config.init(device)
                }
            };
        let state = State {
            settings: self.settings.clone(),
            history: Vec::new(),
            seconds: 0.0,
        };
        Ok((model, state))
    }

    /// The project-format file for `model`, with a card describing the run.
    fn checkpoint(
        &self,
        model: &UNet,
        state: &State,
        record: Option<&EpochRecord>,
    ) -> Result<Vec<u8>, TrainError> {
        let config = UNetConfig::new(1, 1)
            .with_bilinear(true)
            .with_base_channels(self.settings.base);
        let checkpoint = Checkpoint {
            config,
            card: brain_card(&self.command, state, record),
            format: SourceFormat::UnetWeb,
            tensors: tensors_of(model)?,
        };
        Ok(checkpoint.to_unet_web(StorageDtype::F32)?)
    }
}

/// Cosine decay from `peak` to 5 % of it, after a linear warm-up of 100 steps.
pub fn learning_rate(peak: f64, step: usize, total: usize) -> f64 {
    let warm = ((step + 1) as f64 / 100.0).min(1.0);
    let t = step as f64 / total.max(1) as f64;
    peak * warm * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

fn batch(examples: &[Example], device: &Device) -> (Tensor<4>, Tensor<4>) {
    let (h, w) = (examples[0].height, examples[0].width);
    let n = examples.len();
    let x: Vec<f32> = examples
        .iter()
        .flat_map(|e| e.image.iter().copied())
        .collect();
    let y: Vec<f32> = examples
        .iter()
        .flat_map(|e| e.mask.iter().copied())
        .collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 1, h, w]), device),
        Tensor::from_data(TensorData::new(y, [n, 1, h, w]), device),
    )
}

/// Binary cross-entropy on logits plus soft Dice loss: BCE gets every pixel right on average,
/// Dice keeps the boundary honest when brain is a small part of a crop.
pub fn loss(logits: Tensor<4>, target: Tensor<4>) -> Tensor<1> {
    // softplus(x) − x·y, with softplus written so that large |x| cannot overflow.
    let softplus = logits.clone().clamp_min(0.0) + logits.clone().abs().neg().exp().log1p();
    let bce = (softplus - logits.clone() * target.clone()).mean();
    let p = burn::tensor::activation::sigmoid(logits);
    let overlap = (p.clone() * target.clone()).sum();
    let soft_dice =
        overlap.mul_scalar(2.0).add_scalar(1.0) / (p.sum() + target.sum()).add_scalar(1.0);
    bce + soft_dice.neg().add_scalar(1.0)
}

fn dice_of_examples(
    model: &UNet,
    examples: &[Example],
    device: &Device,
) -> Result<f64, TrainError> {
    let mut counts = DiceCounts::default();
    for chunk in examples.chunks(8) {
        let (x, _) = batch(chunk, device);
        let logits = model
            .forward(x)
            .try_into_data()
            .map_err(|e| InferenceError::Device(format!("{e:?}")))?
            .try_into_vec_as::<f32>()
            .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
        let per = chunk[0].height * chunk[0].width;
        for (e, l) in chunk.iter().zip(logits.chunks(per)) {
            counts.add(l.iter().map(|&v| v > 0.0), e.mask.iter().map(|&m| m > 0.5));
        }
    }
    Ok(counts.dice())
}

fn dice_of_heldout(
    model: &UNet,
    slices: &[(String, Example)],
    device: &Device,
) -> Result<f64, TrainError> {
    let mut counts = DiceCounts::default();
    for (_, e) in slices {
        let planes = normalise(e.image.clone(), e.height, e.width);
        let logits = predict(model, &planes, 1, e.height, e.width, device)?;
        counts.add(
            logits.data.iter().map(|&v| v > 0.0),
            e.mask.iter().map(|&m| m > 0.5),
        );
    }
    Ok(counts.dice())
}

/// Writes the held-out slices as 8-bit PNGs (`images/NAME.png`, `masks/NAME.png`, brain = 255),
/// the input of `unet eval`.
fn write_heldout(dir: &Path, slices: &[(String, Example)]) -> Result<(), TrainError> {
    for sub in ["images", "masks"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| TrainError::io(dir, e))?;
    }
    for (name, e) in slices {
        let grey: Vec<u8> = e.image.iter().map(|&v| v.clamp(0.0, 255.0) as u8).collect();
        let (w, h) = (e.width as u32, e.height as u32);
        let image = encode_gray_png(w, h, &grey);
        let mask = encode_mask_png(&Mask {
            width: w,
            height: h,
            classes: 1,
            data: e.mask.iter().map(|&m| u8::from(m > 0.5)).collect(),
        });
        let file = format!("{name}.png");
        for (sub, bytes) in [("images", image), ("masks", mask)] {
            let path = dir.join(sub).join(&file);
            std::fs::write(&path, bytes).map_err(|e| TrainError::io(&path, e))?;
        }
    }
    Ok(())
}
