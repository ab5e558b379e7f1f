"""The release steps, run locally as .github/workflows/release.yml runs them.

A temporary clone of this repository (its own tags only: a clean CI clone
may carry none) is tagged with the version the checkout states, then gets a
release commit of the next minor version (one cell changed, the version set
in every file that states it, a dated CHANGELOG section) and its tag. The
workflow's own `run:` scripts are executed there in order, with a stub `gh`
that records what would be published; `make validate` is the only step
left out (`sifc build` validates with all three layers itself, and
tests/test_workflow.py checks that recipe). One build serves every test."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, set_cell
from sifc.publish.release import SUMS, asset_names, check_versions, checksums, release_notes

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("sha256sum") is None,
                                reason="git and coreutils' sha256sum are needed")

WORKFLOWS = ROOT / ".github" / "workflows"
VENV = Path(sys.prefix)
SIFC = str(VENV / "bin" / "sifc")
#: the version the checkout states (tagged in the clone as the previous release) and the next minor one
OLD = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
NEW, DATE = f"{OLD.split('.')[0]}.{int(OLD.split('.')[1]) + 1}.0", "2099-12-01"
STEM = f"shanghai-ifc-{NEW}"
CHANGE_LINE = "- `people`: one English name corrected (the test release)."


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def sifc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SIFC_PACKAGE", "GITHUB_STEP_SUMMARY")}
    return subprocess.run([SIFC, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(wf: dict) -> dict:
    return wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as true


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def bump(root: Path, version: str, date: str) -> None:
    """Set the version everywhere it is stated, as a maintainer releasing it would."""
    replace_once(root / "datapackage.json", f'"version": "{OLD}"', f'"version": "{version}"')
    replace_once(root / "pyproject.toml", f'\nversion = "{OLD}"\n', f'\nversion = "{version}"\n')
    replace_once(root / "CITATION.cff", f"\nversion: {OLD}\n", f"\nversion: {version}\n")
    text = (root / "CITATION.cff").read_text(encoding="utf-8")
    (root / "CITATION.cff").write_text(re.sub(r"(?m)^date-released: .*$", f"date-released: {date}", text),
                                       encoding="utf-8")
    replace_once(root / "src" / "sifc" / "__init__.py", f'__version__ = "{OLD}"', f'__version__ = "{version}"')
    changelog = root / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    heading = f"## {version} — {date}\n\n{CHANGE_LINE}\n"
    if "\n## Unreleased\n" in text:
        text = text.replace("\n## Unreleased\n", "\n" + heading, 1)
    else:
        first = text.index("\n## ")
        text = text[:first + 1] + heading + "\n" + text[first + 1:]
    changelog.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A clone tagged vOLD (its current state) and vNEW (one cell changed,
    versions bumped), with every step of release.yml run on it."""
    base = tmp_path_factory.mktemp("release")
    clone = base / "clone"
    git(base, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone))
    for args in (("user.name", "Maintainer"), ("user.email", "maintainer@example.org"), ("commit.gpgsign", "false"),
                 ("tag.gpgsign", "false")):
        git(clone, "config", *args)
    for tag in git(clone, "tag", "--list").split():  # only the tags this test makes
        git(clone, "tag", "--delete", tag)
    git(clone, "tag", "-a", f"v{OLD}", "-m", f"{OLD} (test)")
    set_cell(clone / "data" / "people.csv", 2, "name_en", "Chen Jining (corrected)")
    bump(clone, NEW, DATE)
    git(clone, "commit", "--quiet", "--no-verify", "-am", f"Release {NEW}")
    git(clone, "tag", "-a", f"v{NEW}", "-m", f"{NEW} (test)")
    (clone / ".venv").symlink_to(VENV, target_is_directory=True)  # `.venv/bin/sifc` as `make` would install it

    stubs = base / "bin"
    stubs.mkdir()
    gh_log = base / "gh.json"
    (stubs / "gh").write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                              f"json.dump({{'args': sys.argv[1:], 'cwd': os.getcwd(), "
                              f"'token': bool(os.environ.get('GH_TOKEN'))}}, open({str(gh_log)!r}, 'w'))\n",
                              encoding="utf-8")
    (stubs / "gh").chmod(0o755)
    summary = base / "step-summary.md"
    summary.write_text("", encoding="utf-8")
    wf = workflow("release.yml")
    job = wf["jobs"]["release"]
    env = {k: v for k, v in os.environ.items() if k not in ("SIFC_PACKAGE",)}
    env.update({"PATH": f"{stubs}{os.pathsep}{env.get('PATH', '')}", "GITHUB_STEP_SUMMARY": str(summary),
                "TAG": f"v{NEW}"})
    results = {}
    for step in job["steps"]:
        if "run" not in step or step["run"].strip() == "make validate":
            continue
        step_env = {**env, **{k: "dummy-token" for k in step.get("env", {})}}
        cwd = clone / step.get("working-directory", ".")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                                env=step_env, capture_output=True, text=True, timeout=600)
        results[step["name"]] = result
        assert result.returncode == 0, (step["name"], result.stdout[-3000:], result.stderr[-3000:])
    return {"clone": clone, "dist": clone / "dist", "release": clone / "release", "steps": results,
            "notes": clone / "build" / "release-notes.md", "gh": json.loads(gh_log.read_text(encoding="utf-8")),
            "summary": summary}


# ---------------------------------------------------------------- the steps, run

def test_every_step_ran_and_the_release_would_be_published(released):
    gh = released["gh"]
    args = gh["args"]
    assert args[:3] == ["release", "create", f"v{NEW}"] and gh["token"]
    uploaded = [a for a in args[3:] if a.startswith("release/")]
    assert sorted(uploaded) == sorted(f"release/{n}" for n in asset_names(STEM))  # the glob expanded to every asset
    assert "--verify-tag" in args
    assert args[args.index("--notes-file") + 1] == "build/release-notes.md"
    assert args[args.index("--title") + 1] == f"shanghai-ifc {NEW}"
    assert f"versions agree: {NEW}" in released["steps"]["Versions agree with the tag"].stdout


def test_assets_are_complete_and_named_with_the_version(released):
    release, dist = released["release"], released["dist"]
    assert sorted(p.name for p in release.iterdir()) == sorted(asset_names(STEM))
    from sifc.files.package import open_package
    package = open_package(released["clone"])
    for kind, folder, names in (("parquet", "parquet", [f"{n}.parquet" for n in package.resources]),
                                ("csv-excel", "csv-excel", [Path(r.path).name for r in package.resources.values()])):
        with zipfile.ZipFile(release / f"{STEM}-{kind}.zip") as archive:
            assert sorted(archive.namelist()) == sorted(f"{STEM}-{kind}/{n}" for n in names)
            for n in names:  # byte for byte what `sifc build` wrote
                assert archive.read(f"{STEM}-{kind}/{n}") == (dist / folder / n).read_bytes()
    for name in ("zip", "xlsx", "sqlite", "json"):
        assert (release / f"{STEM}.{name}").read_bytes() == (dist / f"{STEM}.{name}").read_bytes()
    assert (release / f"{STEM}-datasette-metadata.json").read_bytes() == (dist / "metadata.json").read_bytes()
    report = json.loads((release / f"{STEM}-validation-report.json").read_text(encoding="utf-8"))
    assert report["valid"] is True and report["layers_run"] == ["frictionless", "pandera", "gx"]
    with zipfile.ZipFile(release / f"{STEM}.zip") as archive:  # the release zip carries the released version
        assert json.loads(archive.read("datapackage.json"))["version"] == NEW


def test_sha256sums_verify_and_catch_one_changed_byte(released, tmp_path):
    release = released["release"]
    sums = (release / SUMS).read_text(encoding="utf-8")
    assert sums == checksums(release)
    listed = [line.split("  ", 1)[1] for line in sums.splitlines()]
    assert listed == sorted(n for n in asset_names(STEM) if n != SUMS)
    name = f"{STEM}.sqlite"
    assert f"{hashlib.sha256((release / name).read_bytes()).hexdigest()}  {name}" in sums.splitlines()
    ok = subprocess.run(["sha256sum", "--check", "--strict", SUMS], cwd=release, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = shutil.copytree(release, tmp_path / "release")
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte
    (copy / name).write_bytes(bytes(data))
    bad = subprocess.run(["sha256sum", "--check", SUMS], cwd=copy, capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"{name}: FAILED" in bad.stdout and bad.stdout.count("FAILED") == 1


def test_notes_hold_the_changelog_section_and_the_diff_counts(released):
    notes = released["notes"].read_text(encoding="utf-8")
    assert f"Released {DATE}." in notes and CHANGE_LINE in notes
    assert f"Changes since `v{OLD}`" in notes and f"sifc diff v{OLD} v{NEW}" in notes
    assert "| people | 0 | 1 | 0 |" in notes  # the one cell the release changed
    assert "| measures | 0 | 0 | 0 |" in notes
    assert "Schema changes: 0. Weakenings (a constraint loosened or removed, a row deleted): 0." in notes
    for name in asset_names(STEM):
        assert f"`{name}`" in notes
    assert "sha256sum -c --ignore-missing SHA256SUMS" in notes
    assert notes in released["summary"].read_text(encoding="utf-8")  # shown in the workflow run too
    # the CHANGELOG section of another version stays out
    assert f"## {OLD}" not in notes


def test_first_release_notes_count_every_row(released):
    clone = released["clone"]
    notes = release_notes(clone, NEW, None, f"v{NEW}")
    people = (clone / "data" / "people.csv").read_text(encoding="utf-8").count("\n") - 1
    assert "Changes since nothing (the first release)" in notes
    assert f"| people | {people} | 0 | 0 |" in notes


def test_the_site_downloads_are_what_the_build_writes(released):
    """pages.yml builds the release files into the site's downloads/: every
    link of the home page's download list is a file `sifc build` wrote."""
    from sifc.files.package import open_package
    from sifc.publish.site.build import download_names
    links = download_names(open_package(released["clone"]))
    hrefs = [f["href"] for group in ("files", "parquet", "csv_excel") for f in links[group]]
    assert hrefs
    for href in hrefs:
        assert (released["dist"] / href.removeprefix("downloads/")).is_file(), href


# ---------------------------------------------------------------- versions

def test_check_versions_passes_on_the_real_package():
    assert check_versions(ROOT) == []
    version = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert check_versions(ROOT, tag=f"v{version}") == []
    result = sifc("release", "check-versions", "--tag", f"v{version}", cwd=ROOT)
    assert result.returncode == 0 and result.stdout.startswith(f"versions agree: {version}"), result.stderr


@pytest.fixture
def versioned(tmp_path) -> Path:
    """The files that state the version, copied."""
    for rel in ("datapackage.json", "pyproject.toml", "CITATION.cff", "CHANGELOG.md", "src/sifc/__init__.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    version = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert check_versions(tmp_path, tag=f"v{version}") == []
    return tmp_path


@pytest.mark.parametrize("file, old, new, expected", [
    ("pyproject.toml", '\nversion = "{v}"', '\nversion = "9.9.9"', "pyproject.toml: version 9.9.9, but datapackage.json says {v}"),
    ("CITATION.cff", "\nversion: {v}", "\nversion: 9.9.9", "CITATION.cff: version 9.9.9, but datapackage.json says {v}"),
    ("src/sifc/__init__.py", '__version__ = "{v}"', '__version__ = "9.9.9"',
     "src/sifc/__init__.py: version 9.9.9, but datapackage.json says {v}"),
    ("datapackage.json", '"version": "{v}"', '"version": "9.9.9"', "pyproject.toml: version {v}, but datapackage.json says 9.9.9"),
    ("CITATION.cff", "\nversion: {v}", "\nversions: {v}", "CITATION.cff: states no version (no version: line)"),
])
def test_check_versions_reports_each_disagreement(versioned, file, old, new, expected):
    v = json.loads((versioned / "datapackage.json").read_text(encoding="utf-8"))["version"]
    replace_once(versioned / file, old.format(v=v), new.format(v=v))
    problems = check_versions(versioned)
    assert expected.format(v=v) in problems, problems
    result = sifc("release", "check-versions", str(versioned), cwd=versioned)
    assert result.returncode == 1 and expected.format(v=v) in result.stdout.splitlines()
    assert len(result.stderr.splitlines()) == 1 and "disagreement" in result.stderr and "Traceback" not in result.stderr


def test_check_versions_reports_a_tag_that_disagrees(versioned):
    v = json.loads((versioned / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert check_versions(versioned, tag="v99.0.0") == [f"tag v99.0.0 names version 99.0.0, but datapackage.json says {v}"]
    assert check_versions(versioned, tag=v) == [f"tag '{v}' is not of the form vX.Y.Z"]
    result = sifc("release", "check-versions", str(versioned), "--tag", "v99.0.0", cwd=versioned)
    assert result.returncode == 1 and "names version 99.0.0" in result.stdout


def test_check_versions_with_a_tag_needs_the_changelog_section_and_its_date(versioned):
    v = json.loads((versioned / "datapackage.json").read_text(encoding="utf-8"))["version"]
    citation = versioned / "CITATION.cff"
    citation.write_text(re.sub(r"(?m)^date-released: .*$", "date-released: 2030-01-01",
                               citation.read_text(encoding="utf-8")), encoding="utf-8")
    problems = check_versions(versioned, tag=f"v{v}")
    assert len(problems) == 1 and "date-released 2030-01-01" in problems[0]
    replace_once(versioned / "CHANGELOG.md", f"\n## {v} ", "\n## Older ")
    problems = check_versions(versioned, tag=f"v{v}")
    assert problems == [f"CHANGELOG.md: no section `## {v} — YYYY-MM-DD` (the release notes quote it)"]
    assert check_versions(versioned) == []  # without a tag: only the versions


# ---------------------------------------------------------------- exit codes

def test_exit_codes_are_one_line_without_a_traceback(released, tmp_path):
    clone, dist = released["clone"], released["dist"]
    cases = []
    # 2: the step cannot run
    cases.append((2, ["release", "assets", "--dist", str(tmp_path / "none"), "--out", str(tmp_path / "r1")], "no such folder"))
    cases.append((2, ["release", "assets", "--dist", str(dist), "--out", str(released["release"])], "not an empty folder"))
    cases.append((2, ["release", "notes", "--previous", "v0.0.9"], "neither a folder nor a revision"))
    # 1: the release is incomplete
    partial = shutil.copytree(dist, tmp_path / "partial")
    (partial / "parquet" / "people.parquet").unlink()
    cases.append((1, ["release", "assets", "--dist", str(partial), "--out", str(tmp_path / "r2")],
                  "lacks parquet/people.parquet"))
    cases.append((1, ["release", "notes", "--version", "7.7.7"], "no section `## 7.7.7"))
    for code, args, message in cases:
        result = sifc(*args, cwd=clone)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("sifc release ") and message in lines[0], (args, lines)
    assert not (tmp_path / "r2").exists()  # nothing written for an incomplete build


# ---------------------------------------------------------------- the workflows

def run_lines(wf: dict, job: str) -> list[str]:
    return [s["run"].strip() for s in wf["jobs"][job]["steps"] if "run" in s]


def uses(wf: dict) -> dict[str, str]:
    return {s["uses"].partition("@")[0]: s["uses"].partition("@")[2]
            for j in wf["jobs"].values() for s in j["steps"] if "uses" in s}


def test_release_workflow_runs_exactly_the_release_steps():
    wf = workflow("release.yml")
    assert triggers(wf) == {"push": {"tags": ["v*.*.*"]}}
    assert wf["permissions"] == {"contents": "write"}
    job = wf["jobs"]["release"]
    assert job["env"]["TAG"] == "${{ github.ref_name }}"
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # the tags, for the notes' diff
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"] == {"python-version": "3.11", "cache": "pip", "cache-dependency-path": "requirements.lock"}
    runs = run_lines(wf, "release")
    expected = ["make validate",
                '.venv/bin/sifc release check-versions --tag "$TAG"',
                ".venv/bin/sifc build --out dist",
                ".venv/bin/sifc release assets --dist dist --out release",
                "sha256sum --check --strict SHA256SUMS",
                '.venv/bin/sifc release notes --head "$TAG" --output build/release-notes.md',
                'gh release create "$TAG" release/*']
    assert len(runs) == len(expected)
    for run, start in zip(runs, expected):
        assert run.startswith(start), (run, start)
    assert "--notes-file build/release-notes.md" in runs[-1]
    assert not any("${{" in r for r in runs)  # values reach scripts through env only
    assert uses(wf) == {"actions/checkout": "v7", "actions/setup-python": "v7"}


def test_pages_workflow_builds_the_site_and_deploys_it():
    wf = workflow("pages.yml")
    on = triggers(wf)
    assert on["push"] == {"branches": ["main"]} and "workflow_dispatch" in on
    assert wf["concurrency"]["group"] == "pages" and wf["concurrency"]["cancel-in-progress"] is False
    assert wf["permissions"] == {"contents": "read"}
    assert run_lines(wf, "build") == ["make site", ".venv/bin/sifc build --out build/site/downloads"]
    upload = next(s for s in wf["jobs"]["build"]["steps"] if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "build/site"
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == "${{ steps.deployment.outputs.page_url }}"
    assert deploy["steps"][-1]["id"] == "deployment"
    # current majors (late 2026), as validate.yml's checkout/setup-python v7
    assert uses(wf) == {"actions/checkout": "v7", "actions/setup-python": "v7",
                        "actions/upload-pages-artifact": "v5", "actions/deploy-pages": "v5"}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^site: .*\n\t\$\(BIN\)/sifc site --out build/site$", makefile, re.M)


# ---------------------------------------------------------------- the README

def test_readme_links_the_site_and_the_releases_and_shows_the_screenshot():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Site and releases\n", 1)[1].split("\n## ", 1)[0]
    homepage = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["homepage"]
    owner, repo = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", homepage).groups()
    assert f"https://{owner}.github.io/{repo}/" in section
    assert f"{homepage}/releases" in section
    for name in asset_names("shanghai-ifc-VERSION"):
        assert f"`{name}`" in section, name
    assert "sha256sum -c" in section
    shot = re.search(r"!\[[^\]]+\]\((docs/[^)]+\.png)\)", section).group(1)
    data = (ROOT / shot).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < 300_000
