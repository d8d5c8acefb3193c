#!/usr/bin/env python3
"""Generate paperboy's icons: assets/icon.png (512x512) and assets/favicon.ico.

Standard library only (zlib, struct). Run from anywhere:

    python3 assets/make-icons.py

The mark: a Hugging-Face-yellow rounded square whose top-right corner is
folded down like a dog-eared page (orange flap), carrying a bold dark "P".
Shapes are described as signed distance functions in a unit square
(x right, y down) and rendered with supersampling plus SDF edge coverage,
so the same geometry produces clean 512, 48, 32 and 16 px images.
"""

import math
import os
import struct
import zlib

S2 = 1.0 / math.sqrt(2.0)

# ---------------------------------------------------------------- palette
YELLOW = (0xFF, 0xD2, 0x1E)  # Hugging Face yellow
ORANGE = (0xFF, 0x9D, 0x00)  # folded flap
INK = (0x1F, 0x1A, 0x17)     # near-black, slightly warm
SHADOW = (0xE0, 0xAE, 0x10)  # flap's shadow on the sheet

# ---------------------------------------------------------------- geometry
# Two hand-tuned grids so that the straight edges of the mark land on whole
# pixels: "g32" (used for 512, 48 and 32 px; 512 = 16 x 32) and "g16"
# (a simplified, full-bleed variant for the 16 px favicon). Values are in
# grid units; set_geometry() turns them into unit-square coordinates.
GEOMETRIES = {
    "g32": dict(grid=32, margin=1, radius=6, fold=7, shadow=1,
                stem=(9, 14), top=7, bottom=26,
                bowl_cx=18, bowl_cy=13, bowl_ro=6, bowl_ri=2),
    "g16": dict(grid=16, margin=0, radius=3, fold=3, shadow=0,
                stem=(4, 7), top=3, bottom=13,
                bowl_cx=9, bowl_cy=6, bowl_ri=1, bowl_ro=3),
}


def set_geometry(name):
    """Load one of GEOMETRIES into the module-level shape parameters."""
    global R, F, X0, Y0, X1, Y1, SHADOW_OFF, FOLD_C
    global STEM_X0, STEM_X1, P_TOP, P_BOT, BOWL_CX, BOWL_CY, BOWL_RO, BOWL_RI
    g = GEOMETRIES[name]
    u = 1.0 / g["grid"]
    m = g["margin"] * u
    X0, Y0, X1, Y1 = m, m, 1.0 - m, 1.0 - m     # the rounded square
    R = g["radius"] * u                         # its corner radius
    F = g["fold"] * u                           # dog-ear size along each edge
    SHADOW_OFF = g["shadow"] * u                # flap shadow offset (0 = none)
    STEM_X0, STEM_X1 = g["stem"][0] * u, g["stem"][1] * u
    P_TOP, P_BOT = g["top"] * u, g["bottom"] * u
    BOWL_CX, BOWL_CY = g["bowl_cx"] * u, g["bowl_cy"] * u  # bowl's round part
    BOWL_RO, BOWL_RI = g["bowl_ro"] * u, g["bowl_ri"] * u  # outer / counter radii
    # The fold line runs from (X1 - F, Y0) to (X1, Y0 + F); normal (1, -1)/sqrt2.
    FOLD_C = (X1 - F - Y0) * S2


def sd_box(x, y, x0, y0, x1, y1):
    """Exact signed distance to an axis-aligned box."""
    cx, cy = (x0 + x1) * 0.5, (y0 + y1) * 0.5
    hx, hy = (x1 - x0) * 0.5, (y1 - y0) * 0.5
    dx, dy = abs(x - cx) - hx, abs(y - cy) - hy
    ox, oy = max(dx, 0.0), max(dy, 0.0)
    return math.hypot(ox, oy) + min(max(dx, dy), 0.0)


def sd_round_box(x, y, x0, y0, x1, y1, r):
    return sd_box(x, y, x0 + r, y0 + r, x1 - r, y1 - r) - r


def sd_halfplane(x, y, nx, ny, c):
    """Signed distance to the half plane nx*x + ny*y <= c (unit normal)."""
    return nx * x + ny * y - c




def sd_sheet(x, y):
    """Rounded square with the top-right corner cut off along the fold."""
    d = sd_round_box(x, y, X0, Y0, X1, Y1, R)
    return max(d, sd_halfplane(x, y, S2, -S2, FOLD_C))


def sd_flap(x, y):
    """The folded-down triangle: legs along x = X1-F and y = Y0+F."""
    fr = 0.035  # slight rounding of the flap's inner corner
    ax, ay = X1 - F, Y0 + F  # right-angle corner
    # Triangle = {x >= ax, y <= ay, on the inner side of the fold line},
    # shrunk by fr then grown back for a softly rounded corner.
    d1 = ax - x + fr
    d2 = y - ay + fr
    d3 = sd_halfplane(x, y, S2, -S2, FOLD_C) + fr
    # exact-ish SDF of an intersection of half planes near the corner
    if d1 > 0 and d2 > 0:
        d12 = math.hypot(d1, d2)
    else:
        d12 = max(d1, d2)
    return max(d12, d3) - fr


def sd_flap_shadow(x, y):
    """The flap moved down-left a little, clipped to the sheet."""
    o = SHADOW_OFF
    if o <= 0.0:
        return 1.0  # no shadow: "far outside"
    return max(sd_flap(x + o, y - o), sd_sheet(x, y))


def sd_p(x, y):
    stem = sd_box(x, y, STEM_X0, P_TOP, STEM_X1, P_BOT)
    # bowl outer: box from the stem to the circle centre, plus a disc
    outer = min(sd_box(x, y, STEM_X0, BOWL_CY - BOWL_RO, BOWL_CX, BOWL_CY + BOWL_RO),
                math.hypot(x - BOWL_CX, y - BOWL_CY) - BOWL_RO)
    inner = min(sd_box(x, y, STEM_X1 - 0.02, BOWL_CY - BOWL_RI, BOWL_CX, BOWL_CY + BOWL_RI),
                math.hypot(x - BOWL_CX, y - BOWL_CY) - BOWL_RI)
    bowl = max(outer, -inner)
    return min(stem, bowl)


LAYERS = [
    (sd_sheet, YELLOW),
    (sd_flap_shadow, SHADOW),
    (sd_flap, ORANGE),
    (sd_p, INK),
]


# ---------------------------------------------------------------- rendering
def render(size, ss):
    """Return rows of RGBA tuples (straight alpha) for a size x size image."""
    px = 1.0 / size          # one pixel in unit coordinates
    sub = px / ss            # one subsample
    n = ss * ss
    rows = []
    for j in range(size):
        row = []
        for i in range(size):
            ar = ag = ab = aa = 0.0  # premultiplied accumulators
            for sj in range(ss):
                y = (j + (sj + 0.5) / ss) * px
                for si in range(ss):
                    x = (i + (si + 0.5) / ss) * px
                    r = g = b = a = 0.0
                    for sdf, col in LAYERS:
                        cov = 0.5 - sdf(x, y) / sub
                        if cov <= 0.0:
                            continue
                        if cov > 1.0:
                            cov = 1.0
                        # "over" compositing, premultiplied
                        r = col[0] * cov + r * (1.0 - cov)
                        g = col[1] * cov + g * (1.0 - cov)
                        b = col[2] * cov + b * (1.0 - cov)
                        a = cov + a * (1.0 - cov)
                    ar += r
                    ag += g
                    ab += b
                    aa += a
            if aa <= 0.0:
                row.append((0, 0, 0, 0))
            else:
                row.append((round(ar / aa), round(ag / aa), round(ab / aa),
                            round(255.0 * aa / n)))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- PNG
def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(raw_rows, bpp):
    """Adaptive PNG filtering: per row pick the filter with the least
    sum of absolute (signed) residuals."""
    out = bytearray()
    prev = bytes(len(raw_rows[0]))
    for line in raw_rows:
        cands = []
        n = len(line)
        # 0: None
        cands.append((0, bytes(line)))
        # 1: Sub
        cands.append((1, bytes((line[k] - (line[k - bpp] if k >= bpp else 0)) & 0xFF
                               for k in range(n))))
        # 2: Up
        cands.append((2, bytes((line[k] - prev[k]) & 0xFF for k in range(n))))
        # 4: Paeth
        cands.append((4, bytes((line[k] - paeth(line[k - bpp] if k >= bpp else 0, prev[k],
                                                prev[k - bpp] if k >= bpp else 0)) & 0xFF
                               for k in range(n))))
        best = min(cands, key=lambda c: sum(v if v < 128 else 256 - v for v in c[1]))
        out.append(best[0])
        out += best[1]
        prev = line
    return bytes(out)


def encode_png(rows):
    h, w = len(rows), len(rows[0])
    raw = [bytes(v for p in row for v in p) for row in rows]
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8-bit RGBA
    idat = zlib.compress(filter_rows(raw, 4), 9)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- ICO
def bmp_icon_image(rows):
    """Classic ICO image: BITMAPINFOHEADER (height doubled), 32bpp BGRA
    bottom-up XOR bitmap, then a 1bpp AND mask (rows padded to 32 bits)."""
    h, w = len(rows), len(rows[0])
    mask_stride = ((w + 31) // 32) * 4
    xor = bytearray()
    andmask = bytearray()
    for row in reversed(rows):  # bottom-up
        for r, g, b, a in row:
            xor += bytes((b, g, r, a))
        bits = bytearray(mask_stride)
        for i, (_, _, _, a) in enumerate(row):
            if a == 0:  # transparent -> mask bit set
                bits[i // 8] |= 0x80 >> (i % 8)
        andmask += bits
    header = struct.pack("<IiiHHIIiiII", 40, w, h * 2, 1, 32, 0,
                         len(xor) + len(andmask), 0, 0, 0, 0)
    return header + bytes(xor) + bytes(andmask)


def encode_ico(images):
    """images: list of (size, image_bytes)."""
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in images:
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return out + entries + blobs


def main():
    here = os.path.dirname(os.path.abspath(__file__))

    set_geometry("g32")
    big = render(512, 2)
    with open(os.path.join(here, "icon.png"), "wb") as f:
        f.write(encode_png(big))

    ico_images = []
    for size, geom in ((16, "g16"), (32, "g32"), (48, "g32")):
        set_geometry(geom)
        ico_images.append((size, bmp_icon_image(render(size, 8))))
    with open(os.path.join(here, "favicon.ico"), "wb") as f:
        f.write(encode_ico(ico_images))


if __name__ == "__main__":
    main()
