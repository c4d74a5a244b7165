#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extract the decompressed ELF vmlinux from an x86 bzImage.

Linux boot protocol (Documentation/x86/boot.rst), "The real-mode kernel header":
setup_sects at 0x1f1, "HdrS" at 0x202, version at 0x206 (2.08+ has the payload
fields), payload_offset at 0x248 and payload_length at 0x24c, the offset counted
from the start of the protected-mode code, which follows the (setup_sects + 1)
512-byte sectors of the real-mode part. The payload here must be xz (Debian's);
it decompresses to an ELF64 that must carry the Xen PVH note
(XEN_ELFNOTE_PHYS32_ENTRY = 18), the entry nestvisor and QEMU boot.

The kernel is then made smaller without changing what a loader places: the
zero bytes at the end of each PT_LOAD's file data become memory-only (filesz
shrinks, memsz stays; the loader zeroes them), the file ends with the last
segment's data, and the section headers, which no loader reads, are dropped.
Debian's 6.1 kernel: 66 MB -> 43 MB, 23 MB less for the firmware to read.

Usage: extract-vmlinux.py BZIMAGE OUT
"""
import struct
import subprocess
import sys

XZ_MAGIC = b"\xfd7zXZ\x00"
XEN_ELFNOTE_PHYS32_ENTRY = 18


def fail(msg):
    sys.exit("extract-vmlinux: error: " + msg)


def payload(bz, name):
    if len(bz) < 0x250 or bz[0x202:0x206] != b"HdrS":
        fail(f"{name}: not a bzImage (no HdrS setup header)")
    version = struct.unpack_from("<H", bz, 0x206)[0]
    if version < 0x208:
        fail(f"{name}: boot protocol {version >> 8}.{version & 0xff} has no payload fields (2.08+)")
    setup_sects = bz[0x1F1] or 4
    offset, length = struct.unpack_from("<II", bz, 0x248)
    start = (setup_sects + 1) * 512 + offset
    if start + length > len(bz):
        fail(f"{name}: payload 0x{start:x}+0x{length:x} is beyond the file (0x{len(bz):x} bytes)")
    data = bz[start:start + length]
    if not data.startswith(XZ_MAGIC):
        fail(f"{name}: payload is not xz (starts {data[:6].hex()}); only xz kernels are handled")
    return data


def pvh_entry(elf):
    """The PHYS32_ENTRY note of an ELF64 little-endian x86-64 image, or None."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        fail("payload is not a little-endian ELF64")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        at, end = p_offset, p_offset + p_filesz
        while at + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, at)
            name = elf[at + 12:at + 12 + namesz].rstrip(b"\0")
            desc = at + 12 + ((namesz + 3) & ~3)
            if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY and descsz >= 4:
                return struct.unpack_from("<I", elf, desc)[0]
            at = desc + ((descsz + 3) & ~3)
    return None


def trim(elf):
    """The ELF with trailing zeros of PT_LOAD data memory-only and no section headers."""
    elf = bytearray(elf)
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    end = phoff + phnum * phentsize
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, at)
        if p_type == 1:  # PT_LOAD
            data = bytes(elf[p_offset:p_offset + p_filesz])
            p_filesz = len(data.rstrip(b"\0"))
            struct.pack_into("<Q", elf, at + 32, p_filesz)
        if p_filesz:
            end = max(end, p_offset + p_filesz)
    struct.pack_into("<Q", elf, 0x28, 0)          # e_shoff
    struct.pack_into("<HHH", elf, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
    return bytes(elf[:end])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    name, out = sys.argv[1], sys.argv[2]
    with open(name, "rb") as f:
        bz = f.read()
    xz = subprocess.run(["xz", "-dc", "--single-stream"], input=payload(bz, name),
                        stdout=subprocess.PIPE, check=False)
    if xz.returncode != 0:
        fail(f"{name}: xz could not decompress the payload (status {xz.returncode})")
    entry = pvh_entry(xz.stdout)
    if entry is None:
        fail(f"{name}: the kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); it needs CONFIG_PVH=y")
    elf = trim(xz.stdout)
    with open(out, "wb") as f:
        f.write(elf)
    print(f"extract-vmlinux: {out}: {len(elf)} bytes ({len(xz.stdout)} decompressed), PVH entry 0x{entry:x}")


if __name__ == "__main__":
    main()
