//! Checkpoints in, a [`UNet`](crate::UNet) out: PyTorch `.pth`, `.safetensors` and the project's
//! own format (safetensors with the model card in its metadata), all read from bytes so the
//! browser and the CLI share one path.

mod layout;
mod pickle;
mod pth;
mod safetensors;
mod tensors;

use std::collections::BTreeMap;

pub use layout::{
    check_limits, describe, infer_config, layout, Block, Entry, NormField, Slot, Stage,
    MAX_BASE_CHANNELS, MAX_CLASSES, MAX_INPUT_CHANNELS,
};
pub use pth::read_pth;
pub use safetensors::{read_safetensors, write_safetensors, StorageDtype};
pub use tensors::{load_into, tensors_of};

use crate::card::{CardError, ModelCard};
use crate::model::{UNet, UNetConfig};
use burn::tensor::Device;

/// One tensor read from a checkpoint, converted to f32, row-major contiguous.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    /// Extents, outermost first.
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub data: Vec<f32>,
}

/// Tensors by their state-dict key (`"inc.double_conv.0.weight"`).
pub type TensorMap = BTreeMap<String, RawTensor>;

/// Why a checkpoint could not be used. Each message is one line that names the problem.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The bytes are not a PyTorch container at all.
    #[error("not a PyTorch checkpoint: {0}")]
    NotPytorch(String),
    /// The container is damaged or inconsistent.
    #[error("corrupt checkpoint: {0}")]
    Corrupt(String),
    /// Neither `.pth`, `.safetensors` nor the project's format.
    #[error("unknown model format: {0}")]
    UnknownFormat(String),
    /// A readable checkpoint that is not a U-Net in the milesial layout.
    #[error("not a U-Net checkpoint in the milesial/Pytorch-UNet layout: {0}")]
    NotUNet(String),
    /// A U-Net checkpoint whose tensors do not fit the inferred architecture.
    #[error("checkpoint does not match a U-Net ({config}): {details}")]
    Mismatch {
        /// The architecture inferred from the checkpoint.
        config: String,
        /// Missing, unexpected and mis-shaped keys.
        details: String,
    },
    /// A U-Net beyond what the app can run or a mask can hold.
    #[error("unsupported model: {0}")]
    Unsupported(String),
    /// The embedded model card is not valid JSON of the expected shape.
    // Not `#[from]`: the card's message is in this one, so it is not also a `source()` that a
    // caller printing the whole chain would repeat.
    #[error("invalid model card: {0}")]
    Card(CardError),
}

impl From<CardError> for CheckpointError {
    fn from(error: CardError) -> Self {
        CheckpointError::Card(error)
    }
}

/// Which container a checkpoint came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// `torch.save` zip archive.
    Pth,
    /// Plain safetensors.
    Safetensors,
    /// Safetensors carrying a unet-web model card.
    UnetWeb,
}

impl std::fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceFormat::Pth => "PyTorch .pth",
            SourceFormat::Safetensors => "safetensors",
            SourceFormat::UnetWeb => "unet-web (safetensors + model card)",
        })
    }
}

/// A checkpoint read and checked, ready to be built on any device.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The architecture, inferred from the tensors.
    pub config: UNetConfig,
    /// The model card: embedded, or a default one for a bare checkpoint.
    pub card: ModelCard,
    /// The container it came in.
    pub format: SourceFormat,
    /// The tensors by milesial key.
    pub tensors: TensorMap,
}

impl Checkpoint {
    /// Reads a checkpoint from its bytes; `name` (a file name) only names a default card.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Self, CheckpointError> {
        let (tensors, format, card) = match sniff(bytes)? {
            SourceFormat::Pth => (read_pth(bytes)?, SourceFormat::Pth, None),
            _ => {
                let (tensors, card) = read_safetensors(bytes)?;
                let format = match card {
                    Some(_) => SourceFormat::UnetWeb,
                    None => SourceFormat::Safetensors,
                };
                (tensors, format, card)
            }
        };
        let config = infer_config(&tensors)?;
        // Check every key and shape now, so a bad file fails at load with the full list.
        layout::check(&config, &tensors)?;
        let card = match card {
            Some(card) => {
                card.check_against(&config)?;
                card
            }
            None => ModelCard::for_bare_checkpoint(name, &config),
        };
        Ok(Self {
            config,
            card,
            format,
            tensors,
        })
    }

    /// Builds the network on `device` with this checkpoint's weights.
    pub fn build(&self, device: &Device) -> Result<UNet, CheckpointError> {
        let mut model = self.config.init(device);
        load_into(&mut model, &self.config, &self.tensors, device)?;
        Ok(model)
    }

    /// Number of learnable parameters (BatchNorm running statistics excluded).
    pub fn parameter_count(&self) -> usize {
        self.tensors
            .iter()
            .filter(|(key, _)| !key.ends_with("running_mean") && !key.ends_with("running_var"))
            .map(|(_, t)| t.data.len())
            .sum()
    }

    /// Serialises to the project's format: safetensors with milesial keys and the card embedded.
    pub fn to_unet_web(&self, dtype: StorageDtype) -> Result<Vec<u8>, CheckpointError> {
        write_safetensors(&self.tensors, Some(&self.card), dtype)
    }
}

/// Tells the container from its first bytes, whatever the file is called.
fn sniff(bytes: &[u8]) -> Result<SourceFormat, CheckpointError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(SourceFormat::Pth);
    }
    // Safetensors: a little-endian u64 header length, then a JSON object.
    if bytes.len() >= 9 && bytes[8] == b'{' {
        let header = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        if header <= (bytes.len() - 8) as u64 {
            return Ok(SourceFormat::Safetensors);
        }
        return Err(CheckpointError::Corrupt(format!(
            "safetensors header claims {header} bytes but the file has {}: truncated?",
            bytes.len()
        )));
    }
    if bytes.first() == Some(&0x80) {
        return Err(CheckpointError::NotPytorch(
            "a legacy (pre-1.6) torch.save file; re-save it with a current torch.save or as .safetensors"
                .into(),
        ));
    }
    if bytes.is_empty() {
        return Err(CheckpointError::UnknownFormat("the file is empty".into()));
    }
    let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Err(CheckpointError::UnknownFormat(format!(
        "starts with bytes {}; expected a PyTorch .pth (zip), a .safetensors file or a unet-web model",
        head.join(" ")
    )))
}
