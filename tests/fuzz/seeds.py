#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the small hand-made seeds of tests/fuzz/corpus/ (the committed ones;
rerun after changing a harness's input format). Real files (config files,
a stripped guest ELF) are copied in by hand and described in corpus/README."""

import os
import struct

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
MB_MAGIC = 0x1BADB002
VBASE = 0xffffffff80000000


def write(target, name, blob):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


def mb_header(flags, fields=()):
    return struct.pack("<III", MB_MAGIC, flags, (-(MB_MAGIC + flags)) & 0xffffffff) + \
        b"".join(struct.pack("<I", x) for x in fields)


def elf32(entry, segments, body):
    """ELF32 i386 ET_EXEC; segments: (offset, vaddr, paddr, filesz, memsz); body follows the headers."""
    phoff, n = 52, len(segments)
    eh = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) + struct.pack(
        "<HHIIIIIHHHHHH", 2, 3, 1, entry, phoff, 0, 0, 52, 32, n, 40, 0, 0)
    ph = b"".join(struct.pack("<IIIIIIII", 1, o, v, p, fs, ms, 7, 0x1000)
                  for o, v, p, fs, ms in segments)
    return eh + ph + body


def elf64(entry, segments, size):
    """ELF64 x86-64 ET_EXEC; segments: (type, flags, offset, vaddr, filesz, memsz)."""
    n = len(segments)
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0, 64, 56, n, 64, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", t, fl, o, v, v, fs, ms, 0x1000)
                  for t, fl, o, v, fs, ms in segments)
    blob = eh + ph
    return blob + bytes(i & 0xff for i in range(len(blob), size))


def l1image():
    hlt = b"\xf4\xeb\xfd"   # hlt; jmp hlt
    pad = lambda b, n: b + bytes(n - len(b))  # noqa: E731
    body = pad(b"", 0x60 - 84) + mb_header(3) + pad(b"", 4) + hlt
    write("l1image", "elf32-one-segment.elf",
          elf32(0x100070, [(0, 0x100000, 0x100000, 0x80, 0x1000)], pad(body, 0x80 - 84)))
    write("l1image", "elf32-higher-half.elf",
          elf32(0xc0100070, [(0, 0xc0100000, 0x100000, 0x80, 0x2000)], pad(body, 0x80 - 84)))
    two = pad(body, 0x80 - 84) + bytes(range(0x40))
    write("l1image", "elf32-two-segments.elf",
          elf32(0x100070, [(0, 0x100000, 0x100000, 0x80, 0x80),
                           (0x80, 0x200000, 0x200000, 0x40, 0x3000)], two))
    aout = mb_header(0x10003, [0x100000, 0x100000, 0, 0x102000, 0x100020])
    write("l1image", "aout-kludge.bin", pad(aout, 0x20) + hlt + bytes(29))
    video = mb_header(0x10007, [0x100010, 0x100000, 0x100050, 0, 0x100040, 0, 1024, 768, 32])
    write("l1image", "aout-video-header-late.bin", pad(b"\x90" * 16 + video, 0x40) + hlt + bytes(13))


def coreimage():
    # The real core's layout (build/core.elf: text R+X, rodata R, data+bss RW), small.
    write("coreimage", "core-like.elf", elf64(VBASE + 0x10, [
        (1, 5, 0x1000, VBASE, 0x40, 0x40),
        (1, 4, 0x1040, VBASE + 0x1000, 0x20, 0x20),
        (1, 6, 0x1060, VBASE + 0x2000, 0x8, 0x3000)], 0x1068))
    write("coreimage", "two-segments-and-stack.elf", elf64(VBASE + 0x80, [
        (1, 5, 0, VBASE, 0x100, 0x100),
        (0x6474e551, 6, 0, 0, 0, 0),          # PT_GNU_STACK: not loaded
        (1, 6, 0x100, VBASE + 0x1000, 0x10, 0x2000)], 0x110))


if __name__ == "__main__":
    l1image()
    coreimage()
