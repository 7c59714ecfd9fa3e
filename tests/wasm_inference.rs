//! The browser's inference path, on WebGPU and on the CPU backend, against the native CPU
//! logits for the same model and input (`tests/wasm/fixtures/README.md`).
//!
//! Run in headless Chromium by `scripts/e2e-wasm.sh` (wasm-bindgen-test-runner + chromedriver;
//! `tests/wasm/webdriver.json` turns WebGPU on). Natively this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use burn::tensor::Device;
use unet::Checkpoint;
use unet_imaging::{decode_image, decode_npy_f32, mask_from_logits, to_planes};
use unet_web::engine::{backend, AdapterProbe, BackendKind, Engine};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

struct Case {
    name: &'static str,
    model: &'static [u8],
    image: &'static [u8],
    native: &'static [u8],
}

macro_rules! case {
    ($name:literal) => {
        Case {
            name: $name,
            model: include_bytes!(concat!(
                "../crates/unet/tests/fixtures/parity/",
                $name,
                ".safetensors"
            )),
            image: include_bytes!(concat!(
                "../crates/unet/tests/fixtures/parity/",
                $name,
                ".png"
            )),
            native: include_bytes!(concat!("wasm/fixtures/", $name, ".native-logits.npy")),
        }
    };
}

/// One binary (sigmoid) grey model and one 4-class RGB model: both mask rules, both input kinds.
fn cases() -> [Case; 2] {
    [case!("bilinear_c1_k1"), case!("bilinear_c3_k4")]
}

/// Largest allowed |browser − native| logit: GPU kernels sum in a different order, so bits
/// differ, but far less than this (native and PyTorch agree to ~1e-7 relative).
const TOLERANCE: f32 = 1e-4;

async fn check_logits(device: &Device, backend: &str) {
    for case in cases() {
        let checkpoint = Checkpoint::from_bytes(case.model, case.name).expect("fixture model");
        let net = checkpoint.build(device).expect("build on the device");
        let image = decode_image(case.image).expect("fixture image");
        let planes = to_planes(
            &image,
            checkpoint.config.n_channels,
            &checkpoint.card.preprocessing,
        )
        .expect("planes");
        let logits = unet::inference::predict_async(
            &net,
            &planes.data,
            planes.channels,
            planes.height,
            planes.width,
            device,
        )
        .await
        .unwrap_or_else(|e| panic!("{backend} {}: inference failed: {e}", case.name));
        let (shape, native) = decode_npy_f32(case.native).expect("native logits");
        assert_eq!(
            shape,
            vec![logits.classes, logits.height, logits.width],
            "{backend} {}: logits shape",
            case.name
        );
        let worst = native
            .iter()
            .zip(&logits.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= TOLERANCE,
            "{backend} {}: logits differ from native by up to {worst}",
            case.name
        );
        let ours = mask_from_logits(&logits.data, logits.classes, logits.height, logits.width);
        let theirs = mask_from_logits(&native, logits.classes, logits.height, logits.width);
        assert_eq!(ours, theirs, "{backend} {}: masks differ", case.name);
    }
}

/// The whole engine (load, warm-up, segment) gives the native mask too.
async fn check_engine(device: Device, info: unet_web::engine::BackendInfo) {
    let expected_kind = info.kind;
    let mut engine = Engine::new(device, info);
    for case in cases() {
        let model = match engine.load_model(case.name, case.model).await {
            Ok(model) => model,
            Err(e) => panic!("{}: model did not load: {e}", case.name),
        };
        assert_eq!(model.backend.kind, expected_kind, "no silent fallback");
        let result = match engine.segment_file(case.image).await {
            Ok(result) => result,
            Err(e) => panic!("{}: segmentation failed: {e}", case.name),
        };
        let (shape, native) = decode_npy_f32(case.native).expect("native logits");
        let expected = mask_from_logits(&native, shape[0], shape[1], shape[2]);
        assert_eq!(result.mask, expected, "{}: engine mask", case.name);
    }
}

#[wasm_bindgen_test]
async fn cpu_backend_matches_native() {
    check_logits(&unet::inference::cpu_device(), "CPU").await;
    check_engine(
        unet::inference::cpu_device(),
        unet_web::engine::BackendInfo::cpu("test"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn webgpu_backend_matches_native() {
    let (device, info) = webgpu().await;
    check_logits(&device, "WebGPU").await;
    check_engine(device, info).await;
}

thread_local! {
    static WEBGPU: std::cell::RefCell<Option<(Device, unet_web::engine::BackendInfo)>> =
        const { std::cell::RefCell::new(None) };
}

/// The WebGPU device through the app's own backend choice, so this also checks that WebGPU is
/// really used. Opened once: burn registers one wgpu runtime per page.
async fn webgpu() -> (Device, unet_web::engine::BackendInfo) {
    if let Some(opened) = WEBGPU.with(|w| w.borrow().clone()) {
        return opened;
    }
    let (device, info) = backend::open(web_probe().await).await;
    assert_eq!(
        info.kind,
        BackendKind::WebGpu,
        "WebGPU is not available in this browser: {}",
        info.label()
    );
    WEBGPU.with(|w| *w.borrow_mut() = Some((device.clone(), info.clone())));
    (device, info)
}

/// `navigator.gpu` present → Ok; the adapter request itself happens in burn.
async fn web_probe() -> Result<AdapterProbe, String> {
    let window = web_sys::window().ok_or("no window")?;
    let gpu = js_sys::Reflect::get(&window.navigator(), &"gpu".into()).map_err(|_| "no gpu")?;
    if gpu.is_undefined() {
        return Err("navigator.gpu is missing".into());
    }
    Ok(AdapterProbe {
        description: "test adapter".into(),
        max_buffer_bytes: None,
    })
}

#[wasm_bindgen_test]
async fn images_too_large_for_the_gpu_buffers_go_to_the_cpu() {
    let (device, mut info) = webgpu().await;
    // A limit no image fits under: every image must take the CPU path, with a note.
    info.max_buffer_bytes = Some(1);
    let mut engine = Engine::new(device, info);
    let case = &cases()[0];
    let loaded = engine.load_model(case.name, case.model).await;
    assert!(loaded.is_ok(), "{loaded:?}");
    let result = engine
        .segment_file(case.image)
        .await
        .expect("segmentation failed");
    assert!(
        result
            .notes
            .iter()
            .any(|n| n.contains("segmented on the CPU")),
        "{:?}",
        result.notes
    );
    let (shape, native) = decode_npy_f32(case.native).expect("native logits");
    assert_eq!(
        result.mask,
        mask_from_logits(&native, shape[0], shape[1], shape[2])
    );
}
