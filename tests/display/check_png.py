#!/usr/bin/env python3
"""check_png.py text|13h FILE -- pixel checks on a screenshot of the
vga_pattern guest's screen (tests/display/vga_pattern.asm says what it
draws). Reads the PNG with zlib only (8-bit RGB, as frontend/screenshot.c
writes). Exits 1 naming the first wrong pixel."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype == 2, f"{path}: expected 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, bpp, stride = zlib.decompress(idat), 3, w * 3
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows


def px(rows, x, y):
    return tuple(rows[y][x * 3:x * 3 + 3])


def close(got, dac6):
    return all(abs(g - v * 255 / 63) <= 5 for g, v in zip(got, dac6))


def main():
    mode, path = sys.argv[1], sys.argv[2]
    w, h, rows = read_png(path)
    bad = []

    def expect(x, y, dac6, what):
        if not close(px(rows, x, y), dac6):
            bad.append(f"{path}: pixel ({x},{y}) {what}: got {px(rows, x, y)}, expected DAC {dac6}")

    if mode == "text":
        text_dac = [((k * 4) & 63, (63 - k * 4) & 63, (k * 9) & 63) for k in range(16)]
        if h != 400 or w not in (640, 720):
            sys.exit(f"{path}: {w}x{h}, expected an 80x25 text screen of 16-line cells")
        cw = w // 80
        for r in range(25):
            for c in range(1, 80):
                expect(c * cw + 2, r * 16 + 3, text_dac[c % 16], f"cell ({r},{c}) glyph top, fg")
                expect(c * cw + 2, r * 16 + 12, text_dac[r % 8], f"cell ({r},{c}) glyph bottom, bg")
        expect(1, 8, text_dac[15], "cell (0,0) glyph 2 left half")
        expect(6, 8, text_dac[0], "cell (0,0) glyph 2 right half")
    else:
        if w % 320 or h % 200:
            sys.exit(f"{path}: {w}x{h}, expected mode 13h's 320x200 (or a multiple)")
        sx, sy = w // 320, h // 200
        for y in range(5, 200, 10):
            for x in range(3, 320, 7):
                i = x // 20 + 16 * (y // 25)
                expect(x * sx, y * sy, (i & 63, (i * 3) & 63, (63 - i) & 63), f"13h index {i}")
    if bad:
        print("\n".join(bad[:10]))
        sys.exit(f"{len(bad)} wrong pixels")
    print(f"{path}: {mode} pattern checked")


main()
