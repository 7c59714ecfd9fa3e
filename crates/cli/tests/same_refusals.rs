//! The CLI and the app refuse the same bad models with the same message: both read checkpoints
//! through `unet::Checkpoint::from_bytes`, and this holds them to it. Each bad model goes to
//! `unet predict` (the binary) and to the app's engine (natively, as the page runs it), and the
//! engine's message must be what the CLI prints after the file's path.

mod common;

use common::{parity_fixture, scratch, text, unet};
use unet::runner::finish_ready;
use unet::{checkpoint, StorageDtype, UNetConfig};
use unet_web::engine::{BackendInfo, Engine};

/// Real bad models: not a checkpoint, cut short, too many classes, a tensor of the wrong shape,
/// a key missing, and an empty file.
fn bad_models() -> Vec<(&'static str, Vec<u8>)> {
    let good = std::fs::read(parity_fixture("bilinear_c1_k1.safetensors")).unwrap();
    let device = unet::inference::cpu_device();
    let tensors = |config: UNetConfig| checkpoint::tensors_of(&config.init(&device)).unwrap();
    let write =
        |t: &unet::TensorMap| checkpoint::write_safetensors(t, None, StorageDtype::F32).unwrap();
    let many = write(&tensors(UNetConfig::new(1, 257).with_base_channels(2)));
    let mut reshaped = tensors(UNetConfig::new(1, 1).with_base_channels(4));
    let bias = reshaped.get_mut("outc.conv.bias").unwrap();
    bias.shape = vec![2];
    bias.data = vec![0.0; 2];
    let mut missing = tensors(UNetConfig::new(1, 1).with_base_channels(4));
    missing.remove("up2.conv.double_conv.3.weight");
    vec![
        ("text.safetensors", b"definitely not a model".to_vec()),
        ("cut.safetensors", good[..good.len() / 2].to_vec()),
        ("many.safetensors", many),
        ("reshaped.safetensors", write(&reshaped)),
        ("missing.safetensors", write(&missing)),
        ("empty.pth", Vec::new()),
    ]
}

#[test]
fn the_cli_and_the_app_refuse_the_same_bad_models_with_the_same_message() {
    let dir = scratch("same-refusals");
    let image = parity_fixture("bilinear_c1_k1.png");
    let mut engine = Engine::new(
        unet::inference::cpu_device(),
        BackendInfo::cpu("native test"),
    );
    let models = bad_models();
    let mut messages = std::collections::BTreeSet::new();
    for (name, bytes) in &models {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let app = match finish_ready(engine.load_model(name, bytes)) {
            Ok(_) => panic!("{name}: the app accepted it"),
            Err(message) => message,
        };
        let run = unet(&[
            "predict",
            "--model",
            path.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
            image.to_str().unwrap(),
        ]);
        assert!(!run.status.success(), "{name}: the CLI accepted it");
        let cli = text(&run.stderr);
        let expected = format!("{}: {app}", path.display());
        assert!(
            cli.contains(&expected),
            "{name}:\n  app: {app}\n  cli: {cli}"
        );
        messages.insert(app);
    }
    // Each model is refused for its own reason, not by one catch-all message.
    assert_eq!(messages.len(), models.len(), "{messages:#?}");
}
