//! The two JSON manifests under `assets/`: which models and which sample images ship with the
//! page. Plain data so they parse the same in tests and in the browser.

use serde::Deserialize;

/// Where the page's assets live, relative to the document (so any subpath works).
pub const ASSETS: &str = "assets";

/// `assets/models/manifest.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelManifest {
    /// The `id` loaded at start.
    pub default: String,
    /// Every bundled model.
    pub models: Vec<ModelEntry>,
}

/// One bundled model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelEntry {
    /// Stable identifier (also accepted as `?model=ID`).
    pub id: String,
    /// File name inside `assets/models/`.
    pub file: String,
    /// Shown in the picker.
    pub name: String,
    /// One sentence about it.
    #[serde(default)]
    pub description: String,
    /// False for placeholder weights.
    #[serde(default = "yes")]
    pub trained: bool,
}

/// `assets/samples/manifest.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SampleManifest {
    /// The bundled sample images.
    pub samples: Vec<SampleEntry>,
}

/// One sample image.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SampleEntry {
    /// File name inside `assets/samples/`.
    pub file: String,
    /// Shown on its button.
    pub name: String,
    /// Where it comes from (dataset, licence).
    #[serde(default)]
    pub source: String,
}

fn yes() -> bool {
    true
}

impl ModelManifest {
    /// The entry to load first: `wanted` (from the URL) if listed, else the manifest's default,
    /// else the first model.
    pub fn initial(&self, wanted: Option<&str>) -> Option<&ModelEntry> {
        let find = |id: &str| self.models.iter().find(|m| m.id == id);
        wanted
            .and_then(find)
            .or_else(|| find(&self.default))
            .or_else(|| self.models.first())
    }
}

/// URL of a file in an asset folder, relative to the page.
pub fn asset_url(folder: &str, file: &str) -> String {
    format!("{ASSETS}/{folder}/{file}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_pick_the_initial_model() {
        let json = r#"{"default":"b","models":[
            {"id":"a","file":"a.unet.safetensors","name":"A"},
            {"id":"b","file":"b.unet.safetensors","name":"B","description":"d","trained":false}]}"#;
        let manifest: ModelManifest = serde_json::from_str(json).unwrap();
        assert!(manifest.models[0].trained);
        assert_eq!(manifest.initial(None).unwrap().id, "b");
        assert_eq!(manifest.initial(Some("a")).unwrap().id, "a");
        assert_eq!(manifest.initial(Some("zz")).unwrap().id, "b");
        let samples: SampleManifest =
            serde_json::from_str(r#"{"samples":[{"file":"x.png","name":"X"}]}"#).unwrap();
        assert_eq!(
            asset_url("samples", &samples.samples[0].file),
            "assets/samples/x.png"
        );
    }

    #[test]
    fn the_bundled_manifests_list_real_files_and_a_trained_default() {
        let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(ASSETS);
        let read = |p: &str| std::fs::read_to_string(assets.join(p)).unwrap();
        let models: ModelManifest = serde_json::from_str(&read("models/manifest.json")).unwrap();
        assert!(
            models.initial(None).unwrap().trained,
            "the default model is trained"
        );
        for entry in &models.models {
            let bytes = std::fs::read(assets.join("models").join(&entry.file)).unwrap();
            let checkpoint = unet::Checkpoint::from_bytes(&bytes, &entry.file).unwrap();
            assert_eq!(checkpoint.card.trained, entry.trained, "{}", entry.id);
        }
        let samples: SampleManifest = serde_json::from_str(&read("samples/manifest.json")).unwrap();
        assert!(!samples.samples.is_empty());
        for sample in &samples.samples {
            let bytes = std::fs::read(assets.join("samples").join(&sample.file)).unwrap();
            let image = unet_imaging::decode_image(&bytes).unwrap();
            assert!(image.width >= 16 && image.height >= 16, "{}", sample.file);
        }
    }
}
