//! How much the page reads and holds: files are sized (`File.size`) before they are read, and
//! decoded pixels are counted before they are kept, so a large drop gets a message instead of
//! an out-of-memory abort of the tab. Plain arithmetic, tested natively.

use unet_imaging::MAX_VOXELS;

/// The largest file the page reads: the largest volume it accepts (`MAX_VOXELS`) in 64-bit
/// floats, plus room for a header. Reading copies the whole file into the tab's memory, so the
/// size is checked (`File.size`) before a byte is read.
pub const MAX_FILE_BYTES: u64 = MAX_VOXELS * 8 + (1 << 20);

/// What one drop reads at most, all files together.
pub const MAX_DROP_BYTES: u64 = 2 << 30;

/// Decoded samples the page holds at most over all its items. A wasm32 tab has one 4 GiB
/// address space, and beside the decoded copies it holds the files being read, masks, label
/// maps and the engine's buffers; four of the largest volumes (`MAX_VOXELS` as f32) fit.
pub const MAX_HELD_BYTES: u64 = 2 << 30;

/// Why `adding` more decoded bytes to the `held` ones would not fit, if it would not.
pub fn over_budget(held: u64, adding: u64) -> Option<String> {
    (held.saturating_add(adding) > MAX_HELD_BYTES).then(|| {
        format!(
            "its pixels take {} and the page already holds {} of images, more than the {} a tab can keep: remove items (×) or clear the list, then drop it again, or segment it with the `unet` command line",
            mib(adding),
            mib(held),
            mib(MAX_HELD_BYTES)
        )
    })
}

/// `bytes` in MiB (or GiB from 1 GiB), for messages.
pub fn mib(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
    } else {
        format!("{:.0} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

/// Why a file of `size` bytes is not read after `read` bytes of the same drop, if it is not.
pub fn too_large_to_read(size: u64, read: u64) -> Option<String> {
    if size > MAX_FILE_BYTES {
        return Some(format!(
            "the file is {}, more than the {} this page reads: crop or downsample it, or segment it with the `unet` command line",
            mib(size),
            mib(MAX_FILE_BYTES)
        ));
    }
    (read.saturating_add(size) > MAX_DROP_BYTES).then(|| {
        format!(
            "the files dropped with it already take {}, and this one would pass the {} one drop may read: drop fewer files at a time",
            mib(read),
            mib(MAX_DROP_BYTES)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sized_before_they_are_read() {
        assert_eq!(too_large_to_read(MAX_FILE_BYTES, 0), None);
        let one = too_large_to_read(MAX_FILE_BYTES + 1, 0).unwrap();
        assert!(
            one.contains("more than the 1.0 GiB this page reads"),
            "{one}"
        );
        let drop = too_large_to_read(600 << 20, 1600 << 20).unwrap();
        assert!(drop.contains("already take 1.6 GiB"), "{drop}");
        assert_eq!(too_large_to_read(400 << 20, 1600 << 20), None);
        assert!(too_large_to_read(u64::MAX, 0).is_some());
    }

    #[test]
    fn decoded_pixels_stay_within_the_budget() {
        assert_eq!(over_budget(0, MAX_HELD_BYTES), None);
        let full = over_budget(MAX_HELD_BYTES - 100, 512 << 20).unwrap();
        assert!(
            full.contains("take 512 MiB") && full.contains("remove items"),
            "{full}"
        );
    }
}
