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
from sifc.files.package import open_package

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


# ---- interrupted for real: SIGKILL at any moment ---------------------------------------------

def big_messy_package(tmp_path, factor: int):
    """A copy whose every CSV is many times larger and in reverse order (so
    `fmt` has work to do on each), with the old bytes and the canonical new
    bytes of every file."""
    root = copy_package(tmp_path / "pkg")
    package = open_package(root)
    old, new = {}, {}
    for resource in package.resources.values():
        path = root / resource.path
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        header, body = rows[0], rows[1:]
        data = "".join(csv_line(r) for r in [header] + (body * factor)[::-1]).encode("utf-8")
        path.write_bytes(data)
        old[resource.path] = data
        new[resource.path] = canonical(data, resource.schema.field_names, list(resource.schema.primary_key))
        assert new[resource.path] != data
    return root, old, new


def temporaries(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def test_fmt_killed_at_any_moment_leaves_every_file_old_or_new(tmp_path):
    import random
    import signal
    import subprocess
    import sys
    import time

    root, old, new = big_messy_package(tmp_path, factor=120)
    data = root / "data"
    rng = random.Random(os.environ.get("SIFC_KILL_SEED", "9"))
    command = [sys.executable, "-m", "sifc.cli", "fmt", str(root)]
    for round_ in range(6):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round_ % 2 == 0:
            # the moment a temporary file exists, a write is under way: kill it there
            deadline = time.monotonic() + 60
            while proc.poll() is None and not temporaries(data) and time.monotonic() < deadline:
                pass
        else:
            time.sleep(rng.uniform(0.5, 3.0))  # anywhere: start-up, reading, formatting or writing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for rel in old:
            current = (root / rel).read_bytes()
            assert current in (old[rel], new[rel]), f"{rel} is neither its old nor its new content"
    stale = temporaries(data)
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    for name in stale:
        assert f"data/{name}: removed" in finished.stdout
    assert temporaries(data) == []
    assert {rel: (root / rel).read_bytes() for rel in old} == new
    assert subprocess.run(command[:-1] + ["--check", str(root)], capture_output=True).returncode == 0


def test_fmt_removes_only_its_own_stale_temporaries_and_says_so(tmp_path, capsys):
    from sifc.cli import main
    root = copy_package(tmp_path / "pkg")
    data = root / "data"
    ours = [data / ".people.csv.k3j_9x0a.tmp", data / ".events.csv.00000000.tmp"]
    theirs = [data / ".people.csv.tmp", data / ".notes.txt.abcdefgh.tmp", data / "people.csv.abcdefgh.tmp",
              data / ".people.csv.ABCDEFGH.tmp"]
    for path in ours + theirs:
        path.write_text("half-written")
    assert main(["fmt", "--check", str(root)]) == 0  # --check lists them and removes nothing
    out = capsys.readouterr().out
    assert all(f"data/{p.name}: temporary file" in out for p in ours) and all(p.exists() for p in ours)
    assert main(["fmt", str(root)]) == 0
    out = capsys.readouterr().out
    assert sorted(l for l in out.splitlines() if "removed" in l) == sorted(f"data/{p.name}: removed: temporary file "
                                                                            "left by an interrupted run" for p in ours)
    assert not any(p.exists() for p in ours) and all(p.exists() for p in theirs)


def test_fmt_reads_through_safeio(tmp_path):
    """A data file swapped for a link after the package was opened is refused, not followed."""
    root = copy_package(tmp_path / "pkg")
    package = open_package(root)
    secret = tmp_path / "secret.csv"
    secret.write_text("person_id\nz\na\n")
    (root / "data" / "people.csv").unlink()
    (root / "data" / "people.csv").symlink_to(secret)
    outcomes = {o.file: o for o in format_package(package)}
    assert "symbolic link" in outcomes["data/people.csv"].error
    assert secret.read_text() == "person_id\nz\na\n"
