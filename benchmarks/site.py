"""Benchmark `sifc site --out DIR` (what `make site` and the Pages workflow
run) on a clone of the repository's HEAD (a fixed state, whatever the
working tree holds): each run is a fresh process into a fresh folder, timed
wall to wall, with and without its validation step. Records min/median/max wall time and
what was written (pages, files, total bytes), and writes its own section of
benchmarks/RESULTS.md (replacing an earlier one of its own; the other
sections are left as they are).

    python benchmarks/site.py [--runs 5] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

ROOT = Path(__file__).resolve().parents[1]
MARK = "## Site: `sifc site --out DIR`"
SIFC = [sys.executable, "-m", "sifc.cli"]
LOAD = ", ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(package: Path, runs: int, extra: list[str]) -> dict:
    times, cpu, written = [], [], None
    env = {k: v for k, v in os.environ.items() if k != "SIFC_PACKAGE"}
    for i in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "site"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([*SIFC, "site", str(package), "--out", str(out), *extra], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            files = [p for p in out.rglob("*") if p.is_file()]
            now = {"pages": sum(1 for p in files if p.suffix == ".html"), "files": len(files),
                   "bytes": sum(p.stat().st_size for p in files)}
            assert written is None or written == now, (written, now)  # every build writes the same site
            written = now
    return {"min": min(times), "median": statistics.median(times), "max": max(times),
            "cpu": statistics.median(cpu), **written}


def section(results: dict[str, dict], runs: int, commit: str) -> str:
    cpus = os.cpu_count()
    rows = [MARK, "",
            f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {cpus} cores, Python "
            f"{platform.python_version()}, by `python benchmarks/site.py --runs {runs}` on commit {commit} ({runs} runs each; every "
            "run a fresh process writing a fresh folder, wall time including Python start-up and imports; CPU "
            "time is user+system of the process and its children, what to compare on a busy machine). Load "
            f"average when it started: {LOAD}.", "",
            "| case | wall min | wall median | wall max | CPU median | pages | files | total size |",
            "|---|---|---|---|---|---|---|---|"]
    for case, r in results.items():
        rows.append(f"| {case} | {r['min']:.2f} s | {r['median']:.2f} s | {r['max']:.2f} s | {r['cpu']:.2f} s | "
                    f"{r['pages']} | "
                    f"{r['files']} | {r['bytes'] / 1024:,.1f} KiB ({r['bytes']:,} bytes) |")
    rows += ["", "The site holds no release files: the Pages workflow adds `sifc build`'s output in "
             "`downloads/` afterwards (about 0.8 MiB, timed with `sifc build` itself).", ""]
    return "\n".join(rows)


def write(text: str) -> None:
    write_section(MARK, text)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print the section; leave RESULTS.md alone")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(package)], check=True)
        commit = subprocess.run(["git", "-C", str(package), "rev-parse", "--short", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        results = {"`sifc site` (validates: frictionless, pandera)": measure(package, args.runs, []),
                   "`sifc site --no-validate`": measure(package, args.runs, ["--no-validate"])}
    text = section(results, args.runs, commit)
    print(text)
    if not args.no_write:
        write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
