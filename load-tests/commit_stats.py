#!/usr/bin/env python3
"""commit_stats.py HOST:PORT "key=value ..."  : one line of group-commit statistics read from a
running Sluice's /metrics (the spool's histograms since it started):
    <keys> commits=N msgs=N per_commit_mean=.. per_commit_p50=.. per_commit_p99=.. commit_ms_p50=.. commit_ms_p99=..
commit_stats.py --summarize FILE : a markdown table (median over repetitions) per target and case.

Quantiles are interpolated linearly inside the histogram bucket that holds them, as Prometheus's
histogram_quantile() does, so they are as coarse as the buckets.
"""
import re
import statistics
import sys
import urllib.request
from collections import defaultdict

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')


def scrape(hostport):
    with urllib.request.urlopen(f"http://{hostport}/metrics", timeout=10) as r:
        return r.read().decode()


def histogram(text, name):
    buckets, total, count = [], 0.0, 0.0
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        if m.group(1) == f"{name}_bucket":
            le = re.search(r'le="([^"]+)"', m.group(2)).group(1)
            buckets.append((float("inf") if le == "+Inf" else float(le), float(m.group(3))))
        elif m.group(1) == f"{name}_sum":
            total = float(m.group(3))
        elif m.group(1) == f"{name}_count":
            count = float(m.group(3))
    return sorted(buckets), total, count


def quantile(q, buckets, count):
    if count == 0:
        return float("nan")
    rank = q * count
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 1)
        prev_le, prev_c = le, c
    return prev_le


def measure(hostport, keys):
    text = scrape(hostport)
    pb, ps, pc = histogram(text, "sluice_spool_messages_per_commit")
    cb, _, cc = histogram(text, "sluice_spool_commit_seconds")
    print(f"{keys} commits={pc:.0f} msgs={ps:.0f} per_commit_mean={ps / pc if pc else 0:.1f} "
          f"per_commit_p50={quantile(0.5, pb, pc):.1f} per_commit_p99={quantile(0.99, pb, pc):.1f} "
          f"commit_ms_p50={quantile(0.5, cb, cc) * 1000:.2f} commit_ms_p99={quantile(0.99, cb, cc) * 1000:.2f}")


def summarize(path):
    rows = defaultdict(list)
    for line in open(path):
        kv = dict(t.split("=", 1) for t in line.split() if "=" in t)
        if "target" in kv:
            rows[(kv["case"], kv["target"])].append(kv)
    cols = ["per_commit_mean", "per_commit_p50", "per_commit_p99", "commit_ms_p50", "commit_ms_p99"]
    print("| case | target | runs | messages per commit: mean / p50 / p99 | commit ms: p50 / p99 |")
    print("|---|---|---|---|---|")
    for (case, target), rs in sorted(rows.items()):
        med = {c: statistics.median(float(r[c]) for r in rs) for c in cols}
        print(f"| {case} | {target} | {len(rs)} | {med['per_commit_mean']:.1f} / {med['per_commit_p50']:.1f} / "
              f"{med['per_commit_p99']:.1f} | {med['commit_ms_p50']:.2f} / {med['commit_ms_p99']:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--summarize":
        summarize(sys.argv[2])
    elif len(sys.argv) == 3:
        measure(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
