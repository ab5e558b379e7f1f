"""Benchmark `sifc validate`: each layer and the whole command, cold process.

Measures the real package and synthetic packages scaled x10, x100 and x1000
(every row replicated with fresh keys: each ID cell, including foreign keys
and list items, gets a per-replica suffix, so the copy stays valid). Records
the median wall time of N runs, rows/s and peak memory (max RSS of the
command and its children) and writes benchmarks/RESULTS.md.

    python benchmarks/validate.py [--runs 5] [--scales 1,10,100,1000] [--out benchmarks/RESULTS.md]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SIFC = [str(BIN / "sifc"), "validate", "--no-docs"]
FRICTIONLESS = [str(BIN / "frictionless"), "validate"]
MEASURE = ("import resource, subprocess, sys, time\n"
           "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
           "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def measure(cmd: list[str], runs: int) -> dict:
    """Median wall time and peak RSS of `cmd` over `runs` cold processes."""
    times, peaks, codes = [], [], set()
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True)
        t, rss, code = out.stdout.split()
        times.append(float(t)); peaks.append(int(rss)); codes.add(int(code))
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "peak_mb": max(peaks) / 1024, "exit_codes": sorted(codes)}


def id_fields(schema: dict) -> tuple[set[str], set[str]]:
    """Scalar ID fields (kebab-case pattern) and list-of-ID fields."""
    scalar = {f["name"] for f in schema["fields"]
              if f.get("type") == "string" and f.get("constraints", {}).get("pattern", "").startswith("^[a-z0-9]+(-[a-z0-9]+)*$")}
    lists = {f["name"] for f in schema["fields"] if f.get("sifc", {}).get("references")}
    return scalar, lists


def url_fields(schema: dict) -> set[str]:
    """Fields holding URLs (a pattern starting with https?://): a replica's
    URL gets a query of its own, so no two rows name the same page."""
    return {f["name"] for f in schema["fields"]
            if f.get("constraints", {}).get("pattern", "").lstrip("^").startswith("https?://")}


def scaled_package(dest: Path, factor: int) -> int:
    """Write a copy of the package with every table replicated `factor` times
    (sorted by primary key as `sifc fmt` keeps it, so the copy stays valid)."""
    for part in ("schemas", "validation"):
        shutil.copytree(ROOT / part, dest / part)
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    (dest / "data").mkdir()
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    total = 0
    for res in descriptor["resources"]:
        schema = json.loads((ROOT / res["schema"]).read_text(encoding="utf-8"))
        scalar, lists = id_fields(schema)
        urls = url_fields(schema)
        rows = list(csv.reader(io.StringIO((ROOT / res["path"]).read_text(encoding="utf-8"), newline="")))
        header, body = rows[0], rows[1:]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        scaled = []
        for k in range(factor):
            suffix = "" if k == 0 else f"-r{k}"
            for row in body:
                new = list(row)
                for i, name in enumerate(header):
                    if not new[i] or not suffix:
                        continue
                    if name in scalar:
                        new[i] += suffix
                    elif name in lists:
                        new[i] = ";".join(x + suffix for x in new[i].split(";"))
                    elif name in urls:
                        new[i] += ("&" if "?" in new[i] else "?") + f"sifc-replica={k}"
                scaled.append(new)
        pk = schema.get("primaryKey") or []
        key = [header.index(k) for k in ([pk] if isinstance(pk, str) else pk) if k in header]
        if key:
            scaled.sort(key=lambda r: [r[i] for i in key])
        w.writerows(scaled)
        (dest / res["path"]).write_text(out.getvalue(), encoding="utf-8")
        total += len(body) * factor
    sys.path.insert(0, str(ROOT / "src"))
    from sifc.descriptor import refresh
    refresh(dest)
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scales", default="1,10,100,1000")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = ap.parse_args()
    variants = {
        "all three layers": [],
        "--skip gx": ["--skip", "gx"],
        "frictionless layer only": ["--skip", "pandera", "--skip", "gx"],
        "pandera layer only": ["--skip", "frictionless", "--skip", "gx"],
        "gx layer only": ["--skip", "frictionless", "--skip", "pandera"],
    }
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in [int(s) for s in args.scales.split(",")]:
            pkg = Path(tmp) / f"x{scale}"
            rows = scaled_package(pkg, scale)
            runs = args.runs if scale < 1000 else max(3, args.runs // 2 + 1) if args.runs < 5 else args.runs
            base = measure(FRICTIONLESS + [str(pkg / "datapackage.json")], runs)
            row = {"scale": scale, "rows": rows, "frictionless CLI": base}
            for name, extra in variants.items():
                row[name] = measure(SIFC + [str(pkg)] + extra, runs)
                print(f"x{scale} {name}: {row[name]['median_s']:.2f}s", file=sys.stderr, flush=True)
            print(f"x{scale} frictionless CLI: {base['median_s']:.2f}s", file=sys.stderr, flush=True)
            results.append(row)
    write_results(Path(args.out), results, args.runs)
    return 0


def write_results(path: Path, results: list[dict], runs: int) -> None:
    cols = ["all three layers", "--skip gx", "frictionless layer only", "pandera layer only", "gx layer only",
            "frictionless CLI"]
    lines = ["# Benchmark results: `sifc validate`", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, by `python benchmarks/validate.py` (median of {runs} cold runs; "
             "peak memory is the max RSS of the command and its children; `--no-docs`).", "",
             "| scale | rows | " + " | ".join(cols) + " | all layers rows/s | all / frictionless CLI | peak MB (all) |",
             "|---|---|" + "---|" * len(cols) + "---|---|---|"]
    for r in results:
        all_ = r["all three layers"]["median_s"]
        cli = r["frictionless CLI"]["median_s"]
        cells = [f"{r[c]['median_s']:.2f} s" for c in cols]
        lines.append(f"| x{r['scale']} | {r['rows']} | " + " | ".join(cells)
                     + f" | {r['rows'] / all_:,.0f} | {all_ / cli:.2f} | {r['all three layers']['peak_mb']:.0f} |")
    lines += ["", "Raw figures (seconds, MB):", "", "```json", json.dumps(results, indent=1), "```", ""]
    kept = ""
    if path.exists() and "## Loading" in path.read_text(encoding="utf-8"):
        kept = "\n## Loading" + path.read_text(encoding="utf-8").split("## Loading", 1)[1]
    path.write_text("\n".join(lines) + kept, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
