# SPDX-License-Identifier: MIT
"""tools/compare.py on result files made by report.py from the fixtures."""

import json
import os
import re
import tempfile
import unittest

from toolstest import read_fixture, run_tool

import compare
import report


def write_doc(directory, name, fixture_name, **meta):
    """Write the results document of a fixture run as directory/name; its path."""
    meta.setdefault("commit", "abc1234")
    meta.setdefault("platform", "bochs")
    doc = report.document(report.parse(read_fixture(fixture_name)), **meta)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def line_of(text, kind, op, handler):
    """The table line of one (kind, op, handler)."""
    m = re.search(r"(?m)^%s +%s +%s +(.*)$" % (re.escape(kind), re.escape(op),
                                               re.escape(handler)), text)
    return m.group(1).split() if m else None


class CompareTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.a = write_doc(self.dir, "on.json", "bochs-shadow-on.txt")
        self.b = write_doc(self.dir, "off.json", "bochs-shadow-off.txt")

    def tearDown(self):
        self._tmp.cleanup()

    def compare(self, *args):
        return run_tool(["tools/compare.py"] + list(args))

    def test_side_by_side_with_ratios_b_over_a(self):
        p = self.compare(self.a, self.b)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(line_of(p.stdout, "l2-reflected", "cpuid", "realistic"),
                         ["9874", "12494", "1.27", "9602", "12222", "1.27", "2.00", "7.00"])
        self.assertEqual(line_of(p.stdout, "l1", "vmread", "-"),
                         ["1", "560", "560.00", "0", "524", "-", "0.00", "1.00"])
        self.assertEqual(line_of(p.stdout, "l1", "cpuid", "-")[:3], ["232", "232", "1.00"])

    def test_rows_in_only_one_file_are_flagged(self):
        p = self.compare(self.a, self.b)
        self.assertEqual(line_of(p.stdout, "l1", "hypercall", "-"), ["241", "-", "only", "in", "A"])
        self.assertEqual(line_of(p.stdout, "l2-reflected", "vmcall", "minimal"),
                         ["9847", "-", "only", "in", "A"])
        self.assertEqual(line_of(p.stdout, "l1", "vmptrld", "-"), ["-", "3140", "only", "in", "B"])

    def test_both_configurations_and_their_difference(self):
        p = self.compare(self.a, self.b)
        self.assertIn("A: " + self.a, p.stdout)
        self.assertIn("B: " + self.b, p.stdout)
        self.assertIn("nestvisor: vmcs_shadowing=on accounting=on log_port=com1", p.stdout)
        self.assertIn("nestvisor: vmcs_shadowing=off accounting=on log_port=com1", p.stdout)
        self.assertIn("differs: vmcs_shadowing: on -> off", p.stdout)
        self.assertNotIn("differs: accounting", p.stdout)

    def test_different_units_are_warned_about(self):
        kvm = write_doc(self.dir, "kvm.json", "bochs-shadow-off.txt", platform="kvm")
        p = self.compare(self.a, kvm)
        self.assertIn("WARNING: the units differ (instructions vs cycles)", p.stdout)
        self.assertIn("differs: platform: bochs -> kvm", p.stdout)

    def test_another_statistic(self):
        edge = write_doc(self.dir, "edge.json", "edge-kvm.txt", platform="kvm")
        text = compare.comparison(compare.load(edge), edge, compare.load(edge), edge, "max")
        self.assertEqual(line_of(text, "l1", "cpuid", "-")[:3], ["1840", "1840", "1.00"])
        self.assertIn("the two runs have the same settings", text)

    def test_unreadable_or_invalid_files_exit_2_naming_the_file(self):
        missing = os.path.join(self.dir, "missing.json")
        p = self.compare(self.a, missing)
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing.json: cannot read it", p.stderr)
        garbage = os.path.join(self.dir, "garbage.json")
        with open(garbage, "w") as f:
            f.write("{ not json")
        p = self.compare(garbage, self.b)
        self.assertEqual(p.returncode, 2)
        self.assertIn("garbage.json: not JSON", p.stderr)
        with open(self.a) as f:
            doc = json.load(f)
        del doc["results"][0]["median"]
        broken = os.path.join(self.dir, "broken.json")
        with open(broken, "w") as f:
            json.dump(doc, f)
        p = self.compare(self.a, broken)
        self.assertEqual(p.returncode, 2)
        self.assertIn("broken.json: not a nestvisor results file", p.stderr)
        self.assertIn("results/0: 'median' is a required property", p.stderr)
        self.assertEqual(p.stdout, "")


if __name__ == "__main__":
    unittest.main()
