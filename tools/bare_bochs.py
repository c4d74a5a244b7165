#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a Multiboot kernel in Bochs WITHOUT nestvisor: the reference run.

The kernel runs directly on Bochs' emulated CPU (with its own VMX), so what it
observes is the architecture as Bochs implements it, not nestvisor's emulation.
Boot path: the legacy Bochs BIOS starts GRUB from an ATAPI CD made with
grub-mkrescue; GRUB's grub.cfg loads the kernel with `multiboot`, each --module
with `module` (with its arguments, as nvrun.py gives them), and `boot`s it.
The kernel ends the run by writing "Shutdown" to port 0x8900 (guest_exit in
tests/guest/lib/serial.c), which makes Bochs exit.

With --linux-initrd, the kernel is a Linux bzImage instead (GRUB's `linux` and
`initrd`): the Linux/KVM L1 image of `make linux-image` without nestvisor, whose
result line is kvmtest's "kvmtest: done passed=N failed=N" (README, "Linux/KVM as L1").

The serial log (COM1) is streamed and kept; the result is the last
"SUMMARY: N tests, N failures" line. Exit status: 0 iff a SUMMARY line with
0 failures appeared, 1 if it reported failures, 2 if there was none (time
limit, crash, or the kernel never got that far), 3 if the boot media could not
be made.

Needs the Debian packages bochs, bochs-term, bochsbios, vgabios, grub-pc-bin,
grub-common, xorriso and mtools. Standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nvrun  # noqa: E402  (shared Bochs configuration and run loop)

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = nvrun.VGABIOS
BOCHS_CPU = nvrun.BOCHS_CPU  # the same CPU nestvisor runs on
SUMMARY = re.compile(r"SUMMARY: (\d+) tests, (\d+) failures")
# A Linux run's summary: kvmtest's last line (guests/linux/kvmtest.c).
LINUX_SUMMARY = re.compile(r"kvmtest: done passed=(\d+) failed=(\d+)")
# After the SUMMARY line, give the kernel this long to power Bochs off itself.
SHUTDOWN_GRACE_S = 3.0

EXIT_PASS, EXIT_FAILURES, EXIT_NO_SUMMARY, EXIT_SETUP = range(4)


def grub_line(command, name, args):
    """A GRUB `multiboot` or `module` line for /boot/<name> with its arguments.
    GRUB 2 gives a Multiboot v1 kernel or module only the words after the file
    name; QEMU and nestvisor pass "<path> <args>". Repeating the path makes GRUB's
    string the same "/boot/<name> <args>"."""
    path = "/boot/" + name
    return "%s %s %s%s" % (command, path, path, " " + args if args else "")


def grub_cfg(kernel_name, cmdline, modules=(), linux=False):
    """grub.cfg booting the kernel with its modules: [(file name, args)]. linux: a
    Linux bzImage (`linux` with the command line, the modules as its `initrd`s,
    which the kernel unpacks one after the other)."""
    # Top-level commands, no menu: GRUB runs them as soon as it has read the file.
    if linux:
        lines = ["set timeout=0", "linux /boot/%s %s" % (kernel_name, cmdline)]
        if modules:  # GRUB concatenates several initrds into one
            lines.append("initrd " + " ".join("/boot/%s" % name for name, _ in modules))
        return "\n".join(lines + ["boot", ""])
    lines = ["set timeout=0", grub_line("multiboot", kernel_name, cmdline)]
    lines += [grub_line("module", name, args) for name, args in modules]
    return "\n".join(lines + ["boot", ""])


def make_tree(kernel, cmdline, tree, modules=(), linux=False):
    """The CD's files: /boot/<kernel>, /boot/<module>... and /boot/grub/grub.cfg.
    modules: [(host path, args)]."""
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.join(tree, "boot", "grub"))
    for path in [kernel] + [m for m, _ in modules]:
        shutil.copyfile(path, os.path.join(tree, "boot", os.path.basename(path)))
    with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(grub_cfg(os.path.basename(kernel), cmdline,
                         [(os.path.basename(m), args) for m, args in modules], linux))


def make_iso(kernel, cmdline, workdir, modules=(), linux=False):
    """A GRUB (i386-pc) rescue CD holding the kernel and its modules; returns its path."""
    tree = os.path.join(workdir, "iso")
    make_tree(kernel, cmdline, tree, modules, linux)
    iso = os.path.join(workdir, "boot.iso")
    r = subprocess.run(["grub-mkrescue", "-o", iso, tree], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode != 0 or not os.path.exists(iso):
        raise RuntimeError("grub-mkrescue failed:\n" + r.stdout.decode(errors="replace"))
    return iso


def bochs_config(workdir, iso, megs, cpu, cpu_options=()):
    return nvrun.bochs_config(
        workdir, megs, cpu, ["romimage: file=%s" % BIOS, "vgaromimage: file=%s" % VGABIOS],
        ["ata0-slave: type=cdrom, path=%s, status=inserted" % iso, "boot: cdrom"], cpu_options)


def missing_tools():
    need = ["bochs", "grub-mkrescue", "xorriso", "mformat"]
    gone = [t for t in need if shutil.which(t) is None]
    gone += [p for p in (BIOS, VGABIOS, "/usr/lib/grub/i386-pc") if not os.path.exists(p)]
    return gone


def run(kernel, cmdline="", timeout=300, workdir=None, stream=sys.stdout, megs=256,
        cpu=BOCHS_CPU, modules=(), cpu_options=(), linux=False):
    """Boot once; returns (exit status, serial text, how the run ended).
    modules: [(host path, args)]; cpu_options: extra KEY=VALUE of the cpu: line;
    linux: the kernel is a Linux bzImage and the modules its initrds."""
    workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="bare-bochs-"))
    os.makedirs(workdir, exist_ok=True)
    iso = make_iso(kernel, cmdline, workdir, modules, linux)
    cmd = nvrun.bochs_command(workdir, bochs_config(workdir, iso, megs, cpu, cpu_options))
    summary = LINUX_SUMMARY if linux else SUMMARY
    # After the SUMMARY line the kernel powers Bochs off itself (port 0x8900); Linux
    # tries its own power-off, and the grace period ends Bochs if that does nothing.
    texts, ended, elapsed = nvrun.watch(cmd, workdir, summary, timeout,
                                        nvrun.raw_printer(stream) if stream else None,
                                        grace=SHUTDOWN_GRACE_S)
    text = texts["COM1"]
    sums = summary.findall(text)
    if not sums:
        status = EXIT_NO_SUMMARY
    else:
        status = EXIT_PASS if int(sums[-1][1]) == 0 else EXIT_FAILURES
    return status, text, "%s after %.1fs (workdir %s)" % (ended, elapsed, workdir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kernel", help="Multiboot v1 ELF32 kernel")
    ap.add_argument("--cmdline", default="", help="kernel arguments (after its path)")
    ap.add_argument("--timeout", type=float, default=300, help="hard time limit in seconds")
    ap.add_argument("--workdir", help="keep the ISO, bochsrc and logs here (default: a new "
                                      "temporary directory, removed after a passing run)")
    ap.add_argument("--cpu", default=BOCHS_CPU, help="Bochs CPU model")
    ap.add_argument("--cpu-option", action="append", default=[], type=nvrun.cpu_option,
                    metavar="KEY=VALUE",
                    help="extra option of Bochs' cpu: line (repeatable), e.g. ignore_bad_msrs=1")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[:ARGS]",
                    help="Multiboot module with its arguments (repeatable), as in nvrun.py")
    ap.add_argument("--megs", type=int, default=256, help="guest RAM in MiB")
    ap.add_argument("--quiet", action="store_true", help="do not stream the serial log")
    ap.add_argument("--linux-initrd", metavar="FILE",
                    help="the kernel is a Linux bzImage booted with this initrd (GRUB's linux "
                         "and initrd; each --module is one more initrd); --cmdline is its "
                         "command line")
    args = ap.parse_args()

    gone = missing_tools()
    if gone:
        print("bare_bochs: missing: %s (apt-get install bochs bochs-term bochsbios vgabios "
              "grub-pc-bin grub-common xorriso mtools)" % ", ".join(gone), file=sys.stderr)
        return EXIT_SETUP
    modules = [(path, margs) for path, _, margs in (m.partition(":") for m in args.module)]
    if args.linux_initrd:
        modules = [(args.linux_initrd, "")] + modules
    for path, what in [(args.kernel, "kernel")] + [(m, "module") for m, _ in modules]:
        if not os.path.isfile(path):
            print("bare_bochs: no such %s: %s" % (what, path), file=sys.stderr)
            return EXIT_SETUP
    own_dir = args.workdir is None
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="bare-bochs-"))
    try:
        status, text, ended = run(args.kernel, args.cmdline, args.timeout, workdir,
                                  None if args.quiet else sys.stdout, args.megs, args.cpu,
                                  modules, args.cpu_option, bool(args.linux_initrd))
    except RuntimeError as e:
        print("bare_bochs: %s" % e, file=sys.stderr)
        return EXIT_SETUP
    sums = (LINUX_SUMMARY if args.linux_initrd else SUMMARY).findall(text)
    print("bare_bochs: %s" % ended)
    if sums and args.linux_initrd:
        print("bare_bochs: kvmtest: %s passed, %s failed" % sums[-1])
    elif sums:
        print("bare_bochs: SUMMARY: %s tests, %s failures" % sums[-1])
    else:
        print("bare_bochs: no SUMMARY line")
    if own_dir and status == EXIT_PASS:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
