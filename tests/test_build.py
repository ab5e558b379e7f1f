"""`sifc build`: every artifact holds exactly the CSVs' rows; the zip and the
SQLite file are reproducible byte for byte."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile

import pandas as pd
import pytest

import sifc
import sifc.views
from conftest import ROOT, copy_package
from sifc.publish.build import build

TABLES = sifc.tables()


def csv_rows(table: str) -> int:
    text = (ROOT / "data" / f"{table}.csv").read_text(encoding="utf-8")
    return len(list(csv.reader(io.StringIO(text, newline="")))) - 1


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    summary = build(ROOT, out, validate_first=True)
    return out, summary


def test_report_written_and_valid(dist):
    out, _ = dist
    assert '"valid": true' in (out / "validation-report.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("table", TABLES)
def test_every_artifact_has_the_csv_rows(dist, table):
    out, summary = dist
    expected = csv_rows(table)
    with zipfile.ZipFile(summary["zip"]) as z:
        assert z.read(f"data/{table}.csv") == (ROOT / "data" / f"{table}.csv").read_bytes()
    assert len(pd.read_parquet(out / "parquet" / f"{table}.parquet")) == expected
    with sqlite3.connect(summary["sqlite"]) as db:
        assert db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == expected
    assert len(pd.read_excel(summary["xlsx"], sheet_name=table)) == expected
    bom = (out / "csv-excel" / f"{table}.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf") and bom[3:] == (ROOT / "data" / f"{table}.csv").read_bytes()


def test_parquet_types_match_the_loader(dist):
    out, _ = dist
    events = pd.read_parquet(out / "parquet" / "events.parquet")
    loaded = sifc.load("events")
    assert list(events.columns) == list(loaded.columns)
    assert pd.to_datetime(events.start_on).equals(loaded.start_on.astype("datetime64[ns]").rename("start_on")) or \
        list(pd.to_datetime(events.start_on).dropna()) == list(loaded.start_on.dropna())
    measures = pd.read_parquet(out / "parquet" / "measures.parquet")
    assert list(measures.theme_ids.iloc[0]) == list(sifc.load("measures").theme_ids.iloc[0])


def test_sqlite_keys_and_views(dist):
    _, summary = dist
    with sqlite3.connect(summary["sqlite"]) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        fks = db.execute("PRAGMA foreign_key_list(participants)").fetchall()
        assert {row[2] for row in fks} == {"events", "people", "institutions"}
        for view, frame in [("participants_view", sifc.views.participants()),
                            ("commitments_view", sifc.views.commitments()),
                            ("measures_view", sifc.views.measures())]:
            sql = pd.read_sql(f"SELECT * FROM {view}", db)
            assert list(sql.columns) == list(frame.columns) and len(sql) == len(frame)
        themes = db.execute("SELECT themes FROM commitments_view WHERE commitment_id = 'mechanism-2025-pbc-rules-infrastructure'").fetchone()[0]
        expected = sifc.views.commitments().set_index("commitment_id").loc["mechanism-2025-pbc-rules-infrastructure", "themes"]
        assert themes == expected


def test_excel_readme_sheet(dist):
    _, summary = dist
    readme = pd.read_excel(summary["xlsx"], sheet_name="README", header=None)[0].dropna().tolist()
    version = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert any("CC BY 4.0" in str(line) for line in readme) and any(f"Version: {version}" in str(line) for line in readme)


def test_build_is_reproducible(tmp_path, dist):
    _, first = dist
    second = build(ROOT, tmp_path / "again", validate_first=False)
    assert second["zip"].read_bytes() == first["zip"].read_bytes()
    assert second["sqlite"].read_bytes() == first["sqlite"].read_bytes()


def test_artifacts_honour_the_umask_and_nothing_hidden_is_left(dist):
    import os
    import stat
    from sifc.files.atomic import current_umask
    out, _ = dist
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(os.lstat(p).st_mode) for p in files} == {0o666 & ~current_umask()}
    assert [p.name for p in out.rglob(".*")] == []  # no temporary file or SQLite work folder


def test_build_refuses_out_inside_the_package_before_validating(tmp_path, capsys):
    from sifc.cli import main
    root = copy_package(tmp_path / "pkg")
    assert main(["build", str(root), "--out", str(root / "data" / "dist")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inside the package's data/ folder" in err[0]
    assert not (root / "data" / "dist").exists()
