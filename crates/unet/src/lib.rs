//! The classic U-Net in burn, and everything needed to run a milesial/Pytorch-UNet checkpoint:
//! the model ([`model`]), checkpoint import and the project's own format ([`checkpoint`]), the
//! model card ([`card`]) and inference on any device ([`inference`]).
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod card;
pub mod checkpoint;
pub mod cpu;
pub mod inference;
pub mod model;
pub mod ready;
pub mod runner;
pub mod segment;
pub mod tiles;

pub use card::{CardError, ClassInfo, ModelCard};
pub use checkpoint::{
    Checkpoint, CheckpointError, RawTensor, SourceFormat, StorageDtype, TensorMap,
};
pub use cpu::CpuUNet;
pub use inference::{InferenceError, Logits};
pub use model::{DoubleConv, Down, OutConv, UNet, UNetConfig, Up};
pub use runner::Runner;
#[cfg(not(target_family = "wasm"))]
pub use segment::segment;
pub use segment::{SegmentError, Segmented};
pub use tiles::{Tiling, TilingError};
