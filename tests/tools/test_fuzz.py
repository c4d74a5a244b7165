# SPDX-License-Identifier: MIT
"""tools/fuzz.py: libFuzzer logs read into figures and verdicts; runs of a stand-in
harness; the Makefile's fuzz targets (make -n)."""

import os
import shlex
import stat
import tempfile
import unittest

from toolstest import read_fixture
from test_makefile import make_dry_run

import fuzz


def judged(fixture, code):
    r = fuzz.parse_log(read_fixture(fixture), fuzz.Result("x"))
    return fuzz.judge(read_fixture(fixture), code, r)


class LogTest(unittest.TestCase):
    def test_final_stats_and_coverage(self):
        r = judged("libfuzzer-pass.txt", 0)
        self.assertTrue(r.ok, r.problem)
        self.assertEqual((r.execs, r.cov, r.ft, r.corpus), (20000, 255, 726, 169))
        self.assertIn("stat::number_of_executed_units: 20000", r.stats)
        self.assertTrue(r.status_line.startswith("#20000\tDONE   cov: 255"))
        self.assertEqual(r.summary().split(" [")[0],
                         "20000 runs, cov 255, ft 726, corpus 169 units")

    def test_invariant_names_itself_and_the_input(self):
        r = judged("libfuzzer-invariant.txt", 77)
        self.assertFalse(r.ok)
        self.assertTrue(r.problem.startswith(
            "INVARIANT VIOLATED at tests/fuzz/fuzz_reflect.c:305: wants == (want == 1) "
            "exit 28 (qualification"), r.problem)
        self.assertTrue(r.problem.endswith(
            "(input: build/fuzz/artifacts/reflect/crash-17e397e46a2914bba580947b757db95cc5e4b99f)"))
        self.assertEqual(r.execs, 33646)

    def test_exit_status_alone_fails(self):
        r = judged("libfuzzer-pass.txt", 1)
        self.assertFalse(r.ok)
        self.assertEqual(r.problem, "libFuzzer exit status 1")

    def test_timeout_and_missing_stats_fail(self):
        self.assertEqual(fuzz.judge("", None, fuzz.Result("x"), 300).problem,
                         "no result within 300s")
        self.assertEqual(fuzz.judge("INFO: Seed: 1\n", 0, fuzz.Result("x")).problem,
                         "no final stats in the log")

    def test_targets_are_the_harness_sources(self):
        names = fuzz.targets()
        for t in ("config", "l1image", "coreimage", "operand", "vmcs12", "entry_checks",
                  "merge", "reflect", "ept12", "ept02"):
            self.assertIn(t, names)


class RunTest(unittest.TestCase):
    """fuzz.run with a stand-in for build/fuzz/fuzz_config that prints a fixture log."""

    def harness(self, build, fixture, code):
        path = fuzz.binary(build, "config")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("#!/bin/sh\necho \"$@\" > %s.args\ncat %s\nexit %d\n" % (
                shlex.quote(path), shlex.quote(os.path.join(
                    os.path.dirname(os.path.abspath(__file__)), "fixtures", fixture)), code))
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
        return path

    def test_smoke_run_passes_with_fixed_seed_and_fresh_corpus(self):
        with tempfile.TemporaryDirectory() as build:
            exe = self.harness(build, "libfuzzer-pass.txt", 0)
            stale = os.path.join(build, "fuzz", "smoke-corpus", "config")
            os.makedirs(stale)
            open(os.path.join(stale, "old"), "w").close()
            r = fuzz.run(build, "config", runs=123)
            self.assertTrue(r.ok, r.problem)
            self.assertEqual(r.execs, 20000)
            with open(exe + ".args") as f:
                args = f.read().split()
            self.assertIn("-runs=123", args)
            self.assertIn("-seed=%d" % fuzz.SMOKE_SEED, args)
            self.assertEqual(args[-2], stale)                  # written to, fresh
            self.assertEqual(os.listdir(stale), [])
            self.assertEqual(args[-1], os.path.join(fuzz.SEEDS, "config"))  # only read
            self.assertTrue(any(a.startswith("-dict=") for a in args))
            self.assertTrue(os.path.isfile(os.path.join(build, "fuzz", "logs", "config.txt")))

    def test_timed_run_keeps_its_corpus(self):
        with tempfile.TemporaryDirectory() as build:
            exe = self.harness(build, "libfuzzer-pass.txt", 0)
            kept = os.path.join(build, "fuzz", "corpus", "config")
            os.makedirs(kept)
            open(os.path.join(kept, "old"), "w").close()
            self.assertTrue(fuzz.run(build, "config", seconds=7).ok)
            with open(exe + ".args") as f:
                args = f.read().split()
            self.assertIn("-max_total_time=7", args)
            self.assertEqual(os.listdir(kept), ["old"])

    def test_crash_fails_with_its_lines(self):
        with tempfile.TemporaryDirectory() as build:
            self.harness(build, "libfuzzer-invariant.txt", 77)
            r = fuzz.run(build, "config", runs=10)
            self.assertFalse(r.ok)
            self.assertIn("INVARIANT VIOLATED", r.problem)
            self.assertTrue(r.detail[-1].startswith("(log: "))

    def test_not_built(self):
        with tempfile.TemporaryDirectory() as build:
            r = fuzz.run(build, "config", runs=10)
            self.assertFalse(r.ok)
            self.assertTrue(r.problem.startswith("not built: "), r.problem)


class MakeFuzzTest(unittest.TestCase):
    def fuzz_args(self, *assignments, goal):
        p = make_dry_run(*assignments, goal=goal)
        self.assertEqual(p.returncode, 0, p.stdout)
        lines = [l for l in p.stdout.splitlines() if "tools/fuzz.py" in l]
        self.assertEqual(len(lines), 1, p.stdout)
        words = shlex.split(lines[0])
        return words[words.index("tools/fuzz.py") + 1:]

    def test_fuzz_defaults_and_variables(self):
        self.assertEqual(self.fuzz_args(goal="fuzz")[:6],
                         ["--build", "build", "--time", "60", "--jobs", "2"])
        args = self.fuzz_args("FUZZ_TIME=5", "FUZZ_JOBS=1", "FUZZ_TARGETS=config ept02",
                              goal="fuzz")
        self.assertEqual(args, ["--build", "build", "--time", "5", "--jobs", "1",
                                "config", "ept02"])

    def test_fuzz_smoke(self):
        self.assertIn("--smoke", self.fuzz_args(goal="fuzz-smoke"))
        self.assertEqual(self.fuzz_args("FUZZ_RUNS=99", goal="fuzz-smoke")[2:4],
                         ["--runs", "99"])

    def test_deps_install_clang(self):
        p = make_dry_run(goal="deps")
        self.assertIn("clang", shlex.split(p.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    unittest.main()
