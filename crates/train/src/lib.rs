//! Training unet-web's default models in Rust with burn: the data (a template, a synthetic head
//! around it, augmentation), the loop, and the Dice that the model card reports.

#![warn(missing_docs)]

pub mod augment;
pub mod card;
pub mod data;
pub mod error;
pub mod field;
pub mod head;
pub mod metrics;
pub mod progress;
pub mod rng;
pub mod state;
pub mod synth;
pub mod template;
pub mod train;

pub use error::TrainError;
pub use metrics::{dice, DiceCounts};
pub use train::{Run, Settings, State};
