//! `unet`: the command-line face of unet-web (predict, info, convert), on the same model and
//! imaging code as the browser app.

mod bench;
mod convert;
mod device;
mod dicom_seg;
mod eval;
mod info;
mod init;
mod inputs;
mod mesh;
mod network;
mod output;
mod predict;
mod predict_args;
mod stats;
mod train;
mod volume;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// U-Net segmentation of images with milesial/Pytorch-UNet checkpoints or unet-web models.
#[derive(Parser)]
#[command(name = "unet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Segment images: writes DIR/STEM.mask.png (and DIR/STEM.logits.npy with --logits).
    Predict(predict::PredictArgs),
    /// Describe a model (architecture, parameters, classes) or an image, volume or DICOM
    /// series (format, dimensions, spacing, orientation, modality, transfer syntax).
    Info {
        /// A model file (.pth, .pt, .ckpt, .safetensors), an image, a volume, or a DICOM folder.
        file: PathBuf,
    },
    /// Convert a checkpoint to the project's format (safetensors with an embedded model card).
    Convert(convert::ConvertArgs),
    /// Write a U-Net with random weights in the project's format.
    Init(init::InitArgs),
    /// Time forward passes on a random input; prints `median_ms=…`.
    Bench(bench::BenchArgs),
    /// Train the brain-extraction model on the MNI template (burn autodiff, CPU or Wgpu).
    Train(train::TrainArgs),
    /// Dice of a model against reference masks: per image and overall.
    Eval(eval::EvalArgs),
    /// Per-class count, area (mm²) or volume (mL) and mean intensity of a mask, as CSV.
    Stats(stats::StatsArgs),
    /// One closed STL surface per class of a label map, in the scan's millimetres.
    Mesh(mesh::MeshArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Predict(args) => predict::run(&args),
        Command::Info { file } => info::run(&file),
        Command::Convert(args) => convert::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Mesh(args) => mesh::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message:#}");
            ExitCode::FAILURE
        }
    }
}
