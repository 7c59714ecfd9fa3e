//! Undo and redo of mask edits. Each brush stroke, eraser stroke or fill is one [`Patch`]: the
//! values it changed, before and after, in the mask it changed. Patches hold only what changed,
//! so a stroke on a 512³ volume costs its own pixels, not a copy of the volume.

/// The mask an edit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditTarget {
    /// A 2-D item's mask (pixel indices).
    Image(u64),
    /// A volume frame's layer of hand edits (voxel indices): (item, frame).
    Volume(u64, usize),
}

/// One value changed by an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Pixel or voxel index.
    pub index: usize,
    /// The value before the edit.
    pub before: u8,
    /// The value after it.
    pub after: u8,
}

/// Everything one stroke or fill changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// Which mask.
    pub target: EditTarget,
    /// The changed values (never `before == after`).
    pub changes: Vec<Change>,
}

impl Patch {
    /// The changes from `before` to `after` (the same positions of one slice), where position `p`
    /// is `index(p)` in the target.
    pub fn between(
        target: EditTarget,
        before: &[u8],
        after: &[u8],
        index: impl Fn(usize) -> usize,
    ) -> Patch {
        let changes = before
            .iter()
            .zip(after)
            .enumerate()
            .filter(|(_, (b, a))| b != a)
            .map(|(p, (&before, &after))| Change {
                index: index(p),
                before,
                after,
            })
            .collect();
        Patch { target, changes }
    }

    /// Writes the "after" values into `data`.
    pub fn redo_on(&self, data: &mut [u8]) {
        for c in &self.changes {
            if let Some(v) = data.get_mut(c.index) {
                *v = c.after;
            }
        }
    }

    /// Writes the "before" values into `data`.
    pub fn undo_on(&self, data: &mut [u8]) {
        for c in self.changes.iter().rev() {
            if let Some(v) = data.get_mut(c.index) {
                *v = c.before;
            }
        }
    }

    fn bytes(&self) -> usize {
        self.changes.len() * std::mem::size_of::<Change>()
    }
}

/// Patches to undo and to redo. A new edit clears the redo side, as in every editor. The oldest
/// patches are dropped beyond [`History::BUDGET`] bytes.
#[derive(Debug, Default)]
pub struct History {
    undo: Vec<Patch>,
    redo: Vec<Patch>,
}

impl History {
    /// Bytes of changes kept for undo: a few hundred large strokes.
    pub const BUDGET: usize = 64 << 20;

    /// Records an edit (nothing for an edit that changed nothing).
    pub fn push(&mut self, patch: Patch) {
        if patch.changes.is_empty() {
            return;
        }
        self.redo.clear();
        self.undo.push(patch);
        let mut total: usize = self.undo.iter().map(Patch::bytes).sum();
        while total > Self::BUDGET && self.undo.len() > 1 {
            total -= self.undo.remove(0).bytes();
        }
    }

    /// The edit to take back (the caller applies [`Patch::undo_on`]); it moves to redo.
    pub fn undo(&mut self) -> Option<Patch> {
        let patch = self.undo.pop()?;
        self.redo.push(patch.clone());
        Some(patch)
    }

    /// The edit to do again (the caller applies [`Patch::redo_on`]); it moves back to undo.
    pub fn redo(&mut self) -> Option<Patch> {
        let patch = self.redo.pop()?;
        self.undo.push(patch.clone());
        Some(patch)
    }

    /// Whether there is an edit to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is an edit to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Keeps only the patches of items for which `keep(item)` holds (the others were removed).
    pub fn retain_items(&mut self, keep: impl Fn(u64) -> bool) {
        let kept = |p: &Patch| match p.target {
            EditTarget::Image(item) | EditTarget::Volume(item, _) => keep(item),
        };
        self.undo.retain(kept);
        self.redo.retain(kept);
    }

    /// Drops every patch of `target` (its mask was replaced or its edits discarded, so they no
    /// longer apply).
    pub fn forget(&mut self, target: EditTarget) {
        self.undo.retain(|p| p.target != target);
        self.redo.retain(|p| p.target != target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: EditTarget = EditTarget::Image(1);

    #[test]
    fn undo_and_redo_restore_each_state_exactly() {
        let start = vec![0u8, 0, 1, 1, 0];
        let mut mask = start.clone();
        let mut history = History::default();

        // Two strokes: paint pixels 0–1, then erase 2–3.
        let before = mask.clone();
        mask[0] = 1;
        mask[1] = 1;
        history.push(Patch::between(IMAGE, &before, &mask, |p| p));
        let after_first = mask.clone();
        let before = mask.clone();
        mask[2] = 0;
        mask[3] = 0;
        history.push(Patch::between(IMAGE, &before, &mask, |p| p));
        let after_second = mask.clone();

        history.undo().unwrap().undo_on(&mut mask);
        assert_eq!(mask, after_first);
        history.undo().unwrap().undo_on(&mut mask);
        assert_eq!(mask, start);
        assert!(!history.can_undo() && history.undo().is_none());
        history.redo().unwrap().redo_on(&mut mask);
        history.redo().unwrap().redo_on(&mut mask);
        assert_eq!(mask, after_second);
        assert!(!history.can_redo());

        // A new edit after an undo drops what could have been redone.
        history.undo().unwrap().undo_on(&mut mask);
        let before = mask.clone();
        mask[4] = 2;
        history.push(Patch::between(IMAGE, &before, &mask, |p| p));
        assert!(!history.can_redo());
    }

    #[test]
    fn slice_positions_map_to_volume_indices() {
        let patch = Patch::between(EditTarget::Volume(3, 0), &[0, 5, 0], &[0, 6, 1], |p| {
            100 + 10 * p
        });
        assert_eq!(
            patch.changes,
            vec![
                Change {
                    index: 110,
                    before: 5,
                    after: 6
                },
                Change {
                    index: 120,
                    before: 0,
                    after: 1
                },
            ]
        );
        // Nothing changed: nothing recorded.
        let mut history = History::default();
        history.push(Patch::between(IMAGE, &[1, 2], &[1, 2], |p| p));
        assert!(!history.can_undo());
    }

    #[test]
    fn forgetting_a_target_keeps_the_others() {
        let mut history = History::default();
        history.push(Patch::between(IMAGE, &[0], &[1], |p| p));
        history.push(Patch::between(EditTarget::Image(2), &[0], &[1], |p| p));
        history.forget(IMAGE);
        assert_eq!(history.undo().unwrap().target, EditTarget::Image(2));
        assert!(history.undo().is_none());

        // Removing item 2 drops its patches, redo side included; item 3's stay.
        history.push(Patch::between(EditTarget::Volume(3, 0), &[0], &[1], |p| p));
        history.retain_items(|item| item != 2);
        assert!(!history.can_redo());
        assert_eq!(history.undo().unwrap().target, EditTarget::Volume(3, 0));
    }

    #[test]
    fn the_oldest_edits_go_beyond_the_budget() {
        let mut history = History::default();
        let big = History::BUDGET / std::mem::size_of::<Change>() / 2 + 1;
        for i in 0..3u64 {
            history.push(Patch::between(
                EditTarget::Image(i),
                &vec![0; big],
                &vec![1; big],
                |p| p,
            ));
        }
        // Two patches of just over half the budget each do not fit: only the newest stays.
        assert_eq!(history.undo().unwrap().target, EditTarget::Image(2));
        assert!(history.undo().is_none());
    }
}
