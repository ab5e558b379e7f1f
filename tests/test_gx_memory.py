"""The GX layer holds one table at a time: the validate worker hands it a
function reading a table by name, and a table read, with the frame GX
checked, is gone before the next table is read. A table of a large package
(read into columns) keeps only the columns its expectations read. The
findings are those of the tables handed over all at once, in the same order."""
from __future__ import annotations

import weakref

import pytest

from conftest import apply_edit, copy_package
from sifc.checks import gx_layer
from sifc.checks.suites import read_suite
from sifc.files.csvfile import RawTable, read_raw
from sifc.files.package import open_package

pytest.importorskip("great_expectations")

#: (read into columns, as a large package is; Data Docs written)
MODES = [(False, False), (True, False), (True, True)]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    root = copy_package(tmp_path_factory.mktemp("gx") / "pkg")
    # a curated expectation (checked at any size) and a restated enum (only
    # on a small package) fail on cells, so findings carry lines and values
    apply_edit(root, {"file": "data/events.csv", "line": 3, "column": "city", "value": "Hangzhou"})
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "kind", "value": "symposum"})
    return open_package(root)


def reader(package, columnar: bool, on_read=None):
    def read(name):
        if on_read:
            on_read()
        raw, _ = read_raw(package.resources[name], columnar=columnar)
        return raw
    return read


@pytest.mark.parametrize("columnar,docs", MODES)
def test_one_table_at_a_time(package, columnar, docs, monkeypatch, tmp_path):
    made = []  # weak references to every table read and every frame made of one
    frame = RawTable.frame

    def remembered_frame(self, only=None):
        df = frame(self, only)
        made.append(weakref.ref(df))
        return df

    def nothing_left():
        assert all(ref() is None for ref in made), "a table read before is still in memory"

    monkeypatch.setattr(RawTable, "frame", remembered_frame)
    read = reader(package, columnar, nothing_left)

    def read_and_remember(name):
        raw = read(name)
        if raw is not None:
            made.append(weakref.ref(raw))
        return raw

    found = gx_layer.run(package, read_and_remember, tmp_path / "docs" if docs else None, restated=not columnar)
    assert len(made) > len(package.resources) and found
    if docs:
        assert (tmp_path / "docs" / "index.html").is_file()


@pytest.mark.parametrize("columnar", [False, True])
def test_the_same_findings_read_lazily_or_all_at_once(package, columnar):
    whole = {name: read_raw(res, columnar=columnar)[0] for name, res in package.resources.items()}
    whole = {name: raw for name, raw in whole.items() if raw is not None}
    expected = [f.as_dict() for f in gx_layer.run(package, whole, restated=not columnar)]
    lazily = [f.as_dict() for f in gx_layer.run(package, reader(package, columnar), restated=not columnar)]
    assert lazily == expected
    located = {(f["file"], f["line"], f["column"], f["rule"], f["value"]) for f in lazily}
    assert ("data/events.csv", 3, "city", "scope", "Hangzhou") in located
    assert (("data/events.csv", 2, "kind", "enum", "symposum") in located) is not columnar


def test_a_large_table_keeps_only_the_columns_read(package):
    kept = {}

    def read(name):
        raw, _ = read_raw(package.resources[name], columnar=True)
        kept[name] = raw
        return raw

    gx_layer.run(package, read, restated=False)
    narrowed = 0
    for name, raw in kept.items():
        entries = gx_layer.own_expectations(read_suite(package.root, name)["expectations"])
        wanted = gx_layer._columns_read(entries, raw.header)
        if wanted is None:
            assert list(raw.columns) == raw.header
            continue
        if wanted:
            assert set(raw.columns) == set(wanted)
        else:  # one column stays, for the row count
            assert len(raw.columns) == 1
        narrowed += len(raw.columns) < len(raw.header)
    assert narrowed
