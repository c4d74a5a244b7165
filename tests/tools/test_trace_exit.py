# SPDX-License-Identifier: MIT
"""tools/trace_exit.py on a real Bochs trace (an L1 CPUID round trip under
nestvisor, fixtures/bochs-trace-l1-cpuid.txt), and the runner's traced-run
configuration."""

import os
import tempfile
import unittest

from toolstest import read_fixture

import nvrun
import trace_exit


class FakeSymbols(trace_exit.Symbols):
    """A symbol table from (address, name) pairs instead of an ELF's nm."""

    def __init__(self, syms):  # pylint: disable=super-init-not-called
        self.syms = sorted(syms)
        self.addrs = [a for a, _ in self.syms]


L0 = FakeSymbols([(0xffffffff80000000, "core_entry"), (0xffffffff8000f600, "vmx_l1_exit"),
                  (0xffffffff8000fe00, "handle_cpuid"), (0xffffffff80017700, "vmx_exit_stub_l1")])
GUEST = FakeSymbols([(0x100000, "start"), (0x105e00, "eb_l1_cpuid")])


class TraceExitTest(unittest.TestCase):
    def setUp(self):
        self.trace = trace_exit.parse(read_fixture("bochs-trace-l1-cpuid.txt"))

    def test_parse_keeps_only_traced_instructions(self):
        # The debugger's own "Next at" lines and the magic breakpoint are not instructions.
        self.assertEqual(len(self.trace), 101)
        self.assertEqual(self.trace[0], (716433793, 0x1006fd, "ret"))
        self.assertEqual(self.trace[5][2], "cpuid")
        ticks = [t for t, _, _ in self.trace[1:]]
        self.assertEqual(ticks, list(range(ticks[0], ticks[0] + len(ticks))))

    def test_summary_counts_levels_exits_and_functions(self):
        rows, listing, exits = trace_exit.summarize(self.trace, L0, GUEST, 0xffffffff80000000)
        self.assertEqual(exits, 1)
        self.assertEqual(len(listing), len(self.trace))
        by_name = {(level, fn): n for level, fn, n in rows}
        # The CPUID exit: everything from the stub's first push to VMRESUME is L0's.
        l0 = sum(n for (level, _), n in by_name.items() if level == "L0")
        first_l0 = next(i for i, (_, a, _) in enumerate(self.trace) if a >= 0xffffffff80000000)
        resume = next(i for i, (_, _, insn) in enumerate(self.trace) if insn == "vmresume")
        self.assertEqual(l0, resume - first_l0 + 1)
        self.assertEqual(self.trace[first_l0 - 1][2], "cpuid")
        self.assertIn(("L0", "handle_cpuid"), by_name)
        self.assertIn(("guest", "eb_l1_cpuid"), by_name)
        # Path order: the guest's function, then the stub, then the dispatcher.
        order = [fn for _, fn, _ in rows]
        self.assertLess(order.index("eb_l1_cpuid"), order.index("vmx_exit_stub_l1"))
        self.assertLess(order.index("vmx_exit_stub_l1"), order.index("vmx_l1_exit"))
        self.assertTrue(any(" handle_cpuid+" in line for line in listing))

    def test_lookup_prefers_the_function_to_a_range_marker(self):
        syms = FakeSymbols([(0x1000, "vmx_exit_stub_l1"), (0x1000, "vmx_exit_stubs_start")])
        syms.syms = trace_exit.Symbols.dedupe(syms.syms)
        syms.addrs = [a for a, _ in syms.syms]
        self.assertEqual(syms.lookup(0x1004), ("vmx_exit_stub_l1", 4))

    def test_traced_bochs_run_has_magic_breakpoints_and_the_trace_script(self):
        with tempfile.TemporaryDirectory() as d:
            cmd = nvrun.emulator_command("bochs", d, os.path.join(d, "esp.img"), 256,
                                         nvrun.BOCHS_CPU, bochs_trace=True)
            with open(os.path.join(d, "bochsrc")) as f:
                self.assertIn("magic_break: enabled=1", f.read())
            with open(cmd[cmd.index("-rc") + 1]) as f:
                self.assertEqual(f.read(), "c\ntrace on\nc\ntrace off\nc\n")
            nvrun.emulator_command("bochs", d, os.path.join(d, "esp.img"), 256, nvrun.BOCHS_CPU)
            with open(os.path.join(d, "bochsrc")) as f:
                self.assertNotIn("magic_break", f.read())


if __name__ == "__main__":
    unittest.main()
