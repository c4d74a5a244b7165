#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The benchmark L1 under KVM as L0, side by side with nestvisor (make compare-kvm).

1. KVM: Debian's Linux 6.1 (make linux-image) boots directly on Bochs, without
   nestvisor (GRUB, the bzImage, tools/bare_bochs.py), loads kvm_intel nested=1,
   and /mbload (guests/linux/mbload.c) runs exitbench as a KVM guest, started
   as nestvisor starts its L1, with the same exitbench command line. A second
   initrd made here brings /bench/run and /bench/exitbench.elf. The serial log
   becomes a results file (tools/report.py; platform bochs, L0 "KVM (Linux 6.1,
   Debian) on Bochs").
2. nestvisor: tools/nvrun.py with the options after `--` (make run's), or the
   results file given with --nestvisor.
3. One table: both runs per operation and the ratio KVM/nestvisor
   (tools/compare.py).

    python3 tools/compare_kvm.py [--cmdline 'n=1000'] [--nestvisor R.json] [-- NVRUN OPTIONS]

Exit status: 0 both runs reported; 1 a run is incomplete or has failed checks
(the files and the table are still written); 2 a run could not be made or
reported.
"""

import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bare_bochs  # noqa: E402  (the GRUB CD and the bare Bochs configuration)
import compare  # noqa: E402
import nvrun  # noqa: E402
import report  # noqa: E402

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TOOLS_DIR)
KVM_L0 = "KVM (Linux 6.1, Debian) on Bochs"
# mbload's last line (guests/linux/mbload.c): the guest ended, one way or another.
MBLOAD_END = re.compile(r"mbload: end: (.*)")
MBLOAD_TIME_LIMIT_S = 3000
GRACE_S = 2.0
WROTE_JSON = re.compile(r"^wrote (.*\.json)$", re.M)


def bench_run_script(elf_name, cmdline):
    """/bench/run: exitbench under /mbload, its command line word by word."""
    args = " ".join(shlex.quote(w) for w in cmdline.split())
    return ("#!/bin/sh\n"
            "# Written by tools/compare_kvm.py: exitbench as a KVM guest (guests/linux/mbload.c).\n"
            "exec /mbload -t %d /bench/%s %s\n" % (MBLOAD_TIME_LIMIT_S, elf_name, args))


def make_bench_cpio(workdir, elf, cmdline):
    """The second initrd: /bench/run and /bench/<exitbench>; returns its path."""
    root = os.path.join(workdir, "bench-root")
    bench = os.path.join(root, "bench")
    os.makedirs(bench, exist_ok=True)
    name = os.path.basename(elf)
    with open(elf, "rb") as src, open(os.path.join(bench, name), "wb") as dst:
        dst.write(src.read())
    run = os.path.join(bench, "run")
    with open(run, "w") as f:
        f.write(bench_run_script(name, cmdline))
    os.chmod(run, 0o755)
    cpio = os.path.join(workdir, "bench.cpio")
    subprocess.run([sys.executable, os.path.join(REPO, "guests", "linux", "mkcpio.py"), root, cpio],
                   check=True)
    return cpio


class KvmProgress(nvrun.Progress):
    """Where the KVM run is: GRUB and the kernel's decompression, Linux, the
    modules, exitbench under mbload, each benchmark."""

    STAGES = (("Linux", re.compile(r"Linux version")),
              ("init", re.compile(r"init: up after")),
              ("kvm_intel loaded", re.compile(r"init: kvm_intel ")),
              ("L1 started (exitbench under mbload)", re.compile(r"exitbench: start ")))

    def __init__(self, out, clock=time.monotonic):
        super().__init__(out, clock)

    def say(self, what):
        if what == "firmware":
            what = "BIOS, GRUB, the kernel decompressing itself"
        self.out.write("compare-kvm: [%6.1fs] %s\n" % (self.clock() - self.start, what))
        self.out.flush()

    def __call__(self, log, line):
        super().__call__(log, line)
        if line.startswith("mbload:"):
            self.say(line)


def kernel_image(linux_dir):
    """The bzImage make linux-image unpacked: build/linux/kernel/boot/vmlinuz-*."""
    found = sorted(glob.glob(os.path.join(linux_dir, "kernel", "boot", "vmlinuz-*")))
    return found[-1] if found else None


def run_kvm(args):
    """Boot Linux/KVM on bare Bochs with exitbench under mbload; the COM1 text."""
    linux = os.path.join(args.build, "linux")
    elf = os.path.join(args.build, "guests", "exitbench.elf")
    bz, initramfs = kernel_image(linux), os.path.join(linux, "initramfs.cpio")
    for path, what in ((elf, "exitbench (make)"), (bz, "the bzImage (make linux-image)"),
                       (initramfs, "the initramfs (make linux-image)")):
        if not path or not os.path.isfile(path):
            raise RuntimeError("no %s: %s" % (what, path or linux + "/kernel/boot/vmlinuz-*"))
    gone = bare_bochs.missing_tools()
    if gone:
        raise RuntimeError("missing: %s (make deps)" % ", ".join(gone))
    with open(os.path.join(REPO, "guests", "linux", "cmdline")) as f:
        kernel_cmdline = f.read().strip()
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    bench = make_bench_cpio(workdir, elf, args.cmdline)
    iso = bare_bochs.make_iso(bz, kernel_cmdline, workdir, [(initramfs, ""), (bench, "")],
                              linux=True)
    cmd = nvrun.bochs_command(workdir, bare_bochs.bochs_config(workdir, iso, args.megs, args.cpu))
    print("compare-kvm: KVM as L0: %s with %s + %s on bare Bochs (%s, %d MiB); exitbench "
          "cmdline '%s'" % (os.path.basename(bz), os.path.basename(initramfs),
                            os.path.relpath(bench), args.cpu, args.megs, args.cmdline))
    on_line = nvrun.each(nvrun.raw_printer(sys.stdout) if args.verbose else None,
                         KvmProgress(sys.stdout))
    texts, ended, elapsed = nvrun.watch(cmd, workdir, MBLOAD_END, args.timeout, on_line,
                                        grace=GRACE_S)
    print("compare-kvm: KVM run: %s after %.1fs (logs in %s)" % (ended, elapsed,
                                                                 os.path.relpath(workdir)))
    return texts["COM1"], "%s %s %s" % (os.path.basename(bz), args.cmdline, ended)


def report_kvm(args, com1):
    """The KVM run's results file; (document, path)."""
    command = "make compare-kvm (tools/compare_kvm.py --cmdline %s)" % shlex.quote(args.cmdline)
    doc, paths = report.report(com1, None, args.results, not args.no_chart, platform="bochs",
                               emulated_cpu=args.cpu, cpu_options=[], nestvisor_cfg=None,
                               command=command, l0_name=KVM_L0)
    return doc, paths[0]


def run_nestvisor(args):
    """make run's nvrun.py with the same exitbench command line; its results file."""
    cmd = [sys.executable, os.path.join(TOOLS_DIR, "nvrun.py"), "--build", args.build,
           "--l1", os.path.join(args.build, "guests", "exitbench.elf"),
           "--workdir", os.path.join(args.workdir, "nestvisor"), "--report", args.results]
    if args.cmdline:
        cmd += ["--cmdline", args.cmdline]
    cmd += args.nvrun
    print("compare-kvm: nestvisor as L0: %s" % shlex.join(cmd[1:]))
    sys.stdout.flush()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = []
    for line in proc.stdout:
        sys.stdout.write(line)
        out.append(line)
    proc.wait()
    found = WROTE_JSON.findall("".join(out))
    if not found:
        raise RuntimeError("the nestvisor run wrote no results file (nvrun.py exit status %d)"
                           % proc.returncode)
    return found[-1]


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the build directory (default build)")
    ap.add_argument("--results", default="results", help="where the result files go")
    ap.add_argument("--cmdline", default="", help="exitbench's command line (ops= kinds= "
                    "handlers= n=), the same for both runs")
    ap.add_argument("--workdir", default=None, help="logs and boot media (default "
                    "BUILD/compare-kvm)")
    ap.add_argument("--nestvisor", metavar="RESULTS.json",
                    help="compare with this nestvisor results file instead of running nestvisor")
    ap.add_argument("--kvm-log", metavar="SERIAL",
                    help="report this saved serial log of a KVM run instead of booting one")
    ap.add_argument("--cpu", default=nvrun.BOCHS_CPU, help="Bochs CPU model of the KVM run")
    ap.add_argument("--megs", type=int, default=1024, help="Bochs RAM of the KVM run, MiB")
    ap.add_argument("--timeout", type=float, default=900, help="time limit of the KVM run, s")
    ap.add_argument("--no-chart", action="store_true", help="no SVG charts")
    ap.add_argument("--verbose", action="store_true", help="stream the KVM run's serial log")
    ap.add_argument("nvrun", nargs="*", help="after --: more tools/nvrun.py options for the "
                    "nestvisor run (make run's)")
    args = ap.parse_args(argv)
    args.workdir = args.workdir or os.path.join(args.build, "compare-kvm")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.kvm_log:
            com1 = report.read_text(args.kvm_log)
        else:
            com1, _ = run_kvm(args)
        kvm_doc, kvm_path = report_kvm(args, com1)
        nv_path = args.nestvisor or run_nestvisor(args)
        nv_doc = compare.load(nv_path)
    except (OSError, RuntimeError, report.ReportError, compare.CompareError,
            subprocess.CalledProcessError) as e:
        print("compare-kvm: %s" % e, file=sys.stderr)
        return 2
    print()
    sys.stdout.write(compare.comparison(nv_doc, nv_path, kvm_doc, kvm_path,
                                        names=("nestvisor", "KVM")))
    bad = report.failed(kvm_doc) + report.failed(nv_doc)
    for why in bad:
        print("NOTE: %s" % why)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
