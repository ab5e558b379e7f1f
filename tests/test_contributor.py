"""The contributor loop, end to end on temporary clones of this repository
(what is committed, as a contributor's `git clone` gets it):

- a one-row edit of a CSV, committed without `sifc refresh` (as GitHub's web
  editor commits it), passes formatting, the generated-files check and
  validation;
- two branches editing different rows of one table merge without a conflict,
  and the merge validates;
- `make hooks` installs the pre-commit hook, which refuses a bad staged edit
  with a message saying what to do, and lets a good one through;
- `sifc --version` names the tool's and the package's versions."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sifc
from conftest import ROOT, set_cell
from sifc.cli import main

BIN = Path(sys.executable).parent
SIFC = str(BIN / "sifc")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                            env={**os.environ, **(env or {})})
    if check:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def sifc_run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SIFC_PACKAGE", "GITHUB_STEP_SUMMARY")}
    return subprocess.run([SIFC, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture
def clone(tmp_path) -> Path:
    """A fresh clone of this repository with a committer configured."""
    dest = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest))
    git(dest, "config", "user.name", "Contributor")
    git(dest, "config", "user.email", "contributor@example.org")
    git(dest, "config", "commit.gpgsign", "false")
    return dest


def edit_row(root: Path, line: int, value: str) -> None:
    """One cell of data/people.csv changed the way an editor saves it."""
    set_cell(root / "data" / "people.csv", line, "name_en", value)


def assert_contributor_checks_pass(root: Path) -> None:
    for args in (["fmt", "--check"], ["refresh", "--check"], ["validate", "--skip", "gx"]):
        result = sifc_run(root, *args)  # no PATH: the package found from the current folder
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    validate = sifc_run(root, "validate", "--skip", "gx")
    assert f"at {root}" in validate.stdout.splitlines()[0]  # it checked the clone, not this checkout


def test_one_row_edit_without_refresh_passes_every_check(clone):
    edit_row(clone, 2, "Chen Jining Edited")
    git(clone, "commit", "--quiet", "-am", "people: fix one name")
    changed = git(clone, "diff", "--name-only", "HEAD~1", "HEAD").stdout.split()
    assert changed == ["data/people.csv"]  # datapackage.json did not have to change
    assert_contributor_checks_pass(clone)


def test_two_branches_editing_different_rows_merge_cleanly_and_validate(clone):
    base = git(clone, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    git(clone, "checkout", "--quiet", "-b", "first")
    edit_row(clone, 2, "First Contributor's Fix")
    git(clone, "commit", "--quiet", "-am", "people: row 2")
    git(clone, "checkout", "--quiet", base)
    git(clone, "checkout", "--quiet", "-b", "second")
    edit_row(clone, 8, "Second Contributor's Fix")
    git(clone, "commit", "--quiet", "-am", "people: row 8")
    git(clone, "checkout", "--quiet", base)
    git(clone, "merge", "--quiet", "--no-edit", "first")
    merged = git(clone, "merge", "--no-edit", "second", check=False)
    assert merged.returncode == 0 and "CONFLICT" not in merged.stdout + merged.stderr, merged.stdout + merged.stderr
    text = (clone / "data" / "people.csv").read_text(encoding="utf-8")
    assert "First Contributor's Fix" in text and "Second Contributor's Fix" in text
    assert_contributor_checks_pass(clone)


# ---------------------------------------------------------------- the pre-commit hook

def install_hook(clone: Path) -> None:
    result = subprocess.run(["make", "--no-print-directory", "hooks"], cwd=clone, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pre-commit hook installed" in result.stdout
    assert git(clone, "config", "--get", "core.hooksPath").stdout.strip() == ".githooks"


HOOK_ENV = {"SIFC": SIFC}


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_installs_a_hook_that_refuses_a_bad_staged_edit(clone):
    install_hook(clone)
    head = git(clone, "rev-parse", "HEAD").stdout
    set_cell(clone / "data" / "participants.csv", 2, "role", "host")  # not one of the allowed roles
    git(clone, "add", "data/participants.csv")
    refused = git(clone, "commit", "-m", "a bad edit", check=False, env=HOOK_ENV)
    assert refused.returncode != 0
    assert "data/participants.csv:2:role: enum" in refused.stdout + refused.stderr
    assert "pre-commit: the staged changes do not validate" in refused.stderr
    assert "git commit --no-verify" in refused.stderr
    assert git(clone, "rev-parse", "HEAD").stdout == head  # nothing was committed

    # the hook reads what is staged, not the working tree: fixing the file
    # without `git add` is still refused
    set_cell(clone / "data" / "participants.csv", 2, "role", "speaker")
    hook = subprocess.run([str(clone / ".githooks" / "pre-commit")], cwd=clone, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **HOOK_ENV})
    assert hook.returncode == 1 and "do not validate" in hook.stderr

    git(clone, "checkout", "--quiet", "--", "data/participants.csv")
    git(clone, "reset", "--quiet")
    edit_row(clone, 2, "A Good Edit")
    git(clone, "add", "data/people.csv")
    accepted = git(clone, "commit", "-m", "a good edit", check=False, env=HOOK_ENV)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_hook_refuses_a_csv_not_in_canonical_form(clone):
    install_hook(clone)
    path = clone / "data" / "themes.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1], lines[2] = lines[2], lines[1]  # two rows out of key order, as a spreadsheet's sort leaves them
    path.write_text("\n".join(lines), encoding="utf-8")
    git(clone, "add", "data/themes.csv")
    refused = git(clone, "commit", "-m", "rows out of order", check=False, env=HOOK_ENV)
    assert refused.returncode != 0
    assert "data/themes.csv: would be reformatted" in refused.stdout + refused.stderr
    assert "not in canonical form. Run `.venv/bin/sifc fmt`" in refused.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_hook_is_not_installed_outside_a_git_checkout(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy2(ROOT / "Makefile", folder / "Makefile")
    result = subprocess.run(["make", "--no-print-directory", "hooks"], cwd=folder, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "installed" not in result.stdout


def test_the_hook_passes_when_no_package_file_is_staged(clone):
    (clone / "notes.txt").write_text("a note\n", encoding="utf-8")
    git(clone, "add", "notes.txt")
    hook = subprocess.run([str(clone / ".githooks" / "pre-commit")], cwd=clone, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "SIFC": "/nonexistent/sifc"})
    assert hook.returncode == 0, hook.stderr  # returned before even looking for sifc


# ---------------------------------------------------------------- sifc --version

def test_version_names_the_tool_and_the_package(capsys, monkeypatch):
    monkeypatch.chdir(ROOT / "data")
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"sifc {sifc.__version__}"
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert lines[1] == f"package: {descriptor['name']} {descriptor['version']} at {ROOT}"


def test_version_without_a_package_nearby(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SIFC_PACKAGE"}
    result = subprocess.run([SIFC, "--version"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"sifc {sifc.__version__}"
    # a development install bundles no copy: no package is found here
    assert lines[1].startswith("package: ") and str(ROOT) not in lines[1]


# ---------------------------------------------------------------- warnings a contributor can act on

JARGON = re.compile(r"expect_|values_to|_to_be_|\bmostly\b|\bregex\b|unexpected|\bpass(es)? \w+_")


def test_every_curated_share_says_what_to_do_with_the_column():
    """A completeness expectation (`mostly`) stays a warning for a long time;
    its `why` says what the value is for and which column to fill."""
    for path in sorted((ROOT / "validation").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for e in suite.get("expectations", []):
            if e.get("kwargs", {}).get("mostly") is None:
                continue
            why = e["meta"].get("why", "")
            assert e["kwargs"]["column"] in why, (path.name, why)  # names the column to fill
            assert not JARGON.search(why), (path.name, why)


def test_the_real_packages_warnings_are_plain_words():
    from sifc.validate import validate
    report = validate(ROOT)
    warnings = [f for f in report.findings if f.severity == "warning"]
    assert warnings, "the real package has permanent warnings; this test would prove nothing without them"
    for f in warnings:
        assert not JARGON.search(f.message), f.text()
        assert re.match(rf"only \d+ of \d+ rows have a {f.column} \(\d+%\); at least \d+% should\. [A-Z]", f.message), \
            f.text()
        assert f"in {f.column}" in f.message  # where to write the missing value
