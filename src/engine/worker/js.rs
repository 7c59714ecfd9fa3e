//! Messages as the plain JS objects `postMessage` carries: a `kind`, small records as JSON
//! (see [`crate::engine::wire`]) and large buffers as typed arrays, whose memory is transferred
//! rather than copied.

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// An outgoing message and the buffers it hands over.
pub struct Message {
    pub object: Object,
    pub transfer: Array,
}

impl Message {
    /// A message of `kind` (and `id`, when it answers or asks something).
    pub fn new(kind: &str, id: Option<u32>) -> Self {
        let message = Self {
            object: Object::new(),
            transfer: Array::new(),
        };
        message.set("kind", &JsValue::from_str(kind));
        if let Some(id) = id {
            message.set("id", &JsValue::from(id));
        }
        message
    }

    pub fn set(&self, key: &str, value: &JsValue) {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&self.object, &JsValue::from_str(key), value);
    }

    pub fn text(self, key: &str, text: &str) -> Self {
        self.set(key, &JsValue::from_str(text));
        self
    }

    /// `value` as JSON under `key`.
    pub fn json<T: Serialize>(self, key: &str, value: &T) -> Self {
        // The records are plain data (no maps with non-string keys): serialising cannot fail.
        let json = serde_json::to_string(value).unwrap_or_default();
        self.text(key, &json)
    }

    pub fn bytes(self, key: &str, data: &[u8]) -> Self {
        let array = Uint8Array::from(data);
        self.transfer.push(&array.buffer());
        self.set(key, &array);
        self
    }

    pub fn floats(self, key: &str, data: &[f32]) -> Self {
        let array = Float32Array::from(data);
        self.transfer.push(&array.buffer());
        self.set(key, &array);
        self
    }
}

/// A property of a received message (`None` when missing, `null` or `undefined`).
pub fn field(message: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(message, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

pub fn kind(message: &JsValue) -> String {
    field(message, "kind")
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

pub fn id(message: &JsValue) -> Option<u32> {
    field(message, "id")
        .and_then(|v| v.as_f64())
        .map(|v| v as u32)
}

pub fn text(message: &JsValue, key: &str) -> Result<String, String> {
    field(message, key)
        .and_then(|v| v.as_string())
        .ok_or_else(|| format!("the engine's message has no text `{key}`"))
}

/// The JSON record under `key`.
pub fn json<T: DeserializeOwned>(message: &JsValue, key: &str) -> Result<T, String> {
    serde_json::from_str(&text(message, key)?)
        .map_err(|e| format!("the engine's message has a bad `{key}`: {e}"))
}

pub fn bytes(message: &JsValue, key: &str) -> Result<Vec<u8>, String> {
    field(message, key)
        .map(|v| Uint8Array::new(&v).to_vec())
        .ok_or_else(|| format!("the engine's message has no bytes `{key}`"))
}

pub fn floats(message: &JsValue, key: &str) -> Result<Vec<f32>, String> {
    field(message, key)
        .map(|v| Float32Array::new(&v).to_vec())
        .ok_or_else(|| format!("the engine's message has no numbers `{key}`"))
}
