# SPDX-License-Identifier: MIT
"""make compare-kvm's table (tools/compare_kvm.py, tools/compare.py --names) on two
real result files: exitbench under nestvisor and under Linux 6.1's KVM, both in
Bochs (tests/tools/fixtures/compare-kvm-*; README, "Compared with KVM")."""

import glob
import json
import os
import re
import tempfile
import unittest

from toolstest import fixture, run_tool

import compare
import compare_kvm
import report

NESTVISOR = fixture("compare-kvm-nestvisor.json")
KVM = fixture("compare-kvm-kvm.json")
KVM_SERIAL = fixture("compare-kvm-serial.txt")


def line_of(text, kind, op, handler):
    """The cells after (kind, op, handler) of that table row."""
    m = re.search(r"(?m)^%s +%s +%s +(.*)$" % (re.escape(kind), re.escape(op),
                                               re.escape(handler)), text)
    return m.group(1).split() if m else None


def median(doc, kind, op, handler):
    return next(r["median"] for r in doc["results"]
                if (r["kind"], r["op"], r["handler"]) == (kind, op, handler))


class CompareKvmTableTest(unittest.TestCase):
    def setUp(self):
        self.nv, self.kvm = compare.load(NESTVISOR), compare.load(KVM)
        self.text = compare.comparison(self.nv, NESTVISOR, self.kvm, KVM,
                                       names=("nestvisor", "KVM"))

    def test_the_fixtures_are_what_they_claim(self):
        self.assertEqual(self.nv["configuration"]["l0_name"], "nestvisor")
        self.assertEqual(self.kvm["configuration"]["l0_name"], compare_kvm.KVM_L0)
        self.assertIsNone(self.kvm["configuration"]["l0"])
        for doc in (self.nv, self.kvm):
            self.assertEqual(doc["platform"]["unit"], "instructions")
            self.assertTrue(doc["complete"])
            self.assertEqual(report.failed(doc), [])

    def test_columns_are_named_after_the_two_l0s(self):
        head = next(l for l in self.text.splitlines() if l.startswith("kind"))
        self.assertEqual(head.split()[3:], ["nestvisor", "median", "KVM", "median", "KVM/nestvisor",
                                            "nestvisor", "L0", "ticks", "KVM", "L0", "ticks",
                                            "KVM/nestvisor", "nestvisor", "L0", "exits", "KVM",
                                            "L0", "exits"])
        self.assertIn("differs: L0: nestvisor -> KVM (Linux 6.1, Debian) on Bochs", self.text)
        # KVM has none of nestvisor's switches: not differences between the two L0s.
        self.assertNotIn("differs: vmcs_shadowing", self.text)
        self.assertNotIn("differs: accounting", self.text)
        self.assertIn("KVM/nestvisor > 1: KVM costs more", self.text)

    def test_each_operation_side_by_side_with_its_ratio(self):
        for key in [("l1", "cpuid", "-"), ("l2-reflected", "cpuid", "realistic"),
                    ("l2-reflected", "vmread", "minimal"), ("l2-absorbed", "io", "-")]:
            nv, kvm = median(self.nv, *key), median(self.kvm, *key)
            cells = line_of(self.text, *key)
            self.assertEqual(cells[:3], [report.fmt(nv), report.fmt(kvm), "%.2f" % (kvm / nv)],
                             key)
            # KVM has no nestvisor accounting: its L0 columns are '-'.
            self.assertEqual(cells[4], "-", key)
            self.assertEqual(cells[5], "-", key)
            self.assertEqual(cells[7], "-", key)

    def test_measured_figures(self):
        # The real runs of the README's table (Bochs instructions).
        self.assertEqual(line_of(self.text, "l2-reflected", "cpuid", "realistic")[:3],
                         ["1146", "13310", "11.61"])
        self.assertEqual(line_of(self.text, "l1", "cpuid", "-")[:3], ["193", "964", "4.99"])

    def test_nestvisor_only_operations_are_marked(self):
        self.assertEqual(line_of(self.text, "l1", "hypercall", "-"),
                         ["236", "-", "only", "in", "nestvisor"])


class CompareKvmToolTest(unittest.TestCase):
    def test_saved_kvm_log_is_reported_and_compared(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = run_tool(["tools/compare_kvm.py", "--kvm-log", KVM_SERIAL, "--nestvisor", NESTVISOR,
                          "--results", tmp, "--no-chart", "--build", tmp])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            written = glob.glob(os.path.join(tmp, "*.json"))
            self.assertEqual(len(written), 1)
            with open(written[0]) as f:
                doc = json.load(f)
        self.assertEqual(doc["configuration"]["l0_name"], "KVM (Linux 6.1, Debian) on Bochs")
        self.assertEqual(doc["platform"]["name"], "bochs")
        self.assertEqual(doc["configuration"]["seen_by_l1"]["name"], "KVMKVMKVM")
        with open(KVM) as f:
            kept = json.load(f)
        self.assertEqual([(report.row_key(r), r["median"]) for r in doc["results"]],
                         [(report.row_key(r), r["median"]) for r in kept["results"]])
        self.assertIn("L0: KVM (Linux 6.1, Debian) on Bochs", p.stdout)
        self.assertIn("KVM/nestvisor", p.stdout)

    def test_bench_script_runs_exitbench_under_mbload(self):
        script = compare_kvm.bench_run_script("exitbench.elf", "ops=cpuid,io  n=50")
        self.assertTrue(script.startswith("#!/bin/sh\n"))
        self.assertIn("exec /mbload -t %d /bench/exitbench.elf ops=cpuid,io n=50\n"
                      % compare_kvm.MBLOAD_TIME_LIMIT_S, script)


if __name__ == "__main__":
    unittest.main()
