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

/// One explicit VR little-endian element; values are padded to even length as DICOM wants
/// (UIDs with NUL, text with a space).
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(if vr == b"UI" || vr == b"OB" { 0 } else { b' ' });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"UN") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&value);
}

/// An 8-bit MR slice `index` of series `series` (rows × columns of a ramp, 1 mm apart along
/// z), in deflated explicit VR little endian, so that large slices stay small files (a ramp, not
/// zeros: deflate shrinks zeros about 1000:1, which the reader takes for a truncated file).
pub fn deflated_mr_slice(rows: u16, columns: u16, series: &str, index: u32) -> Vec<u8> {
    use std::io::Write;
    const DEFLATED: &[u8] = b"1.2.840.10008.1.2.1.99";
    const MR: &[u8] = b"1.2.840.10008.5.1.4.1.1.4";
    let instance = format!("{series}.{index}");
    let mut meta = Vec::new();
    element(&mut meta, 2, 1, b"OB", &[0, 1]);
    element(&mut meta, 2, 2, b"UI", MR);
    element(&mut meta, 2, 3, b"UI", instance.as_bytes());
    element(&mut meta, 2, 0x10, b"UI", DEFLATED);
    let mut file = b"DICM".to_vec();
    element(&mut file, 2, 0, b"UL", &(meta.len() as u32).to_le_bytes());
    file.extend_from_slice(&meta);

    let mut ds = Vec::new();
    element(&mut ds, 8, 0x16, b"UI", MR);
    element(&mut ds, 8, 0x18, b"UI", instance.as_bytes());
    element(&mut ds, 8, 0x60, b"CS", b"MR");
    element(&mut ds, 0x20, 0x0D, b"UI", b"1.2.826.0.1.1");
    element(&mut ds, 0x20, 0x0E, b"UI", series.as_bytes());
    element(
        &mut ds,
        0x20,
        0x13,
        b"IS",
        (index + 1).to_string().as_bytes(),
    );
    element(
        &mut ds,
        0x20,
        0x32,
        b"DS",
        format!("0\\0\\{index}").as_bytes(),
    );
    element(&mut ds, 0x20, 0x37, b"DS", b"1\\0\\0\\0\\1\\0");
    element(&mut ds, 0x28, 0x02, b"US", &1u16.to_le_bytes());
    element(&mut ds, 0x28, 0x04, b"CS", b"MONOCHROME2");
    element(&mut ds, 0x28, 0x10, b"US", &rows.to_le_bytes());
    element(&mut ds, 0x28, 0x11, b"US", &columns.to_le_bytes());
    element(&mut ds, 0x28, 0x30, b"DS", b"1\\1");
    for (elem, value) in [(0x100, 8u16), (0x101, 8), (0x102, 7), (0x103, 0)] {
        element(&mut ds, 0x28, elem, b"US", &value.to_le_bytes());
    }
    let ramp: Vec<u8> = (0..rows as usize * columns as usize)
        .map(|i| (i % 251) as u8)
        .collect();
    element(&mut ds, 0x7FE0, 0x10, b"OB", &ramp);
    let mut encoder = flate2::write::DeflateEncoder::new(file, flate2::Compression::fast());
    encoder.write_all(&ds).expect("deflate into memory");
    encoder.finish().expect("deflate into memory")
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
