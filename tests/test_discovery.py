"""Which package a command acts on when given no path: the nearest
datapackage.json at or above the current folder (as git finds its
repository), then $SIFC_PACKAGE, then, for reading only, the copy bundled
with an installed library. The report's first line names what was checked."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, copy_package, set_cell

SIFC = [sys.executable, "-m", "sifc.cli"]


def run(*args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "SIFC_PACKAGE"}
    env.update(env_extra or {})
    return subprocess.run([*SIFC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def broken_copy(tmp_path_factory):
    """A copy of the package, elsewhere, with one bad cell."""
    root = copy_package(tmp_path_factory.mktemp("second-clone") / "pkg")
    set_cell(root / "data" / "people.csv", 2, "name_en", "")
    return root


def test_copy_is_checked_not_the_checkout_the_command_came_from(broken_copy):
    result = run("validate", "--skip", "gx", cwd=broken_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stdout.splitlines()[0]
    version = json.loads((broken_copy / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert first == f"sifc validate: shanghai-ifc {version} at {broken_copy}"
    assert "data/people.csv:2" in result.stdout


def test_found_from_a_subfolder_like_git(broken_copy):
    result = run("validate", "--skip", "gx", "--format", "json", cwd=broken_copy / "data")
    assert result.returncode == 1
    version = json.loads((broken_copy / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert json.loads(result.stdout)["package"] == {"name": "shanghai-ifc", "version": version,
                                                     "root": str(broken_copy)}


def test_one_table_by_its_csv_path(broken_copy):
    bad = run("validate", "--skip", "gx", "data/people.csv", cwd=broken_copy)
    assert bad.returncode == 1 and "data/people.csv:2" in bad.stdout and "in 1 table " in bad.stdout
    good = run("validate", "--skip", "gx", "themes.csv", cwd=broken_copy / "data")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "only data/themes.csv is reported" in good.stdout


def test_environment_variable_when_no_package_above(tmp_path, broken_copy):
    result = run("validate", "--skip", "gx", cwd=tmp_path, env_extra={"SIFC_PACKAGE": str(broken_copy)})
    assert result.returncode == 1 and str(broken_copy) in result.stdout.splitlines()[0]


def test_nothing_to_find_is_one_line_exit_2(tmp_path):
    """From a source checkout there is no bundled copy: nothing is found."""
    result = run("validate", "--skip", "gx", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert "no datapackage.json in this folder or above it" in result.stderr


def test_writing_commands_never_use_the_bundled_copy(tmp_path, monkeypatch):
    from sifc.files import package
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIFC_PACKAGE", raising=False)
    monkeypatch.setattr(package, "bundled_root", lambda: ROOT)  # as if installed from a wheel
    assert package.default_root() == ROOT
    with pytest.raises(package.PackageError, match="run the command inside a checkout"):
        package.default_root(writing=True)


def test_library_load_skips_an_analysts_own_package(tmp_path, monkeypatch):
    """`sifc.load()` in a project that has a datapackage.json of its own
    still reads this dataset."""
    (tmp_path / "datapackage.json").write_text('{"name": "my-analysis", "resources": []}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIFC_PACKAGE", str(ROOT))
    from sifc.files.package import default_root
    assert default_root() == tmp_path  # the CLI checks whatever package you stand in
    assert default_root(ours_only=True) == ROOT
    import sifc
    assert len(sifc.load("themes")) > 0
