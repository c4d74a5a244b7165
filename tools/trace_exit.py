#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where one benchmark operation's instructions go: an exact listing from Bochs.

Boots the benchmark L1 (guests/exitbench) under nestvisor in Bochs with one
operation of one kind, n=1, and exitbench's trace=1: a magic breakpoint
(XCHG BX, BX) just before and just after the timed loop, between which
Bochs' debugger traces every retired instruction. The trace is symbolized
with L0's core.elf and exitbench's ELF and summed per function, in path
order; --listing writes every instruction with its function and offset.

The window is the timed loop of one sample: the operation's round trip
(what exitbench reports, with its timestamp pair) plus the loop's own few
instructions. Under Bochs one tick is one instruction, so the counts are
exact and two runs print the same.

    tools/trace_exit.py --op cpuid --kind l2-reflected --handler realistic \\
        --cfg accounting=off --listing trace.txt

`make trace` runs it with make run's variables (README, "Where the
instructions go").
"""

import argparse
import bisect
import collections
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nvrun  # noqa: E402

# A traced instruction: "(0).[716102053] [0x000000105e28] 0018:0000000000105e28 (unk. ctxt): cpuid ; 0fa2"
TRACE_LINE = re.compile(r"^\(\d+\)\.\[(\d+)\] \[0x[0-9a-f]+\] [0-9a-f]+:([0-9a-f]+) "
                        r"\(unk\. ctxt\): (.*?)\s*;\s*[0-9a-f]*$")


class Symbols:
    """Function symbols of one ELF: name+offset of an address."""

    def __init__(self, elf):
        out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True, check=True).stdout
        syms = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
        self.syms = self.dedupe(syms)
        self.addrs = [a for a, _ in self.syms]

    @staticmethod
    def dedupe(syms):
        """One name per address: a function's rather than a range marker's
        (vmx_exit_stubs_start shares vmx_exit_stub_l1's address)."""
        best = {}
        for addr, name in syms:
            marker = name.endswith("_start") or name.endswith("_end")
            if addr not in best or (best[addr][1] and not marker):
                best[addr] = (name, marker)
        return sorted((addr, name) for addr, (name, _) in best.items())

    def lookup(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return "0x%x" % addr, 0
        return self.syms[i][1], addr - self.syms[i][0]


def parse(text):
    """[(tick, linear address, instruction)] of a Bochs trace."""
    out = []
    for line in text.splitlines():
        m = TRACE_LINE.match(line)
        if m:
            out.append((int(m.group(1)), int(m.group(2), 16), m.group(3)))
    return out


def summarize(trace, l0, guest, l0_base):
    """(rows, listing): rows = [(level, function, count)] in order of first
    appearance; listing = one line per instruction. An address at or above
    l0_base is L0's (core.elf is linked in the top 2 GiB)."""
    counts = collections.OrderedDict()
    listing = []
    exits = 0
    prev_level = None
    for tick, addr, insn in trace:
        level = "L0" if addr >= l0_base else "guest"
        fn, off = (l0 if level == "L0" else guest).lookup(addr)
        if level == "L0" and prev_level == "guest":
            exits += 1
        prev_level = level
        counts[(level, fn)] = counts.get((level, fn), 0) + 1
        listing.append("%d %-5s %-40s %s" % (tick, level, "%s+%d" % (fn, off), insn))
    rows = [(level, fn, n) for (level, fn), n in counts.items()]
    return rows, listing, exits


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--op", default="cpuid", help="one exitbench operation")
    ap.add_argument("--kind", default="l1", help="l1, l2-reflected or l2-absorbed")
    ap.add_argument("--handler", default="realistic", help="realistic or minimal (l2-reflected)")
    ap.add_argument("--cfg", action="append", default=[], metavar="KEY=VALUE",
                    help="nestvisor.cfg setting (e.g. accounting=off, vmcs_shadowing=off)")
    ap.add_argument("--cpu", default=nvrun.BOCHS_CPU, help="Bochs CPU model")
    ap.add_argument("--listing", metavar="FILE", help="write every traced instruction here")
    ap.add_argument("--workdir", help="keep the run's files here")
    ap.add_argument("--timeout", type=int, default=180)
    args = ap.parse_args()

    l1 = os.path.join(args.build, "guests", "exitbench.elf")
    l1_syms = os.path.join(args.build, "guest-obj64", "guests", "exitbench.elf64")
    core = os.path.join(args.build, "core.elf")
    missing = nvrun.missing_inputs(args.build, l1, []) + \
        [(p, w) for p, w in ((l1_syms, "exitbench's symbols"),) if not os.path.isfile(p)]
    if missing:
        nvrun.say_missing(missing, args.build)
        return 2
    cmdline = "ops=%s kinds=%s handlers=%s n=1 warmup=10 trace=1" % (args.op, args.kind,
                                                                      args.handler)
    workdir = args.workdir or os.path.join(args.build, "trace")
    result = nvrun.run(l1, build=args.build, cmdline=cmdline, cfg_extra=args.cfg,
                       timeout=args.timeout, workdir=workdir, cpu=args.cpu, bochs_trace=True)
    if result.outcome != "status":
        sys.stderr.write("trace_exit: the run did not end normally: %s %s (logs in %s)\n"
                         % (result.outcome, result.detail, workdir))
        return 1
    with open(os.path.join(workdir, "emulator.out"), errors="replace") as f:
        trace = parse(f.read())
    if not trace:
        sys.stderr.write("trace_exit: no traced instructions in %s/emulator.out (did exitbench "
                         "measure %s %s? see serial.txt)\n" % (workdir, args.kind, args.op))
        return 1
    l0 = Symbols(core)
    l0_base = min(a for a in l0.addrs if a >= 1 << 63)  # core.elf: the top 2 GiB
    rows, listing, exits = summarize(trace, l0, Symbols(l1_syms), l0_base)
    result_line = re.search(r"exitbench: result kind=%s op=%s .*" % (re.escape(args.kind),
                                                                     re.escape(args.op)),
                            result.serial)
    print("trace: kind=%s op=%s handler=%s cfg=%s" % (args.kind, args.op,
                                                      args.handler if args.kind == "l2-reflected"
                                                      else "-", ",".join(args.cfg) or "default"))
    if result_line:
        print("  " + result_line.group(0))
    l0_total = sum(n for level, _, n in rows if level == "L0")
    print("  traced window: %d instructions, %d of them L0's, %d L0 exits" %
          (len(trace), l0_total, exits))
    print("  %-6s %-36s %s" % ("level", "function (in path order)", "instructions"))
    for level, fn, n in rows:
        print("  %-6s %-36s %6d" % (level, fn, n))
    if args.listing:
        with open(args.listing, "w") as f:
            f.write("\n".join(listing) + "\n")
        print("  listing: %s" % args.listing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
