#!/usr/bin/env python3
"""Fills corpus/<target>/ with seeds: the real test files from data/fixtures/ (fetched by
scripts/data/fetch_fixtures.sh), assets/samples/*.png, and small files generated here.
Standard library only (Pillow, when importable, adds JPEG and WebP seeds). Idempotent."""
import gzip
import shutil
import struct
import zlib
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parents[2]
CORPUS = FUZZ / "corpus"
SEPARATOR = b"\xffFILE\xff"  # fuzz_targets/decode_files.rs
LIMIT = {"decode_image": 65536, "decode_nifti": 65536, "decode_npy": 16384,
         "decode_dicom": 65536, "decode_files": 131072}


def put(target, name, data):
    if len(data) > LIMIT[target]:
        return
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def png(w, h, color_type, depth, raw_rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)
    data = zlib.compress(b"".join(b"\0" + r for r in raw_rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def bmp(w, h):
    row = bytes((x * 40) % 256 for x in range(w * 3))
    row += b"\0" * ((4 - len(row) % 4) % 4)
    pixels = row * h
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def tiff(w, h):
    pixels = bytes((i * 13) % 256 for i in range(w * h))
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(pixels))]
    ifd_at = 8 + len(pixels)
    out = b"II*\0" + struct.pack("<I", ifd_at) + pixels + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack("<HHII", tag, kind, count, value)
    return out + b"\0\0\0\0"


def nifti1(dims, datatype, bitpix, data, big=False):
    e = ">" if big else "<"
    h = bytearray(352)
    struct.pack_into(e + "i", h, 0, 348)
    dim = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into(e + "8h", h, 40, *dim)
    struct.pack_into(e + "hh", h, 70, datatype, bitpix)
    struct.pack_into(e + "8f", h, 76, 1, 1.5, 1.5, 2.0, 1, 1, 1, 1)
    struct.pack_into(e + "f", h, 108, 352.0)
    struct.pack_into(e + "ff", h, 112, 2.0, -1.0)  # scl_slope, scl_inter
    struct.pack_into(e + "hh", h, 252, 1, 1)  # qform_code, sform_code
    struct.pack_into(e + "6f", h, 256, 0, 0, 0, -10, 5, 3)
    struct.pack_into(e + "12f", h, 280, 1.5, 0, 0, -10, 0, 1.5, 0, 5, 0, 0, 2, 3)
    h[344:348] = b"n+1\0"
    return bytes(h) + data


def nifti2(dims, datatype, bitpix, data):
    h = bytearray(544)
    struct.pack_into("<i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<hh", h, 12, datatype, bitpix)
    dim = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into("<8q", h, 16, *dim)
    struct.pack_into("<8d", h, 104, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<q", h, 168, 544)
    struct.pack_into("<dd", h, 176, 1.0, 0.0)
    struct.pack_into("<ii", h, 344, 0, 2)  # qform_code, sform_code
    struct.pack_into("<12d", h, 400, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)
    return bytes(h) + data


def npy(shape, descr, data):
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, "(%s)" % "".join("%d, " % s for s in shape).rstrip(" ") if len(shape) != 1 else "(%d,)" % shape[0])
    pad = 64 - (10 + len(text) + 1) % 64
    header = (text + " " * pad + "\n").encode()
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def main():
    fixtures = ROOT / "data" / "fixtures"
    dicoms = sorted((fixtures / "pydicom").glob("*.dcm"))
    niftis = sorted((fixtures / "nibabel").glob("*.nii*"))
    if not dicoms or not niftis:
        print("data/fixtures/ is empty: run scripts/data/fetch_fixtures.sh for the real seeds")

    images = {p.name: p.read_bytes() for p in sorted((ROOT / "assets" / "samples").glob("*.png"))}
    grey = [bytes((x * 16 + y) % 256 for x in range(16)) for y in range(16)]
    images["gen_grey8.png"] = png(16, 16, 0, 8, grey)
    images["gen_rgba16.png"] = png(4, 4, 6, 16, [bytes(range(i, i + 32)) for i in range(4)])
    images["gen_palette.png"] = png(8, 2, 3, 8, [bytes(8)] * 2)[:33] + b"\0\0\0\x03PLTE\xff\0\0\x27\x16\x58\x5c" + png(8, 2, 3, 8, [bytes(8)] * 2)[33:]
    images["gen_rgb.bmp"] = bmp(7, 5)
    images["gen_grey.tiff"] = tiff(9, 6)
    try:
        import io
        from PIL import Image
        im = Image.frombytes("RGB", (24, 16), bytes((i * 7) % 256 for i in range(24 * 16 * 3)))
        for fmt, name in [("JPEG", "gen.jpg"), ("WEBP", "gen.webp")]:
            buf = io.BytesIO()
            im.save(buf, fmt)
            images[name] = buf.getvalue()
        buf = io.BytesIO()
        im.save(buf, "WEBP", lossless=True)
        images["gen_lossless.webp"] = buf.getvalue()
        buf = io.BytesIO()
        im.save(buf, "JPEG", progressive=True)
        images["gen_progressive.jpg"] = buf.getvalue()
    except Exception as e:  # Pillow is optional
        print(f"no JPEG/WebP seeds ({e})")
    for name, data in images.items():
        put("decode_image", name, data)

    vols = {p.name: p.read_bytes() for p in niftis}
    vols["gen_u8.nii"] = nifti1([4, 3, 2], 2, 8, bytes(range(24)))
    vols["gen_i16_be.nii"] = nifti1([3, 2, 2], 4, 16, struct.pack(">12h", *range(-6, 6)), big=True)
    vols["gen_f32_4d.nii"] = nifti1([2, 2, 2, 2], 16, 32, struct.pack("<16f", *range(16)))
    vols["gen_f64.nii2"] = nifti2([2, 2, 2], 64, 64, struct.pack("<8d", *range(8)))
    vols["gen_u8.nii.gz"] = gzip.compress(vols["gen_u8.nii"], mtime=0)
    vols["gen_f64.nii2.gz"] = gzip.compress(vols["gen_f64.nii2"], mtime=0)
    for name, data in vols.items():
        put("decode_nifti", name, data)

    put("decode_npy", "f4_2x3.npy", npy((2, 3), "<f4", struct.pack("<6f", 1.5, -2, 0.1, 3, 1e-8, 0)))
    put("decode_npy", "f8_5.npy", npy((5,), "<f8", struct.pack("<5d", *range(5))))
    put("decode_npy", "f4_scalar.npy", npy((), "<f4", struct.pack("<f", 7)))
    put("decode_npy", "f4_2x2x2.npy", npy((2, 2, 2), "<f4", struct.pack("<8f", *range(8))))

    for p in dicoms:
        put("decode_dicom", p.name, p.read_bytes())

    # decode_files: byte 0 % 3 + 1 files, cut at SEPARATOR.
    def files(name, parts):
        put("decode_files", name, bytes([len(parts) - 1]) + SEPARATOR.join(parts))
    small = {p.name: p.read_bytes() for p in dicoms if p.stat().st_size <= 40000}
    for name in ["MR_small.dcm", "CT_small.dcm", "MR_small_implicit.dcm", "no_meta.dcm"]:
        if name in small:
            files("one_" + name, [small[name]])
    if "MR_small.dcm" in small:
        mr = small["MR_small.dcm"]
        for other in ["MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm", "CT_small.dcm"]:
            if other in small:
                files(f"two_MR_small+{other}", [mr, small[other]])
        if "MR_small_expb.dcm" in small and "MR_truncated.dcm" in small:
            files("three_MR", [mr, small["MR_small_expb.dcm"], small["MR_truncated.dcm"]])
        files("three_mixed", [mr, vols["gen_u8.nii"], images["gen_grey8.png"]])
    files("two_images", [images["gen_grey8.png"], images["gen_rgb.bmp"]])
    for target in LIMIT:
        print(f"corpus/{target}: {len(list((CORPUS / target).glob('*')))} seeds")


if __name__ == "__main__":
    main()
