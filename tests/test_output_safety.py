"""Output that cannot lie: a hostile cell, header or path reaches every
report format escaped, and validation reaches no network."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import unicodedata

import pytest

from conftest import ROOT, apply_edit, copy_package

SIFC = [sys.executable, "-m", "sifc.cli"]
HOSTILE = ("x\n::error file=README.md,line=1::forged\x1b[31m red \u202eevil\u2028"
           "<img src=https://attacker.example/p.png onerror=alert(1)> @octocat | [link](https://attacker.example) `code`")


def hidden(line: str) -> list[str]:
    return [c for c in line if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c != "\t"]


@pytest.fixture(scope="module")
def hostile_package(tmp_path_factory):
    from sifc.files.descriptor import refresh
    root = copy_package(tmp_path_factory.mktemp("hostile") / "pkg")
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "notes", "value": HOSTILE})
    apply_edit(root, {"file": "data/people.csv", "line": 3, "column": "name_zh", "value": HOSTILE})
    refresh(root)
    return root


def run(*args, env=None):
    return subprocess.run(SIFC + list(args), capture_output=True, text=True, env=env)


def test_text_report_lines_are_clean_and_not_forged(hostile_package):
    result = run("validate", str(hostile_package), "--skip", "gx")
    assert result.returncode == 1
    for line in result.stdout.splitlines() + result.stderr.splitlines():
        assert not hidden(line), repr(line)
    # every finding is one line starting with its file: nothing a cell holds starts a line
    findings = [l for l in result.stdout.splitlines() if l.startswith("data/")]
    assert findings and all(l.startswith("data/people.csv:") for l in findings)
    assert not any(l.startswith("::") for l in result.stdout.splitlines())


def test_github_annotations_cannot_be_injected(hostile_package, tmp_path):
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    result = run("validate", str(hostile_package), "--skip", "gx", "--format", "github", env=env)
    lines = result.stdout.splitlines()
    annotations = [l for l in lines if l.startswith("::")]
    assert len(annotations) == len(lines) - 2  # first line names the package, last is the verdict; no forged line
    assert lines[0].startswith("sifc validate: shanghai-ifc ") and not lines[0].startswith("::")
    assert all(l.startswith(("::error file=data/people.csv,", "::warning file=data/")) for l in annotations)
    for line in lines:
        assert not hidden(line), repr(line)
    markdown = summary.read_text(encoding="utf-8")
    for raw in ("<img", "@octocat", "](https://attacker.example)", "\x1b", "\u202e", "\u2028"):
        assert raw not in markdown, raw
    table = [l for l in markdown.splitlines() if l.startswith("| <code>data/people.csv")]
    assert table and all(l.count(" | ") == 7 for l in table)  # a cell's | adds no column


def test_json_report_is_valid_and_escaped(hostile_package):
    result = run("validate", str(hostile_package), "--skip", "gx", "--format", "json")
    for ch in ("\u202e", "\u2028", "\x1b"):
        assert ch not in result.stdout
    data = json.loads(result.stdout)
    values = [f["value"] for f in data["findings"] if f["value"]]
    assert HOSTILE in values  # escaped on the wire, exact once parsed


def test_data_docs_html_escapes_values(hostile_package, tmp_path):
    docs = tmp_path / "docs"
    result = run("validate", str(hostile_package), "--docs-dir", str(docs))
    assert result.returncode == 1, result.stdout + result.stderr
    html = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in docs.rglob("*.html"))
    assert html
    assert "<img src=https://attacker.example" not in html
    assert "onerror=alert(1)>" not in html


def test_validation_makes_no_network_request(tmp_path):
    """Profiles ($schema) are known and bundled, never fetched: with every
    proxy variable pointing at a local listener, it hears nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    heard = []
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                heard.append(conn.recv(200))
                conn.close()
            except OSError:
                continue
    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    proxy = f"http://127.0.0.1:{server.getsockname()[1]}"
    env = {**os.environ, **{k: proxy for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                                               "ALL_PROXY", "all_proxy")}, "NO_PROXY": "", "no_proxy": ""}
    try:
        result = run("validate", str(ROOT), "--no-docs", env=env)
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert heard == []


def test_unknown_profile_is_refused_not_fetched(tmp_path):
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "schemas/people.json", "json_set": {"path": ["$schema"],
                                                                  "value": "http://127.0.0.1:9/evil.json"}})
    result = run("validate", str(root), "--skip", "gx")
    assert result.returncode == 1
    assert "schemas/people.json:2:$schema: definition: is not a known Table Schema profile" in result.stdout
