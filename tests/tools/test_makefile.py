# SPDX-License-Identifier: MIT
"""The Makefile's `make run` variables map onto tools/nvrun.py options (make -n)."""

import os
import shlex
import subprocess
import unittest

from toolstest import REPO

RUN_VARIABLES = ("SHADOW", "SHADOW_SET", "ACCT", "CPU", "CPUOPTS", "EMU", "L1", "OPS", "KINDS", "HANDLERS",
                 "N", "L0LOG", "RESULTS", "TIMEOUT", "VERBOSE", "RUNFLAGS", "BUILD", "NESTVISOR",
                 "OP", "KIND", "HANDLER", "LISTING")


def make_dry_run(*assignments, goal="run"):
    """`make -n GOAL VAR=VALUE...` in the repository, with none of the run
    variables (nor an outer make's flags) inherited from the environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in RUN_VARIABLES + ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", "--no-print-directory", "-n", goal] + list(assignments),
                          cwd=REPO, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)


def nvrun_args(output):
    """The arguments of the tools/nvrun.py command in make's output."""
    lines = [l for l in output.splitlines() if "tools/nvrun.py" in l]
    if len(lines) != 1:
        raise AssertionError("no single nvrun command in:\n" + output)
    words = shlex.split(lines[0])
    return words[words.index("tools/nvrun.py") + 1:]


def options(args):
    """[(option, value)] of a list of '--option value' words."""
    return list(zip(args[0::2], args[1::2]))


class MakeRunTest(unittest.TestCase):
    def test_defaults(self):
        p = make_dry_run()
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(options(nvrun_args(p.stdout)), [
            ("--build", "build"), ("--l1", "build/guests/exitbench.elf"),
            ("--workdir", "build/run"), ("--report", "results")])

    def test_every_variable(self):
        p = make_dry_run("SHADOW=off", "SHADOW_SET=wide", "ACCT=off", "CPU=corei7_skylake_x",
                         "CPUOPTS=ignore_bad_msrs=1 reset_on_triple_fault=0", "EMU=kvm",
                         "L1=my/l1.elf", "OPS=cpuid,vmread", "KINDS=l2-reflected",
                         "HANDLERS=minimal", "N=500", "L0LOG=com2",
                         "RESULTS=out", "TIMEOUT=600", "VERBOSE=1")
        self.assertEqual(p.returncode, 0, p.stdout)
        args = nvrun_args(p.stdout)
        self.assertEqual(args[-1], "--verbose")
        got = options(args[:-1])
        for pair in [("--l1", "my/l1.elf"), ("--report", "out"), ("--emulator", "kvm"),
                     ("--cpu", "corei7_skylake_x"), ("--cpu-option", "ignore_bad_msrs=1"),
                     ("--cpu-option", "reset_on_triple_fault=0"),
                     ("--cfg", "vmcs_shadowing=off"), ("--cfg", "vmcs_shadow_set=wide"),
                     ("--cfg", "accounting=off"), ("--l0-log-port", "com2"), ("--timeout", "600"),
                     ("--cmdline", "ops=cpuid,vmread kinds=l2-reflected handlers=minimal n=500")]:
            self.assertIn(pair, got)

    def test_n_alone_and_runflags_last(self):
        p = make_dry_run("N=7", "RUNFLAGS=--quiet")
        args = nvrun_args(p.stdout)
        self.assertIn(("--cmdline", "n=7"), options(args[:-1]))
        self.assertEqual(args[-1], "--quiet")

    def test_l1_linux(self):
        # The Linux/KVM L1: its image, initramfs and command line, kvmtest's N, no report.
        p = make_dry_run("L1=linux", "N=200", "SHADOW=off", "SHADOW_SET=wide")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("guests/linux/build.sh build/linux", p.stdout)
        args = nvrun_args(p.stdout)
        got = options(args)
        for pair in [("--l1", "build/linux/vmlinux"), ("--module", "build/linux/initramfs.cpio"),
                     ("--megs", "1024"), ("--cfg", "l1_memory=512M"), ("--timeout", "300"),
                     ("--cfg", "vmcs_shadowing=off"), ("--cfg", "vmcs_shadow_set=wide")]:
            self.assertIn(pair, got)
        self.assertNotIn("--report", args)
        cmdline = dict(got)["--cmdline"]
        self.assertIn("console=ttyS0", cmdline)
        self.assertTrue(cmdline.endswith(" kvmtest.n=200"), cmdline)

    def test_compare_kvm_passes_the_run_options_to_both_runs(self):
        p = make_dry_run("N=50", "OPS=cpuid", "SHADOW=off", "CPU=corei7_skylake_x",
                         "NESTVISOR=results/x.json", goal="compare-kvm")
        self.assertEqual(p.returncode, 0, p.stdout)
        lines = [l for l in p.stdout.splitlines() if "tools/compare_kvm.py" in l]
        self.assertEqual(len(lines), 1, p.stdout)
        words = shlex.split(lines[0])
        mine = words[words.index("tools/compare_kvm.py") + 1:words.index("--")]
        for pair in [("--cmdline", "ops=cpuid n=50"), ("--nestvisor", "results/x.json"),
                     ("--cpu", "corei7_skylake_x"), ("--results", "results")]:
            self.assertIn(pair, options(mine))
        self.assertEqual(options(words[words.index("--") + 1:]),
                         [("--cpu", "corei7_skylake_x"), ("--cfg", "vmcs_shadowing=off")])

    def test_on_off_variables_are_checked(self):
        for var in ("SHADOW", "ACCT"):
            p = make_dry_run(var + "=maybe")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("%s must be on or off, not 'maybe'" % var, p.stdout)
        p = make_dry_run("SHADOW_SET=all")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SHADOW_SET must be hot or wide, not 'all'", p.stdout)

    def test_trace_maps_its_variables_onto_trace_exit(self):
        p = make_dry_run("OP=vmread", "KIND=l2-reflected", "HANDLER=minimal", "SHADOW=off",
                         "ACCT=off", "SHADOW_SET=wide", "CPU=corei7_skylake_x", "LISTING=t.txt",
                         goal="trace")
        self.assertEqual(p.returncode, 0, p.stdout)
        lines = [l for l in p.stdout.splitlines() if "tools/trace_exit.py" in l]
        self.assertEqual(len(lines), 1, p.stdout)
        words = shlex.split(lines[0])
        opts = options(words[words.index("tools/trace_exit.py") + 1:])
        for pair in (("--op", "vmread"), ("--kind", "l2-reflected"), ("--handler", "minimal"),
                     ("--cfg", "vmcs_shadowing=off"), ("--cfg", "accounting=off"),
                     ("--cfg", "vmcs_shadow_set=wide"), ("--cpu", "corei7_skylake_x"),
                     ("--listing", "t.txt")):
            self.assertIn(pair, opts)
        p = make_dry_run("ACCT=maybe", goal="trace")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ACCT must be on or off, not 'maybe'", p.stdout)

    def test_deps_install_jsonschema_and_gnuplot(self):
        p = make_dry_run(goal="deps")
        self.assertEqual(p.returncode, 0, p.stdout)
        packages = shlex.split(p.stdout.strip().splitlines()[-1])
        self.assertIn("python3-jsonschema", packages)
        self.assertIn("gnuplot-nox", packages)


if __name__ == "__main__":
    unittest.main()
