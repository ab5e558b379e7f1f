"""`sifc validate` as a contributor runs it: exit codes, formats, report."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, apply_edit, copy_package

SIFC = [sys.executable, "-m", "sifc.cli", "validate"]


def run(*args, env=None, cwd=None):
    return subprocess.run(SIFC + list(args), capture_output=True, text=True, env=env, cwd=cwd)


def broken_package(tmp_path):
    """Two mistakes, committed as a contributor would: no `sifc refresh`
    (the repository's descriptor records no bytes/hash to go stale)."""
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_zh", "value": "Chen 陈吉宁"})
    apply_edit(root, {"file": "data/participants.csv", "line": 2, "column": "role", "value": "host"})
    return root


def test_real_package_is_valid_with_all_three_layers(tmp_path):
    result = run(str(ROOT), "--docs-dir", str(tmp_path / "docs"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid: 0 errors" in result.stdout and "layers run: frictionless, pandera, gx" in result.stdout
    assert (tmp_path / "docs" / "index.html").is_file()  # the HTML report a person reads


def test_errors_exit_1_with_located_lines(tmp_path):
    result = run(str(broken_package(tmp_path)), "--skip", "gx")
    assert result.returncode == 1
    assert "data/people.csv:2:name_zh: cjk-only:" in result.stdout
    assert "data/participants.csv:2:role: enum: must be one of: chair, co-chair, speaker, attendee (value: 'host')" in result.stdout
    assert "INVALID: 2 errors" in result.stdout


def test_json_output_carries_the_same_findings(tmp_path):
    root = broken_package(tmp_path)
    text = run(str(root), "--skip", "gx").stdout
    data = json.loads(run(str(root), "--skip", "gx", "--format", "json").stdout)
    assert data["valid"] is False and data["errors"] == 2
    for f in data["findings"]:
        line = f"{f['file']}:{f['line']}:{f['column']}: {f['rule']}: {f['message']}"
        assert line in text
    assert set(data["counts"]) == {"people", "participants"}


def test_github_format_annotations_and_step_summary(tmp_path):
    root = broken_package(tmp_path)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    out = run(str(root), "--skip", "gx", "--format", "github", env=env).stdout
    assert "::error file=data/people.csv,line=2,title=cjk-only in name_zh::" in out
    table = summary.read_text(encoding="utf-8")
    assert "| <code>data/participants.csv</code> | 2 | <code>role</code> | enum |" in table


def test_warnings_do_not_block():
    result = run(str(ROOT), "--no-docs")
    assert result.returncode == 0 and "[warning]" in result.stdout  # Wikidata coverage is a warning


def test_usage_errors_exit_2(tmp_path):
    assert run("--skip", "nonsense", str(ROOT)).returncode == 2
    assert run(str(ROOT), "--skip", "nonsense").returncode == 2
    missing = run(str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not found" in missing.stderr
    (tmp_path / "datapackage.json").write_text("{not json", encoding="utf-8")
    assert run(str(tmp_path)).returncode == 2


def test_output_file(tmp_path):
    out = tmp_path / "report.json"
    assert run(str(ROOT), "--skip", "gx", "--output", str(out)).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8"))["valid"] is True
