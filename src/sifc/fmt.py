"""`sifc fmt`: the canonical form of every CSV.

Canonical: UTF-8 without BOM, LF line endings, columns in schema order,
rows sorted by primary key, minimal quoting. Formatting is lossless (the
multiset of cell values never changes) and atomic (temp file + rename); a
file it cannot read faithfully (not UTF-8, malformed quoting, ragged rows)
is refused and left untouched, never repaired by guesswork.

Files are read the safe way (no links, no devices, bounded in size). A run
killed at any moment leaves every file either old or new: each is replaced
by one rename. The temporary files such a run leaves behind are removed by
the next run (and only those: `.{name}.XXXXXXXX.tmp` beside a data file)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .files.atomic import stale_temporaries, write_bytes_atomic
from .files.csvfile import ENCODING_NAMES, whole_file_encoding
from .files.package import DataPackage, is_remote
from .files.safeio import UnsafeFile, read_package_file

BOM = "\ufeff"


class FormatError(ValueError):
    """The file cannot be formatted without changing its content."""


@dataclass
class Outcome:
    file: str
    changed: bool
    error: str | None = None
    #: what was done besides formatting (a stale temporary file removed)
    note: str | None = None


def decode(data: bytes, convert_encoding: bool = False) -> tuple[str, str | None]:
    """The text of a CSV file and, when it was converted, the encoding it was
    in. Only a whole file in an encoding we are sure of is converted, and
    only when the round trip gives back the very same bytes: a guess that
    could alter a character is refused instead."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        encoding = whole_file_encoding(data)
        if encoding is None:
            raise FormatError(f"not UTF-8 (byte {exc.start + 1}); re-save it as UTF-8 first") from None
        if not convert_encoding:
            raise FormatError(f"saved as {ENCODING_NAMES[encoding]}, not UTF-8; re-save it as UTF-8, or run "
                              "`sifc fmt --convert-encoding` to convert it") from None
    body, codec = data, encoding
    if encoding == "utf-16":  # the byte order from the mark, else from where the NULs of ASCII text fall
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            body, codec = data[2:], "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        else:
            codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
    try:
        text = body.decode(codec)
        if text.encode(codec) != body:
            raise UnicodeError
    except UnicodeError:
        raise FormatError(f"looks like {ENCODING_NAMES[encoding]} but does not convert without loss; "
                          "re-save it as UTF-8 by hand") from None
    return text, encoding


def canonical(data: bytes, fields: list[str], primary_key: list[str], convert_encoding: bool = False) -> bytes:
    """The canonical bytes of one CSV file."""
    text, _ = decode(data, convert_encoding)
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


def _relative(package: DataPackage, path: Path) -> str:
    try:
        return path.relative_to(package.root).as_posix()
    except ValueError:
        return str(path)


def stale_files(package: DataPackage) -> list[Path]:
    """Temporary files an interrupted run left beside the package's CSVs."""
    found = []
    for resource in package.resources.values():
        if resource.root is not None and not is_remote(resource.path):
            found += [p for p in stale_temporaries(Path(resource.file)) if p not in found]
    return found


def read_resource(resource) -> bytes:
    if resource.root is None or is_remote(resource.path):
        raise UnsafeFile("is remote; only local files are formatted")
    return read_package_file(resource.root, resource.path, what="data file")


def format_package(package: DataPackage, check: bool = False, convert_encoding: bool = False) -> list[Outcome]:
    """Format every CSV (or, with check=True, only say which would change).
    Before writing, temporary files left by an interrupted run are removed
    (with check=True they are only listed). A file that cannot be read
    safely or formatted faithfully is an Outcome with an error, untouched."""
    outcomes = []
    for tmp in stale_files(package):
        rel = _relative(package, tmp)
        if check:
            outcomes.append(Outcome(rel, False, note="temporary file left by an interrupted `sifc fmt`; "
                                                       "`sifc fmt` removes it"))
            continue
        try:
            tmp.unlink()
        except FileNotFoundError:
            continue
        outcomes.append(Outcome(rel, False, note="removed: temporary file left by an interrupted run"))
    for resource in package.resources.values():
        try:
            original = read_resource(resource)
        except FileNotFoundError:
            outcomes.append(Outcome(resource.path, False, "file not found"))
            continue
        except UnsafeFile as exc:
            outcomes.append(Outcome(resource.path, False, f"cannot be read safely: {exc}"))
            continue
        except OSError as exc:
            outcomes.append(Outcome(resource.path, False, f"cannot be read: {exc.strerror or exc}"))
            continue
        try:
            new = canonical(original, resource.schema.field_names, list(resource.schema.primary_key),
                            convert_encoding)
        except FormatError as exc:
            outcomes.append(Outcome(resource.path, False, str(exc)))
            continue
        changed = new != original
        if changed and not check:
            write_bytes_atomic(Path(resource.file), new)
        encoding = whole_file_encoding(original) if changed else None
        outcomes.append(Outcome(resource.path, changed,
                                note=f"converted from {ENCODING_NAMES[encoding]} to UTF-8" if encoding else None))
    return outcomes
