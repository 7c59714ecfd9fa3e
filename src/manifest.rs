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
    /// The file's size in bytes (scripts/data/update_manifest.py writes it).
    #[serde(default)]
    pub bytes: Option<u64>,
    /// The file's SHA-256, lower-case hex (written with `bytes`).
    #[serde(default)]
    pub sha256: Option<String>,
}

impl ModelEntry {
    /// Checks a download against the manifest's size and SHA-256, so a cut-short download or a
    /// file replaced on the server is named as such instead of loading as some other model.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), String> {
        let rebuild = "reload the page; if it persists, the site needs rebuilding (its manifest and models differ)";
        if let Some(size) = self.bytes {
            if bytes.len() as u64 != size {
                return Err(format!(
                    "{}: downloaded {} bytes but the manifest lists {size}: the download was cut short or the file was replaced; {rebuild}",
                    self.file,
                    bytes.len()
                ));
            }
        }
        if let Some(want) = &self.sha256 {
            let got = sha256_hex(bytes);
            if !got.eq_ignore_ascii_case(want) {
                return Err(format!(
                    "{}: its SHA-256 is {}… but the manifest lists {}…: the file is not the one this page was built with; {rebuild}",
                    self.file,
                    &got[..12],
                    want.get(..12).unwrap_or(want)
                ));
            }
        }
        Ok(())
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    fn downloads_that_differ_from_the_manifest_are_named() {
        let body = b"model bytes".to_vec();
        let entry = ModelEntry {
            id: "m".into(),
            file: "m.unet.safetensors".into(),
            name: "M".into(),
            description: String::new(),
            trained: true,
            bytes: Some(body.len() as u64),
            sha256: Some(sha256_hex(&body)),
        };
        entry.verify(&body).unwrap();
        let cut = entry.verify(&body[..5]).unwrap_err();
        assert!(
            cut.contains("downloaded 5 bytes") && cut.contains("lists 11"),
            "{cut}"
        );
        let mut swapped = body.clone();
        swapped[0] ^= 1;
        let replaced = entry.verify(&swapped).unwrap_err();
        assert!(replaced.contains("SHA-256"), "{replaced}");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
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
            // Run scripts/data/update_manifest.py after changing a bundled model.
            assert!(
                entry.bytes.is_some() && entry.sha256.is_some(),
                "{}: no size or hash in the manifest",
                entry.id
            );
            entry.verify(&bytes).unwrap();
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
