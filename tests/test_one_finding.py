"""One mistake, one finding: each common slip is reported once, at its
cause, in words that say the fix, with nothing cascading from it (the whole
report is compared, not only the expected line). And `sifc fmt
--convert-encoding` turns a GBK or UTF-16 file back into the very same
UTF-8 file, or refuses."""
from __future__ import annotations

import pytest

from conftest import apply_edit, copy_package
from sifc.cli import main
from sifc.validate import validate

CASES = {
    # name: (edits, [(file, line, column, rule, words the message must contain)])
    "us-date": (
        [{"file": "data/events.csv", "line": 2, "column": "start_on", "value": "4/29/2025"}],
        [("data/events.csv", 2, "start_on", "type", "write it as 2025-04-29")]),
    "excel-true": (
        [{"file": "data/participants.csv", "line": 2, "column": "delivered_speech", "value": "TRUE"}],
        [("data/participants.csv", 2, "delivered_speech", "type", "true or false")]),
    "enum-typo": (
        [{"file": "data/events.csv", "line": 2, "column": "kind", "value": "symposum"}],
        [("data/events.csv", 2, "kind", "enum", "did you mean 'symposium'?")]),
    "enum-case": (
        [{"file": "data/events.csv", "line": 2, "column": "kind", "value": "Symposium"}],
        [("data/events.csv", 2, "kind", "enum", "did you mean 'symposium'?")]),
    "id-typo-scalar": (
        [{"file": "data/commitments.csv", "line": 2, "column": "institution_id", "value": "nfra-shanghai-ofice"}],
        [("data/commitments.csv", 2, "institution_id", "foreign-key", "did you mean 'nfra-shanghai-office'?")]),
    "id-typo-in-a-list": (
        [{"file": "data/events.csv", "line": 2, "column": "convened_by", "value": "pbc;nfra-shanghai-ofice"}],
        [("data/events.csv", 2, "convened_by", "foreign-key", "did you mean 'nfra-shanghai-office'?")]),
    "id-not-close-to-any": (
        [{"file": "data/commitments.csv", "line": 2, "column": "institution_id", "value": "peoples-bank"}],
        [("data/commitments.csv", 2, "institution_id", "foreign-key", "no row of institutions")]),
    "blank-line": (
        [{"file": "data/people.csv", "replace_text": ["\nhe-lifeng,", "\n\nhe-lifeng,"]}],
        [("data/people.csv", 4, None, "row-shape", "blank line")]),
    # the comma splits the row of gong-zheng, whom other tables name: their
    # references to him are not reported as missing
    "unquoted-comma": (
        [{"file": "data/people.csv", "replace_text": ["\ngong-zheng,Gong Zheng,", "\ngong-zheng,Gong, Zheng,"]}],
        [("data/people.csv", 3, None, "row-shape", 'double quotes ("like, this")')]),
    "gbk-file": (
        [{"file": "data/people.csv", "encode_as": "gb18030"}],
        [("data/people.csv", 1, None, "encoding", "sifc fmt --convert-encoding")]),
    "utf16-file": (
        [{"file": "data/events.csv", "encode_as": "utf-16"}],
        [("data/events.csv", 1, None, "encoding", "UTF-16")]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_mistake_one_finding(tmp_path, name):
    edits, expected = CASES[name]
    root = copy_package(tmp_path / "pkg")
    for edit in edits:
        apply_edit(root, edit)
    report = validate(root, skip=("gx",))
    got = [(f.file, f.line, f.column, f.rule) for f in report.findings]
    assert got == [e[:4] for e in expected], report.to_text()
    for finding, (*_, words) in zip(report.findings, expected):
        assert words in finding.message, finding.message
        assert "(?" not in finding.message and "\\d" not in finding.message  # no raw regex


def test_a_date_that_is_there_but_mistyped_is_not_called_empty(tmp_path):
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "start_on", "value": "29.04.2025"})
    report = validate(root, skip=("gx",))
    assert [f.rule for f in report.findings] == ["type"], report.to_text()
    assert "is empty" not in report.to_text()


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_fmt_converts_a_whole_file_encoding_exactly(tmp_path, monkeypatch, capsys, encoding):
    root = copy_package(tmp_path / "pkg")
    original = (root / "data/people.csv").read_bytes()
    (root / "data/people.csv").write_bytes(original.decode("utf-8").encode(encoding))
    monkeypatch.chdir(root)
    assert main(["fmt"]) == 1  # never converted unasked
    assert "sifc fmt --convert-encoding" in capsys.readouterr().err
    assert main(["fmt", "--convert-encoding"]) == 0
    assert "converted from" in capsys.readouterr().out
    assert (root / "data/people.csv").read_bytes() == original
    assert validate(root, skip=("gx",)).ok


def test_fmt_refuses_a_conversion_it_cannot_make_exactly(tmp_path, monkeypatch, capsys):
    root = copy_package(tmp_path / "pkg")
    path = root / "data/people.csv"
    data = path.read_text(encoding="utf-8").encode("gb18030")
    path.write_bytes(data + b"\x81\x30\x81\xff\n")  # not a GB18030 sequence: a guess could alter text
    monkeypatch.chdir(root)
    assert main(["fmt", "--convert-encoding"]) == 1
    assert "cannot format" in capsys.readouterr().err
    assert path.read_bytes() == data + b"\x81\x30\x81\xff\n"
