"""The two engines of the frictionless layer give the same findings.

Frictionless (`frictionless validate`, every row in Python) is the oracle;
the Arrow engine (sifc.checks.arrow_layer, vectorised, for large packages) must
report exactly what it reports: the same rows, rules, columns, values and
messages, in the same order. Property-based: random tables under random
Table Schemas (types, every constraint, primary and foreign keys, list
fields, missing values) with random corruptions (mistyped and odd cells,
duplicates, broken references, blank rows, rows of the wrong width, cells
with line breaks, wrong bytes/hash), compared engine against engine; plus
the invalid fixtures and the real package through `sifc validate` with the
engine forced by $SIFC_ENGINE.

CI runs a small derandomized number of examples (see tests/test_fuzz.py for
the conventions); SIFC_FUZZ_EXAMPLES=300 explores with random seeds.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from conftest import FIXTURES, ROOT, load_case, prepare
from sifc.checks import arrow_layer, frictionless_layer
from sifc.files.csvfile import read_raw
from sifc.files.package import DataPackage, Resource
from sifc.schema import parse_schema
from sifc.validate import _table_by_table as TABLE_BY_TABLE  # the tests of it replace it in sifc.validate

_EXPLORE = int(os.environ.get("SIFC_FUZZ_EXAMPLES") or 0)


def engine_settings(n: int):
    phases = [p for p in Phase if p != Phase.shrink or os.environ.get("SIFC_FUZZ_SHRINK") != "0"]
    return settings(max_examples=_EXPLORE or n, deadline=None, derandomize=not _EXPLORE, database=None,
                    print_blob=True, phases=phases,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


# ---------------------------------------------------------------------------
# random packages

PATTERNS = [r"^[a-z0-9]+(-[a-z0-9]+)*$", r"[a-z]+", r"Q[1-9][0-9]*", r"^https?://\S+$", r"a|b", r"\d{2,3}",
            r"[^,]*x", r"\w+\b", r"(?i:ab)", r"(a)\1?", r".{0,3}", r"[[:alpha:]]+", r"x$", r"[a-c]{1,2}z?",
            r"(?:ab)*", r"\s?\S"]
ODD = ["", " ", "+5", "-0", " 7", "07", "1_000", "٣", "１２", "99999999999999999999", "1.5", "1e3", "NaN",
       "2020-1-5", "2020-02-30", "2020-02-29", "2021-02-29", "0000-01-01", " 2020-01-01", "2020-01-01 ",
       "1899-12-31", "9999-12-31", "TRUE", "True", "yes", "0", "1", "true", "false", "a;;b", ";", "a;b;a",
       "ab\n", "x\ny", "é", "ＡＢ", "a b", "\t", "ab", "b", "x", "Q0", "Q12", "https://a", "http://a b",
       "a-b", "A-b", "-a", "abc\u200b", "NA", "null", "None", "n/a", "abcdefghijklmnopqrstuvwxyz"]
IDS = ["a", "b", "c", "a-b", "x1", "q-q"]


@st.composite
def field_spec(draw, name: str):
    kind = draw(st.sampled_from(["string", "string", "integer", "date", "boolean", "list", "number"]))
    field: dict = {"name": name, "type": kind}
    c: dict = {}
    if draw(st.booleans()):
        c["required"] = draw(st.booleans())
    if kind in ("string", "list"):
        if draw(st.booleans()):
            c["maxLength"] = draw(st.integers(0, 6))
        if draw(st.integers(0, 3)) == 0:
            c["minLength"] = draw(st.integers(0, 3))
    if kind == "string":
        if draw(st.integers(0, 2)) == 0:
            c["pattern"] = draw(st.sampled_from(PATTERNS))
        if draw(st.integers(0, 3)) == 0:
            c["enum"] = draw(st.lists(st.sampled_from(IDS + ["é", "ab\n"]), min_size=1, max_size=4, unique=True))
    if kind == "integer":
        if draw(st.booleans()):
            c["minimum"] = draw(st.integers(-3, 5))
        if draw(st.booleans()):
            c["maximum"] = draw(st.integers(0, 100))
        if draw(st.integers(0, 3)) == 0:
            c["enum"] = draw(st.lists(st.sampled_from(["1", "2", "07", "+3", "x"]), min_size=1, max_size=3,
                                      unique=True))
    if kind == "date":
        if draw(st.booleans()):
            c["minimum"] = draw(st.sampled_from(["1949-01-01", "2020-01-01"]))
        if draw(st.booleans()):
            c["maximum"] = draw(st.sampled_from(["2025-12-31", "2020-02-29"]))
    if kind == "boolean":
        if draw(st.booleans()):
            field["trueValues"] = draw(st.sampled_from([["true"], ["true", "1"], ["yes", "TRUE"]]))
            field["falseValues"] = draw(st.sampled_from([["false"], ["false", "0"], ["no"]]))
        if draw(st.integers(0, 3)) == 0:
            c["enum"] = ["true"]
    if kind == "list":
        field["delimiter"] = draw(st.sampled_from([";", ";", "|", "ab"]))
        if draw(st.integers(0, 3)) == 0:
            field["itemType"] = draw(st.sampled_from(["integer", "date"]))
    if kind == "number" and draw(st.booleans()):
        c["minimum"] = 0
    if draw(st.integers(0, 4)) == 0:
        field["missingValues"] = draw(st.sampled_from([["", "NA"], ["-"], ["n/a", "null"]]))
    if c:
        field["constraints"] = c
    return field


def cell(kind: str):
    """A valid-looking cell of a field type, or an odd one."""
    valid = {"string": st.sampled_from(IDS), "integer": st.integers(-5, 120).map(str),
             "date": st.dates().map(lambda d: d.isoformat()), "boolean": st.sampled_from(["true", "false"]),
             "list": st.lists(st.sampled_from(IDS), min_size=1, max_size=3).map(";".join),
             "number": st.sampled_from(["1", "2.5", "-3", "0.0", "1.0"])}[kind]
    return st.one_of(valid, valid, valid, st.sampled_from(ODD), st.text(max_size=4))


@st.composite
def table(draw, name: str, parent: dict | None):
    fields = [{"name": "id", "type": "string",
               "constraints": {"required": True, "pattern": r"^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 10}}]
    if draw(st.booleans()):
        fields[0]["constraints"]["unique"] = True
    fields += [draw(field_spec(f"f{i}")) for i in range(draw(st.integers(0, 4)))]
    schema: dict = {"fields": fields, "missingValues": draw(st.sampled_from([[""], [""], ["", "NA"]]))}
    scalar = [f["name"] for f in fields if f["type"] in ("string", "integer", "date", "boolean")]
    if draw(st.integers(0, 3)):
        schema["primaryKey"] = draw(st.sampled_from([["id"]] + [["id", n] for n in scalar if n != "id"]))
    if draw(st.booleans()):
        fields.append({"name": "parent_id", "type": "string"})
        schema["foreignKeys"] = [{"fields": ["parent_id"], "reference": {"resource": "", "fields": ["id"]}}]
    if parent is not None:
        fields.append({"name": "ref", "type": "string", "constraints": {"required": draw(st.booleans())}})
        schema.setdefault("foreignKeys", []).append(
            {"fields": ["ref"], "reference": {"resource": parent["name"], "fields": ["id"]}})
    for f in fields:
        if f["type"] == "string" and f["name"] in ("id", "parent_id", "ref"):
            f.setdefault("constraints", {})
    kinds = {f["name"]: f["type"] for f in fields}
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = []
        for f in fields:
            if f["name"] in ("id", "parent_id", "ref"):
                row.append(draw(st.one_of(st.sampled_from(IDS), st.sampled_from(IDS), st.just(""),
                                          st.sampled_from(ODD))))
            else:
                row.append(draw(cell(kinds[f["name"]])))
        rows.append(row)
    header = [f["name"] for f in fields]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    lines = []
    for row in rows:
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(row)
        lines.append(line.getvalue())
    # structural corruptions: blank lines, rows of the wrong width, an all-empty row
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.integers(0, len(lines)))
        lines.insert(where, draw(st.sampled_from(["\n", ",".join([""] * len(header)) + "\n",
                                                  ",".join(IDS[:len(header) + 1]) + "\n",
                                                  ",".join(IDS[:max(1, len(header) - 1)]) + "\n"])))
    text = buf.getvalue() + "".join(lines)
    return {"name": name, "schema": schema, "text": text}


@st.composite
def packages(draw):
    first = draw(table("parent", None))
    tables = [first]
    if draw(st.booleans()):
        tables.append(draw(table("child", first)))
    stats = draw(st.sampled_from([None, None, "right", "wrong"]))
    return tables, stats


def write_package(root: Path, tables: list[dict], stats: str | None) -> DataPackage:
    (root / "data").mkdir(parents=True)
    (root / "schemas").mkdir()
    resources, ours = [], {}
    for t in tables:
        data = t["text"].encode("utf-8")
        (root / "data" / f"{t['name']}.csv").write_bytes(data)
        (root / "schemas" / f"{t['name']}.json").write_text(json.dumps(t["schema"]), encoding="utf-8")
        res = {"name": t["name"], "type": "table", "path": f"data/{t['name']}.csv", "scheme": "file",
               "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
               "dialect": {"header": True, "csv": {"delimiter": ",", "lineTerminator": "\n", "quoteChar": '"',
                                                   "doubleQuote": True}},
               "schema": f"schemas/{t['name']}.json"}
        if stats:
            res["bytes"] = len(data) + (stats == "wrong")
            res["hash"] = "sha256:" + hashlib.sha256(data + b"x" * (stats == "wrong")).hexdigest()
        resources.append(res)
        ours[t["name"]] = Resource(t["name"], res["path"], res["schema"], root / res["path"],
                                   parse_schema(t["name"], t["schema"]), root)
    descriptor = {"name": "random", "resources": resources}
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return DataPackage(root, descriptor, ours)


def both_engines(package: DataPackage):
    raws, found = {}, []
    for name, resource in package.resources.items():
        raw, problems = read_raw(resource)
        found += problems
        if raw is not None:
            raws[name] = raw
    oracle = frictionless_layer.check(package, raws)
    try:
        arrow = arrow_layer.check(package, raws, found)
    except arrow_layer.Ineligible as exc:
        return oracle, None, str(exc)
    return oracle, arrow, None


def assert_columnar_reading_is_row_reading(package: DataPackage) -> None:
    """A large package's files are parsed by Arrow into columns and typed
    on the arrays; the tables, typed frames, lines and findings must be
    those of the row-by-row reading."""
    import pandas as pd
    from sifc.tabletypes import read_tables
    rows = read_tables(package)
    cols = read_tables(package, columnar=True)
    assert described(cols[2]) == described(rows[2])
    assert rows[0].keys() == cols[0].keys() and rows[1].keys() == cols[1].keys()
    for name, raw in rows[0].items():
        other = cols[0][name]
        assert (other.header, [int(x) for x in other.lines], other.records) == (raw.header, list(raw.lines), raw.records)
        assert [other.at_row_number(n) for n in range(len(raw.row_numbers or []) + 3)] == \
            [raw.at_row_number(n) for n in range(len(raw.row_numbers or []) + 3)]
        pd.testing.assert_frame_equal(cols[1][name], rows[1][name], check_exact=True)
        pd.testing.assert_frame_equal(other.frame(), raw.frame(), check_exact=True)


def described(findings) -> list[tuple]:
    return [(f.file, f.line, f.column, f.rule, f.value, f.message, f.severity) for f in findings]


def structural(tables) -> bool:
    """Whether a table has a problem that sends the package to frictionless."""
    return any("\r" in t["text"] for t in tables)


@engine_settings(40)
@given(packages())
def test_arrow_engine_reports_what_frictionless_reports(tmp_path_factory, generated):
    tables, stats = generated
    root = tmp_path_factory.mktemp("pkg")
    package = write_package(root, tables, stats)
    assert_columnar_reading_is_row_reading(package)
    oracle, arrow, why = both_engines(package)
    if arrow is None:
        # only a reason frictionless alone can judge sends a package back
        assert any(word in why for word in ("type list", "type number", "csv-syntax", "encoding", "line-ending",
                                            "metadata", "dialect", "cannot read the fields")), why
        return
    assert described(arrow) == described(oracle)


def test_the_error_limit_is_frictionless_s(tmp_path):
    """Past 1000 errors frictionless stops (and skips the bytes/hash
    checks); the Arrow engine stops at the same error."""
    rows = "".join(f"id{i},x{i % 7},{'' if i % 3 else 'bad'}\n" for i in range(700))
    tables = [{"name": "parent", "text": "id,code,n\n" + rows,
               "schema": {"fields": [{"name": "id", "type": "string", "constraints": {"unique": True}},
                                     {"name": "code", "type": "string", "constraints": {"pattern": "x[0-3]"}},
                                     {"name": "n", "type": "integer", "constraints": {"required": True}}]}}]
    package = write_package(tmp_path, tables, "wrong")
    oracle, arrow, why = both_engines(package)
    assert why is None and len(oracle) > 900
    assert described(arrow) == described(oracle)


# ---------------------------------------------------------------------------
# the engine choice, and whole reports through `sifc validate`

def test_the_engine_follows_the_threshold_and_the_override(monkeypatch):
    monkeypatch.delenv(arrow_layer.ENGINE_VAR, raising=False)
    monkeypatch.delenv(arrow_layer.THRESHOLD_VAR, raising=False)
    assert arrow_layer.engine_for(1000) == "frictionless"
    assert arrow_layer.engine_for(arrow_layer.DEFAULT_THRESHOLD) == "arrow"
    monkeypatch.setenv(arrow_layer.THRESHOLD_VAR, "0")
    assert arrow_layer.engine_for(1) == "arrow"
    monkeypatch.setenv(arrow_layer.ENGINE_VAR, "frictionless")
    assert arrow_layer.engine_for(10 ** 12) == "frictionless"
    monkeypatch.setenv(arrow_layer.ENGINE_VAR, "arrow")
    assert arrow_layer.engine_for(0) == "arrow"


def report_with(engine: str, root: Path, monkeypatch) -> list[tuple]:
    from sifc.validate import validate
    monkeypatch.setenv(arrow_layer.ENGINE_VAR, engine)
    report = validate(root, skip=("pandera", "gx"))
    return [(*t, tuple(f.layers)) for t, f in zip(described(report.findings), report.findings)]


def fixture_package(tmp_path, path, why_skip: str):
    """The package of an invalid fixture; the test is skipped when the
    fixture breaks the definitions (reported before any data is read)."""
    from sifc.files.package import DefinitionError, open_package
    try:
        return open_package(prepare(tmp_path, load_case(path)))
    except DefinitionError:
        pytest.skip(why_skip)


FRICTIONLESS_CASES = sorted(p for p in (FIXTURES / "invalid").glob("*.json")
                            if any("frictionless" in e.get("layers", []) for e in load_case(p)["expect"]))


@pytest.mark.parametrize("path", FRICTIONLESS_CASES, ids=[p.stem for p in FRICTIONLESS_CASES])
def test_invalid_fixtures_are_reported_alike_by_both_engines(tmp_path, path):
    package = fixture_package(tmp_path, path, "the definitions are reported; no data is checked")
    oracle, arrow, why = both_engines(package)
    if arrow is not None:
        assert described(arrow) == described(oracle)


DATA_CASES = sorted(p for p in (FIXTURES / "invalid").glob("*.json")
                    if any(str(e.get("file", "")).startswith("data/") for e in load_case(p)["edits"]))


@pytest.mark.parametrize("path", DATA_CASES, ids=[p.stem for p in DATA_CASES])
def test_invalid_fixtures_read_alike_in_columns_and_rows(tmp_path, path):
    package = fixture_package(tmp_path, path, "the definitions are reported; no data is read")
    assert_columnar_reading_is_row_reading(package)


def test_a_file_parsed_in_many_blocks_reads_as_in_one(monkeypatch):
    """A large file is parsed a block at a time and each column's pieces
    joined; with blocks of a few kilobytes the real package's files come in
    many pieces, and must read exactly as row by row."""
    from sifc.files import csvfile
    from sifc.files.package import open_package
    monkeypatch.setattr(csvfile, "ARROW_BLOCK", 4096)
    package = open_package(ROOT)
    assert_columnar_reading_is_row_reading(package)
    for resource in package.resources.values():  # read into columns, not handed to the row reader
        assert read_raw(resource, columnar=True)[0].columns is not None, resource.name
    import pyarrow as pa
    import pyarrow.csv as pcsv
    measures = package.resources["measures"].file.read_bytes()
    pieces = pcsv.read_csv(pa.BufferReader(measures), read_options=pcsv.ReadOptions(block_size=4096),
                           parse_options=pcsv.ParseOptions(newlines_in_values=True))
    assert pieces.column(0).num_chunks > 3  # the joining path is really taken


def test_a_large_package_is_reported_as_a_small_one(tmp_path, monkeypatch):
    """Above the threshold (here forced to 0) the files are read into
    columns, typed on them and checked by the Arrow engine; the frictionless
    and pandera layers report what they report below it."""
    from conftest import apply_edit, copy_package
    from sifc.validate import validate
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/commitments.csv", "line": 3, "column": "institution_id", "value": "nobody"})
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "start_on", "value": "2025-02-30"})
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_zh", "value": "Chen 陈吉宁"})
    monkeypatch.delenv(arrow_layer.ENGINE_VAR, raising=False)
    reports = []
    for threshold in ("0", str(10 ** 12)):
        monkeypatch.setenv(arrow_layer.THRESHOLD_VAR, threshold)
        report = validate(root, skip=("gx",))
        reports.append([(*t, tuple(f.layers)) for t, f in zip(described(report.findings), report.findings)])
    assert reports[0] == reports[1] and len(reports[0]) >= 3


def test_the_real_package_is_valid_with_either_engine(monkeypatch):
    assert report_with("arrow", ROOT, monkeypatch) == report_with("frictionless", ROOT, monkeypatch) == []


def test_validate_uses_the_arrow_engine_when_forced(tmp_path, monkeypatch):
    """A broken reference and a mistyped cell, reported alike whichever
    engine `sifc validate` runs, and the Arrow engine really ran."""
    from conftest import apply_edit, copy_package
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/commitments.csv", "line": 2, "column": "institution_id", "value": "nobody"})
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "start_on", "value": "2025-02-30"})
    calls = []
    real = arrow_layer.check
    monkeypatch.setattr(arrow_layer, "check", lambda *a: calls.append(1) or real(*a))
    arrow = report_with("arrow", root, monkeypatch)
    assert calls and arrow == report_with("frictionless", root, monkeypatch)
    assert sorted((f[0], f[1], f[2], f[3]) for f in arrow) == [
        ("data/commitments.csv", 2, "institution_id", "foreign-key"), ("data/events.csv", 2, "start_on", "type")]


def test_gx_on_a_large_package_runs_only_what_only_gx_checks(tmp_path, monkeypatch):
    """Above the threshold GX leaves the expectations restating a Table
    Schema (here: an enum) to the other layers and still checks row counts
    and completeness; below it, the whole suite runs."""
    pytest.importorskip("great_expectations")
    from conftest import apply_edit, copy_package
    from sifc.validate import validate
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "kind", "value": "symposum"})
    monkeypatch.delenv(arrow_layer.ENGINE_VAR, raising=False)
    monkeypatch.setenv(arrow_layer.THRESHOLD_VAR, "0")
    large = {(f.rule, f.severity) for f in validate(root, skip=("frictionless", "pandera")).findings}
    monkeypatch.setenv(arrow_layer.THRESHOLD_VAR, str(10 ** 12))
    small = {(f.rule, f.severity) for f in validate(root, skip=("frictionless", "pandera")).findings}
    assert ("enum", "error") in small and ("enum", "error") not in large
    assert ("completeness", "warning") in large and ("completeness", "warning") in small


# ---------------------------------------------------------------------------
# a large package, one table at a time



def streamed_and_whole(root: Path, monkeypatch) -> tuple[list, list, bool]:
    """The report of `sifc validate --skip gx` on a package taken as large,
    checked one table at a time and checked whole, and whether the
    table-by-table path ran to the end (it hands a package back otherwise)."""
    import sifc.validate as validate_module
    monkeypatch.delenv(arrow_layer.ENGINE_VAR, raising=False)
    monkeypatch.setenv(arrow_layer.THRESHOLD_VAR, "0")
    ran = []
    monkeypatch.setattr(validate_module, "_table_by_table",
                        lambda *a: (lambda out: ran.append(out is not None) or out)(TABLE_BY_TABLE(*a)))
    streamed = validate_module.validate(root, skip=("gx",))
    monkeypatch.setattr(validate_module, "_table_by_table", lambda *a: None)
    whole = validate_module.validate(root, skip=("gx",))

    def listed(report):
        return [(*t, tuple(f.layers)) for t, f in zip(described(report.sorted()), report.sorted())]
    return listed(streamed), listed(whole), bool(ran and ran[0])


@pytest.mark.parametrize("path", DATA_CASES, ids=[p.stem for p in DATA_CASES])
def test_a_large_package_checked_table_by_table_is_reported_as_checked_whole(tmp_path, path, monkeypatch):
    """Every finding of every invalid fixture is the same whether the main
    process holds the whole package or one table and the looked-up keys
    of the others."""
    from sifc.files.package import DefinitionError
    root = prepare(tmp_path, load_case(path))
    try:
        streamed, whole, _ = streamed_and_whole(root, monkeypatch)
    except DefinitionError:
        pytest.skip("the definitions are reported; no data is checked")
    assert streamed == whole


def test_table_by_table_runs_on_a_valid_and_a_broken_large_package(tmp_path, monkeypatch):
    """The path is really taken (not handed back) on the real package and
    on one with findings in several tables and layers."""
    from conftest import apply_edit, copy_package
    streamed, whole, ran = streamed_and_whole(ROOT, monkeypatch)
    assert ran and streamed == whole == []
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/commitments.csv", "line": 3, "column": "institution_id", "value": "nobody"})
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "start_on", "value": "2025-02-30"})
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_zh", "value": "Chen 陈吉宁"})
    apply_edit(root, {"file": "data/progress.csv", "line": 2, "column": "status", "value": "implementd"})
    streamed, whole, ran = streamed_and_whole(root, monkeypatch)
    assert ran and streamed == whole and len(streamed) >= 4


UTF8_PIECES = st.sampled_from(["a", "é", "中", "😀", "\u2028", "\x00"]).map(lambda s: s.encode())
ODD_BYTES = st.sampled_from([b"\xff", b"\xc3", b"\xe4\xb8", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80",
                             b"\x80", b"\xf0\x9f\x98"])


@engine_settings(150)
@given(st.lists(st.one_of(UTF8_PIECES, ODD_BYTES), max_size=12), st.integers(1, 5))
def test_utf8_is_judged_piece_by_piece_as_decoding_judges_it(parts, piece):
    """A large file is checked for UTF-8 a piece at a time (its decoded
    text whole would take up to four times its bytes); a character cut
    by a piece boundary, a surrogate, an overlong form or a truncated end
    is judged exactly as bytes.decode("utf-8") judges it."""
    from sifc.files.csvfile import is_utf8
    data = b"".join(parts)
    try:
        data.decode("utf-8")
        expected = True
    except UnicodeDecodeError:
        expected = False
    assert is_utf8(data, piece=piece) is expected
