//! Safetensors in and out. The project's own format is a safetensors file with milesial keys and
//! the model card as JSON in the header metadata: one file that the browser fetches and that any
//! safetensors tool (and milesial's `load_state_dict`) still reads.

use super::{CheckpointError, RawTensor, TensorMap};
use crate::card::{CardError, ModelCard};
use half::{bf16, f16};
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

/// Metadata key that holds the model card's JSON.
pub const CARD_KEY: &str = "unet_web.model_card";
/// Metadata key that marks the project's format, with its version.
pub const FORMAT_KEY: &str = "format";
/// The value of [`FORMAT_KEY`] this version writes.
pub const FORMAT_VALUE: &str = "unet-web/1";

/// How weights are stored on disk; they are always f32 in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageDtype {
    /// Exact.
    F32,
    /// Half the size; rounding of the weights to 11 significant bits.
    F16,
}

/// Reads tensors (F32, F16, BF16, F64) and the embedded model card, if any.
pub fn read_safetensors(bytes: &[u8]) -> Result<(TensorMap, Option<ModelCard>), CheckpointError> {
    let corrupt =
        |e: safetensors::SafeTensorError| CheckpointError::Corrupt(format!("safetensors: {e}"));
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(corrupt)?;
    let card = match metadata.metadata().as_ref().and_then(|m| m.get(CARD_KEY)) {
        Some(json) => Some(
            serde_json::from_str::<ModelCard>(json)
                .map_err(|e| CheckpointError::Card(CardError::Json(e.to_string())))?,
        ),
        None => None,
    };
    let file = SafeTensors::deserialize(bytes).map_err(corrupt)?;
    let mut tensors = TensorMap::new();
    for (name, view) in file.iter() {
        let data = match view.dtype() {
            Dtype::F32 => convert::<4>(view.data(), |b| f32::from_le_bytes(*b)),
            Dtype::F16 => convert::<2>(view.data(), |b| f16::from_le_bytes(*b).to_f32()),
            Dtype::BF16 => convert::<2>(view.data(), |b| bf16::from_le_bytes(*b).to_f32()),
            Dtype::F64 => convert::<8>(view.data(), |b| f64::from_le_bytes(*b) as f32),
            // Integer tensors (`num_batches_tracked`) carry nothing the forward pass needs.
            _ => continue,
        };
        tensors.insert(
            name.to_string(),
            RawTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok((tensors, card))
}

fn convert<const N: usize>(bytes: &[u8], element: impl Fn(&[u8; N]) -> f32) -> Vec<f32> {
    bytes
        .chunks_exact(N)
        .map(|chunk| element(chunk.try_into().expect("chunk of N bytes")))
        .collect()
}

/// Writes tensors, and the card when given, as safetensors.
///
/// Written by hand rather than through the `safetensors` crate's serializer, whose metadata map
/// type changes with its `std` feature, and `std` pulls in a temp-file crate the browser has no use for.
pub fn write_safetensors(
    tensors: &TensorMap,
    card: Option<&ModelCard>,
    dtype: StorageDtype,
) -> Result<Vec<u8>, CheckpointError> {
    let (name, width) = match dtype {
        StorageDtype::F32 => ("F32", 4),
        StorageDtype::F16 => ("F16", 2),
    };
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (key, t) in tensors {
        let end = offset + t.data.len() * width;
        header.insert(
            key.clone(),
            serde_json::json!({ "dtype": name, "shape": t.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    if let Some(card) = card {
        let json = serde_json::to_string(card)
            .map_err(|e| CheckpointError::Card(CardError::Json(e.to_string())))?;
        header.insert(
            "__metadata__".into(),
            serde_json::json!({ FORMAT_KEY: FORMAT_VALUE, CARD_KEY: json }),
        );
    }
    let mut header = serde_json::to_vec(&header)
        .map_err(|e| CheckpointError::Card(CardError::Json(e.to_string())))?;
    // The data section must start 8-byte aligned; the format pads the header with spaces.
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for t in tensors.values() {
        match dtype {
            StorageDtype::F32 => t
                .data
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            StorageDtype::F16 => t
                .data
                .iter()
                .for_each(|v| out.extend_from_slice(&f16::from_f32(*v).to_le_bytes())),
        }
    }
    Ok(out)
}
