//! Writes training examples as PNGs (image | mask side by side) to look at what the network is
//! taught: `cargo run --profile release-native -p unet-train --example dump_examples -- OUT N`.

use std::path::PathBuf;
use unet_imaging::encode_gray_png;
use unet_train::data::{head_example, Example};
use unet_train::head::Head;
use unet_train::rng::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "runs/examples".into()));
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(16);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let head = Head::load(&PathBuf::from("data/heads"), unet_train::head::MEAN_HEAD)?;
    let mut rng = Rng::new(3, 99);
    for i in 0..n {
        let e: Example = head_example(&head, 128, 0.0, &mut rng);
        let (h, w) = (e.height, e.width);
        let mut grey = vec![0u8; h * 2 * w];
        for r in 0..h {
            for c in 0..w {
                grey[r * 2 * w + c] = (e.image[r * w + c] * 255.0) as u8;
                grey[r * 2 * w + w + c] = (e.mask[r * w + c] * 255.0) as u8;
            }
        }
        let png = encode_gray_png((2 * w) as u32, h as u32, &grey);
        std::fs::write(out.join(format!("head_{i:02}.png")), png).map_err(|e| e.to_string())?;
    }
    Ok(())
}
