//! The engine natively (CPU): a bad model keeps the previous one, bad images fail with a
//! message, and good ones give the native CLI's mask. The browser runs the same code
//! (`wasm_inference.rs` checks it there on WebGPU and CPU).
#![cfg(not(target_arch = "wasm32"))]

use unet::runner::finish_ready as run;
use unet_imaging::{decode_npy_f32, mask_from_logits};
use unet_web::engine::{BackendInfo, Engine};

const MODEL: &[u8] =
    include_bytes!("../crates/unet/tests/fixtures/parity/bilinear_c1_k1.safetensors");
const IMAGE: &[u8] = include_bytes!("../crates/unet/tests/fixtures/parity/bilinear_c1_k1.png");
const NATIVE: &[u8] = include_bytes!("wasm/fixtures/bilinear_c1_k1.native-logits.npy");

fn engine() -> Engine {
    Engine::new(
        unet::inference::cpu_device(),
        BackendInfo::cpu("native test"),
    )
}

fn load(engine: &mut Engine, name: &str, bytes: &[u8]) -> Result<(), String> {
    // Natively every await in the engine is ready at once.
    run(engine.load_model(name, bytes)).map(|_| ())
}

fn segment(engine: &mut Engine, bytes: &[u8]) -> Result<unet_imaging::Mask, String> {
    run(engine.segment_file(bytes)).map(|s| s.mask.clone())
}

#[test]
fn engine_segments_like_the_cli_and_survives_bad_input() {
    let mut engine = engine();
    assert_eq!(
        segment(&mut engine, IMAGE).unwrap_err(),
        "no model is loaded yet"
    );
    load(&mut engine, "m.safetensors", MODEL).unwrap();

    let (shape, native) = decode_npy_f32(NATIVE).unwrap();
    let expected = mask_from_logits(&native, shape[0], shape[1], shape[2]);
    assert_eq!(segment(&mut engine, IMAGE).unwrap(), expected);

    let not_an_image = segment(&mut engine, b"definitely not a PNG").unwrap_err();
    assert!(
        not_an_image.starts_with("not a supported image"),
        "{not_an_image}"
    );
    let truncated = segment(&mut engine, &IMAGE[..IMAGE.len() / 2]).unwrap_err();
    assert!(truncated.contains("truncated or corrupt"), "{truncated}");

    let not_a_unet = load(&mut engine, "x.safetensors", b"\x02\0\0\0\0\0\0\0{}").unwrap_err();
    assert!(not_a_unet.contains("not a U-Net"), "{not_a_unet}");
    // The previous model is still there.
    assert_eq!(segment(&mut engine, IMAGE).unwrap(), expected);
}

/// A model with more classes than a mask holds is refused on load with the checkpoint reader's
/// own message, the one `unet predict` prints (crates/cli/tests/cli.rs), and the model before it
/// stays loaded.
#[test]
fn the_engine_refuses_too_many_classes_as_the_cli_does() {
    let device = unet::inference::cpu_device();
    let model = unet::UNetConfig::new(1, 257)
        .with_base_channels(2)
        .with_bilinear(true)
        .init(&device);
    let tensors = unet::checkpoint::tensors_of(&model).unwrap();
    let bytes =
        unet::checkpoint::write_safetensors(&tensors, None, unet::StorageDtype::F32).unwrap();
    let reader = match unet::Checkpoint::from_bytes(&bytes, "many.safetensors") {
        Ok(_) => panic!("the reader accepted 257 classes"),
        Err(e) => e.to_string(),
    };
    assert!(
        reader.contains("257 output classes") && reader.contains("1 to 256"),
        "{reader}"
    );

    let mut engine = engine();
    load(&mut engine, "m.safetensors", MODEL).unwrap();
    let refused = load(&mut engine, "many.safetensors", &bytes).unwrap_err();
    assert!(refused.contains(&reader), "{refused}");
    assert!(
        segment(&mut engine, IMAGE).is_ok(),
        "the previous model stays"
    );
}
