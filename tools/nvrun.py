#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot nestvisor with an L1 image in an emulator and report how the run ended.

Builds an ESP disk image with mtools (no root, no loop devices), writes the
emulator configuration, boots Bochs + OVMF (VMX) or QEMU + OVMF (TCG: no VMX,
for loader checks; KVM: on an Intel host with nested VMX) under a hard time
limit, streams and keeps the serial logs, and turns their markers into a result.
A run is judged by serial markers only, never by the emulator's exit status.
With --report DIR it shows the run's progress instead of the raw log and then
writes the benchmark report (tools/report.py) into DIR.

Markers (printed by boot/ and core/run.c):
  nestvisor-boot: error: <file>: <problem>     the loader refused to start (COM1)
  nestvisor: end: l1-exit-status=0x<status>    L1 wrote to the test exit port
  nestvisor: end: failure: <reason>            L0 ended the run otherwise
The `nestvisor: end:` lines are on L0's log port: COM1, or COM2 with
--l0-log-port com2 (then kept as <workdir>/l0.txt beside serial.txt).

Exit status: 0 L1 ended with the expected status; 1 another status; 2 a loader
error, or the loader, core or L1 is missing (nothing was booted); 3 L0 ended the
run; 4 no end marker (time limit); 5 the run passed but its report could not be
written.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (the benchmark report of --report)

OVMF = "/usr/share/ovmf/OVMF.fd"
VGABIOS = "/usr/share/vgabios/vgabios.bin"
ESP_DIR = "nestvisor"
BOCHS_CPU = "corei7_haswell_4770"
COM1_FILE = "serial.txt"
L0_LOG_FILE = "l0.txt"
# What --report calls the platform of each emulator (it sets the unit).
PLATFORMS = {"bochs": "bochs", "kvm": "kvm", "qemu": "qemu-tcg"}

END_STATUS = re.compile(r"nestvisor: end: l1-exit-status=0x([0-9a-fA-F]+)")
END_FAILURE = re.compile(r"nestvisor: end: failure: (.*)")
LOADER_ERROR = re.compile(r"nestvisor-boot: error: (.*)")
END_ANY = re.compile("|".join(r.pattern for r in (END_STATUS, END_FAILURE, LOADER_ERROR)))

# Bochs `cpu:` options the runner sets itself; --cpu-option adds others.
CPU_OPTION = re.compile(r"[A-Za-z0-9_]+=[^\s,]+$")
RUNNER_CPU_KEYS = ("model", "count", "ips")

# Exit codes of the command-line tool.
EXIT_PASS, EXIT_STATUS_MISMATCH, EXIT_LOADER_ERROR, EXIT_L0_FAILURE, EXIT_NO_END = range(5)
EXIT_MISSING_INPUT = EXIT_LOADER_ERROR  # nothing could boot, as with a loader error
EXIT_REPORT_ERROR = 5


class MissingInput(Exception):
    """A host file that should go on the ESP does not exist."""


class RunResult:
    """How a run ended: outcome is 'status', 'failure', 'loader-error' or 'timeout'.
    serial: COM1's text; l0_log: L0's log port's text when it had its own (COM2),
    else None; config: the nestvisor.cfg written (None if it was left out)."""

    def __init__(self, outcome, serial, detail="", status=None, elapsed=0.0, workdir=None,
                 l0_log=None, config=None):
        self.outcome = outcome
        self.serial = serial
        self.detail = detail
        self.status = status
        self.elapsed = elapsed
        self.workdir = workdir
        self.l0_log = l0_log
        self.config = config

    def all_text(self):
        """Everything the run printed (see joined_logs)."""
        return joined_logs(self.serial, self.l0_log)

    def describe(self):
        if self.outcome == "status":
            return "L1 exit status 0x%x (L1 wrote %d)" % (self.status, self.status >> 1)
        if self.outcome == "failure":
            return "L0 ended the run: " + self.detail
        if self.outcome == "loader-error":
            return "loader error: " + self.detail
        return "no end marker (%s)" % self.detail


def ascii_clean(text):
    """Serial text without terminal escape sequences and carriage returns."""
    text = re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", text)
    return text.replace("\r", "")


def joined_logs(serial, l0_log):
    """COM1 followed by L0's own log, if it had one."""
    return serial if l0_log is None else serial + "\n" + l0_log


def classify(serial, finished_reason, l0_log=None):
    """(outcome, detail, status) of a run from COM1 and L0's own log, if any:
    loader errors are on COM1, L0's end line on L0's log port."""
    m = LOADER_ERROR.search(serial)
    if m:
        return "loader-error", m.group(1).strip(), None
    l0_text = joined_logs(serial, l0_log)
    m = END_STATUS.search(l0_text)
    if m:
        return "status", "", int(m.group(1), 16)
    m = END_FAILURE.search(l0_text)
    if m:
        return "failure", m.group(1).strip(), None
    return "timeout", finished_reason, None


def cfg_lines(items):
    """nestvisor.cfg lines from --cfg KEY=VALUE items."""
    return [("%s = %s" % tuple(kv.split("=", 1))) if "=" in kv else kv for kv in items]


def log_port_lines(port):
    """The nestvisor.cfg line choosing L0's log port, if one was chosen."""
    return ["log_port = " + port] if port else []


def config_text(l1_esp, cmdline="", extra=()):
    lines = ["# written by tools/nvrun.py", "l1 = " + l1_esp]
    if cmdline:
        lines.append("cmdline = " + cmdline)
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def esp_path(name):
    return "\\%s\\%s" % (ESP_DIR, name)


def make_esp(image, files, size_kib=None):
    """A FAT ESP image holding files: {esp path with backslashes: host path (str)
    or contents (bytes)}. Contents are staged in a temporary directory that is
    removed again. MissingInput if a host path does not exist. The image is
    32 MiB, or larger when the files need it (a Linux L1 and its initramfs)."""
    gone = [src for src in files.values() if isinstance(src, str) and not os.path.isfile(src)]
    if gone:
        raise MissingInput(", ".join(gone))
    if size_kib is None:
        need = sum(os.path.getsize(s) if isinstance(s, str) else len(s) for s in files.values())
        size_kib = max(32768, (need * 9 // 8) // 1024 + 4096)
    if os.path.exists(image):
        os.unlink(image)
    subprocess.run(["mkfs.vfat", "-C", "-n", "NESTVISOR", image, str(size_kib)],
                   check=True, stdout=subprocess.DEVNULL)
    made = set()
    with tempfile.TemporaryDirectory(prefix="nvrun-esp-") as staging:
        for i, (dest, src) in enumerate(sorted(files.items())):
            parts = dest.strip("\\").split("\\")
            for depth in range(1, len(parts)):
                d = "/".join(parts[:depth])
                if d not in made:
                    subprocess.run(["mmd", "-i", image, "::/" + d], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    made.add(d)
            if isinstance(src, bytes):
                path = os.path.join(staging, "esp-file-%d" % i)
                with open(path, "wb") as f:
                    f.write(src)
                src = path
            subprocess.run(["mcopy", "-o", "-i", image, src, "::/" + "/".join(parts)],
                           check=True)


def esp_files(build, l1=None, cmdline="", cfg_extra=(), cfg_text=None, modules=(), files=None,
              omit=(), l1_name=None):
    """What goes on the ESP: {esp path: host path (str) or contents (bytes)}."""
    build = os.path.abspath(build)
    esp = {"\\EFI\\BOOT\\BOOTX64.EFI": os.path.join(build, "BOOTX64.EFI"),
           esp_path("core.elf"): os.path.join(build, "core.elf")}
    extra = list(cfg_extra)
    for host, args in modules:
        dest = esp_path(os.path.basename(host))
        esp[dest] = host
        extra.append("module = %s%s" % (dest, " " + args if args else ""))
    l1_dest = None
    if l1:
        l1_dest = esp_path(l1_name or os.path.basename(l1))
        esp[l1_dest] = l1
    esp[esp_path("nestvisor.cfg")] = (cfg_text if cfg_text is not None
                                      else config_text(l1_dest, cmdline, extra)).encode()
    esp.update(files or {})
    for o in omit:
        esp.pop(o, None)
    return esp


def write_dir(esp, outdir):
    """Copy the ESP files into a directory (a mounted FAT partition, for example)."""
    for dest, src in esp.items():
        path = os.path.join(outdir, *dest.strip("\\").split("\\"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(src, bytes):
            with open(path, "wb") as f:
                f.write(src)
        else:
            shutil.copyfile(src, path)


def cpu_option(text):
    """argparse type of --cpu-option: one KEY=VALUE for Bochs' `cpu:` line."""
    if not CPU_OPTION.match(text):
        raise argparse.ArgumentTypeError("%r is not KEY=VALUE (without spaces or commas)" % text)
    key = text.partition("=")[0]
    if key in RUNNER_CPU_KEYS:
        raise argparse.ArgumentTypeError("the runner sets %s itself (the model: --cpu)" % key)
    return text


def bochs_config(workdir, megs, cpu, rom_lines, disk_lines, cpu_options=(), com2=None,
                 magic_break=False):
    """A Bochs configuration (PLATFORM.md's working set) around firmware and disks.
    cpu_options: extra KEY=VALUE items of the cpu: line; com2: a file for COM2;
    magic_break: XCHG BX, BX stops in the debugger (bochs_trace)."""
    return "\n".join([
        "megs: %d" % megs,
        "cpu: " + ", ".join(["model=%s" % cpu, "count=1", "ips=50000000", *cpu_options]),
        *rom_lines,
        "pci: enabled=1, chipset=i440fx",
        "display_library: term",
        "com1: enabled=1, mode=file, dev=%s" % os.path.join(workdir, COM1_FILE),
        *(["com2: enabled=1, mode=file, dev=%s" % com2] if com2 else []),
        "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        *disk_lines,
        "clock: sync=none",
        "port_e9_hack: enabled=1",
        *(["magic_break: enabled=1"] if magic_break else []),
        "log: %s" % os.path.join(workdir, "bochs.log"),
        "debug: action=ignore",
        "info: action=ignore",
        "",
    ])


# The debugger script of a traced run: continue to the first magic breakpoint,
# trace every instruction to the second, then run to the end. The trace goes to
# the emulator's output (emulator.out in the workdir).
BOCHS_TRACE_SCRIPT = "c\ntrace on\nc\ntrace off\nc\n"


def bochs_command(workdir, config, script="c\n"):
    """Write the config and the debugger's script (default: continue); the command to run."""
    rc = os.path.join(workdir, "bochsrc")
    cont = os.path.join(workdir, "bochs-continue")
    with open(rc, "w") as f:
        f.write(config)
    with open(cont, "w") as f:
        f.write(script)
    # The Debian build has the debugger compiled in: -rc feeds it "continue".
    # TERM: the term display needs it.
    return ["env", "TERM=xterm", "bochs", "-q", "-f", rc, "-rc", cont]


class LogFollower:
    """A serial log file an emulator writes: its text so far and its new whole lines."""

    def __init__(self, path):
        self.path = path
        self.seen = 0  # characters of the text already handed out as lines
        open(path, "w").close()

    def text(self):
        with open(self.path, "rb") as f:
            return ascii_clean(f.read().decode("latin-1"))

    def new_lines(self, text, final=False):
        """Lines of text not handed out yet: whole lines only, unless final."""
        cut = len(text) if final else text.rfind("\n", self.seen) + 1
        if cut <= self.seen:
            return []
        chunk, self.seen = text[self.seen:cut], cut
        return chunk.splitlines()


def poll_logs(followers, on_line, final=False):
    """{log name: text} of every followed log; new lines go to on_line(name, line)."""
    texts = {}
    for name, follower in followers.items():
        texts[name] = follower.text()
        for line in follower.new_lines(texts[name], final):
            if on_line:
                on_line(name, line)
    return texts


def watch(cmd, workdir, end_re, timeout, on_line=None, grace=3.0, logs=None):
    """Run an emulator, following its serial logs (logs: {name: file in workdir},
    default {"COM1": serial.txt}) until end_re has been seen in one of them for
    `grace` seconds, the emulator exits, or `timeout` passes (then it is killed:
    Bochs ignores SIGTERM). Each new whole line goes to on_line(log name, line).
    Returns ({log name: text}, how the run ended, seconds)."""
    logs = logs or {"COM1": COM1_FILE}
    followers = {name: LogFollower(os.path.join(workdir, f)) for name, f in logs.items()}
    start = time.monotonic()
    with open(os.path.join(workdir, "emulator.out"), "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=workdir, start_new_session=True)
    ended = "time limit of %ds reached" % timeout
    end_seen_at = None
    while True:
        time.sleep(0.2)
        texts = poll_logs(followers, on_line)
        if end_seen_at is None and any(end_re.search(t) for t in texts.values()):
            end_seen_at = time.monotonic()
        if proc.poll() is not None:
            ended = "emulator exited with status %d" % proc.returncode
            break
        if end_seen_at is not None and time.monotonic() - end_seen_at > grace:
            ended = "stopped after the end marker"
            break
        if time.monotonic() - start > timeout:
            break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    texts = poll_logs(followers, on_line, final=True)
    return texts, ended, time.monotonic() - start


def raw_printer(out):
    """An on_line for watch(): COM1 lines as they are, other logs' lines tagged."""
    def show(log, line):
        out.write(("" if log == "COM1" else "[%s] " % log) + line + "\n")
        out.flush()
    return show


class Progress:
    """An on_line for watch() that tells where a run is, with elapsed seconds:
    firmware, loader, L0, L1 started, then each benchmark as exitbench starts it."""

    STAGES = (("loader", re.compile(r"nestvisor-boot: ")),
              ("L0", re.compile(r"nestvisor: ")),
              ("L1 started", re.compile(r"exitbench: start |nestvisor: starting L1")))
    BENCHMARK = re.compile(r"exitbench: progress (.*)")
    FAILED_CHECK = re.compile(r"exitbench: (check .*result=FAIL.*)")

    def __init__(self, out, clock=time.monotonic):
        self.out = out
        self.clock = clock
        self.start = clock()
        self.stage = -1
        self.say("firmware")

    def say(self, what):
        self.out.write("nvrun: [%6.1fs] %s\n" % (self.clock() - self.start, what))
        self.out.flush()

    def __call__(self, log, line):
        reached = [i for i, (_, pattern) in enumerate(self.STAGES) if pattern.search(line)]
        # COM1 and COM2 are read one after the other: a later stage can show first.
        while reached and self.stage < max(reached):
            self.stage += 1
            self.say(self.STAGES[self.stage][0])
        m = self.BENCHMARK.search(line)
        if m:
            f = report.fields(m.group(1))
            self.say("benchmark %s of %s: %s %s %s" % tuple(
                f.get(k, "?") for k in ("i", "of", "kind", "op", "handler")))
        m = self.FAILED_CHECK.search(line)
        if m:
            self.say(m.group(1))


def each(*handlers):
    """One on_line that calls every handler given (None: no handler at all)."""
    handlers = [h for h in handlers if h]
    if not handlers:
        return None

    def call(log, line):
        for h in handlers:
            h(log, line)
    return call


def emulator_command(emulator, workdir, image, megs, cpu, cpu_options=(), l0_log=None,
                     qemu_devices=(), bochs_trace=False):
    """The command booting image; l0_log: a file for COM2 (L0's own log port);
    qemu_devices: extra -device arguments for QEMU (e.g. intel-iommu);
    bochs_trace: Bochs traces every instruction between two magic breakpoints."""
    if emulator == "bochs":
        return bochs_command(workdir, bochs_config(
            workdir, megs, cpu, ["romimage: file=%s, address=0xffe00000" % OVMF,
                                 "vgaromimage: file=%s" % VGABIOS],
            ["ata0-master: type=disk, path=%s, mode=flat" % image, "boot: disk"],
            cpu_options, l0_log, magic_break=bochs_trace),
            BOCHS_TRACE_SCRIPT if bochs_trace else "c\n")
    qemu = ["qemu-system-x86_64", "-machine", "q35", "-m", str(megs), "-bios", OVMF,
            "-drive", "file=%s,format=raw" % image,
            "-serial", "file:" + os.path.join(workdir, COM1_FILE),
            *(["-serial", "file:" + l0_log] if l0_log else []),
            "-display", "none", "-no-reboot", "-monitor", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    for dev in qemu_devices:
        qemu += ["-device", dev]
    if emulator == "kvm":
        return qemu + ["-enable-kvm", "-cpu", "host"]
    return qemu + ["-cpu", "max"]


def kvm_has_vmx():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return " vmx" in f.read()
    except OSError:
        return False


def run(l1=None, build="build", emulator="bochs", cmdline="", cfg_extra=(), cfg_text=None,
        modules=(), files=None, omit=(), timeout=120, workdir=None, on_line=None, megs=256,
        cpu=BOCHS_CPU, l1_name=None, cpu_options=(), l0_log_port=None, qemu_devices=(),
        bochs_trace=False):
    """Boot once and return a RunResult.

    l1: host path of the L1 image (copied to \\nestvisor\\<l1_name or its name>).
    cfg_text: the whole nestvisor.cfg (overrides cmdline/cfg_extra); None = generated.
    modules: [(host path, args)] -> "module = \\nestvisor\\<name> args" lines.
    files: extra {esp path: host path or bytes}.  omit: esp paths to leave out.
    on_line: called with (log name, line) for each serial line as it arrives.
    cpu_options: extra KEY=VALUE items for Bochs' cpu: line.
    qemu_devices: extra QEMU -device arguments, e.g. "intel-iommu" (QEMU/KVM only).
    l0_log_port: 'com1' or 'com2' writes `log_port = ...` into the generated
    nestvisor.cfg; with 'com2' L0's log is read from COM2 (RunResult.l0_log).
    bochs_trace: Bochs' instruction trace between the first two magic breakpoints
    (XCHG BX, BX) in <workdir>/emulator.out (tools/trace_exit.py).
    MissingInput if a host file for the ESP does not exist.
    """
    own_dir = workdir is None
    workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="nvrun-"))
    build = os.path.abspath(build)
    os.makedirs(workdir, exist_ok=True)
    cfg_extra = list(cfg_extra) + log_port_lines(l0_log_port)
    esp = esp_files(build, l1, cmdline, cfg_extra, cfg_text, modules, files, omit, l1_name)
    image = os.path.join(workdir, "esp.img")
    make_esp(image, esp)

    com2 = l0_log_port == "com2"
    logs = {"COM1": COM1_FILE, **({"COM2": L0_LOG_FILE} if com2 else {})}
    cmd = emulator_command(emulator, workdir, image, megs, cpu, cpu_options,
                           os.path.join(workdir, L0_LOG_FILE) if com2 else None, qemu_devices,
                           bochs_trace)
    # After the end line L0 powers off; a loader error returns to the firmware,
    # which would go on booting: either way stop shortly after the marker.
    texts, finished, elapsed = watch(cmd, workdir, END_ANY, timeout, on_line, logs=logs)
    l0_log = texts.get("COM2")
    outcome, detail, status = classify(texts["COM1"], finished, l0_log)
    config = esp.get(esp_path("nestvisor.cfg"))
    result = RunResult(outcome, texts["COM1"], detail, status, elapsed, workdir, l0_log,
                       config.decode() if isinstance(config, bytes) else None)
    if own_dir and outcome != "timeout":
        shutil.rmtree(workdir, ignore_errors=True)
        result.workdir = None
    return result


def missing_inputs(build, l1, modules):
    """[(path, what it is)] of the files a boot needs that do not exist."""
    need = [(os.path.join(build, "BOOTX64.EFI"), "the UEFI loader"),
            (os.path.join(build, "core.elf"), "the L0 core"),
            (l1, "the L1 image")] + [(path, "a module") for path, _ in modules]
    return [(path, what) for path, what in need if not os.path.isfile(path)]


def say_missing(missing, build):
    """Tell what is missing and how to build it."""
    for path, what in missing:
        print("nvrun: %s is missing (%s)" % (path, what), file=sys.stderr)
    build = os.path.abspath(build)
    if any(os.path.abspath(p).startswith(build + os.sep) for p, _ in missing):
        print("nvrun: build first: `make` in the repository builds the loader, the core and "
              "the L1s under %s/guests/ (`make run` builds, then runs)"
              % os.path.relpath(build), file=sys.stderr)


def exit_code(r, expect_status):
    """The tool's exit status for a run's result."""
    if r.outcome == "status":
        return EXIT_PASS if r.status == expect_status else EXIT_STATUS_MISMATCH
    return {"loader-error": EXIT_LOADER_ERROR, "failure": EXIT_L0_FAILURE}.get(r.outcome,
                                                                                EXIT_NO_END)


def write_report(r, args, emulator, code):
    """--report: print the benchmark table and write its files; the exit status
    (EXIT_REPORT_ERROR instead of a pass when the files could not be written)."""
    print()
    try:
        report.report(r.serial, r.l0_log, args.report,
                      platform=PLATFORMS[emulator],
                      emulated_cpu=args.cpu if emulator == "bochs" else None,
                      cpu_options=args.cpu_option,
                      nestvisor_cfg=r.config, command=shlex.join(sys.argv))
    except report.NothingToReport as e:
        print("nvrun: no report: %s" % e)
        return code
    except (report.ReportError, OSError) as e:
        print("nvrun: the report failed: %s" % e, file=sys.stderr)
        return EXIT_REPORT_ERROR if code == EXIT_PASS else code
    return code


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="build directory (BOOTX64.EFI, core.elf)")
    ap.add_argument("--l1", required=True,
                    help="L1 image: a Multiboot ELF32 kernel, an ELF64 with a PVH entry (vmlinux) "
                         "or a Linux bzImage (vmlinuz)")
    ap.add_argument("--cmdline", default="", help="L1 command line")
    ap.add_argument("--cfg", action="append", default=[], metavar="KEY=VALUE",
                    help="extra nestvisor.cfg line (repeatable), e.g. l1_memory=64M")
    ap.add_argument("--module", action="append", default=[], metavar="FILE[:ARGS]",
                    help="Multiboot module, or for a PVH L1 a module-list entry; Linux (PVH or "
                         "bzImage) takes the first as its initrd (repeatable)")
    ap.add_argument("--emulator", choices=["bochs", "qemu", "kvm", "auto"], default="bochs",
                    help="bochs: Bochs + OVMF (VMX); qemu: QEMU TCG (no VMX); "
                         "kvm: QEMU/KVM on an Intel host with nested VMX; auto: kvm if usable")
    ap.add_argument("--cpu", default=BOCHS_CPU, help="Bochs CPU model")
    ap.add_argument("--cpu-option", action="append", default=[], type=cpu_option,
                    metavar="KEY=VALUE",
                    help="extra option of Bochs' cpu: line (repeatable), e.g. ignore_bad_msrs=1")
    ap.add_argument("--qemu-device", action="append", default=[], metavar="DEVICE",
                    help="extra QEMU -device (repeatable), e.g. intel-iommu for a VT-d unit "
                         "and an ACPI DMAR table (qemu and kvm only)")
    ap.add_argument("--l0-log-port", choices=["com1", "com2"],
                    help="write `log_port = ...` into nestvisor.cfg; com2: L0 logs on COM2, "
                         "kept as <workdir>/l0.txt")
    ap.add_argument("--megs", type=int, default=256, help="guest RAM in MiB")
    ap.add_argument("--timeout", type=int, default=180, help="hard time limit in seconds")
    ap.add_argument("--workdir", help="keep the ESP image, configs and logs here")
    ap.add_argument("--expect-status", type=lambda s: int(s, 0), default=1,
                    help="L1 exit status that counts as a pass (default 1: L1 wrote 0)")
    ap.add_argument("--report", metavar="DIR",
                    help="show progress instead of the serial log, then print the benchmark "
                         "table and write its JSON, CSV and SVG into DIR")
    ap.add_argument("--verbose", action="store_true",
                    help="with --report: stream the serial log too")
    ap.add_argument("--quiet", action="store_true",
                    help="neither stream the serial log nor show progress")
    ap.add_argument("--write-image", metavar="FILE",
                    help="only write a FAT ESP disk image with everything (no boot)")
    ap.add_argument("--write-dir", metavar="DIR",
                    help="only copy the ESP files into DIR, e.g. a mounted USB stick (no boot)")
    args = ap.parse_args(argv)
    if args.emulator == "auto":
        args.emulator = "kvm" if kvm_has_vmx() else "bochs"
    if args.cpu_option and args.emulator != "bochs":
        ap.error("--cpu-option is for Bochs' cpu: line; the emulator is %s" % args.emulator)
    if args.qemu_device and args.emulator == "bochs":
        ap.error("--qemu-device is for QEMU; the emulator is bochs")
    return args


def write_media(args, extra, mods):
    """--write-image / --write-dir: the ESP's files without booting."""
    esp = esp_files(args.build, args.l1, args.cmdline,
                    extra + log_port_lines(args.l0_log_port), None, mods)
    if args.write_image:
        make_esp(os.path.abspath(args.write_image), esp)
        print("nvrun: wrote %s" % args.write_image)
    if args.write_dir:
        write_dir(esp, args.write_dir)
        print("nvrun: wrote the ESP files under %s" % args.write_dir)


def line_handler(args):
    """What the command line shows while the emulator runs: the raw serial lines
    (default; with --report only if --verbose), progress (--report), or nothing."""
    if args.quiet:
        return None
    raw = raw_printer(sys.stdout) if args.verbose or not args.report else None
    return each(raw, Progress(sys.stdout) if args.report else None)


def main(argv=None):
    args = parse_args(argv)
    mods = [(path, margs) for path, _, margs in (m.partition(":") for m in args.module)]
    extra = cfg_lines(args.cfg)
    missing = missing_inputs(args.build, args.l1, mods)
    if missing:
        say_missing(missing, args.build)
        return EXIT_MISSING_INPUT
    if args.write_image or args.write_dir:
        write_media(args, extra, mods)
        return 0
    print("nvrun: booting %s under %s (time limit %ds)" % (args.l1, args.emulator, args.timeout),
          flush=True)
    r = run(l1=args.l1, build=args.build, emulator=args.emulator, cmdline=args.cmdline,
            cfg_extra=extra, modules=mods, timeout=args.timeout, workdir=args.workdir,
            on_line=line_handler(args), megs=args.megs, cpu=args.cpu,
            cpu_options=args.cpu_option, l0_log_port=args.l0_log_port,
            qemu_devices=args.qemu_device)
    print("nvrun: %s after %.1fs" % (r.describe(), r.elapsed))
    if r.workdir:
        print("nvrun: logs in %s" % r.workdir)
    code = exit_code(r, args.expect_status)
    if args.report:
        code = write_report(r, args, args.emulator, code)
    return code


if __name__ == "__main__":
    sys.exit(main())
