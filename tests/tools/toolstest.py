# SPDX-License-Identifier: MIT
"""Shared by the tools tests: paths, fixtures, and a fake emulator on PATH.

The tests never start an emulator: tests/tools/fake_bochs.py stands in for
`bochs`, writing fixture serial logs into the files the runner's bochsrc names.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
TOOLS = os.path.join(REPO, "tools")
FIXTURES = os.path.join(HERE, "fixtures")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)


def fixture(name):
    """Path of a fixture file."""
    return os.path.join(FIXTURES, name)


def read_fixture(name):
    with open(fixture(name), "rb") as f:
        return f.read().decode("latin-1")


def run_tool(args, env=None, cwd=REPO):
    """Run python3 tools/<args...>; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable] + args, cwd=cwd, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


class FakeEmulatorEnv:
    """A temporary directory with `bin/bochs` (fake_bochs.py) and a fake build
    (BOOTX64.EFI, core.elf, an L1), and the environment that puts bin/ first
    on PATH. Use as a context manager."""

    def __enter__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="toolstest-")
        self.dir = self._tmp.name
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(bindir)
        os.symlink(os.path.join(HERE, "fake_bochs.py"), os.path.join(bindir, "bochs"))
        self.build = os.path.join(self.dir, "build")
        os.makedirs(self.build)
        for name in ("BOOTX64.EFI", "core.elf"):
            with open(os.path.join(self.build, name), "wb") as f:
                f.write(b"not really " + name.encode())
        self.l1 = os.path.join(self.dir, "exitbench.elf")
        with open(self.l1, "wb") as f:
            f.write(b"\x7fELF not really an L1")
        self.env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                        FAKE_BOCHS_CALLED=os.path.join(self.dir, "bochs-called"))
        return self

    def __exit__(self, *exc):
        self._tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def boot(self, com1, com2=None, end="exit"):
        """Environment for one fake boot: COM1 (and COM2) fixture names; end:
        'exit' (power off when the log is written) or 'hang' (never exit)."""
        env = dict(self.env, FAKE_BOCHS_COM1=fixture(com1), FAKE_BOCHS_END=end)
        if com2:
            env["FAKE_BOCHS_COM2"] = fixture(com2)
        return env
