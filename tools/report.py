#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn a benchmark run's serial text into a results table, JSON, CSV and an SVG chart.

Reads the `exitbench:` lines of the benchmark L1 (COM1) and the `nestvisor:`
lines of L0 (COM1, or a separate file when L0 logs on COM2), as tools/FORMATS.md
defines them. Prints one table; with --out DIR also writes DIR/<UTC time>.json
(validated against tools/results-schema.json), .csv and .svg (drawn by gnuplot).

    python3 tools/report.py serial.txt [--l0-log l0.txt] --out results/ --platform bochs

Exit status: 0 a complete run without failed checks; 1 the run is incomplete
(no `exitbench: done`) or reported failures (the files are still written);
2 nothing to report, an unreadable input, or the files could not be written.
"""

import argparse
import csv
import datetime
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
SCHEMA_PATH = os.path.join(TOOLS_DIR, "results-schema.json")
SCHEMA_VERSION = 1

# What one TSC tick is on each platform.
PLATFORM_UNITS = {
    "bochs": "instructions",      # clock: sync=none: one tick per retired instruction
    "kvm": "cycles",
    "bare-metal": "cycles",
    "qemu-tcg": "TSC ticks",      # host TSC, no meaning for guest code paths
    "unknown": "TSC ticks",
}
UNIT_NOTES = {
    "instructions": "under Bochs one TSC tick is one retired instruction: exact and repeatable",
    "cycles": "TSC cycles on hardware: they vary from run to run, compare medians and spreads",
    "TSC ticks": "TSC ticks of an unknown kind (give --platform)",
}

# Display and chart order of the kinds and handlers FORMATS.md names; others follow.
KIND_ORDER = ("l1", "l2-absorbed", "l2-reflected")
HANDLER_ORDER = ("-", "realistic", "minimal")

EXITBENCH_LINE = re.compile(r"exitbench: ([a-z0-9-]+)(.*)$")
NESTVISOR_LINE = re.compile(r"nestvisor: (config|acct|end): (.*)$")
INTEGER = re.compile(r"-?\d+$")
DECIMAL = re.compile(r"-?\d+\.\d+$")

RESULT_NUMBERS = ("samples", "min", "median", "mean", "max")


class ReportError(Exception):
    """Nothing sensible can be reported, or the output could not be written."""


class NothingToReport(ReportError):
    """The text holds no benchmark lines at all."""


# ---------------------------------------------------------------------------
# Parsing (tools/FORMATS.md)

def fields(rest):
    """The key=value fields of a record; words without '=' are ignored."""
    out = {}
    for word in rest.split():
        key, eq, value = word.partition("=")
        if eq:
            out[key] = value
    return out


def number(text):
    """A FORMATS.md figure: int, float, or None for `n/a`. ValueError otherwise."""
    if text == "n/a":
        return None
    if INTEGER.match(text):
        return int(text)
    if DECIMAL.match(text):
        return float(text)
    raise ValueError("not a number: %r" % text)


def exit_breakdown(text):
    """`LEVEL.REASON:count,...` as [{level, reason, per_op}]; None for `n/a`;
    [] for no exits (`none`, as exitbench prints it; `-` or an empty value)."""
    if text == "n/a":
        return None
    if text in ("", "-", "none"):
        return []
    out = []
    for item in text.split(","):
        cell, colon, count = item.rpartition(":")
        level, dot, reason = cell.partition(".")
        if not (colon and dot and level and reason):
            raise ValueError("not LEVEL.REASON:count: %r" % item)
        out.append({"level": level, "reason": reason, "per_op": number(count)})
    return out


def clean_lines(text):
    """Lines of serial text without carriage returns and terminal escapes."""
    text = re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", text)
    return text.replace("\r", "").split("\n")


class Parsed:
    """Everything a run printed that the report uses, in the order it came."""

    def __init__(self):
        self.start = None         # exitbench: start fields
        self.cpu = None           # exitbench: cpu fields
        self.l0 = None            # exitbench: l0 fields (L0 as L1 sees it)
        self.timestamp = None     # exitbench: timestamp fields
        self.results = []         # result rows (dicts, JSON shape)
        self.skipped = []
        self.checks = []
        self.done = None
        self.errors = []          # exitbench: error: <text>
        self.config = None        # nestvisor: config fields
        self.acct_overhead = None
        self.acct_cells = []
        self.acct_l2_exits = []
        self.end = None           # text after `nestvisor: end: `
        self.warnings = []

    def saw_benchmark(self):
        return bool(self.start or self.results or self.done or self.errors)


def parse_result(f):
    """One `exitbench: result` record as a JSON result row (KeyError/ValueError if bad)."""
    row = {"kind": f["kind"], "op": f["op"], "handler": f["handler"]}
    for key in RESULT_NUMBERS:
        row[key] = number(f[key])
        if row[key] is None:
            raise ValueError("%s is n/a" % key)
    row["l0_exits"] = number(f.get("l0_exits", "n/a"))
    row["l0_ticks"] = number(f.get("l0_ticks", "n/a"))
    row["exits"] = exit_breakdown(f.get("exits", "n/a"))
    return row


def parse_exitbench(p, record, rest):
    """Store one `exitbench:` record in p."""
    if record == "error":
        p.errors.append(rest.lstrip(":").strip())
        return
    f = fields(rest)
    if record == "start":
        p.start = f
    elif record == "cpu":
        p.cpu = f
    elif record == "l0":
        p.l0 = f
    elif record == "timestamp":
        p.timestamp = f
    elif record == "result":
        add_result(p, parse_result(f))
    elif record == "skip":
        p.skipped.append({k: f[k] for k in ("kind", "op", "handler", "why")})
    elif record == "check":
        p.checks.append({"name": f["name"], "result": f["result"], "detail": f.get("detail", "")})
    elif record == "done":
        p.done = {"passed": int(f["passed"]), "failed": int(f["failed"])}


def add_result(p, row):
    """Append a result row; a repeated (kind, op, handler) replaces the earlier one."""
    key = row_key(row)
    for i, old in enumerate(p.results):
        if row_key(old) == key:
            p.warnings.append("result %s %s %s appears twice: the later one is kept" % key)
            p.results[i] = row
            return
    p.results.append(row)


def parse_nestvisor(p, record, rest):
    """Store one `nestvisor: config:|acct:|end:` record in p."""
    if record == "end":
        p.end = rest.strip()
        return
    f = fields(rest)
    if record == "config":
        p.config = f
    elif "overhead" in f:
        p.acct_overhead = number(f["overhead"])
    elif "level" in f:
        p.acct_cells.append({"level": f["level"], "reason": f["reason"],
                             "count": int(f["count"]), "ticks": int(f["ticks"])})
    elif rest.startswith("l2-exit "):
        p.acct_l2_exits.append({
            "reason": f["reason"], "reflected": int(f["reflected"]),
            "l1_exits": int(f["l1_exits"]),
            "exits_per_l2_exit": number(f["exits_per_l2_exit"]),
            "l0_ticks_per_l2_exit": number(f["l0_ticks_per_l2_exit"])})


def parse(com1, l0_log=None):
    """Parse a run: COM1 text and, if L0 logged on its own port, that text."""
    p = Parsed()
    texts = [("COM1", com1)] + ([("L0 log", l0_log)] if l0_log is not None else [])
    for source, text in texts:
        for n, line in enumerate(clean_lines(text), 1):
            try:
                parse_line(p, line)
            except (KeyError, ValueError) as e:
                p.warnings.append("%s line %d ignored (%s: %s): %s"
                                  % (source, n, type(e).__name__, e, line.strip()))
    return p


def parse_line(p, line):
    """Dispatch one serial line to its record parser (other lines are ignored)."""
    m = EXITBENCH_LINE.search(line)
    if m:
        parse_exitbench(p, m.group(1), m.group(2))
        return
    m = NESTVISOR_LINE.search(line)
    if m:
        parse_nestvisor(p, m.group(1), m.group(2))


# ---------------------------------------------------------------------------
# The results document (tools/results-schema.json)

def row_key(row):
    return (row["kind"], row["op"], row["handler"])


def sort_key(row, op_order):
    """Rows of one op together: L1 first, then L2 absorbed, then L2 reflected."""
    def rank(value, order):
        return order.index(value) if value in order else len(order)
    return (op_order.index(row["op"]), rank(row["kind"], KIND_ORDER), row["kind"],
            rank(row["handler"], HANDLER_ORDER), row["handler"])


def ratio(a, b):
    """a / b rounded for the record, None when b is missing or zero."""
    if a is None or not b:
        return None
    return round(a / b, 4)


def with_ratios(results):
    """Result rows in display order, each with l2_l1_ratio: its median over the
    median of the `l1` row of the same op (None for l1 rows or without one)."""
    op_order = list(dict.fromkeys(r["op"] for r in results))
    l1 = {r["op"]: r["median"] for r in results if r["kind"] == "l1"}
    rows = []
    for r in sorted(results, key=lambda r: sort_key(r, op_order)):
        row = dict(r)
        row["l2_l1_ratio"] = None if r["kind"] == "l1" else ratio(r["median"], l1.get(r["op"]))
        rows.append(row)
    return rows


def optional(f, key, convert=str):
    """f[key] converted, or None if the record or the key is missing."""
    if not f or key not in f:
        return None
    try:
        return convert(f[key])
    except ValueError:
        return None


def split_list(text):
    """A comma-separated list; `-` or nothing is the empty list."""
    return text.split(",") if text and text != "-" else []


def git_describe():
    """`git describe --always --dirty` of the checkout holding this tool, or None."""
    try:
        r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=TOOLS_DIR,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() or None


def document(p, platform="unknown", emulated_cpu=None, cpu_options=(), nestvisor_cfg=None,
             command=None, commit=None, created=None, l0_name=None):
    """The results document of a parsed run, as tools/results-schema.json describes it.
    l0_name: what ran as L0 (default: nestvisor when it printed its configuration)."""
    created = created or datetime.datetime.now(datetime.timezone.utc)
    if l0_name is None and p.config:
        l0_name = "nestvisor"
    model = optional(p.cpu, "model")
    return {
        "schema_version": SCHEMA_VERSION,
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command if command is not None else shlex.join(sys.argv),
        "commit": commit,
        "platform": {"name": platform, "unit": PLATFORM_UNITS[platform],
                     "emulated_cpu": emulated_cpu, "cpu_options": list(cpu_options)},
        "cpu": {"vendor": optional(p.cpu, "vendor"),
                "model": model.replace("_", " ") if model else None},
        "configuration": {
            "l0_name": l0_name,
            "l0": (dict({k: p.config.get(k) for k in ("vmcs_shadowing", "accounting", "log_port")},
                        # An L0 from before the switch does not print it.
                        **({"vmcs_shadow_set": p.config["vmcs_shadow_set"]}
                           if "vmcs_shadow_set" in p.config else {}))
                   if p.config else None),
            "seen_by_l1": ({"name": optional(p.l0, "name"),
                            "interface": optional(p.l0, "interface", int),
                            "accounting": optional(p.l0, "accounting"),
                            "shadowing": optional(p.l0, "shadowing")} if p.l0 else None),
            "nestvisor_cfg": nestvisor_cfg,
        },
        "benchmark": {
            "version": optional(p.start, "version", int),
            "ops": split_list(optional(p.start, "ops")),
            "n": optional(p.start, "n", int),
            "warmup": optional(p.start, "warmup", int),
            "handlers": split_list(optional(p.start, "handlers")),
            "kinds": split_list(optional(p.start, "kinds")),
            "timestamp_method": optional(p.timestamp, "method"),
            "timestamp_pair": optional(p.timestamp, "pair", number),
        },
        "complete": p.done is not None,
        "summary": p.done,
        "errors": p.errors,
        "end": p.end,
        "results": with_ratios(p.results),
        "skipped": p.skipped,
        "checks": p.checks,
        "l0_accounting": {"overhead": p.acct_overhead, "cells": p.acct_cells,
                          "l2_exits": p.acct_l2_exits},
        "warnings": p.warnings,
    }


def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def validator():
    """A Draft 2020-12 validator for tools/results-schema.json (python3-jsonschema)."""
    try:
        import jsonschema
    except ImportError:
        raise ReportError("python3-jsonschema is not importable by %s: install the Debian "
                          "package python3-jsonschema (make deps) and use /usr/bin/python3"
                          % sys.executable) from None
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(doc):
    """Every way doc breaks the schema, one readable line each ([] if it is valid)."""
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    return ["%s: %s" % ("/".join(str(x) for x in e.absolute_path) or "(top)", e.message)
            for e in errors]


def words(text):
    """A FORMATS.md text value (spaces written as '_') for people to read."""
    return text.replace("_", " ")


def failed(doc):
    """Why a run's results are not a clean, complete set ([] if they are)."""
    why = ["exitbench: error: " + e for e in doc["errors"]]
    if not doc["complete"]:
        why.append("incomplete: no `exitbench: done` line")
    if doc["summary"] and doc["summary"]["failed"]:
        why.append("exitbench reported %d failed check(s)" % doc["summary"]["failed"])
    why += ["check %s failed: %s" % (c["name"], words(c["detail"]))
            for c in doc["checks"] if c["result"] != "ok"]
    if doc["end"] and doc["end"].startswith("failure"):
        why.append("L0 ended the run: " + doc["end"])
    return why


# ---------------------------------------------------------------------------
# The table

def fmt(value, digits=1):
    """A figure: '-' for None, whole numbers without decimals, others rounded."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return str(int(value))
    return "%.*f" % (digits, value)


def fixed(value, digits):
    """A figure with exactly `digits` decimals ('-' for None)."""
    return "-" if value is None else "%.*f" % (digits, value)


def on_off(d, key):
    return "%s=%s" % (key, d.get(key) or "?")


def header_lines(doc):
    """The lines above the table: unit, platform, CPU, configuration, benchmark."""
    plat, cpu, cfg, bench = doc["platform"], doc["cpu"], doc["configuration"], doc["benchmark"]
    emulated = " (Bochs CPU %s%s)" % (plat["emulated_cpu"], "".join(
        ", " + o for o in plat["cpu_options"])) if plat["emulated_cpu"] else ""
    l0, l0_name = cfg["l0"], cfg.get("l0_name")
    lines = [
        "unit: %s (%s)" % (plat["unit"], UNIT_NOTES[plat["unit"]]),
        "platform: %s%s" % (plat["name"], emulated),
        "CPU: %s %s" % (cpu["vendor"] or "(vendor not reported)",
                        cpu["model"] or "(model not reported)"),
    ]
    if l0_name and l0_name != "nestvisor":
        # Another L0: nestvisor's configuration and accounting do not exist there.
        lines.append("L0: %s (no nestvisor accounting: L0 ticks and exits are '-')" % l0_name)
    else:
        lines.append("nestvisor: %s" % (" ".join(on_off(l0, k) for k in (
            "vmcs_shadowing", "vmcs_shadow_set", "accounting", "log_port")
            if k != "vmcs_shadow_set" or k in l0) if l0 else
            "(no `nestvisor: config:` line)"))
    seen = cfg["seen_by_l1"]
    if seen:
        lines.append("L0 as L1 sees it: %s interface %s, accounting=%s, shadowing=%s"
                     % (seen["name"], seen["interface"], seen["accounting"],
                        seen["shadowing"]))
    lines.append("commit: %s" % (doc["commit"] or "unknown"))
    if bench["n"] is not None:
        lines.append("benchmark: %s samples per op after %s warm-up; timestamps %s, the pair's "
                     "%s ticks subtracted" % (bench["n"], bench["warmup"],
                                              bench["timestamp_method"] or "?",
                                              fmt(bench["timestamp_pair"])))
    return lines


def table_rows(doc):
    """Header and cells of the table, one row per (kind, op, handler)."""
    spread = any(r["min"] != r["max"] for r in doc["results"])
    head = ["kind", "op", "handler", "round trip"] + (["min..max"] if spread else []) + \
        ["L2/L1", "L0 ticks", "L0 exits"]
    rows = []
    for r in doc["results"]:
        rows.append([r["kind"], r["op"], r["handler"], fmt(r["median"])] +
                    (["%s..%s" % (fmt(r["min"]), fmt(r["max"]))] if spread else []) +
                    [fixed(r["l2_l1_ratio"], 1), fmt(r["l0_ticks"]), fixed(r["l0_exits"], 2)])
    return head, rows


def table(doc):
    """The report printed on stdout: header lines, the table, its legend and notes."""
    l0_name = doc["configuration"].get("l0_name")
    out = ["%s exit round trips, %s" % ("nestvisor" if l0_name in (None, "nestvisor") else
                                        "L0 " + l0_name, doc["created"])]
    out += header_lines(doc)
    head, rows = table_rows(doc)
    width = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    align = ["<", "<", "<"] + [">"] * (len(head) - 3)
    out.append("")
    for r in [head] + rows:
        out.append("  ".join("%*s" % (w if a == ">" else -w, c)
                             for c, w, a in zip(r, width, align)).rstrip())
    unit = doc["platform"]["unit"]
    out += ["",
            "round trip  median %s per operation, as the guest measures it" % unit,
            "L2/L1       round trip over the round trip of the l1 row of the same op",
            "L0 ticks    %s L0 spent per operation (its accounting window)" % unit,
            "L0 exits    L0 exits per operation; for l2-reflected the exit multiplication"]
    out += ["skipped %s %s %s: %s" % (s["kind"], s["op"], s["handler"], words(s["why"]))
            for s in doc["skipped"]]
    out += ["warning: " + w for w in doc["warnings"]]
    out += ["NOTE: " + w for w in failed(doc)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# CSV and chart

CSV_COLUMNS = ("created", "platform", "unit", "vmcs_shadowing", "accounting", "commit",
               "kind", "op", "handler", "samples", "min", "median", "mean", "max",
               "l2_l1_ratio", "l0_exits", "l0_ticks", "exits")


def exits_text(exits):
    """A breakdown back in FORMATS.md's compact form (`n/a` for None, `-` for [])."""
    if exits is None:
        return "n/a"
    if not exits:
        return "-"
    return ",".join("%s.%s:%s" % (e["level"], e["reason"], fmt(e["per_op"], 2))
                    for e in exits)


def csv_text(doc):
    """The result rows as CSV, each with the run's platform and configuration."""
    l0 = doc["configuration"]["l0"] or {}
    run = {"created": doc["created"], "platform": doc["platform"]["name"],
           "unit": doc["platform"]["unit"], "vmcs_shadowing": l0.get("vmcs_shadowing"),
           "accounting": l0.get("accounting"), "commit": doc["commit"]}
    out = io.StringIO()
    w = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in doc["results"]:
        row = dict(run, **{k: r[k] for k in CSV_COLUMNS if k in r})
        row["exits"] = exits_text(r["exits"])
        w.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def series_name(kind, handler):
    return kind if handler == "-" else "%s %s" % (kind, handler)


def chart_data(doc):
    """gnuplot data: one line per op, one column per (kind, handler); '?' = none."""
    rows = doc["results"]
    ops = list(dict.fromkeys(r["op"] for r in rows))
    series = list(dict.fromkeys((r["kind"], r["handler"]) for r in rows))
    value = {(r["op"], r["kind"], r["handler"]): r["median"] for r in rows}
    lines = ["op " + " ".join('"%s"' % series_name(*s) for s in series)]
    for op in ops:
        cells = [value.get((op,) + s) for s in series]
        lines.append(op + " " + " ".join(fmt(v) if v and v > 0 else "?" for v in cells))
    return "\n".join(lines) + "\n", len(series)


def gnuplot_string(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def chart_title(doc):
    l0 = doc["configuration"]["l0"] or {}
    plat = doc["platform"]
    return "nestvisor round trips: %s%s, vmcs_shadowing=%s, accounting=%s, %s" % (
        plat["name"], " " + plat["emulated_cpu"] if plat["emulated_cpu"] else "",
        l0.get("vmcs_shadowing", "?"), l0.get("accounting", "?"), doc["commit"] or "no commit")


CHART_GAP = 1  # empty bar widths between two ops' clusters


def gnuplot_script(doc, data_path, svg_path, nseries):
    """A gnuplot script drawing one cluster of bars per op (one bar per kind and
    handler) on a log-scale y axis, each bar labelled with its value."""
    top = max(r["median"] for r in doc["results"])
    data = gnuplot_string(data_path)
    # Bar k of the cluster at x = i sits at i + (k - (n-1)/2) / (n + gap).
    label_x = "($0 + (c - 2 - %g) / %g.0)" % ((nseries - 1) / 2, nseries + CHART_GAP)
    return "\n".join([
        'set terminal svg size 960,540 dynamic noenhanced font "sans,11" background "white"',
        "set output %s" % gnuplot_string(svg_path),
        "set title %s" % gnuplot_string(chart_title(doc)),
        "set ylabel %s" % gnuplot_string("%s per round trip (median, log scale)"
                                         % doc["platform"]["unit"]),
        "set style data histograms",
        "set style histogram clustered gap %d" % CHART_GAP,
        "set style fill solid 0.85 border -1",
        "set logscale y",
        "set yrange [0.5:%g]" % (max(top, 1) * 8),
        "set grid ytics",
        "set key below",
        'set datafile missing "?"',
        "set key autotitle columnheader",  # every plot skips the header line
        "plot for [c=2:%d] %s using c:xtic(1) title columnheader(c), \\" % (nseries + 1, data),
        "     for [c=2:%d] %s using %s:c:(stringcolumn(c)) with labels rotate by 90 left "
        'offset 0,0.4 font ",9" notitle' % (nseries + 1, data, label_x),
        ""])


def write_chart(doc, svg_path):
    """Draw the L1-vs-L2 chart with gnuplot into svg_path."""
    if shutil.which("gnuplot") is None:
        raise ReportError("gnuplot is not installed: install the Debian package gnuplot-nox "
                          "(make deps), or pass --no-chart")
    data, nseries = chart_data(doc)
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        data_path = os.path.join(tmp, "rows.dat")
        script = os.path.join(tmp, "chart.gp")
        with open(data_path, "w") as f:
            f.write(data)
        with open(script, "w") as f:
            f.write(gnuplot_script(doc, data_path, svg_path, nseries))
        r = subprocess.run(["gnuplot", script], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or not os.path.exists(svg_path):
        raise ReportError("gnuplot failed:\n" + r.stdout)


# ---------------------------------------------------------------------------
# Writing a report

def free_stem(out_dir, created):
    """DIR/<UTC time> for a new set of files; -2, -3, ... if that time is taken."""
    base = os.path.join(out_dir, created.replace("-", "").replace(":", ""))
    stem, n = base, 1
    while any(os.path.exists(stem + ext) for ext in (".json", ".csv", ".svg")):
        n += 1
        stem = "%s-%d" % (base, n)
    return stem


def write_files(doc, out_dir, chart=True):
    """Validate doc and write <stem>.json, .csv and (chart) .svg; returns their paths."""
    errors = schema_errors(doc)
    if errors:
        raise ReportError("the results break tools/results-schema.json:\n  " +
                          "\n  ".join(errors))
    os.makedirs(out_dir, exist_ok=True)
    stem = free_stem(out_dir, doc["created"])
    paths = [stem + ".json", stem + ".csv"]
    with open(paths[0], "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(paths[1], "w") as f:
        f.write(csv_text(doc))
    if chart and doc["results"]:
        write_chart(doc, stem + ".svg")
        paths.append(stem + ".svg")
    return paths


def report(com1, l0_log=None, out_dir=None, chart=True, stream=None, **meta):
    """Parse a run, print its table to stream (stdout), and with out_dir write its
    files (no chart without results). meta: document()'s platform, emulated_cpu,
    cpu_options, nestvisor_cfg, command, commit (default: git describe of this
    checkout). Returns (document, paths written); ReportError if there is nothing
    to report or the files could not be written."""
    stream = stream or sys.stdout
    p = parse(com1, l0_log)
    if not p.saw_benchmark():
        raise NothingToReport("no `exitbench:` lines: this is not a run of the benchmark L1 "
                          "(guests/exitbench)")
    if "commit" not in meta:
        meta["commit"] = git_describe()
    doc = document(p, **meta)
    stream.write(table(doc))
    paths = write_files(doc, out_dir, chart) if out_dir else []
    for path in paths:
        stream.write("wrote %s\n" % path)
    stream.flush()
    return doc, paths


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("latin-1")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("serial", help="the run's COM1 log (exitbench lines, and L0's by default)")
    ap.add_argument("--l0-log", metavar="FILE", help="L0's log when it was on its own port "
                                                     "(log_port = com2)")
    ap.add_argument("--out", metavar="DIR", help="write <UTC time>.json, .csv and .svg here")
    ap.add_argument("--platform", choices=sorted(PLATFORM_UNITS), default="unknown",
                    help="where the run ran: sets the unit (bochs: instructions; kvm, "
                         "bare-metal: cycles)")
    ap.add_argument("--emulated-cpu", metavar="MODEL", help="Bochs CPU model of the run")
    ap.add_argument("--commit", help="record this instead of `git describe` of this checkout")
    ap.add_argument("--no-chart", action="store_true", help="do not draw the SVG chart")
    args = ap.parse_args(argv)
    try:
        com1 = read_text(args.serial)
        l0_log = read_text(args.l0_log) if args.l0_log else None
        meta = {"platform": args.platform, "emulated_cpu": args.emulated_cpu}
        if args.commit:
            meta["commit"] = args.commit
        doc, _ = report(com1, l0_log, args.out, not args.no_chart, **meta)
    except (OSError, ReportError) as e:
        print("report: %s" % e, file=sys.stderr)
        return 2
    return 1 if failed(doc) else 0


if __name__ == "__main__":
    sys.exit(main())
