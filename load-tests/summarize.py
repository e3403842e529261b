#!/usr/bin/env python3
"""summarize.py RESULTS [--ratio A:B[:TARGET]]... : markdown tables from the key=value lines that
run_source (load-tests/lib.sh) writes, one line per smtp-source run.

Per case and target: runs, median msg/s (min-max), median server CPU per message, median
"other" CPU (the rest of the machine's busy time during the run: other people's load).
Per ratio A:B: the ratio of the medians and the ratio within each repetition (A and B ran one
after the other in the same repetition, so a paired ratio is less disturbed by load drifting on a
shared machine). With TARGET (e.g. 0.8) the table says whether the median paired ratio meets it.
"""
import argparse
import statistics
import sys
from collections import defaultdict


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.startswith("target="):
                continue
            kv = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
            rows.append(kv)
    return rows


def fmt(x, nd=0):
    return f"{x:,.{nd}f}" if x == x else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--ratio", action="append", default=[], help="A:B or A:B:TARGET")
    ap.add_argument("--metric", default="msg_per_s")
    ap.add_argument("--min-idle", type=float, default=None,
                    help="drop runs that started with less than this %% of the machine idle")
    ap.add_argument("--max-other", type=float, default=None,
                    help="drop runs during which the rest of the machine used more than this many CPU seconds")
    a = ap.parse_args()
    rows = parse(a.results)
    if not rows:
        sys.exit(f"no result lines in {a.results}")
    kept = [r for r in rows
            if (a.min_idle is None or float(r.get("idle_before_pct", 100)) >= a.min_idle)
            and (a.max_other is None or float(r.get("other_cpu_s", 0)) <= a.max_other)]
    if len(kept) != len(rows):
        dropped = [f"{r['target']}/{r['case']}/rep{r['rep']}" for r in rows if r not in kept]
        print(f"Dropped as disturbed ({len(dropped)} of {len(rows)} runs): {', '.join(dropped)}\n")
    rows = kept
    by = defaultdict(list)
    cases, targets = [], []
    for r in rows:
        if r["case"] not in cases:
            cases.append(r["case"])
        if r["target"] not in targets:
            targets.append(r["target"])
        by[(r["case"], r["target"])].append(r)

    m = a.metric
    print(f"| case | target | runs | median {m} (min-max) | server CPU µs/msg (median) | other CPU s during run (median) | errors |")
    print("|---|---|---|---|---|---|---|")
    for c in cases:
        for t in targets:
            rs = by.get((c, t))
            if not rs:
                continue
            v = [float(r[m]) for r in rs]
            cpu = [float(r["server_cpu_us_per_msg"]) for r in rs]
            oth = [float(r["other_cpu_s"]) for r in rs]
            errs = sum(1 for r in rs if r.get("rc") not in ("0", "124"))
            cut = sum(1 for r in rs if r.get("rc") == "124")
            note = f"{errs}" + (f" ({cut} cut by MAXSECS)" if cut else "")
            print(f"| {c} | {t} | {len(rs)} | {fmt(statistics.median(v))} ({fmt(min(v))}-{fmt(max(v))}) "
                  f"| {fmt(statistics.median(cpu))} | {fmt(statistics.median(oth), 1)} | {note} |")

    if a.ratio:
        print()
        print("| case | ratio | ratio of medians | paired ratio per repetition | median paired | target |")
        print("|---|---|---|---|---|---|")
    for spec in a.ratio:
        parts = spec.split(":")
        ta, tb = parts[0], parts[1]
        goal = float(parts[2]) if len(parts) > 2 else None
        for c in cases:
            ra, rb = by.get((c, ta)), by.get((c, tb))
            if not ra or not rb:
                continue
            med = statistics.median(float(r[m]) for r in ra) / max(1e-9, statistics.median(float(r[m]) for r in rb))
            pa = {r["rep"]: float(r[m]) for r in ra}
            pb = {r["rep"]: float(r[m]) for r in rb}
            paired = [pa[k] / pb[k] for k in pa if k in pb and pb[k] > 0]
            mp = statistics.median(paired) if paired else float("nan")
            verdict = ""
            if goal is not None:
                verdict = f">= {goal:g}: " + ("met" if mp >= goal else "NOT met")
            print(f"| {c} | {ta} / {tb} | {med:.2f} | {', '.join(f'{x:.2f}' for x in paired)} | {mp:.2f} | {verdict} |")


if __name__ == "__main__":
    main()
