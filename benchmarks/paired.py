"""Paired benchmark: `sifc validate` on the real package, this checkout
against an earlier revision, runs interleaved (A, B, A, B, …) so that both
see the same machine load. Prints min/median/max per side and the ratio of
medians, and can append the table to benchmarks/RESULTS.md.

    python benchmarks/paired.py --base dabd2bf [--runs 9] [--record]

The base revision is checked out with `git worktree` into a temporary folder
and run from its own source (PYTHONPATH), with this environment's libraries;
each side validates its own package, so the comparison is of the tools on
the data as each revision has it.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {"all three layers": ["--no-docs"], "--skip gx": ["--skip", "gx"]}


def timed(src: Path, package: Path, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers). CPU time
    is what to compare on a busy machine: other load stretches wall time
    far more than it changes the work done."""
    env = {**os.environ, "PYTHONPATH": str(src), "SIFC_NO_CACHE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sifc.cli", "validate", str(package), *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"validate failed (exit {result.returncode}) for {package}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the earlier revision (e.g. a commit or tag)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
                       check=True, capture_output=True)
        try:
            rows = []
            for name, extra in CASES.items():
                timed(base / "src", base, extra), timed(ROOT / "src", ROOT, extra)  # warm the file cache
                a, b = [], []
                for _ in range(args.runs):
                    a.append(timed(base / "src", base, extra))
                    b.append(timed(ROOT / "src", ROOT, extra))
                rows.append((name, a, b))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    lines = [f"| case | measure | {args.base} min / median / max | HEAD ({head}) min / median / max | ratio of medians |",
             "|---|---|---|---|---|"]
    for name, a, b in rows:
        for i, measure in ((0, "wall"), (1, "CPU")):
            xa, xb = [t[i] for t in a], [t[i] for t in b]
            fmt = lambda xs: f"{min(xs):.2f} / {statistics.median(xs):.2f} / {max(xs):.2f} s"
            lines.append(f"| {name} | {measure} | {fmt(xa)} | {fmt(xb)} | "
                         f"{statistics.median(xb) / statistics.median(xa):.2f} |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(f"\n## Paired: real package, {args.base} vs HEAD ({time.strftime('%Y-%m-%d')}, "
                     f"{args.runs} interleaved cold runs each, `python benchmarks/paired.py --base {args.base}`)\n\n"
                     f"{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
