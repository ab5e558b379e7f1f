"""`sifc fmt`: the canonical form of every CSV.

Canonical: UTF-8 without BOM, LF line endings, columns in schema order,
rows sorted by primary key, minimal quoting. Formatting is lossless (the
multiset of cell values never changes) and atomic (temp file + rename); a
file it cannot read faithfully (not UTF-8, malformed quoting, ragged rows)
is refused and left untouched, never repaired by guesswork."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_bytes_atomic
from .package import DataPackage

BOM = "\ufeff"


class FormatError(ValueError):
    """The file cannot be formatted without changing its content."""


@dataclass
class Outcome:
    file: str
    changed: bool
    error: str | None = None


def canonical(data: bytes, fields: list[str], primary_key: list[str]) -> bytes:
    """The canonical bytes of one CSV file."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 (byte {exc.start + 1}); re-save it as UTF-8 first") from None
    if text.startswith(BOM):
        text = text[1:]
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FormatError(f"malformed CSV ({exc})") from None
    if not rows:
        raise FormatError("empty file: no header")
    header, body = rows[0], [r for r in rows[1:] if r]
    if len(set(header)) != len(header):
        raise FormatError("the header repeats a column name")
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise FormatError(f"a row has {len(row)} cells but the header has {len(header)}; fix it by hand")
    # Schema columns first, in schema order; any column the schema does not
    # know keeps its place after them (the validator reports it; fmt loses nothing).
    order = [header.index(f) for f in fields if f in header] + [i for i, h in enumerate(header) if h not in fields]
    key = [header.index(k) for k in primary_key if k in header]
    body = sorted(body, key=lambda r: tuple(r[i] for i in key))  # stable: ties keep their order
    lines = [csv_line([header[i] for i in order])] + [csv_line([row[i] for i in order]) for row in body]
    return "".join(lines).encode("utf-8")


SPECIAL = (",", '"', "\r", "\n")


def csv_line(cells: list[str]) -> str:
    """One record with minimal quoting and an LF terminator. Python's csv
    writer leaves a lone CR unquoted when the terminator is LF, which a
    reader then takes for a line break; here CR always forces quotes."""
    out = []
    for cell in cells:
        if any(ch in cell for ch in SPECIAL):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    if len(cells) == 1 and not cells[0]:
        out = ['""']  # a lone empty cell must not become a blank line
    return ",".join(out) + "\n"


def format_package(package: DataPackage, check: bool = False) -> list[Outcome]:
    outcomes = []
    for resource in package.resources.values():
        path = Path(resource.file)
        original = path.read_bytes()
        try:
            new = canonical(original, resource.schema.field_names, list(resource.schema.primary_key))
        except FormatError as exc:
            outcomes.append(Outcome(resource.path, False, str(exc)))
            continue
        changed = new != original
        if changed and not check:
            write_bytes_atomic(path, new)
        outcomes.append(Outcome(resource.path, changed))
    return outcomes
