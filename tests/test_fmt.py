"""`sifc fmt`: canonical, idempotent, lossless and atomic."""
from __future__ import annotations

import csv
import io
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ROOT, copy_package
from sifc.fmt import FormatError, canonical, csv_line, format_package
from sifc.package import open_package

FIELDS = ["id", "name_zh", "notes", "list_ids"]
cell_text = st.text(alphabet=st.sampled_from(list("ab,\"\n\r;陈吉宁上海、（）'- =\t") + ["\u3000", "é"]), max_size=12)
row = st.lists(cell_text, min_size=len(FIELDS), max_size=len(FIELDS))


def cells(data: bytes) -> Counter:
    text = data.decode("utf-8").lstrip("\ufeff")
    return Counter(c for r in csv.reader(io.StringIO(text, newline="")) for c in r)


def messy(header, rows, crlf, bom, quote_all) -> bytes:
    """Valid but non-canonical CSV: CRLF or LF, all or minimal quoting, BOM or not."""
    buf = io.StringIO()
    if crlf or quote_all:  # with CRLF, csv's minimal quoting covers embedded CR and LF
        csv.writer(buf, lineterminator="\r\n" if crlf else "\n",
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows([header] + rows)
    else:
        buf.write("".join(csv_line(r) for r in [header] + rows))
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(rows=st.lists(row, max_size=15), order=st.permutations(FIELDS), crlf=st.booleans(), bom=st.booleans(),
       quote_all=st.booleans())
def test_lossless_and_idempotent(rows, order, crlf, bom, quote_all):
    idx = [FIELDS.index(f) for f in order]
    data = messy(list(order), [[r[i] for i in idx] for r in rows], crlf, bom, quote_all)
    out = canonical(data, FIELDS, ["id"])
    assert cells(out) == cells(data)  # the multiset of cell values is unchanged
    assert canonical(out, FIELDS, ["id"]) == out  # idempotent
    assert not out.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(out.decode("utf-8"), newline="")))
    assert parsed[0] == FIELDS  # schema column order
    assert [r[0] for r in parsed[1:]] == sorted(r[0] for r in parsed[1:])  # sorted by key
    assert sorted(parsed[1:]) == sorted([r[FIELDS.index(f)] for f in FIELDS] for r in rows)  # rows intact


def test_unknown_columns_are_kept_not_dropped():
    data = b"extra,id\nx,2\ny,1\n"
    assert canonical(data, ["id"], ["id"]) == b"id,extra\n1,y\n2,x\n"


@pytest.mark.parametrize("bad, message", [
    (b"id,name\n\xff,x\n", "not UTF-8"),
    (b"id,name\n\"a\"b,x\n", "malformed"),
    (b"id,name\na,b,c\n", "cells"),
    (b"", "empty"),
])
def test_refuses_what_it_cannot_format_faithfully(bad, message):
    with pytest.raises(FormatError, match=message):
        canonical(bad, ["id", "name"], ["id"])


def test_the_real_package_is_canonical():
    outcomes = format_package(open_package(ROOT), check=True)
    assert [o.file for o in outcomes if o.changed or o.error] == []


def test_fmt_fixes_a_messy_file_and_check_reports_it(tmp_path):
    from sifc.cli import main
    root = copy_package(tmp_path / "pkg")
    path = root / "data" / "people.csv"
    original = path.read_bytes()
    lines = original.decode("utf-8").split("\n")
    path.write_bytes(("\ufeff" + "\r\n".join([lines[0]] + lines[1:-1][::-1]) + "\r\n").encode("utf-8"))
    assert main(["fmt", "--check", str(root)]) == 1
    assert path.read_bytes() != original  # --check changes nothing
    assert main(["fmt", str(root)]) == 0
    assert path.read_bytes() == original
    assert main(["fmt", "--check", str(root)]) == 0


def test_an_interrupted_write_leaves_the_original_intact(tmp_path, monkeypatch):
    root = copy_package(tmp_path / "pkg")
    path = root / "data" / "people.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    messy_text = "\n".join([lines[0]] + lines[1:-1][::-1]) + "\n"
    path.write_text(messy_text, encoding="utf-8")

    def interrupted(src, dst):
        raise KeyboardInterrupt  # the process is stopped between writing and renaming

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        format_package(open_package(root))
    assert path.read_text(encoding="utf-8") == messy_text
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left
