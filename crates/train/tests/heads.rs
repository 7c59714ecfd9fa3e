//! The real heads training draws on (pydeface's mean head and pycortex's S1, each with its
//! registered brain mask, scripts/data/fetch_heads.sh): a brain-sized mask inside the head,
//! slices from the neck to above the vertex, and examples that show the brain-to-neck
//! transition with empty targets where there is no brain. S1 is stored LIA and the mean head
//! RAS, so both orientations reach training as display-oriented slices.

use std::path::Path;
use unet_train::data::head_example;
use unet_train::head::Head;
use unet_train::rng::Rng;
use unet_train::template::Plane;

fn head(name: &str) -> Head {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/heads");
    Head::load(&dir, name).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_mean_head_has_a_brain_sized_mask_and_brain_free_slices() {
    a_trainable_head(&head(unet_train::head::MEAN_HEAD));
}

#[test]
fn s1_has_a_brain_sized_mask_and_brain_free_slices() {
    a_trainable_head(&head("s1_head"));
}

#[test]
fn a_brain_free_share_of_one_draws_only_empty_targets() {
    let head = head(unet_train::head::MEAN_HEAD);
    for plane in Plane::ALL {
        let free = head.brain_free_slices(plane);
        assert!(
            free.len() >= 15,
            "{}: {} brain-free slices",
            plane.name(),
            free.len()
        );
        assert!(free.iter().all(|i| head.slices(plane).contains(i)));
    }
    let mut rng = Rng::new(5, 0);
    for _ in 0..20 {
        let e = head_example(&head, 96, 1.0, &mut rng);
        assert!(
            e.mask.iter().all(|&m| m == 0.0),
            "a brain-free slice has brain"
        );
        assert!(
            e.image.iter().any(|&v| v > 0.0),
            "a brain-free slice shows tissue"
        );
    }
}

#[test]
fn a_missing_head_says_how_to_fetch_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/heads");
    let error = Head::load(&dir, "no_such_head")
        .err()
        .expect("no such head");
    let text = error.to_string();
    assert!(
        text.contains("no_such_head.nii.gz") && text.contains("fetch_heads.sh"),
        "{text}"
    );
}

fn a_trainable_head(head: &Head) {
    let litres = head.brain_voxels() as f64 / 1e6;
    assert!((1.1..2.0).contains(&litres), "{litres} L");
    for plane in Plane::ALL {
        let slices = head.slices(plane);
        let brain_free = slices
            .iter()
            .filter(|&&i| head.slice(plane, i).mask.iter().all(|&m| m == 0.0))
            .count();
        assert!(
            brain_free >= 15,
            "{}: {brain_free} of {} trained slices without brain",
            plane.name(),
            slices.len()
        );
    }
    // Axial: far more neck below the brain than scalp above it.
    let axial = head.slices(Plane::Axial);
    let first_brain = axial
        .iter()
        .position(|&i| head.slice(Plane::Axial, i).mask.iter().any(|&m| m > 0.0))
        .unwrap();
    assert!(first_brain >= 40, "{first_brain} neck slices");

    let mut rng = Rng::new(7, 0);
    let (mut empty, mut mixed) = (0, 0);
    for _ in 0..40 {
        let e = head_example(head, 96, 0.0, &mut rng);
        assert_eq!(e.image.len(), 96 * 96);
        assert!(e.image.iter().all(|v| (0.0..=1.0).contains(v)));
        let brain = e.mask.iter().filter(|&&m| m > 0.5).count();
        empty += usize::from(brain == 0);
        mixed += usize::from(brain > 0 && brain < 96 * 96);
    }
    assert!(
        empty >= 5 && mixed >= 10,
        "{empty} empty, {mixed} mixed of 40"
    );
}
