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
    # A PVH kernel: one PT_LOAD at 0x100000, a PT_NOTE with the Xen PHYS32_ENTRY note (18).
    note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100100)
    pvh = elf64(VBASE + 0x100100, [(1, 5, 0, VBASE + 0x100000, 0x110, 0x1110),
                                   (4, 4, 0xb0, 0, len(note), len(note))], 0xb0)
    pvh = bytearray(pad(pvh + note, 0x100) + hlt + bytes(13))
    struct.pack_into("<Q", pvh, 64 + 56 + 24, 0)  # the note's p_paddr: not loaded
    struct.pack_into("<Q", pvh, 64 + 24, 0x100000)  # the load's p_paddr
    write("l1image", "elf64-pvh.elf", bytes(pvh))
    # A bzImage (Linux boot protocol 2.15): 1 setup sector, 0x100 bytes of kernel at 16 MiB.
    bz = bytearray(0x500)
    for off, value, fmt in ((0x1f1, 1, "B"), (0x1f4, 0x10, "I"), (0x1fe, 0xaa55, "H"),
                            (0x200, 0x6aeb, "H"), (0x202, 0x53726448, "I"), (0x206, 0x20f, "H"),
                            (0x211, 1, "B"), (0x22c, 0x7fffffff, "I"), (0x230, 0x200000, "I"),
                            (0x234, 1, "B"), (0x236, 0x7f, "H"), (0x238, 0x7ff, "I"),
                            (0x258, 0x1000000, "Q"), (0x260, 0x10000, "I")):
        struct.pack_into("<" + fmt, bz, off, value)
    bz[0x400:0x400 + len(hlt)] = hlt
    write("l1image", "bzimage.bin", bytes(bz))


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


def operand_input(info, disp, length_code, write, mode64, regs, rsp, segs, rip=0x1000):
    """fuzz_operand.c's input: info, displacement, flags, mode, 16 registers, RSP,
    ES..GS as (base, limit, access rights), RIP."""
    flags = length_code | (8 if write else 0)
    blob = struct.pack("<IQBB", info, disp, flags, mode64)
    blob += b"".join(struct.pack("<Q", r) for r in regs) + struct.pack("<Q", rsp)
    blob += b"".join(struct.pack("<QII", *sg) for sg in segs)
    return blob + struct.pack("<Q", rip)


def insn_info(scale=0, asize=1, seg=3, index=None, base=None):
    """Tables 28-13/28-14: scale 1:0, address size 9:7, segment 17:15, index 21:18
    (bit 22: none), base 26:23 (bit 27: none)."""
    return (scale | asize << 7 | seg << 15 | (index if index is not None else 0) << 18 |
            (index is None) << 22 | (base if base is not None else 0) << 23 | (base is None) << 27)


def operand():
    regs = [0x1000 * (i + 1) for i in range(16)]
    flat = [(0, 0xffffffff, 0xc093)] * 6
    flat[1] = (0, 0xffffffff, 0xc09b)
    long_cs = list(flat)
    long_cs[1] = (0, 0xffffffff, 0xa09b)
    long_cs[4] = (0x7fff0000, 0, 0x10000)          # FS: a base, unusable (fine in 64-bit mode)
    # VMPTRLD [rax] in 64-bit mode; VMWRITE [fs:rbx+rsi*8+0x10]; a non-canonical one.
    write("operand", "64bit-rax.bin", operand_input(insn_info(asize=2, base=0), 0, 3, False, 1,
                                                       regs, 0x8000, long_cs))
    write("operand", "64bit-fs-sib.bin", operand_input(insn_info(3, 2, 4, 6, 3), 0x10, 2, True, 1,
                                                          regs, 0x8000, long_cs))
    write("operand", "64bit-noncanonical.bin",
          operand_input(insn_info(asize=2, base=0), 0x00007ffffffffffc, 3, False, 1,
                        [0] * 16, 0x8000, long_cs))
    # 32-bit protected mode: [ebx+disp] in a limited DS, [esp] on SS, expand-down, read-only.
    small = list(flat)
    small[3] = (0x100000, 0xfff, 0x4093)
    small[0] = (0x200000, 0xfff, 0x4097)           # ES: expand-down
    small[5] = (0, 0xffff, 0x4091)                 # GS: read-only
    write("operand", "32bit-ds-limit.bin", operand_input(insn_info(base=3), 0xff8, 3, False, 0,
                                                            regs, 0x8000, small))
    write("operand", "32bit-ss-esp.bin", operand_input(insn_info(seg=2, base=4), 4, 2, True, 0,
                                                          regs, 0xfffffffc, small))
    write("operand", "32bit-expand-down.bin", operand_input(insn_info(seg=0, base=1), 0x800, 3,
                                                               False, 0, regs, 0, small))
    write("operand", "32bit-read-only-write.bin", operand_input(insn_info(seg=5, base=1), 0, 2,
                                                                   True, 0, regs, 0, small))
    write("operand", "16bit-bx-si.bin", operand_input(insn_info(0, 0, 3, 6, 3), 0xfffe, 1, False, 0,
                                                         regs, 0, small))


def vmcs12():
    """fuzz_vmcs12.c's input: operations (op byte, encoding, value). op bit 1 write,
    bit 2 a 32-bit operand, bit 0 the high access (with a table row), 0x40 a
    32-bit encoding, 0x80 a 64-bit one."""
    row = lambda op, i, value=None: bytes([op, i]) + (struct.pack("<Q", value) if value is not None else b"")  # noqa: E731
    enc32 = lambda op, e, value=None: bytes([op | 0x40]) + struct.pack("<I", e) + (  # noqa: E731
        struct.pack("<Q", value) if value is not None else b"")
    write("vmcs12", "writes-and-reads.bin",
          row(2, 0, 0x1234) + row(2, 20, 0x1122334455667788) + row(3, 20, 0xaabbccdd) +
          row(6, 20, 0xffffffffffffffff) + row(0, 20) + row(1, 20) + row(2, 100, ~0 & 0xffffffffffffffff))
    write("vmcs12", "encodings.bin",
          enc32(2, 0x681e, 0x401000) + enc32(0, 0x681e) + enc32(3, 0x2001, 5) + enc32(0, 0x2801) +
          enc32(0, 0x4002) + enc32(0, 0x4003) + enc32(0, 0x6c00) + bytes([0x80]) +
          struct.pack("<Q", 0x100000000 | 0x681e))


# nested_input.h's nested_focus[], in order: the fields a mutation picks by index.
FOCUS = ["PIN", "PROC", "PROC2", "EXIT", "ENTRY", "EPTP", "VPID", "CR3_TARGET_COUNT", "IO_A",
         "IO_B", "MSR_BITMAP", "EXIT_STORE_ADDR", "EXIT_STORE_COUNT", "EXIT_LOAD_ADDR",
         "EXIT_LOAD_COUNT", "ENTRY_LOAD_ADDR", "ENTRY_LOAD_COUNT", "INTR_INFO", "ERROR_CODE",
         "INSN_LEN", "HOST_CR0", "HOST_CR3", "HOST_CR4", "HOST_ES", "HOST_CS", "HOST_SS",
         "HOST_DS", "HOST_FS", "HOST_GS", "HOST_TR", "HOST_FS_BASE", "HOST_GS_BASE",
         "HOST_TR_BASE", "HOST_GDTR_BASE", "HOST_IDTR_BASE", "HOST_RIP", "HOST_EFER",
         "HOST_PAT", "HOST_SYSENTER_ESP", "HOST_SYSENTER_EIP", "GUEST_CR0", "GUEST_CR4",
         "GUEST_RIP", "GUEST_CS_AR", "ACTIVITY", "LINK", "GUEST_PAT", "EXCEPTION_BITMAP",
         "CR0_MASK", "CR4_MASK", "CR0_SHADOW", "CR4_SHADOW", "TSC_OFFSET", "PF_MASK", "PF_MATCH"]


def mset(field, value):
    return bytes([0, FOCUS.index(field)]) + struct.pack("<Q", value & 0xffffffffffffffff)


def mbit(field, bit, on=True):
    return bytes([2 if on else 3, FOCUS.index(field), bit])


def nested():
    """entry_checks and merge inputs: a flags byte (bit 0: L1 outside IA-32e mode,
    bit 2: narrowed CPU, ...), then changes to the fixture's VMCS12."""
    seeds = {
        "fixture.bin": b"",
        "event-pf.bin": mset("INTR_INFO", 0x80000b0e) + mset("ERROR_CODE", 2),
        "event-int80.bin": mset("INTR_INFO", 0x80000480) + mset("INSN_LEN", 2),
        "ept-vpid-ug.bin": mbit("PROC", 31) + mset("PROC2", 0xa2) + mset("EPTP", 0x501e) +
        mset("VPID", 1),
        "bitmaps-and-msr-lists.bin": mbit("PROC", 25) + mbit("PROC", 28) + mset("IO_A", 0x1000) +
        mset("IO_B", 0x2000) + mset("MSR_BITMAP", 0x3000) + mset("EXIT_STORE_ADDR", 0x4000) +
        mset("EXIT_STORE_COUNT", 2) + mset("ENTRY_LOAD_ADDR", 0x4020) + mset("ENTRY_LOAD_COUNT", 1),
        "efer-pat-timer.bin": mbit("EXIT", 21) + mbit("EXIT", 19) + mset("HOST_EFER", 0x500) +
        mset("HOST_PAT", 0x0007040600070406) + mbit("PIN", 6) + mbit("EXIT", 22),
        "cr-masks.bin": mset("CR0_MASK", 0x80000021) + mset("CR0_SHADOW", 0x80000031) +
        mset("CR4_MASK", 0x2000) + mset("EXCEPTION_BITMAP", 1 << 14) + mbit("PROC", 3) +
        mset("TSC_OFFSET", 0x1000),
    }
    for name, muts in seeds.items():
        write("entry_checks", name, b"\0" + muts)
        write("merge", name, b"\0" + muts)
    # Outside IA-32e mode: a 32-bit host and guest.
    host32 = mbit("EXIT", 9, False) + mbit("ENTRY", 9, False)
    write("entry_checks", "host32.bin", b"\x01" + host32)
    write("merge", "host32.bin", b"\x01" + host32)
    # The narrowed-CPU path with nothing narrowed yet (5 controls, MISC, EPT/VPID), alone
    # and with features whose controls a narrower CPU may lack.
    narrow = b"\x04" + bytes(5 * 8 + 4 + 8)
    for target in ("entry_checks", "merge"):
        write(target, "narrow-nothing.bin", narrow)
        write(target, "narrow-timer.bin", narrow + mbit("PIN", 6) + mbit("EXIT", 22))
        write(target, "narrow-io-bitmaps.bin", narrow + mbit("PROC", 25) + mset("IO_A", 0x1000) +
              mset("IO_B", 0x2000))
        write(target, "narrow-ept.bin", narrow + seeds["ept-vpid-ug.bin"])


def reflect_input(flags, reason, qual=0, intr_info=0, error=0, msr=0, cr_value=0, pin=0x16,
                  proc=0x04006172, proc2=0, exc=0, pf=(0, 0), cr0=(0, 0), cr4=(0, 0), cr3=(0, 0, 0, 0, 0),
                  io=(0x1000, 0x2000), msr_bitmap=0x3000, pattern=bytes(32)):
    """fuzz_reflect.c's input: flags (1 unaligned bitmaps, 2 bitmap B unreadable, 4 MSR bitmap
    unreadable, 8 any exit reason, 16 MSR near the bitmap ranges, 32 scrambled bitmap bytes),
    VMCS12 controls, bitmap addresses and pattern, the exit."""
    blob = struct.pack("<BBIIIBB", flags, pin & 0xff, proc, proc2, exc, pf[0], pf[1])
    blob += struct.pack("<QQQQ", cr0[0], cr0[1], cr4[0], cr4[1])
    blob += struct.pack("<BHHHH", *cr3) + struct.pack("<QQQ", io[0], io[1], msr_bitmap) + pattern
    blob += bytes([reason]) if not flags & 8 else struct.pack("<I", reason)
    return blob + struct.pack("<QIIIQ", qual, intr_info, error, msr, cr_value)


def reflect():
    stripes = bytes([0x55, 0xaa, 0, 0xff] * 8)
    seeds = {
        "cpuid.bin": reflect_input(0, 10),
        "hlt.bin": reflect_input(0, 12, proc=0x04006172 | 1 << 7),
        "io-bitmap.bin": reflect_input(0, 30, qual=0x3f8 << 16 | 3, proc=0x04006172 | 1 << 25,
                                       pattern=stripes),
        "io-scrambled.bin": reflect_input(32, 30, qual=0x80 << 16 | 1, proc=0x04006172 | 1 << 25),
        "io-wrap.bin": reflect_input(0, 30, qual=0xfffe << 16 | 3, proc=0x04006172 | 1 << 25),
        "msr-read-high.bin": reflect_input(16, 31, msr=0x80000080, proc=0x04006172 | 1 << 28,
                                           pattern=stripes),
        "msr-write-unreadable.bin": reflect_input(4, 32, msr=0x10, proc=0x04006172 | 1 << 28),
        "cr0-write.bin": reflect_input(0, 28, qual=0, cr_value=0x80000011, cr0=(0x80000021, 0x80000031)),
        "cr3-targets.bin": reflect_input(0, 28, qual=3, cr_value=0x2000, proc=0x04006172 | 1 << 15,
                                         cr3=(2, 0x1000, 0x2000, 0, 0)),
        "lmsw.bin": reflect_input(0, 28, qual=3 << 4 | 0x1 << 16, cr0=(0xf, 0xe)),
        "pf-filter.bin": reflect_input(0, 0, intr_info=0x80000b0e, error=2, exc=1 << 14, pf=(2, 2)),
        "nmi.bin": reflect_input(0, 0, intr_info=0x80000202, pin=0x1e),
        "invpcid.bin": reflect_input(0, 58, proc=0x84006372, proc2=1 << 12),
    }
    for name, blob in seeds.items():
        write("reflect", name, blob)


RWX, WB, LARGE = 7, 6 << 3, 1 << 7


def l1_ept_memory(fills, singles=()):
    """ept12_mem.h's L1 memory: per page (8) a fill entry and a link (page index the
    fill points to, or None); then single entries (page, index, value, link)."""
    blob = b""
    for i in range(8):
        value, link = fills[i] if i < len(fills) else (0, None)
        blob += struct.pack("<QB", value, 0x80 | link if link is not None else 0)
    blob += bytes([len(singles)])
    for page, index, value, link in singles:
        blob += struct.pack("<BHQB", page, index, value, 0x80 | link if link is not None else 0)
    return blob


CHAIN = [(RWX, 1), (RWX, 2), (RWX, 3), (0x123000 | RWX | WB, None)]   # 4 levels to 0x123000


def ept12():
    """fuzz_ept12.c's input: flags, caps (0x1e: 2M, 1G, A/D, UC; WB), width (3: 39 bits),
    EPTP (root page, low 12 bits), L1 memory, then walks (gpa, access, failing A/D updates)."""
    def seed(name, eptp_low, memory, walks, caps=0x1e):
        blob = struct.pack("<BBBBH", 0, caps, 3, 0, eptp_low) + memory
        for gpa, access, cas in walks:
            blob += struct.pack("<QBB", gpa, access, cas)
        write("ept12", name, blob)

    gpa = 0x0000_0040_2030_4abc
    seed("4k-chain.bin", 0x1e, l1_ept_memory(CHAIN), [(gpa, 1, 0), (gpa, 2, 0), (gpa, 4, 0)])
    seed("4k-chain-ad-write.bin", 0x5e, l1_ept_memory(CHAIN), [(gpa, 2, 0), (gpa, 0x89, 2), (gpa, 1, 5)])
    seed("2m-leaf.bin", 0x1e, l1_ept_memory(CHAIN[:2] + [(0x40000000 | RWX | WB | LARGE, None)]),
         [(gpa, 1, 0), (gpa + 0x1000, 4, 0)])
    seed("1g-leaf-read-only.bin", 0x5e, l1_ept_memory(CHAIN[:1] + [(0x80000000 | 1 | WB | LARGE, None)]),
         [(gpa, 1, 0), (gpa, 2, 0)])
    seed("misconfig-write-no-read.bin", 0x1e, l1_ept_memory(CHAIN[:3] + [(0x5000 | 2 | WB, None)]),
         [(gpa, 1, 0)])
    seed("not-present-and-single.bin", 0x1e, l1_ept_memory(CHAIN[:2] + [(0, None)],
                                                           [(2, 0x101, 0x7000 | RWX | WB | LARGE, None)]),
         [(gpa, 1, 0), (0x0000_0040_2020_0000, 4, 0)])


def ept02():
    """fuzz_ept02.c's input: flags (1 2M, 2 1G, 4 execute-only on the CPU), EPT12 caps,
    three EPTP12s (root page, UC, A/D), EPT01 regions (kind: 0 4K / 1 2M / 2 1G pages,
    perms in bits 4:2, memory type in 7:5; count; L1 page; host page, in units of the page size), the pool size,
    L1 memory, then steps (op: 0-7 install, 8 INVEPT single, 9 INVEPT all, 10 root,
    11 L1 changes EPT12, 12 L0 changes EPT01; bits 7:4 the EPTP12)."""
    def eptps(*roots_ad):
        return b"".join(struct.pack("<BBB", root, 0, ad) for root, ad in roots_ad)

    def region(kind, perms_index, mt_index, count, l1, hpa):
        return struct.pack("<BBII", kind | perms_index << 2 | mt_index << 5, count, l1, hpa)

    def install(k, l2, access):
        return bytes([k << 4]) + l2.to_bytes(5, "little") + bytes([access])

    gpa = 0x40_2030_4abc
    chain_4k = l1_ept_memory(CHAIN)
    # EPT12: 0x40_2030_4abc -> L1 0x123abc; EPT01: L1 0x120000.. (16 pages) -> host 0x5000000.
    ept01_4k = bytes([1]) + region(0, 3, 4, 15, 0x120, 0x5000)
    head = bytes([0]) + bytes([0x1e, 3]) + eptps((0, 0), (0, 1), (1, 0))
    write("ept02", "4k-install.bin", head + ept01_4k + bytes([8]) + chain_4k +
          install(0, gpa, 1) + install(0, gpa + 0x1000, 2) + install(0, gpa, 4) + bytes([10]))
    write("ept02", "ad-write-then-invept.bin", head + ept01_4k + bytes([8]) + chain_4k +
          install(1, gpa, 1) + install(1, gpa, 2) + bytes([0x18]) + install(1, gpa, 0x9) +
          bytes([9]) + install(0, gpa, 2))
    # 2M EPT12 leaf over 2M EPT01 pages; a small pool shared by three EPTP12s.
    chain_2m = l1_ept_memory(CHAIN[:2] + [(0x40000000 | RWX | WB | LARGE, None)])
    ept01_2m = bytes([2]) + region(1, 3, 4, 3, 0x200, 0x400) + region(0, 1, 0, 15, 0x100, 0x900)
    write("ept02", "2m-small-pool.bin", bytes([3]) + bytes([0x1e, 3]) + eptps((0, 0), (0, 1), (0, 0)) +
          ept01_2m + bytes([0]) + chain_2m + install(0, gpa, 1) + install(1, gpa, 2) +
          install(2, gpa + 0x200000, 4) + install(0, gpa + 0x400000, 1) + bytes([0x0a, 0x1a]))
    # L1 changes its EPT12, L0 write-protects an EPT01 page.
    write("ept02", "changes.bin", head + ept01_4k + bytes([6]) + chain_4k + install(0, gpa, 2) +
          bytes([11, 3, 0xab, 0x01]) + struct.pack("<Q", 0x124000 | RWX | WB) + install(0, gpa, 1) +
          bytes([8]) + bytes([12, 0, 3, 0, 0]) + install(0, gpa, 2))


def mmio_decode():
    """fuzz_mmio_decode.c's input: mode (0 16-bit, 1 32-bit, 2 64-bit), n (0x80: all the
    bytes), RIP, a register seed, the instruction bytes."""
    def seed(name, mode, insn, n=0x80, rip=0xffffffff81234000):
        write("mmio_decode", name, struct.pack("<BBQQ", mode, n, rip, 0x1234) + insn)

    seed("64-mov-rdx-eax.bin", 2, bytes([0x89, 0x02]))                  # Linux pci_mmcfg_write
    seed("64-mov-word-ax.bin", 2, bytes([0x66, 0x89, 0x02]))
    seed("64-mov-byte-sil.bin", 2, bytes([0x40, 0x88, 0x32]))
    seed("64-mov-ah-garbage.bin", 2, bytes([0x88, 0x22, 0x0f, 0x0b]))   # trailing ud2
    seed("64-mov-r9-sib-disp32.bin", 2, bytes([0x4e, 0x89, 0x8c, 0xe8, 0x78, 0x56, 0x34, 0x12]))
    seed("64-mov-imm32-rip.bin", 2, bytes([0x48, 0xc7, 0x05, 0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]))
    seed("64-fs-addr32-imm8.bin", 2, bytes([0x64, 0x67, 0xc6, 0x44, 0x24, 0x08, 0x5a]))
    seed("64-imm16-no-base.bin", 2, bytes([0x66, 0xc7, 0x04, 0x25, 0, 0, 0xb0, 0xe0, 0x34, 0x12]))
    seed("64-rex-then-66.bin", 2, bytes([0x48, 0x66, 0x89, 0x02]))
    seed("32-mov-ebp-disp8.bin", 1, bytes([0x89, 0x45, 0xfc]), rip=0xc0001000)
    seed("32-addr16-bx-si.bin", 1, bytes([0x67, 0x89, 0x00]), rip=0xc0001000)
    seed("16-bp-di-disp16.bin", 0, bytes([0x66, 0x89, 0x83, 0x00, 0x80]), rip=0x7c00)
    seed("16-disp16-imm16.bin", 0, bytes([0x26, 0xc7, 0x06, 0x34, 0x12, 0xcd, 0xab]), rip=0x7c00)
    seed("64-truncated.bin", 2, bytes([0x89, 0x84, 0x4a, 0x78, 0x56, 0x34, 0x12]), n=5)
    seed("64-lock.bin", 2, bytes([0xf0, 0x89, 0x02]))
    seed("64-rep-stos.bin", 2, bytes([0xf3, 0x48, 0xab]))
    seed("64-16-bytes.bin", 2, bytes([0x66] * 8 + [0x48, 0xc7, 0x84, 0x24, 0, 0, 0, 0, 1, 0]))


def ts_desc(base, limit, access, flags):
    """A segment descriptor: access byte (P DPL S type), flags nibble (G D/B L AVL)."""
    return struct.pack("<HHBBBB", limit & 0xffff, base & 0xffff, base >> 16 & 0xff, access,
                       (limit >> 16 & 0xf) | flags << 4, base >> 24)


def ts_tss(eip, eflags, esp, cs, ds, ldt=0, cr3=0x5000, t=0):
    tss = bytearray(0x68)
    struct.pack_into("<III", tss, 0x1c, cr3, eip, eflags)
    for i in range(8):
        struct.pack_into("<I", tss, 0x28 + 4 * i, esp if i == 4 else 0xb0 + i)
    for i in range(6):
        struct.pack_into("<H", tss, 0x48 + 4 * i, cs if i == 1 else ds)
    struct.pack_into("<HHH", tss, 0x60, ldt, t, 0x68)
    return bytes(tss)


def task_switch():
    """fuzz_task_switch.c's input: its struct hdr, a GPR seed, then memory patches
    (address, length, bytes). The layout of tests/unit/test_task_switch.c: GDT at
    0x1000, the running task's TSS (A, 0x18) at 0x2000, TSS B (0x20) at 0x3000, an LDT
    (0x28) at 0x4000, B's stack at 0x6000; ring 0 flat code 0x08, data 0x10, ring 3 0x1b/0x23."""
    gdt = {0x08: ts_desc(0, 0xfffff, 0x9a, 0xc), 0x10: ts_desc(0, 0xfffff, 0x92, 0xc),
           0x18: ts_desc(0x2000, 0x67, 0x8b, 0), 0x20: ts_desc(0x3000, 0x67, 0x89, 0),
           0x28: ts_desc(0x4000, 0x0f, 0x82, 0), 0x30: ts_desc(0x5800, 0x2b, 0x81, 0),
           0x38: ts_desc(0x3800, 0x67, 0x8b, 0),
           0x40: ts_desc(0, 0xfffff, 0xfa, 0xc), 0x48: ts_desc(0, 0xfffff, 0xf2, 0xc)}
    gdt_bytes = b"".join(gdt.get(i * 8, bytes(8)) for i in range(10))
    ldt_bytes = ts_desc(0x10000 >> 4, 0xfffff, 0x93, 0xc) + ts_desc(0, 0xfffff, 0x9b, 0xc)

    def patch(addr, blob):
        out = b""
        for o in range(0, len(blob), 255):
            part = blob[o:o + 255]
            out += struct.pack("<HB", addr + o, len(part)) + part
        return out

    def seed(name, source, sel, tss_b, flags=0, cpl=0, tr=0x18, tr_type=11, extra=b"",
             pf=(0, 0), wp=(0, 0), error=0, old_eflags=0x202, old_sels=(0x10, 0x08, 0x10, 0x10, 0x10, 0x10)):
        hdr = struct.pack("<BBHIIIHHHHHBHHHBHHHH", flags | source << 4, cpl, sel, 0x4449, error,
                          old_eflags, 0x1000, len(gdt_bytes) - 1, tr, 0x2000, 0x67, tr_type,
                          0, 0, 0, 0, pf[0], pf[1], wp[0], wp[1])
        hdr += struct.pack("<6H", *old_sels) + struct.pack("<6I", *([0xc093] * 6))
        blob = hdr + struct.pack("<Q", 0x0123456789abcdef)
        blob += patch(0x1000, gdt_bytes) + patch(0x4000, ldt_bytes) + patch(0x3000, tss_b)
        write("task_switch", name, blob + extra)

    b = ts_tss(0x1234, 0x202, 0x6000, 0x08, 0x10)
    seed("jmp.bin", 2, 0x20, b)
    seed("call-paging.bin", 0, 0x20, b, flags=3)
    seed("gate-push-error.bin", 3, 0x20, b, flags=8 | 4, error=0x1234)
    # IRET back to B, busy (the current task A has NT set and B in its link).
    busy_b = patch(0x1000 + 0x20, ts_desc(0x3000, 0x67, 0x8b, 0))
    seed("iret.bin", 1, 0x20, b, extra=busy_b, old_eflags=0x4202)
    seed("jmp-ring3-ldt.bin", 2, 0x20, ts_tss(0x1234, 0x3202, 0x7000, 0x43, 0x0f, ldt=0x28))
    seed("jmp-v86.bin", 2, 0x20, ts_tss(0x100, 0x20202, 0x1000, 0x1000, 0x2000))
    seed("jmp-ring3-from-ring3.bin", 2, 0x20, ts_tss(0x1234, 0x202, 0x7000, 0x43, 0x4b),
         cpl=3, old_sels=(0x4b, 0x43, 0x4b, 0x4b, 0x4b, 0x4b))
    seed("jmp-bad-ss.bin", 2, 0x20, ts_tss(0x1234, 0x202, 0x7000, 0x43, 0x10))
    seed("jmp-v86-bad-ldt.bin", 2, 0x20, ts_tss(0x100, 0x20202, 0x1000, 0x1000, 0x2000, ldt=0x10))
    seed("call-new-tss-pf.bin", 0, 0x20, b, pf=(0x3000, 0x1000))
    seed("call-link-write-protected.bin", 0, 0x20, b, wp=(0x3000, 0x1000))
    seed("jmp-16bit-tss.bin", 2, 0x30, b)
    seed("jmp-busy.bin", 2, 0x38, b)


def dmar_scope(kind, hops, enum_id=0, bus=0):
    return struct.pack("<BBHBB", kind, 6 + 2 * len(hops), 0, enum_id, bus) + \
        b"".join(struct.pack("<BB", d, f) for d, f in hops)


def dmar_drhd(base, flags=0, size=0, segment=0, scopes=b""):
    return struct.pack("<HHBBHQ", 0, 16 + len(scopes), flags, size, segment, base) + scopes


def dmar_rmrr(base, limit, segment=0, scopes=b""):
    return struct.pack("<HHHHQQ", 1, 24 + len(scopes), 0, segment, base, limit) + scopes


def dmar():
    """fuzz_dmar.c's input: flags (0: the harness writes the signature, length and
    checksum), the host address width - 1, DMAR flags, then the remapping structures."""
    def seed(name, structs, haw=38, flags=1):
        write("dmar", name, bytes([0, haw, flags]) + b"".join(structs))

    gfx = dmar_scope(1, [(2, 0)])
    ioapic = dmar_scope(3, [(0x1f, 0)], enum_id=2, bus=0xf0)
    # QEMU's intel-iommu: one INCLUDE_PCI_ALL unit at 0xfed90000, an IOAPIC scope.
    seed("qemu-one-unit.bin", [dmar_drhd(0xfed90000, 1, 0, 0, ioapic)])
    # A client platform: a graphics unit, the rest unit, an RMRR for USB, an ATSR (skipped).
    seed("client-two-units-rmrr.bin", [
        dmar_drhd(0xfed90000, 0, 0, 0, gfx),
        dmar_drhd(0xfed91000, 1, 0, 0, ioapic + dmar_scope(4, [(0x1f, 7)], enum_id=0)),
        dmar_rmrr(0x7a000000, 0x7a1fffff, 0, dmar_scope(1, [(0x14, 0)]) + gfx),
        struct.pack("<HHBBH", 2, 8, 0, 0, 0)])
    # A server: two segments, a subhierarchy scope through a bridge, a 16-page unit, RHSA.
    seed("server-segments.bin", [
        dmar_drhd(0xfbffc000, 0, 2, 0, dmar_scope(2, [(3, 0), (0, 0)], bus=0x00)),
        dmar_drhd(0xc5ffc000, 1, 0, 1, dmar_scope(5, [(0, 0)], enum_id=1)),
        dmar_drhd(0x3fff0000000, 0, 4, 1, dmar_scope(1, [(0, 0)] * 8, bus=0x80)),
        struct.pack("<HHIQI", 3, 20, 0, 0xfbffc000, 0)], haw=45, flags=5)
    # Refused ones: two units overlapping, an RMRR without scope, a scope cut short.
    seed("overlapping-units.bin", [dmar_drhd(0xfed90000, 0, 1), dmar_drhd(0xfed91000, 1)])
    seed("rmrr-no-scope.bin", [dmar_drhd(0xfed90000, 1), dmar_rmrr(0x1000, 0x1fff)])
    seed("scope-cut-short.bin", [dmar_drhd(0xfed90000, 1, 0, 0, gfx[:7])])


if __name__ == "__main__":
    l1image()
    coreimage()
    operand()
    vmcs12()
    nested()
    reflect()
    ept12()
    ept02()
    mmio_decode()
    task_switch()
    dmar()
