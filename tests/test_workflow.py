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
    assert "make test" in run and "set -uo pipefail" in run and "make fmt-check" in run
    assert "make check-generated" in run and "make validate" in run
    assert "apt-get install" in run and "r-cran-readr" in run  # tests/test_r.py needs R and readr


# ---------------------------------------------------------------- the contributor loop in CI

#: the newest major of each action, checked against the actions' release
#: history (late 2026: checkout v7, setup-python v7, upload-artifact v7)
CURRENT_MAJORS = {"actions/checkout": 7, "actions/setup-python": 7, "actions/upload-artifact": 7}


def steps():
    return workflow()["jobs"]["validate"]["steps"]


def test_workflow_uses_current_major_versions_of_its_actions():
    used = {}
    for step in steps():
        if "uses" in step:
            name, _, ref = step["uses"].partition("@")
            used[name] = ref
    assert set(used) == set(CURRENT_MAJORS), used
    for name, major in CURRENT_MAJORS.items():
        assert re.fullmatch(rf"v{major}(\.\d+)*", used[name]), (name, used[name])


def test_workflow_caches_pip_downloads_keyed_on_the_lock_file():
    setup = next(s for s in steps() if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "requirements.lock"
    assert (ROOT / "requirements.lock").is_file()


def test_a_new_push_cancels_the_superseded_pull_request_run():
    concurrency = workflow()["concurrency"]
    assert "github.workflow" in concurrency["group"]
    assert "github.event.pull_request.number" in concurrency["group"]  # one group per pull request
    assert "github.ref" in concurrency["group"]
    # cancelled on pull requests only: every commit landing on main is checked
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_every_check_runs_even_after_an_earlier_one_failed():
    all_steps = steps()
    install = next(i for i, s in enumerate(all_steps) if s.get("run") == "make install")
    after = all_steps[install + 1:]
    checks = [s for s in after if "run" in s and s is not after[-1]]
    assert {s["id"] for s in checks} >= {"fmt", "generated", "validate", "weakening", "diff", "tests"}
    for step in after:
        condition = step.get("if", "")
        assert "!cancelled()" in condition, step.get("name")  # `failure()` of an earlier step does not stop it
        assert "always()" not in condition  # a cancelled run stops
    runs = " ".join(s["run"] for s in checks)
    for command in ("sifc fmt --check", "sifc refresh --check", "sifc validate", "make test"):
        assert command in runs


def test_a_final_step_fails_if_any_check_failed():
    final = steps()[-1]
    assert final["if"] == "${{ !cancelled() }}" and "uses" not in final
    ids = {s["id"] for s in steps() if "id" in s}
    outcomes = {value for value in final["env"].values()}
    assert outcomes == {f"${{{{ steps.{i}.outcome }}}}" for i in ids}, outcomes  # every check is looked at
    script = final["run"]
    assert '"$2" = failure' in script and 'exit "$failed"' in script


def test_the_final_step_script_fails_exactly_when_a_check_failed(tmp_path):
    """Run the final step's script as the runner would (bash, env from the outcomes)."""
    import os
    import subprocess
    final = steps()[-1]
    names = list(final["env"])
    for failing in [None, *names]:
        env = {**os.environ, "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
        env.update({n: ("failure" if n == failing else "success") for n in names})
        result = subprocess.run(["bash", "-e", "-c", final["run"]], env=env, capture_output=True, text=True)
        assert result.returncode == (0 if failing is None else 1), (failing, result.stdout, result.stderr)
        if failing:
            assert "::error::" in result.stdout and "locally" in result.stdout
    assert "| tests | success | `make test` |" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_ci_script_runs_every_check_and_fails_at_the_end(tmp_path):
    """.ci/run with `make` replaced by a stub that fails fmt-check: the later
    checks still run, and the script exits 1 naming the failed one."""
    import os
    import shutil
    import subprocess
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    (stubs / "make").write_text(f'#!/bin/sh\necho "$1" >> {log}\n[ "$1" != fmt-check ]\n', encoding="utf-8")
    (stubs / "Rscript").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert log.read_text().split() == ["fmt-check", "check-generated", "validate", "test"]
    assert "1 check(s) failed" in result.stderr and "formatting (make fmt-check)" in result.stderr


def test_makefile_installs_the_pre_commit_hook():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^\.DEFAULT_GOAL := install$", makefile, re.M)
    assert re.search(r"^install: .*\bhooks\b", makefile, re.M)
    assert "git config core.hooksPath .githooks" in makefile
    hook = ROOT / ".githooks" / "pre-commit"
    assert hook.is_file() and hook.stat().st_mode & 0o111
    text = hook.read_text(encoding="utf-8")
    assert "fmt --check" in text and "validate --skip gx" in text
