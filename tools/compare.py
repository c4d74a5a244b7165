#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Put two benchmark result files side by side, with ratios B/A.

    python3 tools/compare.py results/A.json results/B.json [--stat median]

A and B are files tools/report.py wrote (tools/results-schema.json), e.g. one run
with VMCS shadowing and one without, or the same run on two commits. Prints both
configurations and what differs between them, then one row per (kind, op,
handler): the round trip, L0 ticks and L0 exits of A and B and the ratios B/A.
A row that only one file has is marked "only in A" or "only in B". --names
nestvisor,KVM calls them so instead (make compare-kvm, tools/compare_kvm.py).

Exit status: 0 when both files were compared; 2 when one cannot be read or is not
a valid results file (the message says which and why).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (the schema, row order and number formats)

STATS = ("median", "min", "mean", "max")


class CompareError(Exception):
    """A file that cannot be compared."""


def load(path):
    """A results document from path, checked against the schema (CompareError if not)."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise CompareError("%s: cannot read it: %s" % (path, e.strerror or e)) from None
    except ValueError as e:
        raise CompareError("%s: not JSON: %s" % (path, e)) from None
    try:
        errors = report.schema_errors(doc)
    except report.ReportError as e:
        raise CompareError(str(e)) from None
    if errors:
        raise CompareError("%s: not a nestvisor results file (tools/results-schema.json):\n  %s"
                           % (path, "\n  ".join(errors[:10])))
    return doc


def settings(doc):
    """What a run was: {name: value} of everything that can make two runs differ."""
    plat, cfg, bench = doc["platform"], doc["configuration"], doc["benchmark"]
    out = {"L0": cfg.get("l0_name"), "commit": doc["commit"], "platform": plat["name"],
           "unit": plat["unit"],
           "emulated cpu": plat["emulated_cpu"],
           "cpu options": " ".join(plat["cpu_options"]) or None,
           "cpu": " ".join(x for x in (doc["cpu"]["vendor"], doc["cpu"]["model"]) if x) or None,
           "samples per op": bench["n"], "timestamps": bench["timestamp_method"]}
    for key, value in (cfg["l0"] or {}).items():
        out[key] = value
    return out


def describe(label, path, doc):
    """The lines that say what one file is."""
    s = settings(doc)
    l0 = doc["configuration"]["l0"]
    lines = ["%s: %s" % (label, path),
             "   created %s, commit %s, complete %s" % (doc["created"], s["commit"] or "unknown",
                                                       "yes" if doc["complete"] else "NO"),
             "   platform %s%s, unit %s; CPU %s" % (
                 s["platform"], " (%s)" % s["emulated cpu"] if s["emulated cpu"] else "",
                 s["unit"], s["cpu"] or "not reported"),
             "   L0 %s; nestvisor: %s" % (s["L0"] or "not named",
                                         " ".join("%s=%s" % kv for kv in l0.items())
                                         if l0 else "(no configuration line)"),
             "   command: %s" % doc["command"]]
    return lines


def differences(a, b):
    """'name: A -> B' for every setting that differs. Between two different L0s, a
    setting only one of them has (nestvisor's switches, for KVM) is not a difference."""
    sa, sb = settings(a), settings(b)
    other_l0 = sa.get("L0") != sb.get("L0")
    l0_keys = set((a["configuration"]["l0"] or {})) | set((b["configuration"]["l0"] or {}))
    return ["%s: %s -> %s" % (k, sa.get(k), sb.get(k))
            for k in dict.fromkeys(list(sa) + list(sb))
            if sa.get(k) != sb.get(k)
            and not (other_l0 and k in l0_keys and (sa.get(k) is None or sb.get(k) is None))]


def paired_rows(a, b):
    """[(row of A or None, row of B or None)] per (kind, op, handler), in report order."""
    rows_a = {report.row_key(r): r for r in a["results"]}
    rows_b = {report.row_key(r): r for r in b["results"]}
    every = list(a["results"]) + [r for r in b["results"] if report.row_key(r) not in rows_a]
    op_order = list(dict.fromkeys(r["op"] for r in every))
    every.sort(key=lambda r: report.sort_key(r, op_order))
    return [(rows_a.get(report.row_key(r)), rows_b.get(report.row_key(r))) for r in every]


def ratio_text(x, y):
    """y / x with two decimals, '-' when either is missing or x is zero."""
    if x is None or y is None or x == 0:
        return "-"
    return "%.2f" % (y / x)


def compare_row(ra, rb, stat, names=("A", "B")):
    """The table cells of one (kind, op, handler)."""
    key = report.row_key(ra or rb)
    if ra is None or rb is None:
        only = "only in %s" % (names[0] if rb is None else names[1])
        r = ra or rb
        cells = [report.fmt(r[stat]) if ra else "-", report.fmt(r[stat]) if rb else "-", only]
        return list(key) + cells + [""] * 5

    def pair(field):
        return [report.fmt(ra[field]), report.fmt(rb[field]), ratio_text(ra[field], rb[field])]
    return (list(key) + pair(stat) + pair("l0_ticks") +
            [report.fixed(ra["l0_exits"], 2), report.fixed(rb["l0_exits"], 2)])


def comparison(a, path_a, b, path_b, stat="median", names=("A", "B")):
    """The whole comparison as text; names: what to call A and B in it."""
    na, nb = names
    out = describe(na, path_a, a) + describe(nb, path_b, b)
    diff = differences(a, b)
    out += ["differs: " + d for d in diff] or ["the two runs have the same settings"]
    if a["platform"]["unit"] != b["platform"]["unit"]:
        out.append("WARNING: the units differ (%s vs %s): B/A compares unlike figures"
                   % (a["platform"]["unit"], b["platform"]["unit"]))
    ratio = "%s/%s" % (nb, na)
    head = ["kind", "op", "handler", na + " " + stat, nb + " " + stat, ratio,
            na + " L0 ticks", nb + " L0 ticks", ratio, na + " L0 exits", nb + " L0 exits"]
    rows = [compare_row(ra, rb, stat, names) for ra, rb in paired_rows(a, b)]
    width = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    out.append("")
    for r in [head] + rows:
        out.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, width))).rstrip())
    out.append("")
    out.append("%s: round trip per operation in the runs' unit; L0 ticks and L0 exits per "
               "operation (nestvisor's accounting; '-' without it); %s > 1: %s costs more"
               % (stat, ratio, nb))
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", metavar="A.json", help="the baseline results file")
    ap.add_argument("b", metavar="B.json", help="the results file compared with it")
    ap.add_argument("--stat", choices=STATS, default="median",
                    help="which round-trip figure to compare (default: median)")
    ap.add_argument("--names", metavar="A,B", default="A,B",
                    help="what to call the two runs in the table (default: A,B)")
    args = ap.parse_args(argv)
    names = tuple(args.names.split(","))
    if len(names) != 2 or not all(names):
        ap.error("--names takes two names separated by a comma")
    try:
        a, b = load(args.a), load(args.b)
    except CompareError as e:
        print("compare: %s" % e, file=sys.stderr)
        return 2
    sys.stdout.write(comparison(a, args.a, b, args.b, args.stat, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
