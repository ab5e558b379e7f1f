"""Every rule tested both ways: each invalid fixture must be reported at the
exact file, line, column and rule by the named layers; each valid fixture
and the real package must pass."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, load_case, prepare
from sifc.validate import validate

INVALID = sorted((FIXTURES / "invalid").glob("*.json"))
VALID = sorted((FIXTURES / "valid").glob("*.json"))


def run(tmp_path, case, monkeypatch=None):
    root = prepare(tmp_path, case)
    for name, value in case.get("env", {}).items():
        monkeypatch.setenv(name, value)
    return validate(root, skip=tuple(case.get("skip", ())))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_is_reported_exactly(tmp_path, path, monkeypatch):
    case = load_case(path)
    report = run(tmp_path, case, monkeypatch)
    for want in case["expect"]:
        matches = [f for f in report.findings
                   if (f.file, f.line, f.column, f.rule) == (want["file"], want["line"], want["column"], want["rule"])]
        assert matches, (f"{path.stem}: expected {want['file']}:{want['line']}:{want['column']}: {want['rule']}; got:\n"
                         + report.to_text())
        finding = matches[0]
        assert finding.severity == want["severity"]
        assert set(want["layers"]) <= set(finding.layers), (want["layers"], finding.layers)
        if "value" in want:
            assert finding.value == want["value"]
        assert finding.message  # every finding says what is wrong
    if any(w["severity"] == "error" for w in case["expect"]):
        assert not report.ok


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_passes(tmp_path, path):
    case = load_case(path)
    report = validate(prepare(tmp_path, case), skip=tuple(case.get("skip", ("gx",))))
    assert report.ok, report.to_text()


def test_every_rule_has_an_invalid_fixture():
    """A rule the validators can report but no fixture exercises is untested."""
    from sifc.findings import Finding  # noqa: F401
    covered = {e["rule"] for p in INVALID for e in load_case(p)["expect"]}
    reportable = {"bom", "line-ending", "encoding", "csv-syntax", "header", "row-shape", "type", "required",
                  "unique", "primary-key", "enum", "pattern", "max-length", "minimum", "foreign-key",
                  "duplicate-item", "no-cycle", "date-order", "date-or-note", "one-of", "required-with",
                  "unique-together", "consistent", "speaker-attended", "cjk-only", "invisible-character",
                  "control-character", "whitespace", "full-width-ascii", "formula-injection", "row-count",
                  "completeness", "descriptor-stats", "exactly-one", "required-when", "not-before", "some-item"}
    assert reportable <= covered, sorted(reportable - covered)


def test_some_item_judges_each_row_as_the_row_by_row_definition_does():
    """The some-item rule runs on whole columns; every row must get the
    verdict of its definition, read row by row: some item names a row of
    the target whose column is allowed, the last row of a repeated key
    deciding."""
    import pandas as pd
    from sifc.checks.rules import _some_item
    from sifc.files.package import open_package
    schema = open_package(ROOT).resource("progress").schema
    spec = {"rule": "some-item", "field": "source_ids", "column": "kind", "in": ["official", "news"]}
    sources = pd.DataFrame({"source_id": pd.array(["a", "b", "c", "d", "d", None, "e"], dtype="string"),
                            "kind": pd.array(["official", "analysis", None, "official", "analysis", "news", "news"],
                                             dtype="string")})
    cells = [("a",), ("b",), ("b", "e"), ("c",), ("d",), (), None, ("x",), ("", "a"), ("b", "c", "x")]
    progress = pd.DataFrame({"source_ids": pd.Series(cells, dtype=object)})
    rule = _some_item(spec, schema, {"sources": sources})
    kind = {}
    for key, value in zip(sources["source_id"], sources["kind"]):
        if not pd.isna(key):
            kind[key] = None if pd.isna(value) else value
    expected = [v is None or any(kind.get(t) in ("official", "news") for t in v) for v in cells]
    assert list(rule.passes(progress)) == expected
    assert expected == [True, False, True, False, False, False, True, False, True, False]
    assert "b (analysis)" in rule.message(progress, 9) and "c" not in rule.message(progress, 9).split("lists")[1]
    assert rule.message(progress, 7).endswith("none that exists")
