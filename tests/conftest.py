"""Shared helpers: a fresh copy of the real package in a temporary folder,
and edits applied to it the way a contributor would make them."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PACKAGE_PARTS = ["datapackage.json", "schemas", "data", "validation"]


def copy_package(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for part in PACKAGE_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    return dest


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell, addressed as an editor shows it (header = line 1).
    The file is rewritten with the same canonical dialect it is kept in."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = rows[0]
    rows[line - 1][header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def apply_edit(root: Path, edit: dict) -> None:
    path = root / edit["file"]
    if "column" in edit:
        set_cell(path, edit["line"], edit["column"], edit["value"])
    elif "replace_hex" in edit:
        old, new = (bytes.fromhex(h) for h in edit["replace_hex"])
        data = path.read_bytes()
        assert old in data, f"fixture edit: {edit['replace_hex'][0]} not in {edit['file']}"
        path.write_bytes(data.replace(old, new, edit.get("count", 1)))
    elif "replace_text" in edit:
        old, new = edit["replace_text"]
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture edit: {old!r} not in {edit['file']}"
        path.write_text(text.replace(old, new, edit.get("count", 1)), encoding="utf-8")
    elif "delete_lines" in edit:
        lines = path.read_text(encoding="utf-8").split("\n")
        drop = set(edit["delete_lines"])
        path.write_text("\n".join(l for i, l in enumerate(lines, 1) if i not in drop), encoding="utf-8")
    elif "json_set" in edit:
        data = json.loads(path.read_text(encoding="utf-8"))
        target = data
        *keys, last = edit["json_set"]["path"]
        for k in keys:
            target = target[k]
        target[last] = edit["json_set"]["value"]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif "json_delete" in edit:
        data = json.loads(path.read_text(encoding="utf-8"))
        target = data
        *keys, last = edit["json_delete"]
        for k in keys:
            target = target[k]
        del target[last]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif "json_text" in edit:  # the file's whole text, for JSON no dict can hold
        path.write_text(edit["json_text"], encoding="utf-8")
    elif "swap_lines" in edit:
        lines = path.read_text(encoding="utf-8").split("\n")
        a, b = (n - 1 for n in edit["swap_lines"])
        lines[a], lines[b] = lines[b], lines[a]
        path.write_text("\n".join(lines), encoding="utf-8")
    elif "strip_final_newline" in edit:
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    elif "symlink_to" in edit:  # replace the file by a link (an absolute target, or one relative to the package)
        target = edit["symlink_to"]
        path.unlink()
        path.symlink_to(target if target.startswith("/") else root / target)
    elif "fifo" in edit:
        path.unlink()
        os.mkfifo(path)
    elif "delete_file" in edit:
        path.unlink()
    elif "write_text" in edit:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(edit["write_text"], encoding="utf-8")
    elif "add_stats" in edit:  # make it a release descriptor: bytes and sha256 hash for every resource
        add_stats(root)
    elif "encode_as" in edit:  # re-save the file the way another program would
        path.write_bytes(path.read_text(encoding="utf-8").encode(edit["encode_as"]))
    else:
        raise ValueError(f"unknown fixture edit {edit}")


def add_stats(root: Path) -> Path:
    """Turn the package's descriptor into a release descriptor (the
    repository's records no bytes/hash; `sifc build` writes them), as the
    library computes them. Returns `root`."""
    from sifc.files.descriptor import with_stats
    (root / "datapackage.json").write_text(with_stats(root), encoding="utf-8")
    return root


def release_copy(dest: Path) -> Path:
    """A copy of the package whose descriptor is a release descriptor."""
    return add_stats(copy_package(dest))


def load_case(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def package_copy(tmp_path):
    return copy_package(tmp_path / "pkg")


def prepare(tmp_path: Path, case: dict) -> Path:
    """The real package with a fixture's edits applied and, unless the case
    is about stale stats, `sifc refresh` run as a contributor would (it
    changes bytes/hash only where an edit made the descriptor carry them)."""
    from sifc.files.descriptor import refresh

    root = copy_package(tmp_path / "pkg")
    for edit in case["edits"]:
        apply_edit(root, edit)
    if not case.get("keep_stats"):
        try:
            refresh(root)
        except Exception:  # a case about an unreadable descriptor or file: stats stay as they were
            pass
    return root


def pytest_sessionstart(session):
    # The GX layer runs in a forked process; importing great_expectations
    # once here lets every fork start with it loaded (the import alone takes
    # seconds). Loading-path tests that must not import it run in subprocesses.
    try:
        import great_expectations  # noqa: F401
    except ImportError:
        pass
