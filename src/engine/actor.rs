//! The engine's mailbox in the browser: one task owns the [`Engine`] and answers requests in
//! order, so a model switch can never interleave with an inference. The messages are private:
//! callers use [`EngineHandle`]'s typed methods.

use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use unet_imaging::{Image, Normalization};

use super::{backend, AdapterProbe, BackendInfo, Engine, ModelInfo, Segmentation};

/// What the UI asks of the engine.
enum Request {
    LoadModel {
        source: String,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Arc<ModelInfo>, String>>,
    },
    SegmentImage {
        image: Arc<Image>,
        scaling: Option<Normalization>,
        keep_logits: bool,
        reply: oneshot::Sender<Result<Arc<Segmentation>, String>>,
    },
}

const STOPPED: &str = "the inference engine stopped; reload the page";

/// A cheap, cloneable way to talk to the engine task.
#[derive(Clone)]
pub struct EngineHandle {
    mailbox: mpsc::UnboundedSender<Request>,
}

impl EngineHandle {
    /// Opens the backend (`webgpu`: the probed adapter, or why WebGPU is unusable) and starts
    /// the engine task.
    pub async fn start(webgpu: Result<AdapterProbe, String>) -> (Self, BackendInfo) {
        let (device, info) = backend::open(webgpu).await;
        let mut engine = Engine::new(device, info.clone());
        let (mailbox, mut requests) = mpsc::unbounded::<Request>();
        wasm_bindgen_futures::spawn_local(async move {
            // The asker may have gone away (page navigating); nothing to do then.
            while let Some(request) = requests.next().await {
                match request {
                    Request::LoadModel {
                        source,
                        bytes,
                        reply,
                    } => {
                        let _ = reply.send(engine.load_model(&source, &bytes).await);
                    }
                    Request::SegmentImage {
                        image,
                        scaling,
                        keep_logits,
                        reply,
                    } => {
                        let result = engine.segment_image(image, scaling, keep_logits).await;
                        let _ = reply.send(result);
                    }
                }
            }
        });
        (Self { mailbox }, info)
    }

    /// Replaces the model (see [`Engine::load_model`]).
    pub async fn load_model(
        &self,
        source: String,
        bytes: Vec<u8>,
    ) -> Result<Arc<ModelInfo>, String> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::LoadModel {
            source,
            bytes,
            reply,
        })?;
        answer.await.map_err(|_| STOPPED.to_string())?
    }

    /// Segments a decoded image (see [`Engine::segment_image`]).
    pub async fn segment_image(
        &self,
        image: Arc<Image>,
        scaling: Option<Normalization>,
        keep_logits: bool,
    ) -> Result<Arc<Segmentation>, String> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::SegmentImage {
            image,
            scaling,
            keep_logits,
            reply,
        })?;
        answer.await.map_err(|_| STOPPED.to_string())?
    }

    fn send(&self, request: Request) -> Result<(), String> {
        self.mailbox
            .unbounded_send(request)
            .map_err(|_| STOPPED.to_string())
    }
}
