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

from .atomic import stale_temporaries, write_bytes_atomic
from .package import DataPackage, is_remote
from .safeio import UnsafeFile, read_package_file

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


def format_package(package: DataPackage, check: bool = False) -> list[Outcome]:
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
            new = canonical(original, resource.schema.field_names, list(resource.schema.primary_key))
        except FormatError as exc:
            outcomes.append(Outcome(resource.path, False, str(exc)))
            continue
        changed = new != original
        if changed and not check:
            write_bytes_atomic(Path(resource.file), new)
        outcomes.append(Outcome(resource.path, changed))
    return outcomes
