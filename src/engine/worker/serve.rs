//! The worker's side: the page's wasm module, started in a worker, answers the page's messages
//! with an engine of its own ([`EngineHandle::here`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::js::{self, Message};
use crate::engine::wire::{SegmentHeader, SegmentedHeader};
use crate::engine::{AdapterProbe, EngineHandle};

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: Message) {
    // Only fails if the page has gone, and then nobody is waiting.
    let _ = scope().post_message_with_transfer(&message.object, &message.transfer);
}

/// Runs the engine in this worker until the page closes it.
pub fn serve() {
    // A panic aborts the module: tell the page first, so it says so instead of waiting.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(Message::new("panic", None).text("error", &info.to_string()));
    }));
    let engine: Rc<RefCell<Option<EngineHandle>>> = Rc::default();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let message = event.data();
        let engine = Rc::clone(&engine);
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(answer) = handle(&engine, &message).await {
                post(answer);
            }
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(Message::new("hello", None));
}

/// The answer to one message from the page.
async fn handle(engine: &RefCell<Option<EngineHandle>>, message: &JsValue) -> Option<Message> {
    let id = js::id(message);
    match js::kind(message).as_str() {
        "open" => {
            let webgpu = js::json::<Result<AdapterProbe, String>>(message, "webgpu")
                .unwrap_or_else(|e| Err(format!("the page sent no adapter: {e}")));
            let (handle, info) = EngineHandle::here(webgpu).await;
            *engine.borrow_mut() = Some(handle);
            Some(Message::new("ready", None).json("backend", &info))
        }
        "load" => {
            let handle = engine.borrow().clone();
            let reply = Message::new("loaded", id);
            let result = match (
                handle,
                js::text(message, "source"),
                js::bytes(message, "bytes"),
            ) {
                (None, ..) => Err("the engine is not open yet".to_string()),
                (Some(handle), Ok(source), Ok(bytes)) => handle.load_model(source, bytes).await,
                (_, Err(e), _) | (_, _, Err(e)) => Err(e),
            };
            Some(match result {
                Ok(info) => reply.json("info", &*info),
                Err(error) => reply.text("error", &error),
            })
        }
        "segment" => {
            let handle = engine.borrow().clone();
            let reply = Message::new("segmented", id);
            let result = match handle {
                None => Err("the engine is not open yet".to_string()),
                Some(handle) => segment(&handle, message).await,
            };
            Some(match result {
                Ok(answer) => answer(reply),
                Err(error) => reply.text("error", &error),
            })
        }
        "bench" => {
            let reply = Message::new("benched", id);
            Some(match bench(message).await {
                Ok(report) => reply.text("report", &report),
                Err(error) => reply.text("error", &error),
            })
        }
        _ => None,
    }
}

/// The browser benchmark's timing of the CPU path in this worker, on the threads the engine
/// would use here (`scripts/bench/browser/forward.mjs`); the report as JSON.
async fn bench(message: &JsValue) -> Result<String, String> {
    let bytes = js::bytes(message, "bytes")?;
    let number = |key: &str| {
        js::field(message, key)
            .and_then(|v| v.as_f64())
            .map(|v| v as usize)
            .ok_or_else(|| format!("the benchmark's message has no number `{key}`"))
    };
    let times = crate::engine::bench::time_forward(
        &bytes,
        "benchmark model",
        &unet::inference::cpu_device(),
        number("height")?,
        number("width")?,
        number("runs")?,
    )
    .await?;
    serde_json::to_string(&times).map_err(|e| e.to_string())
}

/// Segments the message's image; returns what fills in the reply.
async fn segment(
    handle: &EngineHandle,
    message: &JsValue,
) -> Result<impl FnOnce(Message) -> Message, String> {
    let header: SegmentHeader = js::json(message, "header")?;
    let image = header.image.image(js::floats(message, "pixels")?)?;
    let result = handle
        .segment_image(Arc::new(image), header.scaling, header.keep_logits)
        .await?;
    Ok(move |reply: Message| {
        let logits = result.logits.as_ref();
        let header = SegmentedHeader {
            width: result.mask.width,
            height: result.mask.height,
            classes: result.mask.classes,
            logits: logits.map(|l| (l.classes, l.height, l.width)),
            notes: result.notes.clone(),
            timings: result.timings,
        };
        let reply = reply
            .json("header", &header)
            .bytes("mask", &result.mask.data);
        match logits {
            Some(logits) => reply.floats("logits", &logits.data),
            None => reply,
        }
    })
}
