//! Tiled inference against whole-image inference.
//!
//! Once the overlap covers the receptive field (about 110 pixels each side for five levels), a
//! tile's kept centre must equal the whole image's logits: exactly so with transposed
//! convolutions, and with bilinear up-sampling (aligned corners) only because the tile samples on
//! the whole image's grid. Before that, the shipped model's tiled masks differed from the whole
//! image's on 0.06–0.11 % of pixels in this very test (the bar is at most 0.1 %).

use std::path::PathBuf;
use unet::checkpoint::tensors_of;
use unet::inference::cpu_device;
use unet::runner::finish_ready;
use unet::tiles::predict_tiled;
use unet::{Checkpoint, CpuUNet, Tiling, UNetConfig};
use unet_imaging::{decode_image, to_planes};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Tiled against whole-image logits: (worst |Δ| / max |logit|, mask pixels that differ, tiles).
fn compare(net: &CpuUNet, planes: &[f32], h: usize, w: usize, tile: usize) -> (f32, usize, usize) {
    let tiling = Tiling {
        tile,
        overlap: Tiling::default().overlap,
    };
    let whole = net.predict(planes, 1, h, w).unwrap();
    let mut tiles = 0;
    let tiled = finish_ready(predict_tiled(
        planes,
        1,
        h,
        w,
        tiling,
        async |p, frame, th, tw| {
            tiles += 1;
            net.predict_in(p, 1, frame, th, tw)
        },
    ))
    .unwrap();
    let scale = whole.data.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    let pairs = || whole.data.iter().zip(&tiled.data);
    let worst = pairs().fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let differ = pairs().filter(|(a, b)| (**a > 0.0) != (**b > 0.0)).count();
    (worst / scale, differ, tiles)
}

#[test]
fn tiles_equal_the_whole_image_with_transposed_convolutions() {
    let config = UNetConfig::new(1, 1)
        .with_base_channels(4)
        .with_bilinear(false);
    let tensors = tensors_of(&config.init(&cpu_device())).unwrap();
    let net = CpuUNet::from_tensors(config, &tensors).unwrap();
    let (h, w) = (517, 430);
    let planes: Vec<f32> = (0..h * w)
        .map(|i| (((i % w) as f32 * 0.05).sin() + ((i / w) as f32 * 0.031).cos()) * 0.5)
        .collect();
    let (error, _, tiles) = compare(&net, &planes, h, w, 320);
    assert_eq!(tiles, 9 * 7);
    assert!(error <= 1e-5, "max |Δ| / max |logit| = {error:e}");
}

#[test]
fn tiles_equal_the_whole_image_with_the_shipped_bilinear_model() {
    let file = repo().join("assets/models/brain-extraction.unet.safetensors");
    let checkpoint = Checkpoint::from_bytes(&std::fs::read(&file).unwrap(), "brain").unwrap();
    let net = CpuUNet::from_tensors(checkpoint.config, &checkpoint.tensors).unwrap();
    for sample in ["t1_head_axial", "t1_head_coronal", "t1_head_sagittal"] {
        let bytes = std::fs::read(repo().join(format!("assets/samples/{sample}.png"))).unwrap();
        let image = decode_image(&bytes).unwrap();
        let small = to_planes(&image, 1, &checkpoint.card.preprocessing).unwrap();
        // Twice the size, and tiles that keep a 64-pixel centre: every seam crosses the head,
        // and most pixels are within 64 pixels of one.
        let (h, w) = (2 * small.height, 2 * small.width);
        let planes: Vec<f32> = (0..h * w)
            .map(|i| small.data[(i / w / 2) * small.width + (i % w) / 2])
            .collect();
        let (error, differ, tiles) = compare(&net, &planes, h, w, 320);
        eprintln!("{sample}: {tiles} tiles, max relative Δ {error:e}, {differ} mask pixels differ");
        assert!(tiles >= 56, "{sample}: {tiles} tiles");
        assert!(error <= 1e-5, "{sample}: max |Δ| / max |logit| = {error:e}");
        assert_eq!(
            differ,
            0,
            "{sample}: {differ} of {} mask pixels differ",
            h * w
        );
    }
}
