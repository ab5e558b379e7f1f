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
    assert {"sifc/publish/site/templates/base.html", "sifc/publish/site/static/site.js"} <= names  # `sifc site` from a wheel


def test_installed_wheel_loads_from_any_directory(wheel, tmp_path):
    target = tmp_path / "site"
    # --no-compile: the .pyc of every installed module is most of pip's time; Python compiles what it imports
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--no-compile", "--target",
                    str(target), str(wheel)], check=True)
    code = ("import sifc, pathlib; m = sifc.load('measures'); "
            "print(len(m), pathlib.Path(sifc.__file__).parent.name)")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [str(sum(1 for _ in open(ROOT / "data" / "measures.csv", encoding="utf-8")) - 1), "sifc"]


@pytest.fixture(scope="module")
def plain_install(wheel, tmp_path_factory):
    """`pip install shanghai-ifc` as an analyst does it: the library and its
    required dependencies only (versions from requirements.lock), no extras."""
    env_dir = tmp_path_factory.mktemp("analyst") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    result = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile",
                             "-c", str(ROOT / "requirements.lock"), str(wheel)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return env_dir


def _sifc(env_dir, *args, cwd):
    return subprocess.run([str(env_dir / "bin" / "sifc"), *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)}, timeout=600)


def test_without_extras_validate_skips_gx_and_says_how_to_install_it(plain_install, tmp_path):
    check = subprocess.run([str(plain_install / "bin" / "python"), "-c", "import great_expectations"],
                           capture_output=True)
    assert check.returncode != 0, "the plain install should not have Great Expectations"
    out = _sifc(plain_install, "validate", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout.splitlines()[0].startswith("sifc validate: shanghai-ifc ")
    assert "pip install 'shanghai-ifc[gx]'" in out.stdout and "layers run: frictionless, pandera" in out.stdout


def test_without_extras_writing_commands_refuse_the_installed_copy(plain_install, tmp_path):
    for command in (["fmt"], ["refresh"]):
        out = _sifc(plain_install, *command, cwd=tmp_path)
        assert out.returncode == 2, (command, out.stdout, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
        assert "no datapackage.json in this folder or above it" in out.stderr


def test_without_extras_build_refuses_with_the_install_command(plain_install, tmp_path):
    out = _sifc(plain_install, "build", "--out", str(tmp_path / "dist"), cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert "pip install 'shanghai-ifc[build,gx]'" in out.stderr
    assert not (tmp_path / "dist").exists()
