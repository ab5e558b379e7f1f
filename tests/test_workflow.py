"""CI, the README and the Makefile agree on the commands."""
from __future__ import annotations

import re

import yaml

from conftest import ROOT


def workflow():
    return yaml.safe_load((ROOT / ".github" / "workflows" / "validate.yml").read_text(encoding="utf-8"))


def test_workflow_triggers_and_permissions():
    wf = workflow()
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read"}


def test_workflow_runs_the_readme_commands():
    steps = [s.get("run", "") for s in workflow()["jobs"]["validate"]["steps"]]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make validate", "make test"]
    assert "make test" in steps
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    validate_recipe = re.search(r"^validate:.*\n\t\$\(BIN\)/(sifc validate[^\n]*)", makefile, re.M).group(1)
    ci_validate = next(s for s in steps if "sifc validate" in s)
    # CI runs what `make validate` runs, with GitHub annotations added
    assert ci_validate.replace(" --format github", "").endswith(validate_recipe)
    assert any("sifc fmt --check" in s for s in steps)
    assert any("sifc diff" in s for s in steps)


def test_ci_script_calls_the_readme_test_command():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in run and "set -euo pipefail" in run and "make fmt-check" in run
