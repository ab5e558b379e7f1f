"""Benchmark cold `python -c "import sifc; sifc.load_all()"` (issue 4 target:
<= 1 s median on the 2-core machine). Three cases, each in fresh processes:
validating every time (SIFC_NO_CACHE=1, what a first load costs), the usual
case where this exact content was validated before (content-hash cache),
and validate=False. Appends the figures to benchmarks/RESULTS.md.

    python benchmarks/load.py [--runs 7]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

ROOT = Path(__file__).resolve().parents[1]
MARK = "## Loading: `import sifc; sifc.load_all()`"


def timed(code: str, env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)  # finds ./datapackage.json
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SIFC_CACHE_DIR": cache}
        always = timed("import sifc; sifc.load_all()", {**env, "SIFC_NO_CACHE": "1"}, args.runs)
        subprocess.run([sys.executable, "-c", "import sifc; sifc.load_all()"], env=env, check=True, cwd=ROOT)  # fill the cache
        cached = timed("import sifc; sifc.load_all()", env, args.runs)
        unvalidated = timed("import sifc; sifc.load_all(validate=False)", env, args.runs)
        pandas_only = timed("import pandas", env, args.runs)
    verdict = lambda seconds: "met" if seconds <= 1.0 else "not met"
    section = [MARK, "",
               f"Measured {time.strftime('%Y-%m-%d')} by `python benchmarks/load.py` (median of {args.runs} cold processes).", "",
               "| case | median |", "|---|---|",
               f"| validating (first load of this content, or SIFC_NO_CACHE=1) | {always:.2f} s |",
               f"| content validated before (sha256 cache hit; the usual case) | {cached:.2f} s |",
               f"| validate=False | {unvalidated:.2f} s |", "",
               f"Target <= 1 s: {verdict(cached)} for the usual case, {verdict(always)} for a first load. "
               f"For scale, a cold `import pandas` alone takes {pandas_only:.2f} s on this machine (median), "
               "and a first load adds importing pandera and running every rule of the pandera layer.", ""]
    write_section(MARK, "\n".join(section))
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
