"""Unsafe descriptors are refused before anything is read."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import copy_package
from sifc.files.package import PackageError, open_package


@pytest.mark.parametrize("path, reason", [
    ("/etc/passwd", "absolute"),
    ("../outside.csv", "'..'"),
    ("data/../../outside.csv", "'..'"),
    ("https://example.org/people.csv", "remote"),
])
def test_unsafe_resource_path_refused(tmp_path, path, reason):
    root = copy_package(tmp_path / "pkg")
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][3]["path"] = path
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(PackageError, match=reason):
        open_package(root)
    result = subprocess.run([sys.executable, "-m", "sifc.cli", "validate", str(root)], capture_output=True, text=True)
    assert result.returncode == 2 and "unsafe descriptor refused" in result.stderr


def test_unsafe_schema_path_refused(tmp_path):
    root = copy_package(tmp_path / "pkg")
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["schema"] = "../schemas/sources.json"
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(PackageError, match="schema"):
        open_package(root)


def test_remote_allowed_only_when_asked(tmp_path):
    root = copy_package(tmp_path / "pkg")
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][3]["path"] = "https://example.org/people.csv"
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (root / "data" / "people.csv").unlink()  # a local CSV no resource names is itself a finding
    assert open_package(root, allow_remote=True).resource("people").path.startswith("https://")
