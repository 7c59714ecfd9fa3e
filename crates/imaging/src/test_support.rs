//! Helpers shared by the unit tests: real files made with the `image` crate's
//! own encoders, hand-built headers, a deterministic PRNG, and an allocator
//! that records the largest single allocation so tests can prove a lying
//! header is rejected before any pixel buffer exists.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;

use image::codecs::{
    bmp::BmpEncoder, jpeg::JpegEncoder, png::PngEncoder, tiff::TiffEncoder, webp::WebPEncoder,
};
use image::{ExtendedColorType, ImageEncoder};

use crate::raster::{BitDepth, Channels, Image};

/// Container formats the tests can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Png,
    Jpeg,
    Bmp,
    Tiff,
    WebP,
}

/// Encodes raw samples (native-endian for 16-bit/float, as `ImageEncoder` wants).
pub fn encode(fmt: Fmt, w: u32, h: u32, raw: &[u8], color: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    let result = match fmt {
        Fmt::Png => PngEncoder::new(&mut out).write_image(raw, w, h, color),
        Fmt::Jpeg => JpegEncoder::new_with_quality(&mut out, 95).write_image(raw, w, h, color),
        Fmt::Bmp => BmpEncoder::new(&mut out).write_image(raw, w, h, color),
        Fmt::Tiff => TiffEncoder::new(Cursor::new(&mut out)).write_image(raw, w, h, color),
        Fmt::WebP => WebPEncoder::new_lossless(&mut out).write_image(raw, w, h, color),
    };
    result.unwrap_or_else(|e| panic!("test fixture {fmt:?} {color:?}: {e}"));
    out
}

/// 16-bit samples as the native-endian bytes encoders expect.
pub fn u16_bytes(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// 32-bit float samples as native-endian bytes.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// An in-memory image, for tests that start after decoding.
pub fn image(w: u32, h: u32, channels: Channels, bit_depth: BitDepth, pixels: Vec<f32>) -> Image {
    assert_eq!(pixels.len(), (w * h) as usize * channels.count());
    Image {
        width: w,
        height: h,
        channels,
        bit_depth,
        format: "PNG",
        pixels,
    }
}

/// xorshift64*: deterministic so any failing input can be reproduced.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// CRC-32 (IEEE) as PNG chunks need it; bitwise because speed is irrelevant here.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One PNG chunk: length, type, data, CRC over type and data.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
    out
}

/// A PNG whose header declares `width`×`height` but holds almost no data.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    // A tiny but valid zlib stream, so the header is all that is wrong.
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// A 24-bit BMP whose header declares `width`×`height` but holds 16 bytes of pixels.
pub fn bmp_claiming(width: i32, height: i32) -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&(54u32 + 16).to_le_bytes()); // file size
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&54u32.to_le_bytes()); // pixel data offset
    bmp.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
    bmp.extend_from_slice(&width.to_le_bytes());
    bmp.extend_from_slice(&height.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes()); // planes
    bmp.extend_from_slice(&24u16.to_le_bytes()); // bits per pixel
    bmp.extend_from_slice(&[0; 24]); // BI_RGB, sizes, resolution, palette
    bmp.extend_from_slice(&[0; 16]);
    bmp
}

thread_local! {
    // Const-initialised without a destructor, so touching it from inside the
    // allocator never allocates or registers anything.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// Forwards to the system allocator, remembering per thread the largest
/// single request; tests run on separate threads so they do not interfere.
struct PeakTracking;

fn record(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every method forwards unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for PeakTracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakTracking = PeakTracking;

/// Runs `f` and returns its result with the largest allocation it made on this thread.
pub fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}
