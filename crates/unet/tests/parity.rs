//! The burn forward pass held to PyTorch's logits on the seed architecture.
//!
//! Fixtures: `tests/fixtures/parity/`, written by `scripts/fixtures/make_parity_fixtures.py`
//! (random weights and BatchNorm statistics, odd-sized PNG inputs, PyTorch's float32 logits).

use burn::tensor::Device;
use std::path::PathBuf;
use unet::{Checkpoint, CpuUNet, Logits, UNetConfig};
use unet_imaging::{decode_image, decode_npy_f32, to_planes, Planes};

struct Case {
    name: String,
    config: UNetConfig,
    formats: Vec<String>,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("cases.json")).expect("cases.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    json.as_array()
        .expect("a list of cases")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_string(),
            config: UNetConfig::new(
                c["n_channels"].as_u64().unwrap() as usize,
                c["n_classes"].as_u64().unwrap() as usize,
            )
            .with_bilinear(c["bilinear"].as_bool().unwrap())
            .with_base_channels(c["base_channels"].as_u64().unwrap() as usize),
            formats: c["formats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect(),
        })
        .collect()
}

/// Runs every case and format through `run`; returns (case, worst |Δ| / max |logit|).
fn relative_errors(run: &dyn Fn(&Checkpoint, &Planes) -> Logits) -> Vec<(String, f32)> {
    let mut out = Vec::new();
    for case in cases() {
        let png = std::fs::read(fixtures().join(format!("{}.png", case.name))).unwrap();
        let (shape, expected) = decode_npy_f32(
            &std::fs::read(fixtures().join(format!("{}.logits.npy", case.name))).unwrap(),
        )
        .unwrap();
        for format in &case.formats {
            let file = format!("{}.{format}", case.name);
            let checkpoint =
                Checkpoint::from_bytes(&std::fs::read(fixtures().join(&file)).unwrap(), &file)
                    .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                checkpoint.config, case.config,
                "{file}: inferred architecture"
            );
            let image = decode_image(&png).unwrap();
            let planes = to_planes(
                &image,
                case.config.n_channels,
                &checkpoint.card.preprocessing,
            )
            .unwrap();
            let logits = run(&checkpoint, &planes);
            assert_eq!(
                vec![logits.classes, logits.height, logits.width],
                shape,
                "{file}: shape"
            );
            let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
            let worst = logits
                .data
                .iter()
                .zip(&expected)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            out.push((file, worst / scale));
        }
    }
    out
}

/// burn's module on `device`, read back on the async path the browser takes.
fn on_burn(device: &Device) -> impl Fn(&Checkpoint, &Planes) -> Logits + '_ {
    move |checkpoint, planes| {
        let model = checkpoint.build(device).unwrap();
        pollster_block_on(unet::inference::predict_async(
            &model,
            &planes.data,
            planes.channels,
            planes.height,
            planes.width,
            device,
        ))
        .unwrap()
    }
}

/// The read-back future resolves without a real executor natively; polling it in a loop keeps
/// the test on the same async path the browser takes.
fn pollster_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
    fn raw() -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(|_| raw(), |_| {}, |_| {}, |_| {});
    let waker = unsafe { Waker::from_raw(raw()) };
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

#[test]
fn cpu_forward_matches_pytorch_within_1e4_relative() {
    let errors = relative_errors(&on_burn(&Device::flex()));
    assert_eq!(errors.len(), 6, "every case and format ran");
    for (file, error) in errors {
        assert!(
            error <= 1e-4,
            "{file}: max |Δ| / max |logit| = {error:e} > 1e-4"
        );
    }
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_forward_matches_pytorch_within_1e3_relative() {
    let device = unet::inference::wgpu_device().unwrap_or_else(|e| {
        panic!("no Wgpu adapter: {e}. Install Mesa's Vulkan drivers (apt-get install mesa-vulkan-drivers)")
    });
    for (file, error) in relative_errors(&on_burn(&device)) {
        assert!(
            error <= 1e-3,
            "{file}: max |Δ| / max |logit| = {error:e} > 1e-3"
        );
    }
}

#[test]
fn folded_cpu_network_matches_pytorch_within_1e4_relative() {
    let errors = relative_errors(&|checkpoint, planes| {
        CpuUNet::from_tensors(checkpoint.config, &checkpoint.tensors)
            .unwrap()
            .predict(&planes.data, planes.channels, planes.height, planes.width)
            .unwrap()
    });
    assert_eq!(errors.len(), 6, "every case and format ran");
    for (file, error) in errors {
        assert!(
            error <= 1e-4,
            "{file}: max |Δ| / max |logit| = {error:e} > 1e-4"
        );
    }
}
