//! The model card: what a model segments, how its input is prepared, where it came from.
//! It travels inside the weights file (see [`crate::checkpoint`]) so the browser needs one fetch.

use crate::model::UNetConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use unet_imaging::{Normalization, Plane, PlaneChoice, PostStep};

/// Why a model card cannot describe its network; shown as "invalid model card: …".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CardError {
    /// The classes listed do not match the network's outputs.
    #[error("the card lists {listed} classes but the network has {outputs} output(s), i.e. {expected} mask values")]
    Classes {
        /// Classes the card lists.
        listed: usize,
        /// The network's output channels.
        outputs: usize,
        /// Mask values those outputs give.
        expected: usize,
    },
    /// A class colour that is not `#rrggbb`.
    #[error("class `{name}` has colour `{colour}`; expected #rrggbb")]
    Colour {
        /// The class.
        name: String,
        /// Its colour as written.
        colour: String,
    },
    /// A post-processing step that cannot run.
    #[error("postprocess: {0}")]
    Postprocess(String),
    /// A volume threshold outside (0, 1).
    #[error("threshold {0}: a probability strictly between 0 and 1 is needed")]
    Threshold(f64),
    /// Not JSON of a card's shape.
    #[error("{0}")]
    Json(String),
}

/// One output class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassInfo {
    /// Human-readable name ("brain").
    pub name: String,
    /// Display colour as `#rrggbb`.
    pub colour: String,
}

/// Everything a user or the app needs to know about a model besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Short name shown in the model picker.
    pub name: String,
    /// What the model segments, in a sentence.
    #[serde(default)]
    pub task: String,
    /// One entry per mask value: class 0 is the background; a one-class (sigmoid) model lists
    /// background and foreground.
    pub classes: Vec<ClassInfo>,
    /// How pixels become model input.
    #[serde(default)]
    pub preprocessing: Normalization,
    /// False for placeholder weights that were never trained: the app says so.
    #[serde(default = "default_true")]
    pub trained: bool,
    /// Licence of the weights.
    #[serde(default)]
    pub license: String,
    /// Where the weights came from: training data, script, or the original checkpoint.
    #[serde(default)]
    pub provenance: String,
    /// The plane a 2-D model expects for volumes (`axial`, `coronal`, `sagittal`), or `all`
    /// for the three planes' probabilities averaged; if any.
    #[serde(default)]
    pub plane: Option<String>,
    /// Post-processing of label maps (`{"opening": {"radius_mm": R}}`, `largest_component`,
    /// `fill_holes`), in order: in 3-D on a volume's label map, in 2-D on the mask of an image
    /// segmented on its own (taken at 1 mm per pixel, the scale the models are trained at).
    /// Declared by the model, so that other models' masks are left as predicted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postprocess: Vec<PostStep>,
    /// For a one-output (sigmoid) model: the foreground probability a pixel needs, or for a
    /// volume the mean over the planes run that a voxel needs (0.5 if absent). Chosen with the
    /// card's post-processing (scripts/bench/brain_postprocess_cv.py for the brain model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Measured figures, e.g. `"dice_heldout": 0.97`.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Free-form fields (training command, time, data licence) kept as written.
    #[serde(default, flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

fn default_true() -> bool {
    true
}

/// Colours for classes 1, 2, … when a checkpoint brings none: distinct on grey images.
const PALETTE: [&str; 8] = [
    "#ff3b30", "#34c759", "#0a84ff", "#ffcc00", "#af52de", "#ff9500", "#5ac8fa", "#ff2d55",
];

impl ModelCard {
    /// The card for a bare milesial checkpoint: generic class names, milesial preprocessing.
    pub fn for_bare_checkpoint(file_name: &str, config: &UNetConfig) -> Self {
        let stem = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name)
            .split('.')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("checkpoint");
        let mut classes = vec![ClassInfo {
            name: "background".into(),
            colour: "#000000".into(),
        }];
        let foreground = config.n_classes.max(2) - 1;
        for i in 1..=foreground {
            classes.push(ClassInfo {
                name: if foreground == 1 {
                    "foreground".into()
                } else {
                    format!("class {i}")
                },
                colour: PALETTE[(i - 1) % PALETTE.len()].into(),
            });
        }
        Self {
            name: stem.to_string(),
            task: "segmentation (milesial/Pytorch-UNet checkpoint)".into(),
            classes,
            preprocessing: Normalization::Milesial,
            trained: true,
            license: "unknown: see the checkpoint's source".into(),
            provenance: format!("imported from {file_name}"),
            plane: None,
            postprocess: Vec::new(),
            threshold: None,
            metrics: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }

    /// The number of mask values the card must describe for `config`.
    pub fn expected_classes(config: &UNetConfig) -> usize {
        config.n_classes.max(2)
    }

    /// Refuses a card whose classes do not match the network's outputs.
    pub fn check_against(&self, config: &UNetConfig) -> Result<(), CardError> {
        let expected = Self::expected_classes(config);
        if self.classes.len() != expected {
            return Err(CardError::Classes {
                listed: self.classes.len(),
                outputs: config.n_classes,
                expected,
            });
        }
        if let Some(bad) = self
            .classes
            .iter()
            .find(|c| parse_colour(&c.colour).is_none())
        {
            return Err(CardError::Colour {
                name: bad.name.clone(),
                colour: bad.colour.clone(),
            });
        }
        if let Some(problem) = self.postprocess.iter().find_map(PostStep::problem) {
            return Err(CardError::Postprocess(problem));
        }
        if let Some(t) = self.threshold {
            if !(t > 0.0 && t < 1.0) {
                return Err(CardError::Threshold(t));
            }
        }
        Ok(())
    }

    /// The foreground probability a one-output model's pixel or voxel needs (the card's
    /// `threshold`, else 0.5).
    pub fn foreground_threshold(&self) -> f32 {
        self.threshold.unwrap_or(0.5) as f32
    }

    /// How volumes are cut: the card's `plane` (`all`: the three planes averaged), else axial.
    pub fn volume_planes(&self) -> PlaneChoice {
        self.plane
            .as_deref()
            .and_then(PlaneChoice::from_name)
            .unwrap_or(PlaneChoice::One(Plane::Axial))
    }

    /// The plane a volume is shown in first: the card's, axial when it names none or all.
    pub fn display_plane(&self) -> Plane {
        match self.volume_planes() {
            PlaneChoice::One(plane) => plane,
            PlaneChoice::All => Plane::Axial,
        }
    }

    /// Class colours as RGB, indexed by mask value.
    pub fn colours(&self) -> Vec<[u8; 3]> {
        self.classes
            .iter()
            .map(|c| parse_colour(&c.colour).unwrap_or([255, 0, 0]))
            .collect()
    }
}

/// Parses `#rrggbb`.
pub fn parse_colour(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_card_names_and_counts_classes() {
        let one =
            ModelCard::for_bare_checkpoint("runs/checkpoint_epoch5.pth", &UNetConfig::new(3, 1));
        assert_eq!(one.name, "checkpoint_epoch5");
        assert_eq!(one.classes.len(), 2);
        assert_eq!(one.classes[1].name, "foreground");
        let four = ModelCard::for_bare_checkpoint("m.safetensors", &UNetConfig::new(1, 4));
        assert_eq!(four.classes.len(), 4);
        assert!(four.check_against(&UNetConfig::new(1, 4)).is_ok());
        assert!(four.check_against(&UNetConfig::new(1, 3)).is_err());
    }

    #[test]
    fn threshold_and_opening_are_checked() {
        let config = UNetConfig::new(1, 1);
        let mut card = ModelCard::for_bare_checkpoint("m.pth", &config);
        assert_eq!(card.foreground_threshold(), 0.5);
        card.threshold = Some(0.65);
        card.postprocess = vec![PostStep::Opening { radius_mm: 4.0 }];
        assert!(card.check_against(&config).is_ok());
        assert_eq!(card.foreground_threshold(), 0.65);
        for bad in [0.0, 1.0, -0.2, f64::NAN] {
            card.threshold = Some(bad);
            let err = card.check_against(&config).unwrap_err().to_string();
            assert!(err.contains("threshold"), "{err}");
        }
        card.threshold = None;
        card.postprocess = vec![PostStep::Opening { radius_mm: 0.0 }];
        let err = card.check_against(&config).unwrap_err().to_string();
        assert!(err.contains("opening radius"), "{err}");
    }

    #[test]
    fn card_json_round_trips_and_keeps_unknown_fields() {
        let json = r##"{"name":"brain","classes":[{"name":"background","colour":"#000000"},
            {"name":"brain","colour":"#ff3b30"}],"preprocessing":{"kind":"percentile","low":0.5,"high":99.5},
            "trained":true,"training_command":"unet train ..."}"##;
        let card: ModelCard = serde_json::from_str(json).unwrap();
        assert_eq!(card.extra["training_command"], "unet train ...");
        let again: ModelCard =
            serde_json::from_str(&serde_json::to_string(&card).unwrap()).unwrap();
        assert_eq!(card, again);
        assert_eq!(card.colours()[1], [255, 59, 48]);
    }

    #[test]
    fn colours_are_validated() {
        assert_eq!(parse_colour("#0a84ff"), Some([10, 132, 255]));
        assert_eq!(parse_colour("red"), None);
        assert_eq!(parse_colour("#12345"), None);
    }
}
