#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot nestvisor with an L1 image in an emulator and report how the run ended.

Builds an ESP disk image with mtools (no root, no loop devices), writes the
emulator configuration, boots Bochs + OVMF (VMX) or QEMU + OVMF (TCG: no VMX,
for loader checks; KVM: on an Intel host with nested VMX) under a hard time
limit, streams and keeps the serial log, and turns its markers into a result.
A run is judged by serial markers only, never by the emulator's exit status.

Markers (printed by boot/ and core/run.c):
  nestvisor-boot: error: <file>: <problem>     the loader refused to start
  nestvisor: end: l1-exit-status=0x<status>    L1 wrote to the test exit port
  nestvisor: end: failure: <reason>            L0 ended the run otherwise
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

OVMF = "/usr/share/ovmf/OVMF.fd"
VGABIOS = "/usr/share/vgabios/vgabios.bin"
ESP_DIR = "nestvisor"
BOCHS_CPU = "corei7_haswell_4770"

END_STATUS = re.compile(r"nestvisor: end: l1-exit-status=0x([0-9a-fA-F]+)")
END_FAILURE = re.compile(r"nestvisor: end: failure: (.*)")
LOADER_ERROR = re.compile(r"nestvisor-boot: error: (.*)")
END_ANY = re.compile("|".join(r.pattern for r in (END_STATUS, END_FAILURE, LOADER_ERROR)))

# Exit codes of the command-line tool.
EXIT_PASS, EXIT_STATUS_MISMATCH, EXIT_LOADER_ERROR, EXIT_L0_FAILURE, EXIT_NO_END = range(5)


class RunResult:
    """How a run ended: outcome is 'status', 'failure', 'loader-error' or 'timeout'."""

    def __init__(self, outcome, serial, detail="", status=None, elapsed=0.0, workdir=None):
        self.outcome = outcome
        self.serial = serial
        self.detail = detail
        self.status = status
        self.elapsed = elapsed
        self.workdir = workdir

    def describe(self):
        if self.outcome == "status":
            return "L1 exit status 0x%x (L1 wrote %d)" % (self.status, self.status >> 1)
        if self.outcome == "failure":
            return "L0 ended the run: " + self.detail
        if self.outcome == "loader-error":
            return "loader error: " + self.detail
        return "no end marker (%s)" % self.detail


def ascii_clean(text):
    """Serial text without terminal escape sequences and carriage returns."""
    text = re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", text)
    return text.replace("\r", "")


def classify(serial, finished_reason):
    m = LOADER_ERROR.search(serial)
    if m:
        return "loader-error", m.group(1).strip(), None
    m = END_STATUS.search(serial)
    if m:
        return "status", "", int(m.group(1), 16)
    m = END_FAILURE.search(serial)
    if m:
        return "failure", m.group(1).strip(), None
    return "timeout", finished_reason, None


def config_text(l1_esp, cmdline="", extra=()):
    lines = ["# written by tools/nvrun.py", "l1 = " + l1_esp]
    if cmdline:
        lines.append("cmdline = " + cmdline)
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def esp_path(name):
    return "\\%s\\%s" % (ESP_DIR, name)


def make_esp(image, files, size_kib=32768):
    """files: {esp path with backslashes: host path or bytes}."""
    if os.path.exists(image):
        os.unlink(image)
    subprocess.run(["mkfs.vfat", "-C", "-n", "NESTVISOR", image, str(size_kib)],
                   check=True, stdout=subprocess.DEVNULL)
    made = set()
    staging = os.path.dirname(image)
    for i, (dest, src) in enumerate(sorted(files.items())):
        parts = dest.strip("\\").split("\\")
        for depth in range(1, len(parts)):
            d = "/".join(parts[:depth])
            if d not in made:
                subprocess.run(["mmd", "-i", image, "::/" + d], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                made.add(d)
        if isinstance(src, (bytes, str)) and not (isinstance(src, str) and os.path.exists(src)):
            data = src.encode() if isinstance(src, str) else src
            src = os.path.join(staging, "esp-file-%d" % i)
            with open(src, "wb") as f:
                f.write(data)
        subprocess.run(["mcopy", "-o", "-i", image, src, "::/" + "/".join(parts)], check=True)


def esp_files(build, l1=None, cmdline="", cfg_extra=(), cfg_text=None, modules=(), files=None,
              omit=(), l1_name=None):
    """What goes on the ESP: {esp path: host path or bytes}."""
    build = os.path.abspath(build)
    esp = {"\\EFI\\BOOT\\BOOTX64.EFI": os.path.join(build, "BOOTX64.EFI"),
           esp_path("core.elf"): os.path.join(build, "core.elf")}
    extra = list(cfg_extra)
    for host, args in modules:
        dest = esp_path(os.path.basename(host))
        esp[dest] = host
        extra.append("module = %s%s" % (dest, " " + args if args else ""))
    l1_dest = None
    if l1:
        l1_dest = esp_path(l1_name or os.path.basename(l1))
        esp[l1_dest] = l1
    esp[esp_path("nestvisor.cfg")] = (cfg_text if cfg_text is not None
                                      else config_text(l1_dest, cmdline, extra))
    esp.update(files or {})
    for o in omit:
        esp.pop(o, None)
    return esp


def write_dir(esp, outdir):
    """Copy the ESP files into a directory (a mounted FAT partition, for example)."""
    for dest, src in esp.items():
        path = os.path.join(outdir, *dest.strip("\\").split("\\"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(src, str) and os.path.exists(src):
            shutil.copyfile(src, path)
        else:
            with open(path, "wb") as f:
                f.write(src.encode() if isinstance(src, str) else src)


def bochs_config(workdir, megs, cpu, rom_lines, disk_lines):
    """A Bochs configuration (PLATFORM.md's working set) around firmware and disks."""
    return "\n".join([
        "megs: %d" % megs,
        "cpu: model=%s, count=1, ips=50000000" % cpu,
        *rom_lines,
        "pci: enabled=1, chipset=i440fx",
        "display_library: term",
        "com1: enabled=1, mode=file, dev=%s" % os.path.join(workdir, "serial.txt"),
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        *disk_lines,
        "clock: sync=none",
        "port_e9_hack: enabled=1",
        "log: %s" % os.path.join(workdir, "bochs.log"),
        "debug: action=ignore",
        "info: action=ignore",
        "",
    ])


def bochs_command(workdir, config):
    """Write the config and the debugger's "continue" script; the command to run."""
    rc = os.path.join(workdir, "bochsrc")
    cont = os.path.join(workdir, "bochs-continue")
    with open(rc, "w") as f:
        f.write(config)
    with open(cont, "w") as f:
        f.write("c\n")
    # The Debian build has the debugger compiled in: -rc feeds it "continue".
    # TERM: the term display needs it.
    return ["env", "TERM=xterm", "bochs", "-q", "-f", rc, "-rc", cont]


def watch(cmd, workdir, end_re, timeout, stream=None, grace=3.0):
    """Run an emulator, following workdir/serial.txt until end_re has been seen
    for `grace` seconds, the emulator exits, or `timeout` passes (then it is
    killed: Bochs ignores SIGTERM). Streams whole lines to `stream`.
    Returns (serial text, how the run ended, seconds)."""
    serial_path = os.path.join(workdir, "serial.txt")
    open(serial_path, "w").close()
    start = time.monotonic()
    with open(os.path.join(workdir, "emulator.out"), "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=workdir, start_new_session=True)
    ended = "time limit of %ds reached" % timeout
    seen, end_seen_at = 0, None
    while True:
        time.sleep(0.2)
        with open(serial_path, "rb") as f:
            text = ascii_clean(f.read().decode("latin-1"))
        if stream and len(text) > seen:
            cut = text.rfind("\n", seen) + 1  # whole lines only
            if cut > seen:
                stream.write(text[seen:cut])
                stream.flush()
                seen = cut
        if end_seen_at is None and end_re.search(text):
            end_seen_at = time.monotonic()
        if proc.poll() is not None:
            ended = "emulator exited with status %d" % proc.returncode
            break
        if end_seen_at is not None and time.monotonic() - end_seen_at > grace:
            ended = "stopped after the end marker"
            break
        if time.monotonic() - start > timeout:
            break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with open(serial_path, "rb") as f:
        text = ascii_clean(f.read().decode("latin-1"))
    if stream and len(text) > seen:
        stream.write(text[seen:] + ("" if text.endswith("\n") else "\n"))
        stream.flush()
    return text, ended, time.monotonic() - start


def emulator_command(emulator, workdir, image, megs, cpu):
    if emulator == "bochs":
        return bochs_command(workdir, bochs_config(
            workdir, megs, cpu, ["romimage: file=%s, address=0xffe00000" % OVMF,
                                 "vgaromimage: file=%s" % VGABIOS],
            ["ata0-master: type=disk, path=%s, mode=flat" % image, "boot: disk"]))
    qemu = ["qemu-system-x86_64", "-machine", "q35", "-m", str(megs), "-bios", OVMF,
            "-drive", "file=%s,format=raw" % image,
            "-serial", "file:" + os.path.join(workdir, "serial.txt"),
            "-display", "none", "-no-reboot", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    if emulator == "kvm":
        return qemu + ["-enable-kvm", "-cpu", "host"]
    return qemu + ["-cpu", "max"]


def kvm_has_vmx():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return " vmx" in f.read()
    except OSError:
        return False


def run(l1=None, build="build", emulator="bochs", cmdline="", cfg_extra=(), cfg_text=None,
        modules=(), files=None, omit=(), timeout=120, workdir=None, stream=None, megs=256,
        cpu=BOCHS_CPU, l1_name=None):
    """Boot once and return a RunResult.

    l1: host path of the L1 image (copied to \\nestvisor\\<l1_name or its name>).
    cfg_text: the whole nestvisor.cfg (overrides cmdline/cfg_extra); None = generated.
    modules: [(host path, args)] -> "module = \\nestvisor\\<name> args" lines.
    files: extra {esp path: host path or bytes}.  omit: esp paths to leave out.
    stream: a file to echo serial lines to as they arrive (None = quiet).
    """
    own_dir = workdir is None
    workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="nvrun-"))
    build = os.path.abspath(build)
    os.makedirs(workdir, exist_ok=True)
    esp = esp_files(build, l1, cmdline, cfg_extra, cfg_text, modules, files, omit, l1_name)
    image = os.path.join(workdir, "esp.img")
    make_esp(image, esp)

    cmd = emulator_command(emulator, workdir, image, megs, cpu)
    # After the end line L0 powers off; a loader error returns to the firmware,
    # which would go on booting: either way stop shortly after the marker.
    text, finished, elapsed = watch(cmd, workdir, END_ANY, timeout, stream)
    outcome, detail, status = classify(text, finished)
    result = RunResult(outcome, text, detail, status, elapsed, workdir)
    if own_dir and outcome != "timeout":
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="build directory (BOOTX64.EFI, core.elf)")
    ap.add_argument("--l1", required=True, help="L1 Multiboot image")
    ap.add_argument("--cmdline", default="", help="L1 command line")
    ap.add_argument("--cfg", action="append", default=[], metavar="KEY=VALUE",
                    help="extra nestvisor.cfg line (repeatable), e.g. l1_memory=64M")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[:ARGS]",
                    help="Multiboot module (repeatable)")
    ap.add_argument("--emulator", choices=["bochs", "qemu", "kvm", "auto"], default="bochs",
                    help="bochs: Bochs + OVMF (VMX); qemu: QEMU TCG (no VMX); "
                         "kvm: QEMU/KVM on an Intel host with nested VMX; auto: kvm if usable")
    ap.add_argument("--cpu", default=BOCHS_CPU, help="Bochs CPU model")
    ap.add_argument("--megs", type=int, default=256, help="guest RAM in MiB")
    ap.add_argument("--timeout", type=int, default=180, help="hard time limit in seconds")
    ap.add_argument("--workdir", help="keep the ESP image, configs and logs here")
    ap.add_argument("--expect-status", type=lambda s: int(s, 0), default=1,
                    help="L1 exit status that counts as a pass (default 1: L1 wrote 0)")
    ap.add_argument("--quiet", action="store_true", help="do not stream the serial log")
    ap.add_argument("--write-image", metavar="FILE",
                    help="only write a FAT ESP disk image with everything (no boot)")
    ap.add_argument("--write-dir", metavar="DIR",
                    help="only copy the ESP files into DIR, e.g. a mounted USB stick (no boot)")
    args = ap.parse_args()

    emulator = args.emulator
    if emulator == "auto":
        emulator = "kvm" if kvm_has_vmx() else "bochs"
    mods = []
    for m in args.module:
        path, _, margs = m.partition(":")
        mods.append((path, margs))
    extra = [("%s = %s" % tuple(kv.split("=", 1))) if "=" in kv else kv for kv in args.cfg]
    if args.write_image or args.write_dir:
        esp = esp_files(args.build, args.l1, args.cmdline, extra, None, mods)
        if args.write_image:
            make_esp(os.path.abspath(args.write_image), esp)
            print("nvrun: wrote %s" % args.write_image)
        if args.write_dir:
            write_dir(esp, args.write_dir)
            print("nvrun: wrote the ESP files under %s" % args.write_dir)
        return 0
    print("nvrun: booting %s under %s (time limit %ds)" % (args.l1, emulator, args.timeout),
          flush=True)
    r = run(l1=args.l1, build=args.build, emulator=emulator, cmdline=args.cmdline,
            cfg_extra=extra, modules=mods, timeout=args.timeout, workdir=args.workdir,
            stream=None if args.quiet else sys.stdout, megs=args.megs, cpu=args.cpu)
    print("nvrun: %s after %.1fs" % (r.describe(), r.elapsed))
    if r.workdir:
        print("nvrun: logs in %s" % r.workdir)
    if r.outcome == "status":
        return EXIT_PASS if r.status == args.expect_status else EXIT_STATUS_MISMATCH
    return {"loader-error": EXIT_LOADER_ERROR, "failure": EXIT_L0_FAILURE}.get(r.outcome, EXIT_NO_END)


if __name__ == "__main__":
    sys.exit(main())
