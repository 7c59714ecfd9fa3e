//! Any image size in bounded memory: the image is cut into overlapping tiles, each tile runs
//! through the network, and only each tile's centre is kept.
//!
//! Tiles start on multiples of 16 (the four 2×2 poolings), so every tile pools exactly the pixel
//! groups the whole image would, and the overlap gives the pixels kept near a tile's edge the
//! context the whole image would have given them: the default 128 pixels cover the five-level
//! U-Net's receptive field (about 110). Bilinear up-sampling with aligned corners stretches its
//! sampling grid with the input's size, so a tile on its own would sample up to a quarter pixel
//! (at each level's scale) away from the whole image; the runner is told the tile's [`Frame`] and
//! samples on the whole image's grid instead ([`crate::CpuUNet::predict_in`]). With both, a
//! tile's kept centre equals the whole image's logits to float rounding (`tests/tiling.rs`).

use crate::inference::Logits;
use std::ops::Range;

/// Rows and columns a tile may shift by without changing how the network pools it.
pub const ALIGN: usize = 16;

/// How an image larger than one tile is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    /// Largest tile side the network sees, in pixels (a multiple of [`ALIGN`]).
    pub tile: usize,
    /// Context on each side of a tile's kept centre, in pixels (a multiple of [`ALIGN`]).
    pub overlap: usize,
}

impl Default for Tiling {
    fn default() -> Self {
        Self {
            tile: 1024,
            overlap: 128,
        }
    }
}

/// One tile along one axis: the pixels read, and the ones kept (a part of `read`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Rows (or columns) the network sees.
    pub read: Range<usize>,
    /// Rows (or columns) written to the output.
    pub keep: Range<usize>,
}

/// A tiling that cannot work; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilingError {
    /// The four poolings need tiles and overlaps that they can halve four times.
    #[error("tile {tile} and overlap {overlap} must be multiples of {ALIGN}")]
    Unaligned {
        /// Tile side.
        tile: usize,
        /// Overlap on each side.
        overlap: usize,
    },
    /// The overlaps on both sides cover the whole tile.
    #[error("a tile of {tile} leaves nothing to keep with an overlap of {overlap} on each side; use a tile of at least {}", 2 * overlap + ALIGN)]
    NothingKept {
        /// Tile side.
        tile: usize,
        /// Overlap on each side.
        overlap: usize,
    },
}

impl Tiling {
    /// Checks the geometry; the message says what to change.
    pub fn validate(&self) -> Result<(), TilingError> {
        let (tile, overlap) = (self.tile, self.overlap);
        if !tile.is_multiple_of(ALIGN) || !overlap.is_multiple_of(ALIGN) {
            return Err(TilingError::Unaligned { tile, overlap });
        }
        if tile < 2 * overlap + ALIGN {
            return Err(TilingError::NothingKept { tile, overlap });
        }
        Ok(())
    }

    /// The tiles along an axis of `len` pixels: one span when it fits, else kept parts that
    /// partition `0..len`, each read with up to `overlap` more on both sides.
    pub fn spans(&self, len: usize) -> Vec<Span> {
        if len <= self.tile {
            return vec![Span {
                read: 0..len,
                keep: 0..len,
            }];
        }
        let core = self.tile - 2 * self.overlap;
        (0..len)
            .step_by(core)
            .map(|start| {
                let keep = start..(start + core).min(len);
                let read = start.saturating_sub(self.overlap)..(keep.end + self.overlap).min(len);
                Span { read, keep }
            })
            .collect()
    }

    /// Whether an image of this size is cut at all.
    pub fn cuts(&self, height: usize, width: usize) -> bool {
        height > self.tile || width > self.tile
    }
}

/// Where a tile lies: the whole image's size and the tile's top-left corner in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Rows of the whole image.
    pub height: usize,
    /// Columns of the whole image.
    pub width: usize,
    /// The tile's first row.
    pub top: usize,
    /// The tile's first column.
    pub left: usize,
}

impl Frame {
    /// The frame of an image that is not cut.
    pub fn whole(height: usize, width: usize) -> Self {
        Self {
            height,
            width,
            top: 0,
            left: 0,
        }
    }
}

/// One tile of an image: where it lies, what it reads and what it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    /// The tile in the whole image (its top-left corner is the read corner).
    pub frame: Frame,
    /// Rows read and kept.
    pub rows: Span,
    /// Columns read and kept.
    pub cols: Span,
}

impl Tile {
    /// Rows the network sees.
    pub fn height(&self) -> usize {
        self.rows.read.len()
    }

    /// Columns the network sees.
    pub fn width(&self) -> usize {
        self.cols.read.len()
    }

    /// Copies the tile's `[channels, height, width]` planes out of the whole image's.
    pub fn cut(&self, planes: &[f32], channels: usize) -> Vec<f32> {
        let Frame { height, width, .. } = self.frame;
        let mut tile = Vec::with_capacity(channels * self.height() * self.width());
        for ch in 0..channels {
            for y in self.rows.read.clone() {
                let row = (ch * height + y) * width;
                tile.extend_from_slice(
                    &planes[row + self.cols.read.start..row + self.cols.read.end],
                );
            }
        }
        tile
    }

    /// Writes the kept part of the tile's logits into `out`, the whole image's (allocated on
    /// the first tile, once the class count is known).
    pub fn paste(&self, logits: &Logits, out: &mut Option<Logits>) {
        let Frame { height, width, .. } = self.frame;
        let out = out.get_or_insert_with(|| Logits {
            classes: logits.classes,
            height,
            width,
            data: vec![0.0; logits.classes * height * width],
        });
        let (th, tw) = (self.height(), self.width());
        let (keep, skip) = (
            self.cols.keep.len(),
            self.cols.keep.start - self.cols.read.start,
        );
        for class in 0..logits.classes {
            for y in self.rows.keep.clone() {
                let src = (class * th + y - self.rows.read.start) * tw + skip;
                let dst = (class * height + y) * width + self.cols.keep.start;
                out.data[dst..dst + keep].copy_from_slice(&logits.data[src..src + keep]);
            }
        }
    }
}

impl Tiling {
    /// Every tile of a `height × width` image, row by row; one tile when it is not cut.
    pub fn tiles(&self, height: usize, width: usize) -> Vec<Tile> {
        let whole = |len: usize| {
            vec![Span {
                read: 0..len,
                keep: 0..len,
            }]
        };
        let (rows, cols) = match self.cuts(height, width) {
            true => (self.spans(height), self.spans(width)),
            false => (whole(height), whole(width)),
        };
        rows.iter()
            .flat_map(|r| {
                cols.iter().map(move |c| Tile {
                    frame: Frame {
                        height,
                        width,
                        top: r.read.start,
                        left: c.read.start,
                    },
                    rows: r.clone(),
                    cols: c.clone(),
                })
            })
            .collect()
    }
}

/// Runs `run(tile, frame, tile_height, tile_width)` on each tile of a `[channels, height, width]`
/// image and stitches the kept parts of the logits; an image that fits in one tile is passed
/// through whole. Async, so that a page can pause between tiles ([`crate::Runner`]); a
/// synchronous `run` finishes with [`crate::runner::finish_ready`].
pub async fn predict_tiled<E>(
    planes: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    tiling: Tiling,
    mut run: impl AsyncFnMut(&[f32], Frame, usize, usize) -> Result<Logits, E>,
) -> Result<Logits, E> {
    if !tiling.cuts(height, width) {
        return run(planes, Frame::whole(height, width), height, width).await;
    }
    let mut out = None;
    for tile in tiling.tiles(height, width) {
        let logits = run(
            &tile.cut(planes, channels),
            tile.frame,
            tile.height(),
            tile.width(),
        )
        .await?;
        tile.paste(&logits, &mut out);
    }
    Ok(out.expect("an image has at least one tile"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::finish_ready;

    #[test]
    fn kept_parts_partition_the_axis_and_reads_are_aligned() {
        let tiling = Tiling {
            tile: 128,
            overlap: 32,
        };
        tiling.validate().unwrap();
        for len in [1, 16, 128, 129, 200, 257, 1000] {
            let spans = tiling.spans(len);
            let mut next = 0;
            for s in &spans {
                assert_eq!(s.keep.start, next, "len {len}: {spans:?}");
                next = s.keep.end;
                assert!(s.read.start <= s.keep.start && s.keep.end <= s.read.end);
                assert!(s.read.len() <= 128 && s.read.start.is_multiple_of(ALIGN));
                assert!(s.read.len() >= 16.min(len));
            }
            assert_eq!(next, len);
        }
        assert!(Tiling {
            tile: 64,
            overlap: 32
        }
        .validate()
        .is_err());
        assert!(Tiling {
            tile: 100,
            overlap: 16
        }
        .validate()
        .is_err());
    }

    #[test]
    fn stitching_an_identity_gives_the_image_back() {
        let (c, h, w) = (2, 150, 97);
        let planes: Vec<f32> = (0..c * h * w).map(|i| i as f32).collect();
        let tiling = Tiling {
            tile: 64,
            overlap: 16,
        };
        let mut calls = 0;
        let got = finish_ready(predict_tiled(
            &planes,
            c,
            h,
            w,
            tiling,
            async |tile, frame, th, tw| {
                calls += 1;
                assert_eq!((frame.height, frame.width), (h, w));
                assert!(frame.top.is_multiple_of(ALIGN) && frame.left.is_multiple_of(ALIGN));
                assert!(th <= 64 && tw <= 64);
                Ok::<_, ()>(Logits {
                    classes: c,
                    height: th,
                    width: tw,
                    data: tile.to_vec(),
                })
            },
        ))
        .unwrap();
        assert_eq!(got.data, planes);
        assert_eq!(calls, 5 * 4);
    }
}
