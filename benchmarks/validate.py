"""Benchmark `sifc` against issue 12's targets, as ratios measured in one run.

Each case runs sifc (A) and its baseline (B) as cold processes, alternately
(A, B, A, B, ...) `--runs` times, so both sides see the same machine load;
the ratio of each pair A_i / B_i gives the min / median / max ratio. Every
run is timed by a fresh wrapper process: wall time, CPU time (user + system
of the command and all its children) and peak memory (ru_maxrss of
RUSAGE_CHILDREN: the largest single process of the tree, not the sum of
processes running side by side).

Cases (targets for a 2-core machine):

    real package, all three layers / frictionless CLI            <= 4x
    real package, --skip gx (absolute seconds)                     <= 1.0 s
    uncached sifc.load_all() / pd.read_csv of every CSV            <= 1.5x
    x1000, all three layers / frictionless CLI                     <= 1.0x
    x5000, all three layers / frictionless CLI   (--with-5000)     <= 1.0x, peak <= 1 GiB
    `make test` wall time, no baseline           (--with-tests)    <= 45 s

sifc runs as `sifc validate --no-docs PKG` with SIFC_NO_CACHE=1, the
baseline as `frictionless validate PKG/datapackage.json`. xN is a copy of
the package with every row replicated N times with fresh keys
(`scaled_package`), written to a temporary folder.

    python benchmarks/validate.py [--runs 5] [--record]
    python benchmarks/validate.py --with-5000 --with-tests --record   # the full benchmark

Opt-in flags:
    --with-5000    the x5000 case (~1.6M rows; ~0.75 GB of CSV in a temporary
                   folder; max(1, runs // 2) pairs)
    --with-tests   `make test` once (~9 min on 2 cores)
    --layers [S]   also time each layer alone at scales S (default 1,10,100,1000;
                   median of --runs, not paired)
    --scale N      the mid-size case is xN instead of x1000 (to try the script
                   quickly; --record refuses it)
    --record       rewrite the top of benchmarks/RESULTS.md (everything before
                   `## Loading`, which is kept as it is)
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
KEPT_FROM = "## Loading"
BIN = Path(sys.executable).parent
SIFC = [str(BIN / "sifc"), "validate", "--no-docs"]
FRICTIONLESS = [str(BIN / "frictionless"), "validate"]
LOAD_ALL = [sys.executable, "-c", "import sifc; sifc.load_all()"]
READ_CSV = [sys.executable, "-c",
            "import json, pandas as pd\n"
            "descriptor = json.load(open('datapackage.json', encoding='utf-8'))\n"
            "frames = {r['name']: pd.read_csv(r['path']) for r in descriptor['resources']}"]
# the README's test command itself, so the figure is what a contributor waits for
PYTEST = ["make", "-s", "test"]
NO_CACHE = {**os.environ, "SIFC_NO_CACHE": "1"}
GIB_MB = 1024.0

# Runs in a fresh process per measured run, so its RUSAGE_CHILDREN holds
# exactly the command and its descendants (those waited for).
MEASURE = ("import resource, subprocess, sys, time\n"
           "with open(sys.argv[1], 'wb') as log:\n"
           "    t = time.perf_counter()\n"
           "    r = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)\n"
           "    wall = time.perf_counter() - t\n"
           "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "print(wall, u.ru_utime + u.ru_stime, u.ru_maxrss, r.returncode)")


# ---------------------------------------------------------------- measuring

def run_once(cmd: list[str], ok: tuple[int, ...], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """One cold run of `cmd`: wall s, CPU s, peak RSS MB, exit code and the
    tail of its output. An exit code not in `ok` aborts the benchmark."""
    with tempfile.NamedTemporaryFile(suffix=".log") as log:
        out = subprocess.run([sys.executable, "-c", MEASURE, log.name, *cmd], env=env or os.environ, cwd=cwd,
                             capture_output=True, text=True, check=True)
        tail = Path(log.name).read_text(encoding="utf-8", errors="replace")[-3000:]
    wall, cpu, rss_kb, code = out.stdout.split()
    if int(code) not in ok:
        raise SystemExit(f"benchmark aborted: `{shlex.join(cmd)}` (in {cwd}) exited {code}, expected "
                         f"{' or '.join(map(str, ok))}; the end of its output:\n{tail}")
    return {"wall_s": float(wall), "cpu_s": float(cpu), "rss_mb": int(rss_kb) / 1024, "exit": int(code),
            "tail": tail}


def paired(a: dict, b: dict, runs: int, warmup: bool) -> tuple[list[dict], list[dict]]:
    """`runs` interleaved pairs of cold runs (A, B, A, B, ...). `a` and `b`
    hold run_once's arguments. A warm-up pair first, when asked, fills the
    page cache and Python's bytecode caches and is not recorded."""
    if warmup:
        run_once(**a), run_once(**b)
    sa, sb = [], []
    for i in range(runs):
        sa.append(run_once(**a))
        sb.append(run_once(**b))
        print(f"  pair {i + 1}/{runs}: wall {sa[-1]['wall_s']:.2f} / {sb[-1]['wall_s']:.2f} s, "
              f"CPU {sa[-1]['cpu_s']:.2f} / {sb[-1]['cpu_s']:.2f} s", file=sys.stderr, flush=True)
    return sa, sb


# ------------------------------------------------------- scaled packages

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
    from sifc.files.descriptor import refresh
    refresh(dest)
    return total


# ------------------------------------------------------------------ cases

def validate_pair(pkg: Path, extra: list[str] = ()) -> tuple[dict, dict]:
    """sifc validate (exit 0 or 1: 1 is a finding, still a full run) and the
    frictionless CLI (exit 0) on the same package."""
    return ({"cmd": SIFC + [str(pkg), *extra], "ok": (0, 1), "env": NO_CACHE},
            {"cmd": FRICTIONLESS + [str(pkg / "datapackage.json")], "ok": (0,)})


def case(name: str, baseline: str, a: dict, b: dict, runs: int, warmup: bool, target: dict,
         measures: list[str]) -> dict:
    """Run one paired case; `target` is {"ratio": x} (median ratio <= x),
    {"seconds": s} (sifc median <= s) and/or {"peak_mb": m} (largest sifc
    peak <= m)."""
    print(f"{name} vs {baseline} ({runs} pairs)", file=sys.stderr, flush=True)
    sa, sb = paired(a, b, runs, warmup)
    if any(r["exit"] for r in sa):
        print(f"  note: sifc exited 1 (findings) in {sum(1 for r in sa if r['exit'])} of {runs} runs",
              file=sys.stderr)
    return {"case": name, "baseline": baseline, "sifc_cmd": shlex.join(a["cmd"]),
            "baseline_cmd": shlex.join(b["cmd"]), "target": target, "measures": measures,
            "sifc": strip(sa), "baseline_runs": strip(sb)}


def strip(runs: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "tail"} for r in runs]


def tests_case() -> dict:
    """The test suite once, in this checkout, against the 45 s target."""
    print("pytest (once)", file=sys.stderr, flush=True)
    run = run_once(PYTEST, ok=(0, 2))  # make exits 2 when a test fails: the counts say so
    last = [line for line in run["tail"].splitlines() if re.search(r"\d+ (passed|failed|errors?)\b", line)]
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)\b",
                                               last[-1] if last else "")}
    summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no summary line"
    return {"case": f"`make test` ({summary})", "baseline": None, "sifc_cmd": shlex.join(PYTEST),
            "baseline_cmd": None, "target": {"seconds": 45.0}, "measures": ["wall", "CPU"],
            "sifc": strip([run]), "baseline_runs": [], "tests": counts}


def run_cases(args) -> list[dict]:
    results = [
        case("real package, all three layers", "frictionless CLI", *validate_pair(ROOT), args.runs, True,
             {"ratio": 4.0}, ["wall", "CPU"]),
        case("real package, --skip gx", "frictionless CLI", *validate_pair(ROOT, ["--skip", "gx"]), args.runs, True,
             {"seconds": 1.0}, ["wall", "CPU"]),
        case("uncached sifc.load_all()", "pd.read_csv loop", {"cmd": LOAD_ALL, "ok": (0,), "env": NO_CACHE},
             {"cmd": READ_CSV, "ok": (0,)}, args.runs, True, {"ratio": 1.5}, ["wall", "CPU"]),
    ]
    scales = [(args.scale, args.runs, {"ratio": 1.0})]
    if args.with_5000:
        scales.append((5000, max(1, args.runs // 2), {"ratio": 1.0, "peak_mb": GIB_MB}))
    for scale, runs, target in scales:
        with tempfile.TemporaryDirectory(prefix=f"sifc-x{scale}-") as tmp:
            print(f"writing the x{scale} package", file=sys.stderr, flush=True)
            rows = scaled_package(Path(tmp) / f"x{scale}", scale)
            # no warm-up: the files were just written (page cache) and the
            # code was warmed by the cases above
            results.append(case(f"x{scale} ({rows:,} rows), all three layers", "frictionless CLI",
                                *validate_pair(Path(tmp) / f"x{scale}"), runs, False, target,
                                ["wall", "CPU", "peak RSS"]))
            results[-1]["rows"] = rows
    if args.with_tests:
        results.append(tests_case())
    return results


# ----------------------------------------------------------------- report

KEY = {"wall": "wall_s", "CPU": "cpu_s", "peak RSS": "rss_mb"}


def spread(xs: list[float], unit: str) -> str:
    fmt = (lambda x: f"{x:.0f}") if unit == " MB" else (lambda x: f"{x:.2f}")
    if len(xs) == 1:
        return f"{fmt(xs[0])}{unit}"
    return f"{fmt(min(xs))} / {fmt(statistics.median(xs))} / {fmt(max(xs))}{unit}"


def table(results: list[dict]) -> list[str]:
    lines = ["| case | measure | sifc min/median/max | baseline min/median/max | ratio min/median/max | target "
             "| met? |", "|---|---|---|---|---|---|---|"]
    for r in results:
        for measure in r["measures"]:
            key, unit = KEY[measure], " MB" if measure == "peak RSS" else " s"
            a = [x[key] for x in r["sifc"]]
            b = [x[key] for x in r["baseline_runs"]]
            ratios = [x / y for x, y in zip(a, b)] if b else []
            target, met = "—", "—"
            t = r["target"]
            if measure == "peak RSS" and "peak_mb" in t:
                target, met = f"≤ {t['peak_mb']:.0f} MB (largest sifc run)", max(a) <= t["peak_mb"]
            elif measure != "peak RSS" and "ratio" in t:
                target, met = f"≤ {t['ratio']:.1f}× (median ratio)", statistics.median(ratios) <= t["ratio"]
            elif measure != "peak RSS" and "seconds" in t:
                target, met = f"≤ {t['seconds']:.1f} s (sifc median)", statistics.median(a) <= t["seconds"]
            vs = f" / {r['baseline']}" if r["baseline"] else ""
            lines.append(f"| {r['case']}{vs} | {measure} | {spread(a, unit)} | {spread(b, unit) if b else '—'} | "
                         f"{spread(ratios, '×') if ratios else '—'} | {target} | "
                         f"{met if met == '—' else ('yes' if met else '**no**')} |")
    return lines


def head() -> str:
    """The short HEAD, and a warning when what is measured (the editable
    install runs this working tree) has uncommitted changes."""
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src", "pyproject.toml", "datapackage.json", "data",
                            "schemas", "validation"], capture_output=True, text=True).stdout.split("\n")
    changed = sorted({line[3:] for line in dirty if line.strip()})
    return (commit or "unknown") + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


def record(lines: list[str], layer_lines: list[str], meta: dict, results: list[dict], layer_results) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    kept = text[text.index(KEPT_FROM):] if KEPT_FROM in text else ""
    top = ["# Benchmark results: `sifc` against issue 12's targets", "",
           f"Measured {meta['date']} on {meta['machine']}, {meta['cores']} cores, Python {meta['python']}, "
           f"at commit {meta['commit']}, by `{meta['command']}`. Load average when it started: "
           f"{', '.join(f'{x:.2f}' for x in meta['loadavg'])}.", "",
           "How to read: each case ran sifc and its baseline as cold processes, alternately, "
           f"{meta['runs']} times (the x5000 case max(1, runs // 2) times); each ratio is sifc / baseline of one "
           "pair, and the table gives min / median / max of the runs and of the pair ratios (a single figure "
           "where there was one run). CPU time is user + system of the command and all its worker processes: "
           "the machine is often shared, so the CPU ratios are the robust figure, and wall times are shown for "
           "completeness. `met?` compares the median ratio (or sifc's median seconds) with the target, for wall "
           "and CPU separately; on a busy machine judge by the CPU row. Peak RSS is `ru_maxrss` of the "
           "command's children, which is the largest single process of the tree (sifc or one of its workers), "
           "not the sum of the processes that run side by side. Targets are for a 2-core machine. "
           "sifc runs with `--no-docs` and SIFC_NO_CACHE=1.", ""] + lines + [""]
    if layer_lines:
        top += ["### Each layer alone (median of the runs, not paired)", ""] + layer_lines + [""]
    top += ["Raw figures (seconds, MB):", "", "```json",
            json.dumps({"meta": meta, "cases": results, "layers": layer_results}, indent=1), "```", "", ""]
    RESULTS.write_text("\n".join(top) + kept, encoding="utf-8")


# ------------------------------------------------------- per-layer (opt-in)

VARIANTS = {
    "all three layers": [],
    "--skip gx": ["--skip", "gx"],
    "frictionless layer only": ["--skip", "pandera", "--skip", "gx"],
    "pandera layer only": ["--skip", "frictionless", "--skip", "gx"],
    "gx layer only": ["--skip", "frictionless", "--skip", "pandera"],
}


def layers(scales: list[int], runs: int) -> tuple[list[str], list[dict]]:
    """Median wall / CPU seconds of each layer alone and of the frictionless
    CLI, per scale."""
    out = []
    for scale in scales:
        with tempfile.TemporaryDirectory(prefix=f"sifc-layers-x{scale}-") as tmp:
            pkg = Path(tmp) / f"x{scale}"
            row = {"scale": scale, "rows": scaled_package(pkg, scale)}
            a, b = validate_pair(pkg)
            for name, extra in [*VARIANTS.items(), ("frictionless CLI", None)]:
                spec = b if extra is None else {**a, "cmd": a["cmd"] + extra}
                ms = [run_once(**spec) for _ in range(runs)]
                row[name] = {"wall_s": statistics.median(m["wall_s"] for m in ms),
                             "cpu_s": statistics.median(m["cpu_s"] for m in ms),
                             "rss_mb": max(m["rss_mb"] for m in ms)}
                print(f"x{scale} {name}: {row[name]['wall_s']:.2f} s", file=sys.stderr, flush=True)
            out.append(row)
    cols = [*VARIANTS, "frictionless CLI"]
    lines = ["| scale | rows | " + " | ".join(cols) + " | peak MB (all) |", "|---|---|" + "---|" * (len(cols) + 1)]
    for r in out:
        lines.append(f"| x{r['scale']} | {r['rows']:,} | "
                     + " | ".join(f"{r[c]['wall_s']:.2f} s (CPU {r[c]['cpu_s']:.2f})" for c in cols)
                     + f" | {r['all three layers']['rss_mb']:.0f} |")
    return lines, out


# ------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--runs", type=int, default=5, help="pairs per case (default 5)")
    ap.add_argument("--with-5000", action="store_true", help="add the x5000 case (~0.75 GB of CSV in a temp dir)")
    ap.add_argument("--with-tests", action="store_true", help="time the test suite once (~15 min)")
    ap.add_argument("--layers", nargs="?", const="1,10,100,1000", metavar="SCALES",
                    help="also time each layer alone at these scales (default 1,10,100,1000)")
    ap.add_argument("--scale", type=int, default=1000, help="the mid-size case's factor (default 1000)")
    ap.add_argument("--record", action="store_true", help="rewrite the top of benchmarks/RESULTS.md")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.record and args.scale != 1000:
        ap.error("--record measures issue 12's x1000 case: leave --scale at 1000")
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "commit": head(), "loadavg": list(os.getloadavg()),
            "runs": args.runs,
            "command": shlex.join(["python", "benchmarks/validate.py", *sys.argv[1:]])}
    print(f"commit {meta['commit']}; load average {', '.join(f'{x:.2f}' for x in meta['loadavg'])}",
          file=sys.stderr, flush=True)
    results = run_cases(args)
    layer_lines, layer_results = layers([int(s) for s in args.layers.split(",")], args.runs) if args.layers \
        else ([], None)
    lines = table(results)
    print("\n".join(lines))
    if layer_lines:
        print("\n" + "\n".join(layer_lines))
    if args.record:
        record(lines, layer_lines, meta, results, layer_results)
        print(f"recorded in {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
