"""The library asks for compatible ranges (so it does not replace an
analyst's pandas), and requirements.lock pins a version inside every range:
the exact set CI and `make` install and test."""
from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.split("[")[0])] = Version(version.split(";")[0].strip())
    return pins


def _requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    yield from project["dependencies"]
    for extra in project["optional-dependencies"].values():
        yield from extra


def test_ranges_not_pins_and_the_lock_satisfies_them():
    pins = _lock()
    for text in _requirements():
        req = Requirement(text)
        ops = {s.operator for s in req.specifier}
        assert ops == {">=", "<"}, f"{text}: use a range from the tested version to the next major"
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in requirements.lock"
        assert pins[name] in req.specifier, f"requirements.lock pins {req.name}=={pins[name]}, outside {text}"
        lowest = min(Version(s.version) for s in req.specifier if s.operator == ">=")
        assert lowest == pins[name], f"{text}: the lower bound should be the version CI tests ({pins[name]})"
