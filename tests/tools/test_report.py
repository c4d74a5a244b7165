# SPDX-License-Identifier: MIT
"""tools/report.py on serial logs written to tools/FORMATS.md (tests/tools/fixtures)."""

import csv
import json
import os
import re
import tempfile
import unittest
import xml.etree.ElementTree as ET
from unittest import mock

from toolstest import fixture, read_fixture, run_tool

import report


def doc_of(name, l0_name=None, **meta):
    """The results document of a fixture run (fixed commit, so no git call)."""
    l0 = read_fixture(l0_name) if l0_name else None
    meta.setdefault("commit", "abc1234")
    return report.document(report.parse(read_fixture(name), l0), **meta)


def row(doc, kind, op, handler):
    rows = [r for r in doc["results"] if report.row_key(r) == (kind, op, handler)]
    return rows[0] if rows else None


class ParseTest(unittest.TestCase):
    def setUp(self):
        self.doc = doc_of("bochs-shadow-on.txt", platform="bochs")

    def test_every_result_row_with_its_figures(self):
        self.assertEqual(len(self.doc["results"]), 9)
        r = row(self.doc, "l2-reflected", "cpuid", "realistic")
        self.assertEqual((r["samples"], r["min"], r["median"], r["mean"], r["max"]),
                         (1000, 9874, 9874, 9874, 9874))
        self.assertEqual((r["l0_exits"], r["l0_ticks"]), (2, 9602))

    def test_ratio_is_l2_median_over_the_l1_median_of_the_same_op(self):
        self.assertAlmostEqual(row(self.doc, "l2-reflected", "cpuid", "realistic")
                               ["l2_l1_ratio"], 9874 / 232, places=3)
        self.assertAlmostEqual(row(self.doc, "l2-reflected", "cpuid", "minimal")
                               ["l2_l1_ratio"], 9851 / 232, places=3)
        self.assertIsNone(row(self.doc, "l1", "cpuid", "-")["l2_l1_ratio"])
        # No l1 row for vmcall: no ratio rather than a made-up one.
        self.assertIsNone(row(self.doc, "l2-reflected", "vmcall", "realistic")["l2_l1_ratio"])

    def test_rows_of_one_op_together_l1_first_realistic_before_minimal(self):
        order = [report.row_key(r) for r in self.doc["results"]][:4]
        self.assertEqual(order, [("l1", "cpuid", "-"), ("l2-reflected", "cpuid", "realistic"),
                                 ("l2-reflected", "cpuid", "minimal"),
                                 ("l1", "hypercall", "-")])

    def test_exit_breakdown(self):
        self.assertEqual(row(self.doc, "l2-reflected", "cpuid", "realistic")["exits"],
                         [{"level": "L2-reflected", "reason": "CPUID", "per_op": 1},
                          {"level": "L1-for-L2", "reason": "VMRESUME", "per_op": 1}])
        self.assertEqual(row(self.doc, "l1", "vmread", "-")["exits"], [])
        self.assertEqual(report.exit_breakdown("L1-for-L2.VMREAD:4.25"),
                         [{"level": "L1-for-L2", "reason": "VMREAD", "per_op": 4.25}])
        self.assertIsNone(report.exit_breakdown("n/a"))
        self.assertEqual(report.exit_breakdown("none"), [])  # exitbench's spelling
        with self.assertRaises(ValueError):
            report.exit_breakdown("CPUID:1")

    def test_configuration_cpu_and_benchmark(self):
        cfg = self.doc["configuration"]
        self.assertEqual(cfg["l0"], {"vmcs_shadowing": "on", "accounting": "on",
                                     "log_port": "com1"})
        self.assertEqual(cfg["seen_by_l1"], {"name": "nestvisor", "interface": 2,
                                             "accounting": "on", "shadowing": "on"})
        self.assertEqual(self.doc["cpu"]["model"], "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz")
        bench = self.doc["benchmark"]
        self.assertEqual((bench["n"], bench["warmup"], bench["timestamp_pair"]), (1000, 100, 7))
        self.assertEqual(bench["handlers"], ["realistic", "minimal"])
        self.assertEqual(bench["kinds"], ["l1", "l2-reflected", "l2-absorbed"])
        self.assertEqual(self.doc["platform"]["unit"], "instructions")

    def test_l0_accounting_and_end(self):
        acct = self.doc["l0_accounting"]
        self.assertEqual(acct["overhead"], 24)
        self.assertIn({"level": "L1-for-L2", "reason": "VMRESUME", "count": 1100,
                       "ticks": 4345000}, acct["cells"])
        self.assertEqual(acct["l2_exits"][0]["exits_per_l2_exit"], 2.0)
        self.assertEqual(self.doc["end"], "l1-exit-status=0x1")
        self.assertTrue(self.doc["complete"])
        self.assertEqual(report.failed(self.doc), [])

    def test_l0_log_on_com2_gives_the_same_figures(self):
        split = doc_of("bochs-com2-com1.txt", "bochs-com2-l0.txt", platform="bochs")
        for key in ("results", "l0_accounting", "end", "complete", "cpu", "benchmark"):
            self.assertEqual(split[key], self.doc[key], key)
        self.assertEqual(split["configuration"]["l0"]["log_port"], "com2")
        # Without the L0 log, the L0 figures are simply missing.
        alone = doc_of("bochs-com2-com1.txt", platform="bochs")
        self.assertIsNone(alone["configuration"]["l0"])
        self.assertIsNone(alone["end"])

    def test_incomplete_run(self):
        doc = doc_of("bochs-incomplete.txt", platform="bochs")
        self.assertFalse(doc["complete"])
        self.assertEqual(len(doc["results"]), 1)
        self.assertEqual(doc["end"], "failure: L1 triple fault")
        why = report.failed(doc)
        self.assertTrue(any("incomplete" in w for w in why), why)
        self.assertTrue(any("L1 triple fault" in w for w in why), why)

    def test_benchmark_errors_are_reported(self):
        p = report.parse("exitbench: start version=1 ops=- n=10 warmup=1 handlers=- kinds=l1\n"
                         "exitbench: error: nothing to measure: no op of ops= exists in kinds=\n")
        doc = report.document(p, commit=None)
        self.assertEqual(doc["errors"], ["nothing to measure: no op of ops= exists in kinds="])
        self.assertEqual((doc["benchmark"]["ops"], doc["benchmark"]["handlers"]), ([], []))
        self.assertIn("exitbench: error: nothing to measure", "\n".join(report.failed(doc)))
        self.assertTrue(report.parse("exitbench: error: bad option\n").saw_benchmark())

    def test_odd_lines(self):
        """CRLF, escapes, unknown keys, a row without median, a repeated row, a bad
        exits value, accounting off (n/a), a failed check."""
        doc = doc_of("edge-kvm.txt", platform="kvm")
        keys = [report.row_key(r) for r in doc["results"]]
        self.assertEqual(keys, [("l1", "cpuid", "-"), ("l2-reflected", "cpuid", "realistic")])
        cpuid = row(doc, "l1", "cpuid", "-")
        self.assertEqual((cpuid["mean"], cpuid["l0_exits"], cpuid["l0_ticks"], cpuid["exits"]),
                         (1251.5, None, None, None))
        self.assertNotIn("new_key", cpuid)
        self.assertEqual(row(doc, "l2-reflected", "cpuid", "realistic")["median"], 20480)
        self.assertEqual(len(doc["warnings"]), 3, doc["warnings"])
        self.assertTrue(any("appears twice" in w for w in doc["warnings"]))
        self.assertTrue(any("'median'" in w for w in doc["warnings"]))
        self.assertEqual(doc["configuration"]["l0"]["vmcs_shadowing"], "unavailable")
        self.assertTrue(any("pair-stable" in w for w in report.failed(doc)))


class TableTest(unittest.TestCase):
    def test_states_unit_platform_cpu_and_configuration(self):
        text = report.table(doc_of("bochs-shadow-on.txt", platform="bochs",
                                   emulated_cpu="corei7_haswell_4770",
                                   cpu_options=["ignore_bad_msrs=1"]))
        self.assertIn("unit: instructions", text)
        self.assertIn("platform: bochs (Bochs CPU corei7_haswell_4770, ignore_bad_msrs=1)", text)
        self.assertIn("CPU: GenuineIntel Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz", text)
        self.assertIn("nestvisor: vmcs_shadowing=on accounting=on log_port=com1", text)
        self.assertIn("commit: abc1234", text)
        self.assertRegex(text, r"(?m)^l2-reflected +cpuid +realistic +9874 +42\.6 +9602 +2\.00$")
        self.assertRegex(text, r"(?m)^l1 +vmread +- +1 +- +0 +0\.00$")
        self.assertIn("skipped l2-absorbed cpuid -: CPUID exits unconditionally", text)
        self.assertNotIn("min..max", text)  # Bochs: no spread to show

    def test_hardware_cycles_and_spread(self):
        text = report.table(doc_of("edge-kvm.txt", platform="kvm"))
        self.assertIn("unit: cycles", text)
        self.assertRegex(text, r"(?m)^l1 +cpuid +- +1236 +1180\.\.1840 +- +- +-$")
        self.assertIn("NOTE: check pair-stable failed", text)

    def test_unknown_platform_says_so(self):
        text = report.table(doc_of("bochs-shadow-on.txt"))
        self.assertIn("unit: TSC ticks", text)
        self.assertIn("give --platform", text)


class FilesTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.out = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def test_json_csv_svg(self):
        doc = doc_of("bochs-shadow-on.txt", platform="bochs", emulated_cpu="corei7_haswell_4770")
        paths = report.write_files(doc, self.out)
        stem = os.path.join(self.out, doc["created"].replace("-", "").replace(":", ""))
        self.assertEqual(paths, [stem + ".json", stem + ".csv", stem + ".svg"])
        with open(paths[0]) as f:
            written = json.load(f)
        self.assertEqual(written, doc)
        self.assertEqual(report.schema_errors(written), [])
        with open(paths[1]) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(r["kind"], r["op"], r["handler"]) for r in rows],
                         [report.row_key(r) for r in doc["results"]])
        self.assertEqual([float(r["median"]) for r in rows], [r["median"] for r in doc["results"]])
        realistic = rows[1]
        self.assertEqual((realistic["platform"], realistic["unit"], realistic["vmcs_shadowing"]),
                         ("bochs", "instructions", "on"))
        self.assertEqual(realistic["exits"], "L2-reflected.CPUID:1,L1-for-L2.VMRESUME:1")
        svg = ET.parse(paths[2]).getroot()
        self.assertEqual(svg.tag, "{http://www.w3.org/2000/svg}svg")
        texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
        for word in ("cpuid", "vmcall", "l2-reflected realistic", "9874", "log scale"):
            self.assertIn(word, texts)

    def test_a_second_report_in_the_same_second_gets_its_own_name(self):
        doc = doc_of("bochs-shadow-on.txt", platform="bochs")
        first = report.write_files(doc, self.out, chart=False)
        second = report.write_files(doc, self.out, chart=False)
        self.assertNotEqual(first, second)
        self.assertTrue(second[0].endswith("-2.json"), second)

    def test_no_chart_without_results(self):
        doc = report.document(report.parse("exitbench: start version=1 ops=cpuid n=10 "
                                           "warmup=1 handlers=minimal\n"), commit=None)
        paths = report.write_files(doc, self.out)
        self.assertEqual([os.path.splitext(p)[1] for p in paths], [".json", ".csv"])

    def test_shadow_set_recorded_when_l0_states_it(self):
        # An L0 with the vmcs_shadow_set switch prints it; older logs do not have it.
        text = read_fixture("bochs-shadow-on.txt").replace(
            "nestvisor: config: vmcs_shadowing=on ",
            "nestvisor: config: vmcs_shadowing=on vmcs_shadow_set=wide ")
        doc = report.document(report.parse(text), commit="abc1234", platform="bochs")
        self.assertEqual(doc["configuration"]["l0"]["vmcs_shadow_set"], "wide")
        self.assertIn("nestvisor: vmcs_shadowing=on vmcs_shadow_set=wide accounting=on",
                      "\n".join(report.header_lines(doc)))
        report.write_files(doc, self.out)  # valid against the schema
        self.assertNotIn("vmcs_shadow_set", doc_of("bochs-shadow-on.txt", platform="bochs")
                         ["configuration"]["l0"])

    def test_documents_breaking_the_schema_are_not_written(self):
        doc = doc_of("bochs-shadow-on.txt", platform="bochs")
        doc["results"][0]["median"] = "232"
        del doc["commit"]
        with self.assertRaises(report.ReportError) as e:
            report.write_files(doc, self.out)
        self.assertIn("results/0/median", str(e.exception))
        self.assertIn("'commit' is a required property", str(e.exception))
        self.assertEqual(os.listdir(self.out), [])

    def test_missing_gnuplot_is_named(self):
        doc = doc_of("bochs-shadow-on.txt", platform="bochs")
        with mock.patch.object(report.shutil, "which", return_value=None):
            with self.assertRaises(report.ReportError) as e:
                report.write_files(doc, self.out)
        self.assertIn("gnuplot-nox", str(e.exception))

    def test_schema_itself_is_valid_draft_2020_12(self):
        import jsonschema
        schema = report.load_schema()
        self.assertEqual(schema["$schema"], "https://json-schema.org/draft/2020-12/schema")
        jsonschema.Draft202012Validator.check_schema(schema)


class CommandLineTest(unittest.TestCase):
    def test_report_of_a_saved_log(self):
        with tempfile.TemporaryDirectory() as out:
            p = run_tool(["tools/report.py", fixture("bochs-com2-com1.txt"), "--l0-log",
                          fixture("bochs-com2-l0.txt"), "--out", out, "--platform", "bochs",
                          "--commit", "v1-test"])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("log_port=com2", p.stdout)
            written = sorted(os.listdir(out))
            self.assertEqual([os.path.splitext(w)[1] for w in written], [".csv", ".json", ".svg"])
            with open(os.path.join(out, written[1])) as f:
                doc = json.load(f)
            self.assertEqual(doc["commit"], "v1-test")
            self.assertIn("--l0-log", doc["command"])

    def test_incomplete_run_exits_1_and_still_writes(self):
        with tempfile.TemporaryDirectory() as out:
            p = run_tool(["tools/report.py", fixture("bochs-incomplete.txt"), "--out", out,
                          "--no-chart"])
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("NOTE: incomplete", p.stdout)
            self.assertEqual(len(os.listdir(out)), 2)

    def test_nothing_to_report_and_unreadable_files_exit_2(self):
        p = run_tool(["tools/report.py", fixture("old-bench.txt")])
        self.assertEqual(p.returncode, 2)
        self.assertIn("no `exitbench:` lines", p.stderr)
        p = run_tool(["tools/report.py", fixture("no-such-log.txt")])
        self.assertEqual(p.returncode, 2)
        self.assertTrue(re.search(r"no-such-log\.txt", p.stderr), p.stderr)

    def test_table_only_without_out(self):
        p = run_tool(["tools/report.py", fixture("bochs-shadow-on.txt"), "--platform", "bochs"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("wrote ", p.stdout)
        self.assertIn("round trip", p.stdout)


if __name__ == "__main__":
    unittest.main()
