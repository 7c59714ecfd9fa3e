//! The real MNI template (scripts/data/fetch_mni.sh): the derived brain mask has a brain's size,
//! the held-out slabs are brain slices that training never draws, and the synthetic head puts
//! skull and scalp outside the brain only.

use std::path::Path;
use unet_train::data::{heldout_slices, training_example, Sources, Split, HEAD_SHARE};
use unet_train::rng::Rng;
use unet_train::template::{Plane, Template};

fn template() -> Template {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mni");
    Template::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_template_gives_a_brain_sized_mask_and_sound_held_out_slabs() {
    let t = template();
    // 1 mm voxels: an adult brain with its ventricles is 1.1–1.7 litres, and MNI space is
    // about 20 % larger in volume than the average head it was built from.
    let litres = t.brain_voxels() as f64 / 1e6;
    assert!((1.3..2.0).contains(&litres), "{litres} L");

    let split = Split::new(&t);
    let slices = heldout_slices(&t, &split);
    assert_eq!(slices.len(), 48);
    for (name, e) in &slices {
        let brain = e.mask.iter().filter(|&&m| m > 0.5).count() as f64 / e.mask.len() as f64;
        assert!(brain > 0.05, "{name}: brain fraction {brain}");
        // Outside the brain the head shows tissue (skull, scalp), inside the image bounds.
        let tissue_outside = e
            .mask
            .iter()
            .zip(&e.image)
            .filter(|(&m, &v)| m == 0.0 && v > 60.0)
            .count();
        assert!(tissue_outside > 500, "{name}: no scalp around the brain");
    }
    for plane in Plane::ALL {
        let train = split.training_slices(plane);
        assert!(split.held_out(plane).all(|i| !train.contains(&i)));
        assert!(
            train.len() > 100,
            "{}: {} slices",
            plane.name(),
            train.len()
        );
    }

    // Augmented crops are normalised, and most show the brain's edge.
    let sources = Sources {
        template: t,
        split,
        heads: Vec::new(),
        head_share: HEAD_SHARE,
        brain_free_share: 0.0,
    };
    let mut rng = Rng::new(3, 0);
    let mut with_both = 0;
    for _ in 0..8 {
        let e = training_example(&sources, 96, &mut rng);
        assert_eq!(e.image.len(), 96 * 96);
        assert!(e.image.iter().all(|v| (0.0..=1.0).contains(v)));
        let brain = e.mask.iter().filter(|&&m| m > 0.5).count();
        with_both += usize::from(brain > 0 && brain < 96 * 96);
    }
    assert!(
        with_both >= 4,
        "most crops show brain and non-brain: {with_both} of 8"
    );
}
