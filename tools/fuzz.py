#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the libFuzzer harnesses (<build>/fuzz/fuzz_<target>, tests/fuzz/) and
summarise each run: executions, coverage, corpus.

Each target starts from its committed seeds (tests/fuzz/corpus/<target>/, only
read; tests/fuzz/<target>.dict, if there is one, is its dictionary) and a work
corpus libFuzzer adds to:
  --time S   <build>/fuzz/corpus/<target>/, kept from run to run (make fuzz);
  --runs N   a fresh one, fixed seed: the same inputs every time (--smoke:
             make fuzz-smoke and the fuzz tier of make test, SMOKE_RUNS).
A crash, a sanitizer report or a violated invariant (the harness aborts) fails
the target; libFuzzer saves the input as <build>/fuzz/artifacts/<target>/crash-*.
Rerun it with `<build>/fuzz/fuzz_<target> <that file>`. Each run's whole log is
<build>/fuzz/logs/<target>.txt.

Exit status: 0 every target passed, 1 one failed, 2 a harness is not built.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SOURCES = os.path.join(REPO, "tests", "fuzz")
SEEDS = os.path.join(SOURCES, "corpus")

# make test's short runs: inputs per target (a few seconds each), and the libFuzzer seed.
SMOKE_RUNS = 20000
SMOKE_SEED = 1

FINAL_STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
# libFuzzer's status lines: "#20000	DONE   cov: 345 ft: 1234 corp: 56/2345b ... exec/s: 4000".
STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+", re.M)
# What went wrong, most telling first: a harness's invariant (with its message line),
# a sanitizer report, libFuzzer's own verdict.
FAILURE = re.compile(r"^(INVARIANT VIOLATED.*\n.*|.*runtime error: .*|==\d+==ERROR: .*|"
                     r"SUMMARY: libFuzzer: .*|ERROR: libFuzzer: .*)", re.M)
ARTIFACT = re.compile(r"Test unit written to (\S+)")


def targets():
    """Every harness, by its source: tests/fuzz/fuzz_<target>.c."""
    return sorted(f[5:-2] for f in os.listdir(SOURCES)
                  if f.startswith("fuzz_") and f.endswith(".c"))


def binary(build, target):
    return os.path.join(build, "fuzz", "fuzz_" + target)


class Result:
    def __init__(self, target):
        self.target = target
        self.ok = False
        self.execs = self.cov = self.ft = self.corpus = None
        self.seconds = 0.0
        self.status_line = ""      # libFuzzer's last status line (cov:)
        self.stats = []            # libFuzzer's stat:: lines
        self.problem = ""          # why it failed
        self.detail = []           # log lines worth showing on failure

    def summary(self):
        if not self.ok:
            return "%s [%.0fs]" % (self.problem, self.seconds)
        return "%s runs, cov %s, ft %s, corpus %s units [%.0fs]" % (
            self.execs, self.cov, self.ft, self.corpus, self.seconds)


def parse_log(text, result):
    """Fill result's figures from a libFuzzer log (its final stats and last status line)."""
    stats = dict((k, int(v)) for k, v in FINAL_STAT.findall(text))
    result.stats = [m.group(0) for m in FINAL_STAT.finditer(text)]
    result.execs = stats.get("number_of_executed_units")
    status = list(STATUS.finditer(text))
    if status:
        last = status[-1]
        result.status_line = last.group(0).strip()
        result.cov, result.ft, result.corpus = (int(last.group(i)) for i in (3, 4, 5))
        if result.execs is None:
            result.execs = int(last.group(1))
    return result


def judge(text, code, result, timeout=None):
    """Pass or fail a run from its log and exit status (None: killed at timeout)."""
    failures = [" ".join(f.split()) for f in FAILURE.findall(text)]
    artifact = ARTIFACT.search(text)
    if code is None:
        result.problem = "no result within %ss" % timeout
    elif code != 0 or failures:
        result.problem = failures[0] if failures else "libFuzzer exit status %d" % code
        if artifact:
            result.problem += " (input: %s)" % artifact.group(1)
    elif result.execs is None:
        result.problem = "no final stats in the log"
    else:
        result.ok = True
    return result


def run(build, target, runs=None, seconds=None, timeout=None):
    """One libFuzzer run of a target: runs inputs (fresh corpus, fixed seed) or
    seconds of fuzzing (the kept corpus). Returns a Result."""
    r = Result(target)
    exe = binary(build, target)
    if not os.access(exe, os.X_OK):
        r.problem = "not built: %s (make fuzz-build)" % exe
        return r
    fuzz_dir = os.path.join(build, "fuzz")
    artifacts = os.path.join(fuzz_dir, "artifacts", target)
    logs = os.path.join(fuzz_dir, "logs")
    if runs is not None:
        work = os.path.join(fuzz_dir, "smoke-corpus", target)
        shutil.rmtree(work, ignore_errors=True)
        limits = ["-runs=%d" % runs, "-seed=%d" % SMOKE_SEED]
    else:
        work = os.path.join(fuzz_dir, "corpus", target)
        limits = ["-max_total_time=%d" % seconds]
    for d in (work, artifacts, logs):
        os.makedirs(d, exist_ok=True)
    seeds = os.path.join(SEEDS, target)
    dictionary = os.path.join(SOURCES, target + ".dict")
    if os.path.isfile(dictionary):
        limits.append("-dict=" + dictionary)
    cmd = [exe] + limits + ["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048",
                            "-artifact_prefix=" + artifacts + "/", work]
    if os.path.isdir(seeds):
        cmd.append(seeds)   # read only: libFuzzer writes new inputs into the first directory
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=timeout)
        text, code = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode("latin-1") if isinstance(e.stdout, bytes) else (e.stdout or "")
        code = None
    r.seconds = time.monotonic() - start
    with open(os.path.join(logs, target + ".txt"), "w") as f:
        f.write(" ".join(cmd) + "\n" + text)
    parse_log(text, r)
    judge(text, code, r, timeout)
    if not r.ok:
        r.detail = [l for l in text.splitlines() if l.strip()][-25:] + [
            "(log: %s)" % os.path.join(logs, target + ".txt")]
    return r


def run_all(build, names, jobs, **kw):
    """Run targets jobs at a time; yields results in the order of names, each as
    soon as it (and those before it) is done."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        yield from pool.map(lambda t: run(build, t, **kw), names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--time", type=int, metavar="SECONDS", help="fuzz each target this long")
    how.add_argument("--runs", type=int, help="run this many inputs per target (fixed seed)")
    how.add_argument("--smoke", action="store_true",
                     help="make test's short runs: --runs %d" % SMOKE_RUNS)
    ap.add_argument("--jobs", type=int, default=1, help="targets at once")
    ap.add_argument("target", nargs="*", help="targets (default: all of tests/fuzz/)")
    args = ap.parse_args()

    names = args.target or targets()
    unknown = [t for t in names if t not in targets()]
    if unknown:
        ap.error("no harness tests/fuzz/fuzz_%s.c" % unknown[0])
    if args.smoke:
        args.runs = SMOKE_RUNS
    kw = dict(runs=args.runs) if args.runs is not None else dict(seconds=args.time)
    # A generous guard: libFuzzer ends by itself long before.
    kw["timeout"] = 600 + (args.time or 0) * 2
    results = []
    for r in run_all(args.build, names, args.jobs, **kw):
        for line in r.stats + ([r.status_line] if r.status_line else []):
            print("fuzz/%s: %s" % (r.target, line))
        print("%s fuzz/%s: %s" % ("PASS" if r.ok else "FAIL", r.target, r.summary()), flush=True)
        if not r.ok:
            for line in r.detail:
                print("    " + line)
        results.append(r)
    failed = [r for r in results if not r.ok]
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    if any(r.problem.startswith("not built") for r in failed):
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
