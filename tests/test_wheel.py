"""`pip install .` builds a wheel that carries the data: sifc.load works
from any directory, without the repository."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
                            capture_output=True, text=True)
    if result.returncode != 0 and "hatchling" in result.stderr:
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)],
                                capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return next(out.glob("*.whl"))


def test_wheel_contains_descriptor_schemas_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for table in ("people", "measures", "commitments"):
        assert f"sifc/_package/data/{table}.csv" in names
        assert f"sifc/_package/schemas/{table}.json" in names
    assert "sifc/_package/datapackage.json" in names


def test_installed_wheel_loads_from_any_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
                   check=True)
    code = ("import sifc, pathlib; m = sifc.load('measures'); "
            "print(len(m), pathlib.Path(sifc.__file__).parent.name)")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["42", "sifc"]
