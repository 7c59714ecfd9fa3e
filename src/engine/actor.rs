//! The engine's mailbox: one task owns the [`Engine`] and answers requests in order, so a model
//! switch can never interleave with an inference. On the page that task lives in a Web Worker
//! ([`super::worker`]) and only forwards; the page runs the engine itself only when the worker
//! cannot start. The messages are private: callers use [`EngineHandle`]'s typed methods.

use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use unet_imaging::{Image, Normalization};

use super::request::Request;
use super::{backend, worker, AdapterProbe, BackendInfo, Engine, ModelInfo, Segmentation};

const STOPPED: &str = "the inference engine stopped; reload the page";

/// Where inference runs, for the page to say.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineHome {
    /// A Web Worker: the page's thread never runs the network.
    Worker,
    /// The page's own thread (yielding between blocks), because the worker could not start.
    Page {
        /// Why not in a worker.
        reason: String,
    },
}

/// A cheap, cloneable way to talk to the engine task.
#[derive(Clone)]
pub struct EngineHandle {
    mailbox: mpsc::UnboundedSender<Request>,
    home: Arc<EngineHome>,
}

impl EngineHandle {
    /// Starts the engine in a Web Worker, or on this thread if the worker cannot start, and
    /// opens its backend there (`webgpu`: the probed adapter, or why WebGPU is unusable).
    pub async fn start(webgpu: Result<AdapterProbe, String>) -> (Self, BackendInfo) {
        let (mailbox, requests) = mpsc::unbounded::<Request>();
        let (home, info) = match worker::Link::open(webgpu.clone()).await {
            Ok((link, info)) => {
                wasm_bindgen_futures::spawn_local(link.forward(requests));
                (EngineHome::Worker, info)
            }
            Err(reason) => {
                web_sys::console::warn_1(&format!("inference on the page: {reason}").into());
                let info = serve_here(webgpu, requests).await;
                (EngineHome::Page { reason }, info)
            }
        };
        let home = Arc::new(home);
        (Self { mailbox, home }, info)
    }

    /// The worker's own engine, on its thread (the page's fallback goes through [`Self::start`]).
    pub(super) async fn here(webgpu: Result<AdapterProbe, String>) -> (Self, BackendInfo) {
        let (mailbox, requests) = mpsc::unbounded::<Request>();
        let info = serve_here(webgpu, requests).await;
        let home = Arc::new(EngineHome::Worker);
        (Self { mailbox, home }, info)
    }

    /// Where inference runs.
    pub fn home(&self) -> &EngineHome {
        &self.home
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

/// Opens the backend on this thread and answers `requests` there, one at a time.
async fn serve_here(
    webgpu: Result<AdapterProbe, String>,
    mut requests: mpsc::UnboundedReceiver<Request>,
) -> BackendInfo {
    let (device, info) = backend::open(webgpu).await;
    let mut engine = Engine::new(device, info);
    engine.start_cpu_threads().await;
    let info = engine.backend().clone();
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
    info
}
