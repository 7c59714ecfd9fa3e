//! Why a training run could not start, go on or save.

use std::path::PathBuf;

use unet::checkpoint::CheckpointError;
use unet::InferenceError;
use unet_imaging::ImagingError;

/// A training run's failure; each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file or folder could not be read or written.
    #[error("{}: {error}{hint}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said (in the message, so not also a `source()`).
        error: std::io::Error,
        /// How to get the missing data, or nothing.
        hint: &'static str,
    },
    /// A training volume could not be decoded.
    #[error("{}: {error}", path.display())]
    Volume {
        /// The volume's file.
        path: PathBuf,
        /// What the decoder said.
        error: ImagingError,
    },
    /// Volumes that belong together (a head and its mask, the template's maps) differ in size.
    #[error("{0}")]
    Mismatch(String),
    /// The run state for `--resume` is unreadable or from a run with other settings.
    #[error("{0}")]
    Resume(String),
    /// A checkpoint could not be written or read back.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The model could not be evaluated.
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

impl TrainError {
    /// An I/O error on `path`, without a hint.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            error,
            hint: "",
        }
    }
}
