//! The Dice coefficient, pooled over many images or per image.

/// Running counts for a pooled Dice: 2·|A∩B| / (|A| + |B|) over everything added.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DiceCounts {
    /// Pixels in both.
    pub overlap: u64,
    /// Pixels predicted.
    pub predicted: u64,
    /// Pixels in the reference.
    pub reference: u64,
}

impl DiceCounts {
    /// Adds one image's predicted and reference foreground pixels (same order, same length).
    pub fn add(
        &mut self,
        predicted: impl Iterator<Item = bool>,
        reference: impl Iterator<Item = bool>,
    ) {
        for (p, r) in predicted.zip(reference) {
            self.overlap += u64::from(p && r);
            self.predicted += u64::from(p);
            self.reference += u64::from(r);
        }
    }

    /// The Dice so far; 1 when both are empty (nothing to find, nothing found).
    pub fn dice(&self) -> f64 {
        let total = self.predicted + self.reference;
        if total == 0 {
            1.0
        } else {
            2.0 * self.overlap as f64 / total as f64
        }
    }
}

/// Dice of one pair of binary masks.
pub fn dice(predicted: &[bool], reference: &[bool]) -> f64 {
    let mut c = DiceCounts::default();
    c.add(predicted.iter().copied(), reference.iter().copied());
    c.dice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_matches_its_definition() {
        let a = [true, true, false, false];
        let b = [true, false, true, false];
        assert_eq!(dice(&a, &b), 0.5);
        assert_eq!(dice(&a, &a), 1.0);
        assert_eq!(dice(&[false; 3], &[false; 3]), 1.0);
        assert_eq!(dice(&[true, false], &[false, true]), 0.0);
        let mut pooled = DiceCounts::default();
        pooled.add(a.iter().copied(), b.iter().copied());
        pooled.add([true].into_iter(), [true].into_iter());
        assert_eq!(pooled.dice(), 2.0 * 2.0 / 6.0);
    }
}
