#!/usr/bin/env python3
"""Side-by-side ratios of two runs of the shared yardstick (../shared/bench/hitl_bench.py).

    python ../shared/bench/hitl_bench.py --impl hitlgraph --out hitl.json
    python ../shared/bench/hitl_bench.py --impl langgraph --out lg.json
    python bench/compare_hitl_bench.py hitl.json lg.json [--markdown]

Prints every numeric metric of every scenario with both values and the ratio a/b
(first file over second), plus each scenario's errors and notes.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def fmt(v: Any) -> str:
    if not isinstance(v, int | float) or v != v:
        return "-" if v is None else str(v)
    a = abs(v)
    if isinstance(v, int) or a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("a", help="JSON of the first implementation (numerator)")
    ap.add_argument("b", help="JSON of the second implementation (denominator)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    with open(args.a) as f:
        a = json.load(f)
    with open(args.b) as f:
        b = json.load(f)
    na, nb = a["meta"]["impl"], b["meta"]["impl"]
    if args.markdown:
        print(f"| scenario | metric | unit | {na} | {nb} | {na}/{nb} |")
        print("| --- | --- | --- | ---: | ---: | ---: |")
    else:
        print(f"{'scenario':<20} {'metric':<44} {'unit':<8} {na:>12} {nb:>12} {'ratio':>8}")
    notes: list[str] = []
    for sc, ra in a["scenarios"].items():
        rb = b["scenarios"].get(sc, {})
        units = {**rb.get("units", {}), **ra.get("units", {})}
        keys = list(ra.get("metrics", {}))
        keys += [k for k in rb.get("metrics", {}) if k not in keys]
        for k in keys:
            va, vb = ra.get("metrics", {}).get(k), rb.get("metrics", {}).get(k)
            r = None
            if isinstance(va, int | float) and isinstance(vb, int | float) and vb:
                r = va / vb
            if args.markdown:
                print(f"| {sc} | {k} | {units.get(k, '')} | {fmt(va)} | {fmt(vb)} | {fmt(r)} |")
            else:
                print(
                    f"{sc:<20} {k:<44} {units.get(k, ''):<8} {fmt(va):>12} {fmt(vb):>12} "
                    f"{fmt(r):>8}"
                )
        for name, res in ((na, ra), (nb, rb)):
            if res.get("error"):
                notes.append(f"{name}/{sc}: SCENARIO ERROR {res['error']}")
            for part, err in res.get("errors", {}).items():
                notes.append(f"{name}/{sc}/{part}: ERROR {err}")
            for n in res.get("notes", []):
                notes.append(f"{name}/{sc}: note: {n}")
            share = res.get("other_processes_cpu_share")
            if share:
                notes.append(f"{name}/{sc}: other processes used {share:.0%} of the CPU")
    print()
    for n in notes:
        print(("- " if args.markdown else "") + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
