//! The threaded module's pool, reached through `engine-worker.js`'s `unetStartThreads`.

use js_sys::{Array, Float32Array, Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::ThreadsInfo;
use crate::web::js_error;
use unet::runner::RemoteNet;
use unet::{Checkpoint, InferenceError, Logits, Runner, StorageDtype};

/// The started module: its `ThreadedNet` class and its pool's size.
pub struct Pool {
    class: Function,
    info: ThreadsInfo,
}

fn global_value(path: &[&str]) -> Option<JsValue> {
    let mut value: JsValue = js_sys::global().into();
    for key in path {
        value = Reflect::get(&value, &JsValue::from_str(key)).ok()?;
    }
    (!value.is_undefined()).then_some(value)
}

impl Pool {
    /// Starts the pool on every core, or says why the engine stays on its own thread.
    pub async fn start() -> Result<Self, String> {
        let Some(starter) =
            global_value(&["unetStartThreads"]).and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return Err(
                "the engine runs on the page's own thread, which may not wait for others".into(),
            );
        };
        if global_value(&["crossOriginIsolated"]).and_then(|v| v.as_bool()) != Some(true) {
            return Err(
                "the page is not cross-origin isolated, so it may not share memory \
                        between threads: its server sends no COOP and COEP headers, and the \
                        offline worker that adds them is not in control yet; reload once the \
                        app works offline"
                    .into(),
            );
        }
        let cores = global_value(&["navigator", "hardwareConcurrency"])
            .and_then(|v| v.as_f64())
            .map_or(1, |n| n as usize);
        if cores < 2 {
            return Err("the browser reports one core".into());
        }
        let started = starter
            .call1(&JsValue::NULL, &JsValue::from(cores as u32))
            .map_err(|e| js_error(&e))?;
        let module = JsFuture::from(js_sys::Promise::from(started))
            .await
            .map_err(|e| format!("the thread pool did not start ({})", js_error(&e)))?;
        let class = Reflect::get(&module, &JsValue::from_str("ThreadedNet"))
            .ok()
            .and_then(|c| c.dyn_into::<Function>().ok())
            .ok_or("the threaded module has no ThreadedNet")?;
        Ok(Self {
            class,
            info: ThreadsInfo {
                count: cores,
                why: format!(
                    "wasm threads: the page is cross-origin isolated and the browser reports \
                     {cores} cores"
                ),
            },
        })
    }

    pub fn info(&self) -> ThreadsInfo {
        self.info.clone()
    }

    /// The checkpoint folded in the threaded module (sent as the project's format).
    pub fn runner(&self, checkpoint: &Checkpoint) -> Result<Runner, String> {
        let bytes = checkpoint
            .to_unet_web(StorageDtype::F32)
            .map_err(|e| e.to_string())?;
        let args = Array::of2(&Uint8Array::from(&bytes[..]), &JsValue::from_str("model"));
        let net = Reflect::construct(&self.class, &args)
            .map_err(|e| format!("the threaded engine refused the model: {}", js_error(&e)))?;
        Ok(Runner::remote(
            checkpoint.config,
            Box::new(ThreadedNet { net }),
        ))
    }
}

/// A `ThreadedNet` of the threaded module.
struct ThreadedNet {
    net: JsValue,
}

impl ThreadedNet {
    fn method(&self, name: &str) -> Result<Function, InferenceError> {
        Reflect::get(&self.net, &JsValue::from_str(name))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| InferenceError::Device(format!("the threaded engine has no `{name}`")))
    }
}

impl RemoteNet for ThreadedNet {
    fn logits(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError> {
        let args = Array::of4(
            &Float32Array::from(planes),
            &JsValue::from(channels as u32),
            &JsValue::from(height as u32),
            &JsValue::from(width as u32),
        );
        let out = self
            .method("logits")?
            .apply(&self.net, &args)
            .map_err(|e| InferenceError::Device(js_error(&e)))?;
        let data = Float32Array::new(&out).to_vec();
        let pixels = (height * width).max(1);
        Ok(Logits {
            classes: data.len() / pixels,
            height,
            width,
            data,
        })
    }
}

impl Drop for ThreadedNet {
    fn drop(&mut self) {
        // The weights live in the other module's memory until freed there.
        if let Ok(free) = self.method("free") {
            let _ = free.call0(&self.net);
        }
    }
}
