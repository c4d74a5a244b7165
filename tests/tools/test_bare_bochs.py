# SPDX-License-Identifier: MIT
"""tools/bare_bochs.py: GRUB media with modules and Bochs CPU options (fake emulator)."""

import os
import tempfile
import unittest

from toolstest import FakeEmulatorEnv, run_tool

import bare_bochs


class GrubTest(unittest.TestCase):
    def test_modules_get_their_path_and_arguments(self):
        cfg = bare_bochs.grub_cfg("vmx.elf", "seed=1", [("env.txt", "seed=3 x"), ("blob", "")])
        self.assertEqual(cfg.splitlines(), [
            "set timeout=0",
            "multiboot /boot/vmx.elf /boot/vmx.elf seed=1",
            "module /boot/env.txt /boot/env.txt seed=3 x",
            "module /boot/blob /boot/blob",
            "boot"])

    def test_linux_gets_linux_and_initrd(self):
        cfg = bare_bochs.grub_cfg("vmlinuz", "console=ttyS0 quiet", [("initramfs.cpio", "")],
                                  linux=True)
        self.assertEqual(cfg.splitlines(), [
            "set timeout=0", "linux /boot/vmlinuz console=ttyS0 quiet",
            "initrd /boot/initramfs.cpio", "boot"])

    def test_linux_takes_every_module_as_an_initrd(self):
        cfg = bare_bochs.grub_cfg("vmlinuz", "quiet", [("initramfs.cpio", ""), ("bench.cpio", "")],
                                  linux=True)
        self.assertIn("initrd /boot/initramfs.cpio /boot/bench.cpio", cfg.splitlines())

    def test_tree_holds_kernel_modules_and_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            kernel, module = os.path.join(tmp, "k.elf"), os.path.join(tmp, "env.txt")
            for path, data in ((kernel, b"kernel"), (module, b"environment")):
                with open(path, "wb") as f:
                    f.write(data)
            tree = os.path.join(tmp, "iso")
            bare_bochs.make_tree(kernel, "", tree, [(module, "a=1")])
            self.assertEqual(sorted(os.listdir(os.path.join(tree, "boot"))),
                             ["env.txt", "grub", "k.elf"])
            with open(os.path.join(tree, "boot", "env.txt"), "rb") as f:
                self.assertEqual(f.read(), b"environment")
            with open(os.path.join(tree, "boot", "grub", "grub.cfg")) as f:
                self.assertIn("module /boot/env.txt /boot/env.txt a=1\n", f.read())


class CommandLineTest(unittest.TestCase):
    def test_module_and_cpu_option_reach_grub_and_bochs(self):
        with FakeEmulatorEnv() as fake:
            env = fake.path("env.txt")
            with open(env, "w") as f:
                f.write("seed=3\n")
            work = fake.path("work")
            p = run_tool(["tools/bare_bochs.py", fake.l1, "--workdir", work, "--module",
                          env + ":seed=3", "--cpu-option", "ignore_bad_msrs=1", "--quiet"],
                         env=fake.boot("bare-summary.txt"))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("SUMMARY: 3 tests, 0 failures", p.stdout)
            with open(os.path.join(work, "bochsrc")) as f:
                self.assertIn("cpu: model=corei7_haswell_4770, count=1, ips=50000000, "
                              "ignore_bad_msrs=1\n", f.read())
            with open(os.path.join(work, "iso", "boot", "grub", "grub.cfg")) as f:
                self.assertIn("module /boot/env.txt /boot/env.txt seed=3\n", f.read())

    def test_missing_module_is_a_setup_error(self):
        with FakeEmulatorEnv() as fake:
            p = run_tool(["tools/bare_bochs.py", fake.l1, "--module", fake.path("gone.txt")],
                         env=fake.env)
            self.assertEqual(p.returncode, bare_bochs.EXIT_SETUP)
            self.assertIn("no such module: " + fake.path("gone.txt"), p.stderr)
            self.assertFalse(os.path.exists(fake.env["FAKE_BOCHS_CALLED"]))

    def test_bad_cpu_option_is_a_usage_error(self):
        p = run_tool(["tools/bare_bochs.py", "k.elf", "--cpu-option", "model=tigerlake"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("the runner sets model itself", p.stderr)


if __name__ == "__main__":
    unittest.main()
