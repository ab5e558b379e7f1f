"""The whole CLI on a read-only copy of the package.

Every command that only reads (validate in every format, fmt --check,
refresh --check, diff, build into another folder, sifc.load) works on a
package nobody may write to and changes nothing in it; the commands that
write (fmt, refresh) stop with exit 2 and one line, never a traceback.

Tests usually run as root, whom permission bits do not stop. So every
command runs in a child process that drops to an unprivileged user
(uid/gid 65534) before it touches the package; and whoever runs, every
file's bytes and modification time are compared before and after. The
child imports everything as root first, then drops, because the interpreter may live where the unprivileged user cannot read (a
pyenv under /root), so modules must be loaded before the switch. Where no
user can be switched to, the snapshots are the assertion and the writing
commands' test is skipped."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, apply_edit, copy_package
from test_writers import snapshot

UNPRIVILEGED = 65534

#: the child: loads every module as the current user, drops to `uid` if it
#: is root, proves that it can no longer write the package, then runs the steps
RUNNER = r'''
import contextlib, importlib, io, json, os, pkgutil, sys, traceback
plan = json.loads(sys.argv[1])
import sifc
for m in pkgutil.walk_packages(sifc.__path__, "sifc."):  # every module, in every group
    importlib.import_module(m.name)
import pandas, frictionless, pyarrow.parquet, openpyxl, great_expectations
import multiprocessing.synchronize, multiprocessing.popen_fork, multiprocessing.queues, multiprocessing.connection
import multiprocessing.pool, concurrent.futures.process, zipfile, sqlite3, csv, difflib, tempfile, shutil
import encodings
for m in pkgutil.iter_modules(encodings.__path__):
    try:
        importlib.import_module("encodings." + m.name)
    except ImportError:
        pass
dropped = False
if os.geteuid() == 0 and plan["uid"] is not None:
    try:
        os.setgroups([])
        os.setgid(plan["uid"])
        os.setuid(plan["uid"])
        dropped = True
    except OSError:  # no capability to switch users here: the snapshots remain the proof
        pass
try:
    probe = os.path.join(plan["package"], "data", "probe.tmp")
    open(probe, "x").close()
    os.unlink(probe)
    can_write = True
except OSError:
    can_write = False
from sifc.cli import main
results = []
for step in plan["steps"]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if step[0] == "load":
                frame = sifc.load(step[1], step[2])
                print(len(frame))
                rc = 0
            else:
                rc = main(step)
        except BaseException:
            traceback.print_exc()
            rc = "exception"
    results.append({"step": step, "rc": rc, "out": out.getvalue(), "err": err.getvalue()})
json.dump({"euid": os.geteuid(), "dropped": dropped, "can_write": can_write, "results": results},
          open(plan["report"], "w"))
'''


def make_read_only(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in filenames:
            os.chmod(Path(dirpath) / name, 0o444)
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
        for name in dirnames:
            os.chmod(Path(dirpath) / name, 0o555)
    os.chmod(folder, 0o555)


def make_writable(folder: Path) -> None:
    os.chmod(folder, 0o755)
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames:
            os.chmod(Path(dirpath) / name, 0o755)
        for name in filenames:
            if not os.path.islink(Path(dirpath) / name):
                os.chmod(Path(dirpath) / name, 0o644)


@pytest.fixture
def world(tmp_path):
    """A scratch folder every user can reach (pytest's own is root's alone),
    removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="sifc-readonly-"))
    os.chmod(base, 0o755)
    yield base
    make_writable(base)
    shutil.rmtree(base, ignore_errors=True)


def read_only_copy(base: Path, name: str, edits=()) -> Path:
    root = copy_package(base / name)
    shutil.copytree(ROOT / "docs", root / "docs")  # generated docs present: refresh --check has nothing to do
    for edit in edits:
        apply_edit(root, edit)
    make_read_only(root)
    return root


def run_unprivileged(base: Path, package: Path, steps: list) -> dict:
    home = base / "home"
    home.mkdir(exist_ok=True)
    os.chmod(home, 0o777)
    report = home / f"report-{len(list(home.glob('report-*')))}.json"
    plan = {"uid": UNPRIVILEGED, "package": str(package), "steps": steps, "report": str(report)}
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), "TMPDIR": str(home),
           "MPLCONFIGDIR": str(home / "mpl")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("SIFC_DEBUG", None)
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(plan)], cwd=home, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and report.exists(), proc.stderr[-3000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    if result["dropped"]:
        assert result["euid"] == UNPRIVILEGED
    return result


def no_traceback(result: dict) -> None:
    for r in result["results"]:
        assert r["rc"] != "exception" and "Traceback" not in r["out"] + r["err"], r


def test_every_reading_command_works_on_a_read_only_package(world):
    package = read_only_copy(world, "pkg")
    other = copy_package(world / "other")  # diff compares with a second, unchanged copy too
    make_read_only(other)
    out = world / "home" / "dist"
    before = snapshot(package), snapshot(other)
    steps = [["validate", "--format", fmt, str(package)] for fmt in ("text", "json", "github")] + [
        ["fmt", "--check", str(package)],
        ["refresh", "--check", str(package)],
        # --repo: diff.compare looks for a checkout even when both sides are folders
        ["diff", str(package), str(package), "--repo", str(package)],
        ["diff", str(other), str(package), "--format", "markdown", "--repo", str(package)],
        ["build", str(package), "--out", str(out)],
        ["load", "people", str(package)],
        ["load", "commitments", str(package / "datapackage.json")],
    ]
    result = run_unprivileged(world, package, steps)
    # unprivileged, the copy cannot be written; as root that could not drop, the snapshots are the proof
    assert result["can_write"] == (os.geteuid() == 0 and not result["dropped"])
    no_traceback(result)
    codes = {" ".join(r["step"][:2]): r["rc"] for r in result["results"]}
    assert all(r["rc"] in (0, 1) for r in result["results"]), [(r["step"], r["rc"], r["err"][-1500:]) for r in result["results"] if r["rc"] not in (0, 1)]
    # the real package is valid and current: these say so without writing
    for r in result["results"]:
        if r["step"][0] in ("validate", "fmt", "refresh", "build", "load"):
            assert r["rc"] == 0, r
    json_report = next(r for r in result["results"] if r["step"][:3] == ["validate", "--format", "json"])
    assert json.loads(json_report["out"])["valid"] is True
    stem = "shanghai-ifc-" + json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert sorted(p.name for p in out.iterdir()) == ["csv-excel", "metadata.json", "parquet",
                                                      f"{stem}.json", f"{stem}.sqlite", f"{stem}.xlsx", f"{stem}.zip",
                                                      "validation-report.json", "validation-report.txt"]
    assert (snapshot(package), snapshot(other)) == before


def test_writing_commands_on_a_read_only_package_exit_2_with_one_line(world):
    # Both are release descriptors (bytes/hash recorded; the repository's records none, so
    # refresh would have nothing to write there): people.csv out of key order (fmt has work;
    # refresh's validation refuses, so --force); people.csv with a changed valid cell (stale
    # bytes/hash: refresh has work after validation)
    release = {"file": "datapackage.json", "add_stats": True}
    fmt_pkg = read_only_copy(world, "unsorted", [release, {"file": "data/people.csv", "swap_lines": [2, 3]}])
    refresh_pkg = read_only_copy(world, "stale", [
        release, {"file": "data/people.csv", "line": 2, "column": "name_en", "value": "Another Name"}])
    before = snapshot(fmt_pkg), snapshot(refresh_pkg)
    result = run_unprivileged(world, fmt_pkg, [
        ["fmt", str(fmt_pkg)],
        ["refresh", "--force", str(fmt_pkg)],
        ["refresh", str(fmt_pkg)],
        ["refresh", str(refresh_pkg)],
    ])
    if result["can_write"]:
        pytest.skip("no unprivileged user could be used: the writes would succeed")
    no_traceback(result)
    fmt_run, forced, refused, refresh_run = result["results"]
    for r in (fmt_run, forced, refresh_run):
        assert r["rc"] == 2, r
        lines = r["err"].strip().splitlines()
        assert len(lines) == 1 and "cannot write" in lines[0] and "Permission denied" in lines[0], r
    assert str(fmt_pkg / "data" / "people.csv") in fmt_run["err"]
    assert str(fmt_pkg / "datapackage.json") in forced["err"]
    assert str(refresh_pkg / "datapackage.json") in refresh_run["err"]
    assert refused["rc"] == 1 and "fails validation" in refused["err"]  # validation first: nothing attempted
    assert (snapshot(fmt_pkg), snapshot(refresh_pkg)) == before
