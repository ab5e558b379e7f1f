"""The release artifacts a user opens, read by the tools users read them
with (pyarrow, pandas, DuckDB, frictionless, openpyxl, sqlite3, Datasette,
json), and the README's Excel and SQL/DuckDB/datasette examples run as
written against one `sifc build` of the package."""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import re
import shlex
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import sifc
import sifc.views
from conftest import ROOT
from sifc.files.package import open_package

SIFC = Path(sys.executable).with_name("sifc")
PACKAGE = open_package(ROOT)
NAME = PACKAGE.descriptor["name"]
VERSION = PACKAGE.descriptor["version"]
STEM = f"{NAME}-{VERSION}"
TABLES = list(PACKAGE.resources)
VIEWS = {"participants_view": sifc.views.participants, "commitments_view": sifc.views.commitments,
         "measures_view": sifc.views.measures}


def csv_rows(table: str) -> list[dict]:
    text = (ROOT / "data" / f"{table}.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def fields(kind: str):
    """(table, field) for every field of that Table Schema type."""
    return [(t, f) for t in TABLES for f in PACKAGE.resource(t).schema.fields if f.type == kind]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"\n## {title}\n" in text, f"README.md has no section '## {title}'"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", readme_section(section), re.S)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """`sifc build --out <tmp>/dist` run as a user runs it, under umask 022;
    returns the folder holding dist/ (where the README's examples run)."""
    base = tmp_path_factory.mktemp("artifacts")
    run = subprocess.run([str(SIFC), "build", str(ROOT), "--out", str(base / "dist"), "--no-validate"],
                         capture_output=True, text=True, timeout=600, preexec_fn=lambda: os.umask(0o022))
    assert run.returncode == 0, run.stderr[-3000:]
    return base


@pytest.fixture(scope="module")
def dist(built) -> Path:
    return built / "dist"


@pytest.fixture(scope="module")
def loaded():
    return sifc.load_all(validate=False)


# ---------------------------------------------------------------- names and modes

def test_artifacts_are_named_with_the_version_and_written_0644(dist):
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        ["csv-excel", "parquet", "metadata.json", f"{STEM}.zip", f"{STEM}.sqlite", f"{STEM}.xlsx", f"{STEM}.json"])
    files = [p for p in dist.rglob("*") if p.is_file()]
    assert len(files) == 4 + 1 + 2 * len(TABLES)
    assert {oct(stat.S_IMODE(os.lstat(p).st_mode)) for p in files} == {oct(0o644)}
    assert sorted(p.stem for p in (dist / "parquet").iterdir()) == sorted(TABLES)


# ---------------------------------------------------------------- Parquet

def _arrow_name(kind: str) -> str:
    return {"string": "string", "integer": "int64", "boolean": "bool", "date": "date32[day]", "number": "double",
            "list": "list<element: string>"}[kind]


@pytest.mark.parametrize("table", TABLES)
def test_parquet_types_and_descriptions_with_pyarrow(dist, loaded, table):
    import pyarrow.parquet as pq

    pa_table = pq.read_table(dist / "parquet" / f"{table}.parquet")
    schema = PACKAGE.resource(table).schema
    assert pa_table.schema.names == schema.field_names and pa_table.num_rows == len(csv_rows(table))
    assert pa_table.schema.metadata[b"description"].decode() == schema.description
    for f in schema.fields:
        arrow = pa_table.schema.field(f.name)
        assert str(arrow.type) == _arrow_name(f.type), (table, f.name)
        assert arrow.nullable == (not f.required)
        assert arrow.metadata[b"description"].decode() == f.description
    # the values are the loader's: missing stays missing, lists are lists of strings
    rows = pa_table.to_pylist()
    frame = loaded[table]
    for f in schema.fields:
        for got, want in zip((r[f.name] for r in rows), frame[f.name]):
            if f.is_list:
                assert got == (list(want) if want is not None else None)
            elif pd.isna(want):
                assert got is None
            elif f.type == "date":
                assert got == want.date()
            else:
                assert got == want


def test_plain_pandas_reads_the_documented_dtypes(dist, loaded):
    for table in TABLES:
        frame = pd.read_parquet(dist / "parquet" / f"{table}.parquet")
        for f in PACKAGE.resource(table).schema.fields:
            dtype = str(frame[f.name].dtype)
            want = {"integer": "Int64", "boolean": "boolean", "string": "string", "date": "object",
                    "list": "object"}[f.type]
            assert dtype == want, (table, f.name, dtype)
            present = frame[f.name].dropna()
            if f.type == "date":
                assert all(type(v) is datetime.date for v in present)
            if f.is_list:
                assert all(all(isinstance(x, str) for x in v) for v in present)
        assert frame.isna().sum().to_dict() == loaded[table].isna().sum().to_dict()


def _duckdb_name(kind: str) -> str:
    return {"string": "VARCHAR", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE", "number": "DOUBLE",
            "list": "VARCHAR[]"}[kind]


def test_duckdb_reads_the_documented_types(dist):
    import duckdb

    for table in TABLES:
        path = (dist / "parquet" / f"{table}.parquet").as_posix()
        described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        schema = PACKAGE.resource(table).schema
        assert [(r[0], r[1]) for r in described] == [(f.name, _duckdb_name(f.type)) for f in schema.fields]
    path = (dist / "parquet" / "measures.parquet").as_posix()
    ((nulls, items),) = duckdb.sql(f"SELECT count(*) - count(aspect_no), sum(len(theme_ids)) "
                                   f"FROM read_parquet('{path}')").fetchall()
    rows = csv_rows("measures")
    assert nulls == sum(r["aspect_no"] == "" for r in rows)
    assert items == sum(len(r["theme_ids"].split(";")) for r in rows)


def test_the_readme_type_table_is_what_the_readers_give(dist):
    """Every cell of the README's type table (first code span of a cell) is
    what pyarrow, DuckDB, plain pandas and SQLite report."""
    import duckdb
    import pyarrow.parquet as pq

    section = readme_section("SQL, DuckDB and datasette")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 5
    db = sqlite3.connect(dist / f"{STEM}.sqlite")
    checked = set()
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        code = [re.match(r"`([^`]*)`", c).group(1) if c.startswith("`") else c for c in cells]
        kind, arrow, duck, pandas_dtype, sqlite_type = code[:5]
        table, f = fields(kind)[0]
        parquet = dist / "parquet" / f"{table}.parquet"
        assert str(pq.read_schema(parquet).field(f.name).type) == arrow
        path = parquet.as_posix()
        assert duckdb.sql(f"SELECT DISTINCT typeof({f.name}) FROM read_parquet('{path}')").fetchall() == [(duck,)]
        assert str(pd.read_parquet(parquet)[f.name].dtype) == pandas_dtype
        declared = {r[1]: r[2] for r in db.execute(f'PRAGMA table_info("{table}")')}
        assert declared[f.name] == sqlite_type
        checked.add(kind)
    db.close()
    assert checked >= {"string", "integer", "boolean", "date", "list"}


# ---------------------------------------------------------------- release zip

def test_release_zip_is_a_frictionless_zipped_package(dist):
    import frictionless

    package = frictionless.Package(str(dist / f"{STEM}.zip"))
    assert [r.name for r in package.resources] == TABLES
    for resource in package.resources:
        rows = resource.read_rows()
        assert len(rows) == len(csv_rows(resource.name))
    measures = package.get_resource("measures").read_rows()
    first = csv_rows("measures")[0]
    assert measures[0]["theme_ids"] == first["theme_ids"].split(";")
    assert frictionless.validate(str(dist / f"{STEM}.zip")).valid


def test_release_descriptor_and_manifest_carry_bytes_and_sha256(dist):
    with zipfile.ZipFile(dist / f"{STEM}.zip") as z:
        names = z.namelist()
        assert names[0] == "datapackage.json" and "MANIFEST.json" in names
        descriptor = json.loads(z.read("datapackage.json"))
        for resource in descriptor["resources"]:
            data = z.read(resource["path"])
            assert data == (ROOT / resource["path"]).read_bytes()
            assert resource["bytes"] == len(data)
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        manifest = json.loads(z.read("MANIFEST.json"))
        assert sorted(manifest) == sorted(n for n in names if n != "MANIFEST.json")
        for name, entry in manifest.items():
            data = z.read(name)
            assert entry == {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
    # and sifc itself loads it, verifying both
    assert len(sifc.load("measures", source=str(dist / f"{STEM}.zip"), validate=False)) == len(csv_rows("measures"))


# ---------------------------------------------------------------- Excel

def test_excel_sheets_are_styled_filtered_frozen_and_typed(dist):
    from openpyxl import load_workbook

    wb = load_workbook(dist / f"{STEM}.xlsx")
    assert wb.sheetnames == ["README", "dictionary", *TABLES, *VIEWS]
    for table in TABLES:
        ws = wb[table]
        schema = PACKAGE.resource(table).schema
        header = [c.value for c in ws[1]]
        assert header == schema.field_names
        assert all(c.font.b for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(csv_rows(table)) + 1}"
        widths = [ws.column_dimensions[ws.cell(1, i).column_letter].width for i in range(1, len(header) + 1)]
        assert all(8 <= w <= 60 for w in widths) and len(set(widths)) > 1
        rows = csv_rows(table)
        assert ws.max_row == len(rows) + 1
        for i, f in enumerate(schema.fields, 1):
            for r, raw in enumerate(rows, 2):
                cell = ws.cell(r, i)
                text = raw[f.name]
                if text == "":
                    assert cell.value is None, (table, f.name, r)
                elif f.type == "date":
                    assert cell.is_date and cell.value.date().isoformat() == text and cell.number_format == "yyyy-mm-dd"
                elif f.type == "integer":
                    assert type(cell.value) is int and cell.value == int(text)
                elif f.type == "boolean":
                    assert cell.value is (text == "true")
                else:
                    assert cell.value == text


def test_excel_data_dictionary_comes_from_the_schemas(dist):
    from openpyxl import load_workbook

    ws = load_workbook(dist / f"{STEM}.xlsx")["dictionary"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == ["table", "field", "title", "type", "description", "constraints"]
    table_rows = {(r[0], r[1]): r for r in rows[1:] if r[0] in TABLES}
    expected = {(t, f.name): f for t in TABLES for f in PACKAGE.resource(t).schema.fields}
    assert set(table_rows) == set(expected)
    for key, f in expected.items():
        _, _, title, kind, description, constraints = table_rows[key]
        assert (title, kind, description) == (f.title, f.type, f.description)
        assert ("required" in (constraints or "")) == f.required
        for value in f.enum or ():
            assert value in constraints
    for view, make in VIEWS.items():
        described = [r for r in rows[1:] if r[0] == view]
        assert [r[1] for r in described] == list(make().columns)
        assert all(r[4] for r in described)


def test_excel_view_sheets_hold_the_joined_views(dist, loaded):
    from openpyxl import load_workbook

    wb = load_workbook(dist / f"{STEM}.xlsx")
    for view, make in VIEWS.items():
        frame = make(loaded)
        ws = wb[view]
        assert [c.value for c in ws[1]] == list(frame.columns)
        assert ws.max_row == len(frame) + 1 and ws.freeze_panes == "A2" and ws.auto_filter.ref
        names = [c.value for c in ws[2]]
        assert names == [None if (not isinstance(v, tuple) and pd.isna(v)) else
                         (";".join(v) if isinstance(v, tuple) else
                          datetime.datetime.combine(v.date(), datetime.time()) if isinstance(v, pd.Timestamp) else
                          v) for v in frame.iloc[0]]


# ---------------------------------------------------------------- SQLite, Datasette

def test_sqlite_describes_every_table_and_column(dist):
    with sqlite3.connect(dist / f"{STEM}.sqlite") as db:
        objects = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                            "ORDER BY name")]
        described = {r[0]: r[1:] for r in db.execute("SELECT name, kind, description FROM _tables")}
        assert sorted(described) == objects
        assert all(description for _, description in described.values())
        for name in objects:
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
            documented = db.execute("SELECT column_name, description FROM _columns WHERE table_name = ? "
                                    "ORDER BY position", (name,)).fetchall()
            assert [c for c, _ in documented] == columns, name
            assert all(d for _, d in documented), name
        for table in TABLES:
            schema = PACKAGE.resource(table).schema
            assert described[table] == ("table", schema.description)
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            for f in schema.fields:  # the DDL carries each description as an SQL comment
                assert f"-- {f.title}: {' '.join(f.description.split())}" in sql
            got = dict(db.execute("SELECT column_name, description FROM _columns WHERE table_name = ?", (table,)))
            assert got == {f.name: f.description for f in schema.fields}


def test_datasette_metadata_describes_every_table_and_column(dist):
    meta = json.loads((dist / "metadata.json").read_text(encoding="utf-8"))
    assert VERSION in meta["title"] and meta["license"] and meta["license_url"].startswith("https://")
    assert meta["source"] and meta["source_url"] == PACKAGE.descriptor["homepage"]
    assert list(meta["databases"]) == [STEM]
    tables = meta["databases"][STEM]["tables"]
    with sqlite3.connect(dist / f"{STEM}.sqlite") as db:
        for name in [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]:
            assert tables[name]["description"], name
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
            assert list(tables[name]["columns"]) == columns and all(tables[name]["columns"].values()), name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def test_datasette_serves_the_database_with_its_descriptions(built):
    """The README's datasette command, started on loopback, serves every
    table with the descriptions from metadata.json."""
    (command,) = [line for block in blocks("SQL, DuckDB and datasette", "sh") for line in block.splitlines()
                  if line.startswith("datasette ")]
    args = shlex.split(command)
    port = free_port()
    args = [str(Path(sys.executable).with_name("datasette")), *args[1:], "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(args, cwd=built, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to about a minute for the server to come up
            try:
                databases = json.loads(get(base + "/-/databases.json"))
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert server.poll() is None, server.stdout.read()[-3000:]
                time.sleep(0.2)
        else:
            pytest.fail("datasette did not answer on " + base)
        assert [d["name"] for d in databases] == [STEM]
        db = next(d for d in databases if d["name"] == STEM)
        route = "/" + urllib.parse.quote(get_route(db))
        people = json.loads(get(base + route + "/people.json?_shape=objects"))
        assert len(people["rows"]) == len(csv_rows("people"))
        schema = PACKAGE.resource("people").schema
        page = get(base + route + "/people")
        import html
        text = html.unescape(page)
        assert schema.description in text
        for f in schema.fields:
            assert f.description in text, f.name
        view = html.unescape(get(base + route + "/measures_view"))
        assert "sifc.views.measures()" in view
        meta = json.loads(get(base + "/-/metadata.json"))
        assert meta["databases"][STEM]["tables"]["people"]["description"] == schema.description
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def get_route(db: dict) -> str:
    """The database's path in Datasette's URLs (tilde-encoded: '.' is '~2E')."""
    from datasette.utils import tilde_encode
    return tilde_encode(db.get("route") or db["name"])


# ---------------------------------------------------------------- JSON export

def test_json_export_is_typed(dist, loaded):
    body = json.loads((dist / f"{STEM}.json").read_text(encoding="utf-8"))
    assert (body["name"], body["version"]) == (NAME, VERSION) and body["licenses"]
    assert list(body["tables"]) == TABLES
    for table in TABLES:
        schema = PACKAGE.resource(table).schema
        records, rows = body["tables"][table], csv_rows(table)
        assert len(records) == len(rows)
        for record, raw in zip(records, rows):
            assert list(record) == schema.field_names  # every key, null included
            for f in schema.fields:
                value, text = record[f.name], raw[f.name]
                if text == "":
                    assert value is None
                elif f.is_list:
                    assert value == text.split(";")
                elif f.type == "integer":
                    assert type(value) is int and value == int(text)
                elif f.type == "boolean":
                    assert value is (text == "true")
                else:  # strings, and dates as they are written: YYYY-MM-DD
                    assert value == text


# ---------------------------------------------------------------- README examples

def test_readme_excel_section_names_what_the_build_writes(built, dist):
    from openpyxl import load_workbook

    section = readme_section("Excel")
    paths = set(re.findall(r"`(dist/[^`]+)`", section))
    assert f"dist/{STEM}.xlsx" in paths and "dist/csv-excel/" in paths
    for path in paths:
        assert (built / path).exists(), path
    bom = (built / "dist/csv-excel/people.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf") and bom[3:] == (ROOT / "data" / "people.csv").read_bytes()
    sheets = load_workbook(dist / f"{STEM}.xlsx", read_only=True).sheetnames
    named = [n for n in re.findall(r"`([a-z_A-Z]+)`", section)]
    assert {"README", "dictionary", *VIEWS} <= set(named)
    assert all(n in sheets for n in named)


def test_readme_sql_and_duckdb_examples_run(built):
    code = blocks("SQL, DuckDB and datasette", "python")
    assert len(code) >= 3 and any("duckdb" in b for b in code) and any("sqlite3" in b for b in code)
    env = {k: v for k, v in os.environ.items() if k != "SIFC_PACKAGE"}
    out = subprocess.run([sys.executable, "-c", "\n".join(code) + "\nprint(measures['implemented_on'].dtype)"],
                         cwd=built, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    printed = out.stdout
    theme = sifc.load("themes", validate=False).set_index("theme_id").label_en
    counts = pd.Series([t for ids in sifc.load("measures", validate=False).theme_ids for t in ids]).value_counts()
    assert theme[counts.index[0]] in printed  # DuckDB's theme counts
    assert str(PACKAGE.resource("measures").schema.field("aspect_no").description) in printed  # _columns
    counts = sifc.views.commitments().institution_name_en.astype(object).value_counts(dropna=False)
    for name, count in counts.items():  # sqlite3's rows, as Python prints them
        assert repr((None if pd.isna(name) else name, int(count))) in printed
    assert printed.strip().splitlines()[-1].startswith("datetime64")
