//! The engine in a Web Worker, so that the page's thread never runs the network.
//!
//! The worker is the page's own wasm module started a second time: `engine-worker.js` imports
//! the page's JS glue and instantiates the very `WebAssembly.Module` the page compiled (sent to
//! it, so nothing is fetched or compiled twice), and the module's start function, finding no
//! window, runs [`serve`] instead of the UI. The page's side, [`Link`], forwards the
//! [`EngineHandle`](super::EngineHandle)'s requests and routes the answers back.
//!
//! ```text
//! page                                  worker
//!  new Worker(engine-worker.js)  ──▶     import(glue), init(module)
//!  { js, module }                ──▶     start() → serve()
//!                                ◀──     hello
//!  open { webgpu }               ──▶     backend::open (WebGPU in the worker, or the CPU)
//!                                ◀──     ready { backend }
//!  load / segment { id, … }      ──▶     the engine, one request at a time
//!                                ◀──     loaded / segmented { id, … }
//! ```

mod js;
mod serve;

pub use serve::serve;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::future::{select, Either};
use futures::StreamExt;
use unet_imaging::{Image, Mask};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent, Worker, WorkerOptions, WorkerType};

use super::request::Request;
use super::wire::{ImageHeader, SegmentHeader, SegmentedHeader};
use super::{AdapterProbe, BackendInfo, ModelInfo, Segmentation};
use js::Message;

/// The bootstrap script, copied next to index.html by Trunk.
const WORKER_SCRIPT: &str = "engine-worker.js";
/// How long the worker may take to start its module before the page runs the engine itself.
const START_TIMEOUT_MS: i32 = 30_000;

/// An answer the page is waiting for.
enum Pending {
    Load(oneshot::Sender<Result<Arc<ModelInfo>, String>>),
    Segment {
        // The page keeps its image; only the mask and logits come back.
        image: Arc<Image>,
        reply: oneshot::Sender<Result<Arc<Segmentation>, String>>,
    },
}

#[derive(Default)]
struct Shared {
    hello: Option<oneshot::Sender<Result<(), String>>>,
    ready: Option<oneshot::Sender<Result<BackendInfo, String>>>,
    pending: HashMap<u32, Pending>,
    stopped: Option<String>,
}

impl Shared {
    /// The worker is gone (`why`, in a few words): a start-up step waiting gets `why`, every
    /// request waiting and every later one a message that says what to do.
    fn stop(&mut self, why: String) {
        if let Some(hello) = self.hello.take() {
            let _ = hello.send(Err(why.clone()));
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Err(why.clone()));
        }
        let message = format!("the inference engine stopped ({why}); reload the page");
        for (_, pending) in self.pending.drain() {
            fail(pending, message.clone());
        }
        self.stopped = Some(message);
    }
}

/// The page's end of the worker.
pub struct Link {
    worker: Worker,
    shared: Rc<RefCell<Shared>>,
    next_id: u32,
    // Kept alive as long as the link: the worker's event handlers.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Link {
    /// Starts the worker and its backend; `Err` says why the page must run the engine itself.
    pub async fn open(webgpu: Result<AdapterProbe, String>) -> Result<(Self, BackendInfo), String> {
        let glue = glue_url()?;
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        options.set_name("unet-web engine");
        let worker = Worker::new_with_options(WORKER_SCRIPT, &options)
            .map_err(|e| format!("no Web Worker ({})", crate::web::js_error(&e)))?;

        let shared = Rc::new(RefCell::new(Shared::default()));
        let on_message = {
            let shared = Rc::clone(&shared);
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                receive(&mut shared.borrow_mut(), &event.data());
            })
        };
        let on_error = {
            let shared = Rc::clone(&shared);
            // A script that fails to load gives a plain Event, an exception an ErrorEvent.
            Closure::<dyn FnMut(Event)>::new(move |event: Event| {
                event.prevent_default();
                let message = js::field(&event, "message")
                    .and_then(|m| m.as_string())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "its script did not load".into());
                shared.borrow_mut().stop(message);
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let link = Self {
            worker,
            shared,
            next_id: 0,
            _on_message: on_message,
            _on_error: on_error,
        };

        let (hello, said_hello) = oneshot::channel();
        link.shared.borrow_mut().hello = Some(hello);
        let boot = Message::new("boot", None).text("js", &glue);
        boot.set("module", &wasm_bindgen::module());
        link.post(boot)?;
        match select(said_hello, Box::pin(sleep_ms(START_TIMEOUT_MS))).await {
            Either::Left((Ok(Ok(())), _)) => {}
            Either::Left((Ok(Err(why)), _)) => return Err(link.close(why)),
            Either::Left((Err(_), _)) => return Err(link.close("no answer".into())),
            Either::Right(_) => {
                let why = format!("it did not start within {} s", START_TIMEOUT_MS / 1000);
                return Err(link.close(why));
            }
        }

        let (ready, is_ready) = oneshot::channel();
        link.shared.borrow_mut().ready = Some(ready);
        link.post(Message::new("open", None).json("webgpu", &webgpu))?;
        match is_ready.await {
            Ok(Ok(info)) => Ok((link, info)),
            Ok(Err(why)) => Err(link.close(why)),
            Err(_) => Err(link.close("no answer".into())),
        }
    }

    /// Sends each request to the worker; answers come back through [`receive`].
    pub async fn forward(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        while let Some(request) = requests.next().await {
            self.next_id = self.next_id.wrapping_add(1);
            let id = self.next_id;
            let (message, pending) = match request {
                Request::LoadModel {
                    source,
                    bytes,
                    reply,
                } => (
                    Message::new("load", Some(id))
                        .text("source", &source)
                        .bytes("bytes", &bytes),
                    Pending::Load(reply),
                ),
                Request::SegmentImage {
                    image,
                    scaling,
                    keep_logits,
                    reply,
                } => {
                    let header = SegmentHeader {
                        image: ImageHeader::of(&image),
                        scaling,
                        keep_logits,
                    };
                    let message = Message::new("segment", Some(id))
                        .json("header", &header)
                        .floats("pixels", &image.pixels);
                    (message, Pending::Segment { image, reply })
                }
            };
            let stopped = self.shared.borrow().stopped.clone();
            match stopped {
                Some(why) => fail(pending, why),
                None => {
                    self.shared.borrow_mut().pending.insert(id, pending);
                    if let Err(why) = self.post(message) {
                        self.shared.borrow_mut().stop(why);
                    }
                }
            }
        }
        self.worker.terminate();
    }

    fn post(&self, message: Message) -> Result<(), String> {
        self.worker
            .post_message_with_transfer(&message.object, &message.transfer)
            .map_err(|e| {
                format!(
                    "cannot reach the engine's worker ({})",
                    crate::web::js_error(&e)
                )
            })
    }

    /// Ends the worker; returns `why` for the caller to report.
    fn close(self, why: String) -> String {
        self.worker.terminate();
        format!("the engine's Web Worker could not start: {why}")
    }
}

fn fail(pending: Pending, why: String) {
    match pending {
        Pending::Load(reply) => drop(reply.send(Err(why))),
        Pending::Segment { reply, .. } => drop(reply.send(Err(why))),
    }
}

/// One message from the worker.
fn receive(shared: &mut Shared, message: &JsValue) {
    match js::kind(message).as_str() {
        "hello" => {
            if let Some(hello) = shared.hello.take() {
                let _ = hello.send(Ok(()));
            }
        }
        "failed" => {
            let why = js::text(message, "error").unwrap_or_default();
            shared.stop(why);
        }
        "ready" => {
            if let Some(ready) = shared.ready.take() {
                let _ = ready.send(js::json::<BackendInfo>(message, "backend"));
            }
        }
        "panic" => {
            let why = js::text(message, "error").unwrap_or_default();
            shared.stop(why);
        }
        "loaded" | "segmented" => {
            let Some(pending) = js::id(message).and_then(|id| shared.pending.remove(&id)) else {
                return;
            };
            match pending {
                Pending::Load(reply) => {
                    let info = answer(message, |m| js::json::<ModelInfo>(m, "info"));
                    let _ = reply.send(info.map(Arc::new));
                }
                Pending::Segment { image, reply } => {
                    let result = answer(message, |m| segmentation(m, image));
                    let _ = reply.send(result.map(Arc::new));
                }
            }
        }
        _ => {}
    }
}

/// The engine's own error, or what `decode` makes of a successful answer.
fn answer<T>(
    message: &JsValue,
    decode: impl FnOnce(&JsValue) -> Result<T, String>,
) -> Result<T, String> {
    match js::field(message, "error") {
        Some(error) => Err(error.as_string().unwrap_or_default()),
        None => decode(message),
    }
}

fn segmentation(message: &JsValue, image: Arc<Image>) -> Result<Segmentation, String> {
    let header: SegmentedHeader = js::json(message, "header")?;
    let mask = Mask {
        width: header.width,
        height: header.height,
        classes: header.classes,
        data: js::bytes(message, "mask")?,
    };
    let logits = match header.logits {
        Some((classes, height, width)) => Some(unet::Logits {
            classes,
            height,
            width,
            data: js::floats(message, "logits")?,
        }),
        None => None,
    };
    Ok(Segmentation {
        image,
        mask,
        notes: header.notes,
        logits,
        timings: header.timings,
    })
}

/// The page's JS glue (Trunk preloads it with `<link rel="modulepreload">`), as an absolute
/// URL the worker can import.
fn glue_url() -> Result<String, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let href = document
        .query_selector("link[rel=modulepreload][href$='.js']")
        .ok()
        .flatten()
        .and_then(|link| link.get_attribute("href"))
        .ok_or("the page names no JS module to load in it")?;
    let base = document.base_uri().ok().flatten().unwrap_or_default();
    web_sys::Url::new_with_base(&href, &base)
        .map(|url| url.href())
        .map_err(|e| format!("bad module URL {href} ({})", crate::web::js_error(&e)))
}

/// Resolves after `ms` milliseconds.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
