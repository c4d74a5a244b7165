# SPDX-License-Identifier: MIT
"""tools/nvrun.py: ESP media, missing inputs, Bochs/QEMU options, COM2, progress and
--report, with tests/tools/fake_bochs.py standing in for the emulator."""

import argparse
import glob
import io
import json
import os
import subprocess
import tempfile
import unittest

from toolstest import FakeEmulatorEnv, read_fixture, run_tool

import nvrun


def mtype(image, path):
    """A file's contents from a FAT image (mtools)."""
    return subprocess.run(["mtype", "-i", image, "::/" + path], check=True, text=True,
                          stdout=subprocess.PIPE).stdout


class MediaTest(unittest.TestCase):
    def test_write_image_leaves_nothing_beside_it(self):
        with FakeEmulatorEnv() as fake:
            outdir = fake.path("out")
            os.makedirs(outdir)
            image = os.path.join(outdir, "esp.img")
            p = run_tool(["tools/nvrun.py", "--build", fake.build, "--l1", fake.l1,
                          "--cmdline", "ops=cpuid n=5", "--cfg", "vmcs_shadowing=off",
                          "--l0-log-port", "com2", "--write-image", image], env=fake.env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(os.listdir(outdir), ["esp.img"])
            cfg = mtype(image, "nestvisor/nestvisor.cfg")
            self.assertEqual(cfg.splitlines()[1:], [
                "l1 = \\nestvisor\\exitbench.elf", "cmdline = ops=cpuid n=5",
                "vmcs_shadowing = off", "log_port = com2"])
            self.assertEqual(mtype(image, "nestvisor/core.elf"), "not really core.elf")
            self.assertFalse(os.path.exists(fake.env["FAKE_BOCHS_CALLED"]))

    def test_write_dir_copies_files_and_config(self):
        with FakeEmulatorEnv() as fake:
            out = fake.path("stick")
            p = run_tool(["tools/nvrun.py", "--build", fake.build, "--l1", fake.l1,
                          "--write-dir", out], env=fake.env)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "nestvisor", "nestvisor.cfg")) as f:
                self.assertIn("l1 = \\nestvisor\\exitbench.elf\n", f.read())
            self.assertTrue(os.path.isfile(os.path.join(out, "EFI", "BOOT", "BOOTX64.EFI")))

    def test_make_esp_refuses_a_missing_host_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            image = os.path.join(tmp, "esp.img")
            with self.assertRaises(nvrun.MissingInput) as e:
                nvrun.make_esp(image, {"\\a.bin": os.path.join(tmp, "gone.bin"),
                                       "\\b.cfg": b"contents"})
            self.assertIn("gone.bin", str(e.exception))
            self.assertFalse(os.path.exists(image))


class MissingBuildTest(unittest.TestCase):
    def test_stops_at_once_naming_the_files_and_make(self):
        with FakeEmulatorEnv() as fake:
            empty = fake.path("empty-build")
            os.makedirs(empty)
            l1 = os.path.join(empty, "guests", "exitbench.elf")
            p = run_tool(["tools/nvrun.py", "--build", empty, "--l1", l1, "--report",
                          fake.path("results")], env=fake.env)
            self.assertEqual(p.returncode, 2)
            for name in ("BOOTX64.EFI is missing (the UEFI loader)",
                         "core.elf is missing (the L0 core)",
                         "exitbench.elf is missing (the L1 image)"):
                self.assertIn(name, p.stderr)
            self.assertIn("build first: `make`", p.stderr)
            self.assertFalse(os.path.exists(fake.env["FAKE_BOCHS_CALLED"]))
            self.assertFalse(os.path.exists(fake.path("results")))

    def test_a_missing_l1_outside_the_build_is_named(self):
        with FakeEmulatorEnv() as fake:
            p = run_tool(["tools/nvrun.py", "--build", fake.build, "--l1", fake.path("my.elf"),
                          "--write-image", fake.path("esp.img")], env=fake.env)
            self.assertEqual(p.returncode, 2)
            self.assertIn("my.elf is missing (the L1 image)", p.stderr)
            self.assertNotIn("`make`", p.stderr)
            self.assertFalse(os.path.exists(fake.path("esp.img")))


class EmulatorOptionsTest(unittest.TestCase):
    def test_bochs_cpu_options_and_com2(self):
        text = nvrun.bochs_config("/w", 256, "corei7_skylake_x", [], [],
                                  ["ignore_bad_msrs=1", "msrs=x.def"], "/w/l0.txt")
        lines = text.splitlines()
        self.assertIn("cpu: model=corei7_skylake_x, count=1, ips=50000000, ignore_bad_msrs=1, "
                      "msrs=x.def", lines)
        self.assertIn("com1: enabled=1, mode=file, dev=/w/serial.txt", lines)
        self.assertIn("com2: enabled=1, mode=file, dev=/w/l0.txt", lines)
        self.assertNotIn("com2", nvrun.bochs_config("/w", 256, "m", [], []))

    def test_cpu_option_syntax(self):
        self.assertEqual(nvrun.cpu_option("ignore_bad_msrs=1"), "ignore_bad_msrs=1")
        for bad in ("ignore_bad_msrs", "a=1, b=2", "a=1 b", "model=tigerlake", "ips=1"):
            with self.assertRaises(argparse.ArgumentTypeError, msg=bad):
                nvrun.cpu_option(bad)

    def test_cpu_option_is_refused_for_qemu(self):
        p = run_tool(["tools/nvrun.py", "--l1", "x.elf", "--emulator", "qemu",
                      "--cpu-option", "ignore_bad_msrs=1"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--cpu-option is for Bochs", p.stderr)

    def test_qemu_gets_a_second_serial_port_for_l0(self):
        cmd = nvrun.emulator_command("kvm", "/w", "/w/esp.img", 256, "m", (), "/w/l0.txt")
        serials = [cmd[i + 1] for i, a in enumerate(cmd) if a == "-serial"]
        self.assertEqual(serials, ["file:/w/serial.txt", "file:/w/l0.txt"])
        cmd = nvrun.emulator_command("qemu", "/w", "/w/esp.img", 256, "m")
        self.assertEqual(cmd.count("-serial"), 1)


class ClassifyTest(unittest.TestCase):
    def test_end_line_on_the_l0_port(self):
        com1 = read_fixture("bochs-com2-com1.txt")
        l0 = read_fixture("bochs-com2-l0.txt")
        self.assertEqual(nvrun.classify(com1, "x", l0), ("status", "", 1))
        self.assertEqual(nvrun.classify(com1, "time limit", None)[0], "timeout")
        self.assertEqual(nvrun.classify(com1, "x", "nestvisor: end: failure: L1 halted\n"),
                         ("failure", "L1 halted", None))

    def test_loader_error_on_com1_wins(self):
        outcome, detail, _ = nvrun.classify(read_fixture("loader-error.txt"), "x",
                                            "nestvisor: end: l1-exit-status=0x1\n")
        self.assertEqual(outcome, "loader-error")
        self.assertIn("not an ELF file", detail)

    def test_all_text_has_both_logs(self):
        r = nvrun.RunResult("status", "com1 line\n", l0_log="nestvisor: l0 line\n")
        self.assertIn("com1 line", r.all_text())
        self.assertIn("nestvisor: l0 line", r.all_text())


class ProgressTest(unittest.TestCase):
    def feed(self, lines):
        clock = iter(float(i) for i in range(1000))
        out = io.StringIO()
        progress = nvrun.Progress(out, clock=lambda: next(clock))
        for log, line in lines:
            progress(log, line)
        return out.getvalue().splitlines()

    def test_stages_and_benchmarks_with_elapsed_seconds(self):
        lines = [("COM1", l) for l in read_fixture("bochs-shadow-on.txt").splitlines()]
        shown = self.feed(lines)
        self.assertEqual(shown[:4], ["nvrun: [   1.0s] firmware", "nvrun: [   2.0s] loader",
                                     "nvrun: [   3.0s] L0", "nvrun: [   4.0s] L1 started"])
        self.assertEqual(shown[4], "nvrun: [   5.0s] benchmark 1 of 9: l1 cpuid -")
        self.assertEqual(shown[-1], "nvrun: [  13.0s] benchmark 9 of 9: l2-reflected vmcall "
                                    "minimal")
        self.assertEqual(len(shown), 13)

    def test_a_later_stage_first_still_shows_every_stage_once(self):
        shown = self.feed([("COM1", "exitbench: start version=1 ops=cpuid"),
                           ("COM2", "nestvisor: config: vmcs_shadowing=on"),
                           ("COM1", "nestvisor-boot: exiting boot services")])
        self.assertEqual([s.split("] ")[1] for s in shown],
                         ["firmware", "loader", "L0", "L1 started"])

    def test_failed_checks_are_shown(self):
        shown = self.feed([("COM1", "exitbench: check name=x result=FAIL detail=y"),
                           ("COM1", "exitbench: check name=z result=ok detail=w")])
        self.assertEqual([s.split("] ")[1] for s in shown],
                         ["firmware", "check name=x result=FAIL detail=y"])


class ReportModeTest(unittest.TestCase):
    """Whole runs of the command line against the fake emulator."""

    def nvrun(self, fake, env, *args):
        return run_tool(["tools/nvrun.py", "--build", fake.build, "--l1", fake.l1,
                         "--workdir", fake.path("work"), "--report", fake.path("results")]
                        + list(args), env=env)

    def results(self, fake):
        paths = sorted(glob.glob(os.path.join(fake.path("results"), "*")))
        doc = None
        for path in paths:
            if path.endswith(".json"):
                with open(path) as f:
                    doc = json.load(f)
        return [os.path.splitext(p)[1] for p in paths], doc

    def test_l0_log_on_com2_with_progress_and_report(self):
        with FakeEmulatorEnv() as fake:
            env = fake.boot("bochs-com2-com1.txt", "bochs-com2-l0.txt")
            p = self.nvrun(fake, env, "--l0-log-port", "com2", "--cpu-option", "ignore_bad_msrs=1",
                           "--cfg", "accounting=on")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for stage in ("] firmware", "] loader", "] L0", "] L1 started",
                          "] benchmark 9 of 9: l2-reflected vmcall minimal",
                          "nvrun: L1 exit status 0x1 (L1 wrote 0)"):
                self.assertIn(stage, p.stdout)
            self.assertNotIn("BdsDxe", p.stdout)  # no raw log without --verbose
            self.assertRegex(p.stdout, r"(?m)^l2-reflected +cpuid +realistic +9874 +42\.6 ")
            exts, doc = self.results(fake)
            self.assertEqual(exts, [".csv", ".json", ".svg"])
            self.assertEqual(doc["platform"], {"name": "bochs", "unit": "instructions",
                                               "emulated_cpu": "corei7_haswell_4770",
                                               "cpu_options": ["ignore_bad_msrs=1"]})
            self.assertEqual(doc["configuration"]["l0"]["log_port"], "com2")
            self.assertIn("log_port = com2", doc["configuration"]["nestvisor_cfg"])
            self.assertIn("accounting = on", doc["configuration"]["nestvisor_cfg"])
            self.assertIn("--l0-log-port com2", doc["command"])
            with open(fake.path("work", "bochsrc")) as f:
                rc = f.read()
            self.assertIn("com2: enabled=1, mode=file, dev=%s" % fake.path("work", "l0.txt"), rc)
            self.assertIn(", ignore_bad_msrs=1\n", rc)
            with open(fake.path("work", "l0.txt")) as f:
                self.assertIn("nestvisor: end: l1-exit-status=0x1", f.read())
            with open(fake.path("work", "serial.txt")) as f:
                self.assertNotIn("nestvisor: end:", f.read())

    def test_verbose_streams_both_logs_too(self):
        with FakeEmulatorEnv() as fake:
            env = fake.boot("bochs-com2-com1.txt", "bochs-com2-l0.txt")
            p = self.nvrun(fake, env, "--l0-log-port", "com2", "--verbose")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("\nBdsDxe: loading Boot0001", p.stdout)
            self.assertIn("[COM2] nestvisor: end: l1-exit-status=0x1", p.stdout)
            self.assertIn("] benchmark 1 of 9: l1 cpuid -", p.stdout)

    def test_failed_run_keeps_its_exit_code_and_writes_a_partial_report(self):
        with FakeEmulatorEnv() as fake:
            p = self.nvrun(fake, fake.boot("bochs-incomplete.txt"))
            self.assertEqual(p.returncode, nvrun.EXIT_L0_FAILURE, p.stdout + p.stderr)
            self.assertIn("NOTE: incomplete", p.stdout)
            exts, doc = self.results(fake)
            self.assertEqual(exts, [".csv", ".json", ".svg"])
            self.assertFalse(doc["complete"])

    def test_loader_error_makes_no_report(self):
        with FakeEmulatorEnv() as fake:
            # The firmware goes on booting after a loader error: the runner stops it.
            p = self.nvrun(fake, fake.boot("loader-error.txt", end="hang"))
            self.assertEqual(p.returncode, nvrun.EXIT_LOADER_ERROR, p.stdout + p.stderr)
            self.assertIn("loader error: \\nestvisor\\exitbench.elf: not an ELF", p.stdout)
            self.assertIn("nvrun: no report: no `exitbench:` lines", p.stdout)
            self.assertFalse(os.path.exists(fake.path("results")))

    def test_time_limit(self):
        with FakeEmulatorEnv() as fake:
            env = fake.boot("bochs-com2-com1.txt", end="hang")  # L0's log never comes
            p = self.nvrun(fake, env, "--timeout", "1", "--quiet")
            self.assertEqual(p.returncode, nvrun.EXIT_NO_END, p.stdout + p.stderr)
            self.assertIn("no end marker (time limit of 1s reached)", p.stdout)
            self.assertNotIn("] firmware", p.stdout)

    def test_without_report_the_serial_log_streams_as_before(self):
        with FakeEmulatorEnv() as fake:
            p = run_tool(["tools/nvrun.py", "--build", fake.build, "--l1", fake.l1],
                         env=fake.boot("bochs-shadow-on.txt"))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("\nexitbench: done passed=1 failed=0\n", p.stdout)
            self.assertNotIn("] firmware", p.stdout)


if __name__ == "__main__":
    unittest.main()
