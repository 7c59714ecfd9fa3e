//! The engine's mailbox in the browser: one task owns the [`Engine`] and answers requests in
//! order, so a model switch can never interleave with an inference.

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;

use super::{backend, AdapterProbe, BackendInfo, Engine, Request, Response};

type Envelope = (Request, oneshot::Sender<Response>);

/// A cheap, cloneable way to talk to the engine task.
#[derive(Clone)]
pub struct EngineHandle {
    mailbox: mpsc::UnboundedSender<Envelope>,
}

impl EngineHandle {
    /// Opens the backend (`webgpu`: the probed adapter, or why WebGPU is unusable) and starts
    /// the engine task.
    pub async fn start(webgpu: Result<AdapterProbe, String>) -> (Self, BackendInfo) {
        let (device, info) = backend::open(webgpu).await;
        let mut engine = Engine::new(device, info.clone());
        let (mailbox, mut requests) = mpsc::unbounded::<Envelope>();
        wasm_bindgen_futures::spawn_local(async move {
            while let Some((request, reply)) = requests.next().await {
                // The asker may have gone away (page navigating); nothing to do then.
                let _ = reply.send(engine.handle(request).await);
            }
        });
        (Self { mailbox }, info)
    }

    /// Sends one request and waits for its answer.
    pub async fn call(&self, request: Request) -> Response {
        let is_load = matches!(request, Request::LoadModel { .. });
        let (reply, answer) = oneshot::channel();
        let stopped = "the inference engine stopped; reload the page".to_string();
        if self.mailbox.unbounded_send((request, reply)).is_err() {
            return failure(is_load, stopped);
        }
        answer.await.unwrap_or_else(|_| failure(is_load, stopped))
    }
}

fn failure(is_load: bool, message: String) -> Response {
    if is_load {
        Response::ModelLoaded(Err(message))
    } else {
        Response::Segmented(Err(message))
    }
}
