#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every nestvisor test: host unit tests, short runs of the libFuzzer harnesses,
tools tests, loader checks in QEMU, guest runs in Bochs.

Prints one line per test and closes with "N passed, N failed". Emulator boots
and fuzz runs go two at a time (the build machines have two cores). Logs of
every boot are kept in <build>/test-logs/<test name>/, of every fuzz run in
<build>/fuzz/logs/. The tools tests (tests/tools/test_*.py, unittest) run in
this process: they need no build and no emulator.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz  # noqa: E402
import nvrun  # noqa: E402

TOOLS_TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools")

BOCHS_TIMEOUT = 150
QEMU_TIMEOUT = 60


class Test:
    def __init__(self, name, fn):
        self.name = name
        self.fn = fn  # () -> (ok, message)


# ---------------------------------------------------------------------------
# Expectations on a run's result.

def expect_status(status, *patterns):
    def check(r):
        if r.outcome != "status" or r.status != status:
            return False, "wanted L1 exit status 0x%x, got: %s" % (status, r.describe())
        return check_patterns(r, patterns)
    return check


def expect_failure(reason_pattern, *patterns):
    def check(r):
        if r.outcome != "failure" or not re.search(reason_pattern, r.detail):
            return False, "wanted L0 failure /%s/, got: %s" % (reason_pattern, r.describe())
        return check_patterns(r, patterns)
    return check


def expect_loader_error(pattern, *patterns):
    def check(r):
        if r.outcome != "loader-error" or not re.search(pattern, r.detail):
            return False, "wanted loader error /%s/, got: %s" % (pattern, r.describe())
        if "nestvisor: " in r.all_text():
            return False, "the core started after a loader error"
        return check_patterns(r, patterns)
    return check


def nmis_exactly_once(check):
    """vmxhostile's NMIs: L0's injected_to_l1 equals what L1 counted (each once)."""
    def both(r):
        ok, msg = check(r)
        if not ok:
            return ok, msg
        l1 = re.search(r"vmxhostile: NMIs received in all: (\d+)", r.all_text())
        l0 = re.search(r"nestvisor: nmi: injected_to_l1=(\d+) injected_to_l2=\d+ pending=0",
                       r.all_text())
        if not l1 or not l0 or l1.group(1) != l0.group(1):
            return False, "NMIs: L1 counted %s, L0 injected %s" % (
                l1.group(1) if l1 else "?", l0.group(1) if l0 else "?")
        return True, msg
    return both


def check_patterns(r, patterns):
    for p in patterns:
        if not re.search(p, r.all_text(), re.M):
            return False, "serial log lacks /%s/" % p
    return True, r.describe()


# ---------------------------------------------------------------------------
# Inputs made at test time: corrupt L1 images derived from a good one.

def corrupt_variants(good, outdir):
    with open(good, "rb") as f:
        data = bytearray(f.read())
    os.makedirs(outdir, exist_ok=True)
    out = {}

    def write(name, blob):
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            f.write(blob)
        out[name] = path

    e_phoff = struct.unpack_from("<I", data, 28)[0]
    # Keep the Multiboot header, cut the segment that holds it.
    header = data.find(struct.pack("<I", 0x1BADB002))
    write("truncated.elf", data[:header + 64])
    wrong = bytearray(data)
    struct.pack_into("<H", wrong, 18, 62)  # e_machine = EM_X86_64
    write("wrong-machine.elf", wrong)
    # First PT_LOAD moved to the local APIC page: not RAM.
    outside = bytearray(data)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 42)
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        if struct.unpack_from("<I", data, off)[0] == 1:  # PT_LOAD
            struct.pack_into("<I", outside, off + 12, 0xfee00000)  # p_paddr
            break
    write("outside-ram.elf", outside)
    write("not-elf.elf", b"this is not an ELF file\n" * 100)
    return out


def pvh_image(paddr=0x100000, note=True):
    """A small PVH kernel (ELF64 x86-64, the Xen PHYS32_ENTRY note 18): one PT_LOAD of
    0x1000 bytes at paddr (4 pages of memory) whose entry at paddr + 0x100 halts."""
    entry = paddr + 0x100
    notes = struct.pack("<III", 4, 4, 18 if note else 17) + b"Xen\0" + struct.pack("<I", entry)
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 5, 0, paddr, paddr, 0x1000, 0x4000, 0x1000)
    pnote = struct.pack("<IIQQQQQQ", 4, 4, 0xb0, 0, 0, len(notes), len(notes), 4)
    blob = bytearray(0x1000)
    blob[0:64 + 112] = eh + load + pnote
    blob[0xb0:0xb0 + len(notes)] = notes
    blob[0x100:0x103] = b"\xfa\xf4\xfd"   # cli; hlt (the bytes after do not matter)
    return bytes(blob)


def pvh_variants(outdir):
    """PVH (ELF64) L1 images for the loader checks: {name: path}."""
    os.makedirs(outdir, exist_ok=True)
    out = {}
    for name, blob in (("pvh.elf", pvh_image()),
                       ("pvh-truncated.elf", pvh_image()[:0x800]),
                       ("pvh-no-note.elf", pvh_image(note=False)),
                       ("pvh-outside-ram.elf", pvh_image(paddr=0xfee00000)),
                       ("initrd-8m.bin", bytes(8 << 20))):
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            f.write(blob)
        out[name] = path
    return out


def bzimage_image(init_size=0x100000, loadflags=1, pref=0x1000000):
    """A small bzImage (Linux boot protocol 2.15, the setup header's fields as
    Debian's 6.1 has them): 4 setup sectors, then 0x1000 bytes of protected-mode
    kernel loaded at pref whose 32-bit entry halts."""
    blob = bytearray(0x1000 + 5 * 512)
    hdr = {0x1f1: (4, "B"), 0x1f4: (0x1000 // 16, "I"), 0x1fe: (0xaa55, "H"),
           0x200: (0x6aeb, "H"), 0x202: (0x53726448, "I"), 0x206: (0x020f, "H"),
           0x211: (loadflags, "B"), 0x214: (0x100000, "I"), 0x22c: (0x7fffffff, "I"),
           0x230: (0x200000, "I"), 0x234: (1, "B"), 0x236: (0x7f, "H"),
           0x238: (0x7ff, "I"), 0x258: (pref, "Q"), 0x260: (init_size, "I")}
    for off, (value, fmt) in hdr.items():
        struct.pack_into("<" + fmt, blob, off, value)
    blob[5 * 512:5 * 512 + 3] = b"\xfa\xf4\xfd"   # cli; hlt
    return bytes(blob)


def bzimage_variants(outdir):
    """bzImage L1 images for the loader checks: {name: path}."""
    os.makedirs(outdir, exist_ok=True)
    out = {}
    for name, blob in (("bzimage", bzimage_image()),
                       ("bzimage-truncated", bzimage_image()[:0x1800]),
                       ("zimage", bzimage_image(loadflags=0)),
                       ("bzimage-init-size-32m", bzimage_image(init_size=0x2000000))):
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            f.write(blob)
        out[name] = path
    return out


# ---------------------------------------------------------------------------

def unit_tests(build):
    tests = []
    unit_dir = os.path.join(build, "unit")
    for binary in sorted(os.listdir(unit_dir)) if os.path.isdir(unit_dir) else []:
        if not binary.startswith("test_") or binary.endswith((".d", ".o")):
            continue
        path = os.path.join(unit_dir, binary)
        tests.append((binary[5:], path))
    return tests


def run_unit(path):
    """Run one unit binary; yields (case name, ok, output lines)."""
    p = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cases, detail = [], []
    for line in p.stdout.splitlines():
        m = re.match(r"(PASS|FAIL) (\S+)$", line)
        if m:
            cases.append((m.group(2), m.group(1) == "PASS", detail))
            detail = []
        elif not re.match(r"\d+ passed, \d+ failed$", line):
            detail.append(line)
    if p.returncode != 0 and all(ok for _, ok, _ in cases):
        cases.append(("(exit status %d)" % p.returncode, False, detail or [p.stdout[-2000:]]))
    return cases


def tools_tests():
    """Every test case of tests/tools/test_*.py (unittest), flattened."""
    def flatten(suite):
        for t in suite:
            if isinstance(t, unittest.TestSuite):
                yield from flatten(t)
            else:
                yield t
    loader = unittest.TestLoader()
    return list(flatten(loader.discover(TOOLS_TESTS, pattern="test_*.py",
                                        top_level_dir=TOOLS_TESTS)))


def tools_test_name(case):
    """tools/<module>/<case>: tests/tools/test_report.py's test_odd_lines is
    tools/report/odd_lines."""
    module, _, method = case.id().rpartition(".")
    return "tools/%s/%s" % (module.partition(".")[0].removeprefix("test_"),
                            method.removeprefix("test_"))


def run_tools_test(case):
    """Run one unittest case; (ok, failure text lines)."""
    result = unittest.TestResult()
    case.run(result)
    problems = result.errors + result.failures + result.unexpectedSuccesses
    lines = []
    for item in problems:
        lines += (item[1] if isinstance(item, tuple) else "unexpected success").splitlines()
    return not problems, lines


def linux_cmdline(linux):
    """The command line guests/linux/build.sh wrote (empty if the image is not built)."""
    try:
        with open(os.path.join(linux, "cmdline")) as f:
            return f.read().strip()
    except OSError:
        return ""


def emulator_tests(build):
    g = lambda name: os.path.join(build, "guest", name + ".elf")  # noqa: E731
    exitbench = os.path.join(build, "guests", "exitbench.elf")
    inputs = os.path.join(build, "test-inputs")
    module = "tests/guest/basic/module.txt"
    bad = corrupt_variants(g("basic"), inputs)
    pvh = pvh_variants(inputs)
    bz = bzimage_variants(inputs)
    linux = os.path.join(build, "linux")
    cfg_path = r"\nestvisor\nestvisor.cfg"

    T = []

    def emu(name, expect, **kw):
        T.append((name, kw, expect))

    # -- QEMU TCG: the loader and the no-VMX path (fast) --------------------
    q = dict(emulator="qemu", timeout=QEMU_TIMEOUT)
    emu("qemu/no-vmx", expect_failure(r"no VMX",
                                      r"nestvisor-boot: exiting boot services",
                                      r"nestvisor: L0 core at"), l1=exitbench, **q)
    # q35's MCFG: L0 finds the ECAM window (and checks it against ports 0xCF8-0xCFF)
    # before it looks for VMX.
    emu("qemu/ecam-q35", expect_failure(
        r"no VMX", r"nestvisor: pci: ECAM segment 0000 buses 00-ff at 0xb0000000-0xbfffffff "
        r"guarded", r"nestvisor: dma: no IOMMU \(no ACPI DMAR table\)"), l1=exitbench, **q)
    # QEMU's intel-iommu (a DMAR with one unit): L0 programs it before it looks for
    # VMX and reads back translation enabled (GSTS.TES) and no fault (FSTS). Its
    # default 39-bit width walks 3-level tables; aw-bits=48 offers 4 levels.
    for name, dev, levels in (("qemu/vtd-q35", "intel-iommu", 3),
                              ("qemu/vtd-q35-48bit", "intel-iommu,aw-bits=48", 4)):
        emu(name, expect_failure(
            r"no VMX",
            r"nestvisor: dma: VT-d unit 0 at 0xfed90000 \(segment 0000, [a-z ]+\): %d-level "
            r"tables, domain 1, translation enabled \(GSTS 0x[89a-f][0-9a-f]{7}\), no fault "
            r"recorded \(FSTS 0x0\)" % levels,
            r"nestvisor: dma: VT-d: 1 units programmed, L0 memory not reachable by DMA; bus "
            r"mastering allowed"), l1=exitbench, qemu_devices=[dev], **q)
    emu("qemu/loader-missing-l1",
        expect_loader_error(r"\\nestvisor\\missing\.elf.*(not found|NOT_FOUND|Not Found)"),
        l1=None, cfg_text="l1 = \\nestvisor\\missing.elf\n", **q)
    emu("qemu/loader-missing-config", expect_loader_error(r"nestvisor\.cfg"),
        l1=exitbench, omit=[cfg_path], **q)
    emu("qemu/loader-unknown-key",
        expect_loader_error(r"nestvisor\.cfg: line 3: unknown key 'l1_mem'"),
        l1=exitbench, cfg_text="# test\nl1 = \\nestvisor\\exitbench.elf\nl1_mem = 64M\n", **q)
    emu("qemu/loader-malformed-line",
        expect_loader_error(r"nestvisor\.cfg: line 2: .*="),
        l1=exitbench, cfg_text="l1 = \\nestvisor\\exitbench.elf\nthis line has no equals sign\n", **q)
    emu("qemu/loader-missing-l1-key", expect_loader_error(r"nestvisor\.cfg: .*l1"),
        l1=exitbench, cfg_text="cmdline = hello\n", **q)
    emu("qemu/loader-bad-selftest",
        expect_loader_error(r"nestvisor\.cfg: line 2: unknown selftest 'crash'"),
        l1=exitbench, cfg_text="l1 = \\nestvisor\\exitbench.elf\nselftest = crash\n", **q)
    emu("qemu/loader-bad-shadow-set",
        expect_loader_error(r"nestvisor\.cfg: line 2: unknown vmcs_shadow_set 'all' \(want hot or wide\)"),
        l1=exitbench, cfg_text="l1 = \\nestvisor\\exitbench.elf\nvmcs_shadow_set = all\n", **q)
    emu("qemu/loader-bad-size",
        expect_loader_error(r"nestvisor\.cfg: line 2: .*l1_memory"),
        l1=exitbench, cfg_text="l1 = \\nestvisor\\exitbench.elf\nl1_memory = lots\n", **q)
    emu("qemu/loader-missing-core", expect_loader_error(r"core\.elf"),
        l1=exitbench, omit=[r"\nestvisor\core.elf"], **q)
    emu("qemu/loader-missing-module", expect_loader_error(r"\\nestvisor\\nomodule\.bin"),
        l1=exitbench, cfg_extra=["module = \\nestvisor\\nomodule.bin arg"], **q)
    emu("qemu/loader-truncated-elf", expect_loader_error(r"truncated\.elf: .*truncated"),
        l1=bad["truncated.elf"], **q)
    emu("qemu/loader-wrong-machine", expect_loader_error(r"wrong-machine\.elf: .*machine"),
        l1=bad["wrong-machine.elf"], **q)
    emu("qemu/loader-not-elf", expect_loader_error(r"not-elf\.elf: "), l1=bad["not-elf.elf"], **q)
    emu("qemu/loader-segment-outside-ram",
        expect_loader_error(r"outside-ram\.elf: .*0xfee00000"), l1=bad["outside-ram.elf"], **q)
    # PVH (ELF64) L1s: accepted up to L0's "no VMX" stop, or refused with the file named.
    emu("qemu/loader-pvh",
        expect_failure(r"no VMX", r"nestvisor-boot: L1: \\nestvisor\\pvh\.elf, ELF64, PVH entry 0x100100",
                       r"nestvisor-boot: L1 module 0: ", r"nestvisor-boot: L1 PVH start info: "),
        l1=pvh["pvh.elf"], cmdline="console=ttyS0", modules=[(module, "")], **q)
    emu("qemu/loader-pvh-truncated",
        expect_loader_error(r"pvh-truncated\.elf: truncated: segment 0 \(program header 0\) ends at 0x1000"),
        l1=pvh["pvh-truncated.elf"], **q)
    emu("qemu/loader-pvh-no-note",
        expect_loader_error(r"pvh-no-note\.elf: 64-bit ELF without a PVH entry note"),
        l1=pvh["pvh-no-note.elf"], **q)
    emu("qemu/loader-pvh-segment-outside-ram",
        expect_loader_error(r"pvh-outside-ram\.elf: segment 0 \(0xfee00000-0xfee04000\) is not in RAM L1 gets"),
        l1=pvh["pvh-outside-ram.elf"], **q)
    emu("qemu/loader-pvh-initrd-too-big",
        expect_loader_error(r"initrd-8m\.bin: initrd, module 0 \(0x104000-0x904000\) is not in RAM L1 gets \(with l1_memory = 0x400000"),
        l1=pvh["pvh.elf"], modules=[(pvh["initrd-8m.bin"], "")], cfg_extra=["l1_memory = 4M"], **q)

    # bzImage L1s (the Linux boot protocol): accepted up to L0's stop, or refused with the file named.
    emu("qemu/loader-bzimage",
        expect_failure(r"no VMX",
                       r"nestvisor-boot: L1: \\nestvisor\\bzimage, bzImage, boot protocol 2\.15, 32-bit entry 0x1000000, init_size 0x100000",
                       r"nestvisor-boot: L1 segment 0: 0x1000000-0x1100000 \(0x1000 bytes from the file\)",
                       r"nestvisor-boot: L1 module 0: 0x1100000-", r"nestvisor-boot: L1 Linux zero page: "),
        l1=bz["bzimage"], cmdline="console=ttyS0", modules=[(module, "")], **q)
    emu("qemu/loader-bzimage-truncated",
        expect_loader_error(r"bzimage-truncated: truncated: the protected-mode kernel \(setup_sects 4, syssize 0x100 paragraphs\) ends at 0x1a00, file is 0x1800 bytes"),
        l1=bz["bzimage-truncated"], **q)
    emu("qemu/loader-bzimage-not-bzimage",
        expect_loader_error(r"zimage: not a bzImage: loadflags 0x0 lack LOADED_HIGH"),
        l1=bz["zimage"], **q)
    emu("qemu/loader-bzimage-init-size",
        expect_loader_error(r"bzimage-init-size-32m: kernel up to init_size \(0x1000000-0x3000000\) is not in RAM L1 gets \(with l1_memory = 0x2000000"),
        l1=bz["bzimage-init-size-32m"], cfg_extra=["l1_memory = 32M"], **q)
    emu("qemu/loader-bzimage-initrd-too-big",
        expect_loader_error(r"initrd-8m\.bin: initrd, module 0 \(0x1100000-0x1900000\) is not in RAM L1 gets \(with l1_memory = 0x1400000"),
        l1=bz["bzimage"], modules=[(pvh["initrd-8m.bin"], "")], cfg_extra=["l1_memory = 20M"], **q)

    # -- Bochs: Debian's Linux with KVM as L1 (make linux-image; README "Linux/KVM as L1") --
    # First of the Bochs runs: it is the longest (about 60 s). -wide: the shadow VMCS
    # holds the fields KVM's nested transitions touch too (vmcs_shadow_set = wide).
    for suffix, shadow_set in (("", []), ("-wide", ["vmcs_shadow_set = wide"])):
        emu("bochs/linux-kvm" + suffix,
            expect_status(1, r"init: kvm_intel nested=Y ept=Y unrestricted_guest=Y",
                          r"nestvisor: config: vmcs_shadowing=on vmcs_shadow_set=%s" % (
                              "wide" if shadow_set else "hot"),
                          r"kvmtest: l0 name=nestvisor",
                          r"kvmtest: check name=realmode result=ok",
                          r"kvmtest: result kind=l1 op=cpuid handler=- samples=1000 ",
                          r"kvmtest: result kind=l2-reflected op=cpuid handler=kvm samples=1000 ",
                          r"kvmtest: check name=vmx result=ok",
                          r"kvmtest: result kind=l2-reflected op=vmread handler=kvm samples=1000 ",
                          r"kvmtest: check name=l3 result=ok",
                          r"kvmtest: result kind=l3-reflected op=cpuid handler=l2 samples=1000 ",
                          r"kvmtest: done passed=4 failed=0",
                          r"nestvisor: acct: l2-exit reason=CPUID reflected="),
            l1=os.path.join(linux, "vmlinux"),
            modules=[(os.path.join(linux, "initramfs.cpio"), "")],
            cmdline=linux_cmdline(linux), megs=1024,
            cfg_extra=["l1_memory = 512M"] + shadow_set, emulator="bochs", timeout=300)
    # The same kernel as Debian ships it, a bzImage booted through the Linux boot
    # protocol (32-bit entry, zero page): it decompresses itself first (about 4.5 G
    # Bochs instructions, some 90 s more than bochs/linux-kvm). In make test like the rest.
    emu("bochs/linux-kvm-bzimage",
        expect_status(1, r"nestvisor-boot: L1: \\nestvisor\\vmlinuz, bzImage, boot protocol 2\.\d+, 32-bit entry 0x1000000",
                      r"nestvisor: starting L1 \\nestvisor\\vmlinuz at 0x1000000 \(Linux zero page at 0x",
                      r"init: kvm_intel nested=Y ept=Y unrestricted_guest=Y",
                      r"kvmtest: l0 name=nestvisor",
                      r"kvmtest: check name=realmode result=ok",
                      r"kvmtest: result kind=l1 op=cpuid handler=- samples=1000 ",
                      r"kvmtest: result kind=l2-reflected op=cpuid handler=kvm samples=1000 ",
                      r"kvmtest: check name=vmx result=ok",
                      r"kvmtest: check name=l3 result=ok",
                      r"kvmtest: done passed=4 failed=0"),
        l1=os.path.join(linux, "vmlinuz"), modules=[(os.path.join(linux, "initramfs.cpio"), "")],
        cmdline=linux_cmdline(linux), megs=1024, cfg_extra=["l1_memory = 512M"],
        emulator="bochs", timeout=420)

    # -- Bochs: L0 with VMX and EPT running L1 guests ------------------------
    b = dict(emulator="bochs", timeout=BOCHS_TIMEOUT)
    emu("bochs/basic",
        expect_status(1, r"SUMMARY: \d+ tests, 0 failures", r"nestvisor: exits: ",
                      # i440FX under OVMF: no MCFG; nothing but L1's RAM in ISA DMA's reach
                      r"nestvisor: pci: no MMCONFIG \(no ACPI MCFG\)",
                      r"nestvisor: dma: ISA DMA \(first 16 MiB\) reaches only L1's memory",
                      r"nestvisor: dma: no IOMMU \(no ACPI DMAR table\)",
                      r"nestvisor: dma: no VT-d translation; bus mastering refused"),
        l1=g("basic"), cmdline="alpha beta=gamma want-module",
        modules=[(module, "modarg1 modarg2")], **b)
    emu("bochs/l1-memory-limit",
        expect_status(1, r"PASS: usable RAM in the map is 64 MiB",
                      r"L1 RAM ends at 0x[0-9a-f]+ \(l1_memory\)"),
        l1=g("basic"), cmdline="alpha beta=gamma expect-usable-mib=64",
        cfg_extra=["l1_memory = 64M"], **b)
    emu("bochs/longmode", expect_status(1), l1=g("longmode"), **b)
    emu("bochs/l0-memory-read",
        expect_failure(r"EPT violation: L1 read of L0 memory", r"l0mem: reading"),
        l1=g("l0mem"), **b)
    emu("bochs/triple-fault", expect_failure(r"L1 triple fault"), l1=g("triplefault"), **b)
    emu("bochs/halt", expect_failure(r"L1 halted with interrupts disabled"), l1=g("halt"), **b)
    # Hardware task switches of a 32-bit L1 (TASK_SWITCH exits, emulated by L0):
    # JMP, CALL/IRET, task gates in the GDT and IDT, a #DF task, faults before and
    # after the commit point. The same kernel must pass on bare Bochs (bare/taskswitch).
    emu("bochs/taskswitch",
        expect_status(1, r"SUMMARY: \d+ tests, 0 failures",
                      r"PASS: #DF's error code \(0\) on the new task's stack"),
        l1=g("taskswitch"), **b)
    # L0's own fault path: register dump, backtrace, L1's state, then the end line.
    emu("bochs/l0-fault",
        expect_failure(r"L0 panic: #PF page fault", r"PANIC: #PF page fault .* in L0",
                       r"cr2=0xdead000000", r"rip=0xffffffff8", r"called from 0xffffffff8",
                       r"L1 state: "),
        l1=exitbench, cfg_extra=["selftest = l0-fault"], **b)
    # log = trace: every exit of L1 and of L2 logged before its handler runs, through
    # the exit stubs' full variant with accounting off (vmx/exit.c), and the
    # benchmark's checks still pass.
    emu("bochs/exitbench-log-trace",
        expect_status(1, r"nestvisor: exit CPUID rip=0x[0-9a-f]+ qual=0x[0-9a-f]+\r?$",
                      r"nestvisor: exit VMRESUME rip=0x[0-9a-f]+ qual=0x[0-9a-f]+\r?$",
                      r"nestvisor: exit CPUID rip=0x[0-9a-f]+ qual=0x[0-9a-f]+ \(L2\)",
                      r"exitbench: result kind=l2-reflected op=cpuid handler=minimal samples=5 ",
                      r"exitbench: done passed=\d+ failed=0"),
        l1=exitbench, cmdline="ops=cpuid kinds=l1,l2-reflected handlers=minimal n=5 warmup=1",
        cfg_extra=["log = trace", "accounting = off"], **b)
    # L0's machine-check path: the report, then the end (MCG_STATUS.RIPV = 0 here:
    # nothing to restart from); a restartable one would go to L1 (core/mce.h).
    emu("bochs/l0-mce",
        expect_failure(r"machine check in L0 that it cannot restart from",
                       r"mce: machine check in L0 at rip 0xffffffff8[0-9a-f]+: MCG_STATUS",
                       r"L1 state: "),
        l1=exitbench, cfg_extra=["selftest = l0-mce"], **b)
    # The VMX suites, each with a shadow VMCS for L1 (the default where the CPU
    # has one), without (every VMREAD/VMWRITE emulated by L0), and with the wide
    # shadow set (vmcs_shadow_set = wide: the guest state and controls KVM's
    # nested transitions touch are in the shadow VMCS too).
    for suffix, shadow, config in (
            ("", [], "on vmcs_shadow_set=hot"),
            ("-noshadow", ["vmcs_shadowing = off"], "off"),
            ("-wide", ["vmcs_shadow_set = wide"], "on vmcs_shadow_set=wide")):
        in_config = r"nestvisor: config: vmcs_shadowing=" + config
        # The L1 VMX test hypervisor: nested VMX as L1 sees it.
        emu("bochs/vmx" + suffix,
            expect_status(1, r"SUMMARY: \d+ tests, 0 failures",
                          r"nestvisor: nested: \d+ entries to L2", in_config),
            l1=g("vmx"), timeout=300, emulator="bochs", cfg_extra=shadow)
        # L1's EPT, VPID, unrestricted guest (issue 7): L2 on EPT12 composed into
        # EPT02. The cases SKIP where a feature is not offered; nestvisor offers
        # them all, so the EPT, VPID and real-mode cases must have run.
        emu("bochs/vmxept" + suffix,
            expect_status(1, r"SUMMARY: \d{3} tests, 0 failures",
                          r"PASS: L2 on an identity EPT12 runs code",
                          r"PASS: unrestricted guest: L2 runs real-mode code",
                          r"PASS: INVVPID",
                          r"nestvisor: ept02: pool=\d+ high_water=\d+ installs=[1-9]", in_config),
            l1=g("vmxept"), cfg_extra=shadow, **b)
        if not shadow:
            # EPT02 exhaustion (vmxept mode=stress): eight EPT12 hierarchies of 2048
            # pages each, about 77 tables apiece (600 in all), against the smallest
            # pool, 256 pages: L0 must reclaim roots, and L2 still sees, through each
            # EPTP, the L1 pages that EPTP maps.
            emu("bochs/vmxept-stress",
                expect_status(1, r"SUMMARY: \d+ tests, 0 failures",
                              r"nestvisor: ept02: pool=256 high_water=\d+ installs=\d+ "
                              r"l1_faults=\d+ reclaims=[1-9]"),
                l1=g("vmxept"), cmdline="mode=stress", cfg_extra=["ept02_pool = 1M"], **b)
        # VMX from a 32-bit L1 with PAE paging: 32-bit operands, segments, PAE walks.
        emu("bochs/vmx32" + suffix,
            expect_status(1, r"SUMMARY: \d+ tests, 0 failures", in_config),
            l1=g("vmx32"), cfg_extra=shadow, **b)
        # A hostile L1: VMX pointers and VMCS addresses aimed at L0 memory, MMIO, the
        # flash, beyond RAM. Each gets nestvisor's documented answer and L0 goes on.
        emu("bochs/vmx-hostile" + suffix,
            nmis_exactly_once(expect_status(1, r"SUMMARY: \d+ tests, 0 failures",
                                            r"vmxhostile: L0 memory: 0x[0-9a-f]+", in_config)),
            l1=g("vmxhostile"), cfg_extra=shadow, **b)
    # The hypercall's answers with accounting switched off.
    emu("bochs/vmx-hostile-acct-off",
        expect_status(1, r"SUMMARY: \d+ tests, 0 failures",
                      r"PASS: accounting off: ACCT_READ -> NV_HC_EOFF"),
        l1=g("vmxhostile"), cfg_extra=["accounting = off"], **b)
    # ... and the operations nestvisor answers by ending the run (mode=<m>).
    # A VMREAD/VMWRITE of GUEST_RIP with its memory operand in L0 memory: emulated
    # by L0 (shadowing off), or done by the CPU through the shadow VMCS, where
    # EPT01 stops the access; the run ends either way.
    emu("bochs/vmx-hostile-vmread-l0",
        expect_failure(r"not L1's memory", r"vmxhostile: mode=vmread-l0: "),
        l1=g("vmxhostile"), cmdline="mode=vmread-l0", cfg_extra=["vmcs_shadowing = off"], **b)
    emu("bochs/vmx-hostile-vmwrite-l0",
        expect_failure(r"not L1's memory", r"vmxhostile: mode=vmwrite-l0: "),
        l1=g("vmxhostile"), cmdline="mode=vmwrite-l0", cfg_extra=["vmcs_shadowing = off"], **b)
    emu("bochs/vmx-hostile-vmread-l0-shadow",
        expect_failure(r"EPT violation: L1 write of L0 memory", r"vmxhostile: mode=vmread-l0: "),
        l1=g("vmxhostile"), cmdline="mode=vmread-l0", **b)
    emu("bochs/vmx-hostile-vmwrite-l0-shadow",
        expect_failure(r"EPT violation: L1 read of L0 memory", r"vmxhostile: mode=vmwrite-l0: "),
        l1=g("vmxhostile"), cmdline="mode=vmwrite-l0", **b)
    # VMX aborts while L0 saves (before the shadow VMCS gets the exit) and loads
    # MSRs (after), with each shadow set.
    for suffix, shadow_set in (("", []), ("-wide", ["vmcs_shadow_set = wide"])):
        emu("bochs/vmx-hostile-exit-msr-store-l0" + suffix,
            expect_failure(r"VMX abort \(indicator 1\)", r"vmxhostile: mode=exit-msr-store-l0: "),
            l1=g("vmxhostile"), cmdline="mode=exit-msr-store-l0", cfg_extra=shadow_set, **b)
        emu("bochs/vmx-hostile-exit-msr-load-l0" + suffix,
            expect_failure(r"VMX abort \(indicator 4\)", r"vmxhostile: mode=exit-msr-load-l0: "),
            l1=g("vmxhostile"), cmdline="mode=exit-msr-load-l0", cfg_extra=shadow_set, **b)
    # An exit MSR-load list loading IA32_EFER with LME = 0 under L1's paging: WRMSR
    # would #GP, so the exit's MSR loading fails (SDM "Loading MSRs" in "VM Exits").
    emu("bochs/vmx-hostile-exit-msr-load-efer",
        expect_failure(r"VMX abort \(indicator 4\)", r"vmxhostile: mode=exit-msr-load-efer: "),
        l1=g("vmxhostile"), cmdline="mode=exit-msr-load-efer", **b)
    # L2 halted with nothing that could wake it: L0 ends the run with its report.
    emu("bochs/vmx-hostile-l2-cli-hlt",
        expect_failure(r"L2 halted with interrupts disabled", r"vmxhostile: mode=l2-cli-hlt: "),
        l1=g("vmxhostile"), cmdline="mode=l2-cli-hlt", **b)
    emu("bochs/vmx-hostile-init-in-root",
        # On hardware L1 goes on and its VMXOFF ends the run; Bochs 2.7 keeps the
        # INIT pending after its VM exit, and L0 ends the storm of exits instead.
        expect_failure(r"L1 left VMX operation with an INIT pending|INIT signals without end"),
        l1=g("vmxhostile"), cmdline="mode=init-in-root", **b)
    emu("bochs/vmx-hostile-pci-reset",
        expect_failure(r"L1 reset the platform through port 0xcf9", r"vmxhostile: mode=pci-reset: "),
        l1=g("vmxhostile"), cmdline="mode=pci-reset", **b)
    # The seeded VMCS fuzzer (stress): L1 gets control back after every VMLAUNCH.
    for name, seed, shadow in (("bochs/vmx-fuzz", 1, []), ("bochs/vmx-fuzz-seed2", 2, []),
                               ("bochs/vmx-fuzz-noshadow", 1, ["vmcs_shadowing = off"]),
                               ("bochs/vmx-fuzz-wide", 1, ["vmcs_shadow_set = wide"])):
        emu(name, expect_status(1, r"SUMMARY: \d+ tests, 0 failures",
                                r"vmxfuzz: outcome histogram \(300 iterations\)"),
            l1=g("vmxfuzz"), cmdline="seed=%d iterations=300" % seed, cfg_extra=shadow, **b)
    return T


# ---------------------------------------------------------------------------
# The main job (make run) in make test: the benchmark report end to end.

MAIN_JOB_RUNS = {   # name: make variables
    "main/make-run": {},
    "main/make-run-repeat": {},
    "main/make-run-shadow-off": {"SHADOW": "off"},
}


def main_job_dir(build, name):
    return os.path.abspath(os.path.join(build, "test-logs", name.replace("/", "-")))


def run_main_job(build, name, variables):
    """`make run-only` (make run without the install and build steps) into a
    results directory of its own; ok when the run and its report pass."""
    out = main_job_dir(build, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cmd = ["make", "--no-print-directory", "run-only", "BUILD=" + build,
           "RESULTS=" + os.path.join(out, "results"), "RUN_WORKDIR=" + os.path.join(out, "run")]
    cmd += ["%s=%s" % kv for kv in variables.items()]
    start = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(os.path.join(out, "make-run.txt"), "w") as f:
        f.write(p.stdout)
    files = sorted(os.listdir(os.path.join(out, "results"))) if os.path.isdir(
        os.path.join(out, "results")) else []
    kinds = {f.rsplit(".", 1)[-1] for f in files}
    ok = p.returncode == 0 and {"json", "csv", "svg"} <= kinds
    msg = "exit %d, wrote %s [%.0fs]" % (p.returncode, ", ".join(files) or "nothing",
                                         time.monotonic() - start)
    return name, ok, msg, [] if ok else p.stdout.strip().splitlines()[-15:]


def main_job_json(build, name):
    d = os.path.join(main_job_dir(build, name), "results")
    found = [f for f in sorted(os.listdir(d)) if f.endswith(".json")] if os.path.isdir(d) else []
    return os.path.join(d, found[-1]) if found else None


def figures(path):
    """Every measured figure of a result file, keyed by (kind, op, handler)."""
    import json
    with open(path) as f:
        doc = json.load(f)
    keep = ("min", "median", "mean", "max", "l0_exits", "l0_ticks")
    return {(r["kind"], r["op"], r["handler"]): tuple(r.get(k) for k in keep)
            for r in doc["results"]}


def main_job_checks(build):
    """After the runs: functional checks on the real result files (never timings)."""
    out = []
    a, b = main_job_json(build, "main/make-run"), main_job_json(build, "main/make-run-repeat")
    if a and b:
        fa, fb = figures(a), figures(b)
        same = fa == fb and len(fa) > 0
        out.append(("main/deterministic", same,
                    "%d rows identical in two runs" % len(fa) if same else
                    "figures differ: %s" % sorted(k for k in fa if fa.get(k) != fb.get(k))[:5], []))
    else:
        out.append(("main/deterministic", False, "a main-job run wrote no JSON", []))
    c = main_job_json(build, "main/make-run-shadow-off")
    if a and c:
        p = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "compare.py"),
                            a, c], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rows = [l for l in p.stdout.splitlines() if re.match(r"\s*(l1|l2-\S+)\s", l)]
        ok = p.returncode == 0 and len(rows) >= len(figures(a))
        out.append(("main/compare-shadow-on-off", ok,
                    "compare.py: %d rows" % len(rows), [] if ok else p.stdout.splitlines()[-15:]))
    else:
        out.append(("main/compare-shadow-on-off", False, "a main-job run wrote no JSON", []))
    return out


def reference_tests(build):
    """The guest suites on bare Bochs VMX (GRUB, no nestvisor): their expectations
    must hold on a real VMX implementation, not only on nestvisor.
    Each is (name, kernel) or (name, kernel, command line)."""
    return [("bare/vmx", os.path.join(build, "guest", "vmx.elf")),
            ("bare/vmxept", os.path.join(build, "guest", "vmxept.elf")),
            ("bare/vmxept-stress", os.path.join(build, "guest", "vmxept.elf"), "mode=stress"),
            ("bare/vmx32", os.path.join(build, "guest", "vmx32.elf")),
            ("bare/taskswitch", os.path.join(build, "guest", "taskswitch.elf")),
            ("bare/vmx-fuzz", os.path.join(build, "guest", "vmxfuzz.elf"),
             "seed=1 iterations=300")]


def run_reference(kernel, workdir, cmdline=""):
    start = time.monotonic()
    p = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "bare_bochs.py"),
                        kernel, "--workdir", workdir, "--timeout", "240"] +
                       (["--cmdline", cmdline] if cmdline else []),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summary = re.findall(r"SUMMARY: \d+ tests, \d+ failures", p.stdout)
    msg = "%s on bare Bochs [%.0fs]" % (summary[-1] if summary else "no SUMMARY",
                                        time.monotonic() - start)
    return p.returncode == 0, msg, p.stdout.strip().splitlines()[-15:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--jobs", type=int, default=2, help="emulator boots (and fuzz runs) at once")
    ap.add_argument("--filter", default="", help="only tests whose name contains this")
    ap.add_argument("--no-emulators", action="store_true",
                    help="host tests only (unit, fuzz and tools)")
    args = ap.parse_args()

    passed = failed = 0
    start = time.monotonic()

    def report(name, ok, msg, extra=()):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
        print("%s %s%s" % ("PASS" if ok else "FAIL", name, ": " + msg if msg else ""), flush=True)
        if not ok:
            for line in extra:
                print("    " + line)

    for group, path in unit_tests(args.build):
        for case, ok, detail in run_unit(path):
            name = "unit/%s/%s" % (group, case)
            if args.filter in name:
                report(name, ok, "", detail)

    # Each harness on a fixed set of inputs (tools/fuzz.py --smoke): fuzz/<target>.
    targets = [t for t in fuzz.targets() if args.filter in "fuzz/" + t]
    for r in fuzz.run_all(args.build, targets, args.jobs, runs=fuzz.SMOKE_RUNS, timeout=300):
        report("fuzz/" + r.target, r.ok, r.summary(), r.detail)

    for case in tools_tests():
        name = tools_test_name(case)
        if args.filter in name:
            ok, detail = run_tools_test(case)
            report(name, ok, "", detail)

    if not args.no_emulators:
        logs = os.path.join(args.build, "test-logs")
        tests = [t for t in emulator_tests(args.build) if args.filter in t[0]]
        refs = [t for t in reference_tests(args.build) if args.filter in t[0]]

        def one(t):
            name, kw, expect = t
            workdir = os.path.join(logs, name.replace("/", "-"))
            shutil.rmtree(workdir, ignore_errors=True)
            try:
                r = nvrun.run(build=args.build, workdir=workdir, **kw)
            except Exception as e:  # a harness problem is a failed test, not a crash
                return name, False, "harness error: %r" % e, []
            ok, msg = expect(r)
            tail = [] if ok else r.serial.strip().splitlines()[-15:] + ["(logs: %s)" % workdir]
            return name, ok, "%s [%.0fs]" % (msg, r.elapsed), tail

        def ref(t):
            name, kernel = t[:2]
            workdir = os.path.join(logs, name.replace("/", "-"))
            shutil.rmtree(workdir, ignore_errors=True)
            ok, msg, tail = run_reference(kernel, workdir, *t[2:])
            return name, ok, msg, tail + ([] if ok else ["(logs: %s)" % workdir])

        mains = [(n, v) for n, v in MAIN_JOB_RUNS.items() if args.filter in n]

        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            jobs = [pool.submit(run_main_job, args.build, n, v) for n, v in mains]
            jobs += [pool.submit(one, t) for t in tests] + [pool.submit(ref, t) for t in refs]
            for job in jobs:
                report(*job.result())
        if len(mains) == len(MAIN_JOB_RUNS):
            for name, ok, msg, extra in main_job_checks(args.build):
                report(name, ok, msg, extra)

    print("test time %.0fs" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
