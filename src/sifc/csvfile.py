"""Read a CSV exactly as it is on disk, with the editor line of every record,
and check what frictionless does not check reliably: every byte is UTF-8
(not only a sample), no byte-order mark, LF line endings, well-formed
quoting, a header equal to the schema's fields, rectangular rows."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd

from .findings import Finding
from .package import Resource, is_remote

BOM = b"\xef\xbb\xbf"


@dataclass
class RawTable:
    name: str
    file: str  # display path, relative to the package root
    header: list[str]
    records: list[list[str]]
    #: lines[i]: the editor line where record i starts (header = line 1)
    lines: list[int]

    def frame(self) -> pd.DataFrame:
        """Every cell as text; an empty cell is missing (None)."""
        width = len(self.header)
        rows = [(r + [""] * width)[:width] for r in self.records]
        df = pd.DataFrame(rows, columns=self.header, dtype=object) if rows else pd.DataFrame(columns=self.header, dtype=object)
        return df.where(df != "", None)

    def cell(self, index: int | None, column: str) -> str | None:
        """The text of record `index` in `column` as written ('' when empty);
        None when there is no such record or column."""
        if index is None or column not in self.header or not 0 <= index < len(self.records):
            return None
        record, pos = self.records[index], self.header.index(column)
        return record[pos] if pos < len(record) else None

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else None


def read_bytes(resource: Resource) -> bytes:
    if is_remote(resource.path):
        from .fetch import fetch_bytes
        return fetch_bytes(resource.path)
    return resource.file.read_bytes()


def read_raw(resource: Resource, data: bytes | None = None) -> tuple[RawTable | None, list[Finding]]:
    file = resource.path
    found: list[Finding] = []

    def add(line, column, rule, message, value=None):
        found.append(Finding(file, line, column, rule, message, value, table=resource.name))

    if data is None:
        try:
            data = read_bytes(resource)
        except OSError as exc:
            add(None, None, "file", f"cannot read the file: {exc.strerror or exc}")
            return None, found
    if data.startswith(BOM):
        add(1, None, "bom", "the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
        data = data[len(BOM):]

    physical = data.split(b"\n")
    crlf = [i + 1 for i, line in enumerate(physical) if line.endswith(b"\r")]
    if crlf:
        add(crlf[0], None, "line-ending",
            f"{len(crlf)} line{'s' * (len(crlf) != 1)} end in CRLF (first shown); use LF line endings")
    bare_cr = [i + 1 for i, line in enumerate(physical) if b"\r" in line.rstrip(b"\r")]
    if bare_cr:
        add(bare_cr[0], None, "line-ending", "a bare carriage return (CR) inside a line; use LF line endings")
    for i, line in enumerate(physical):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start:exc.end]
            add(i + 1, None, "encoding", f"bytes at position {exc.start + 1} of the line are not valid UTF-8",
                bad.hex(" "))
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    last = 0
    try:
        for row in reader:
            start = last + 1
            last = reader.line_num
            if header is None:
                header = row
                continue
            if not row:
                add(start, None, "row-shape", "a blank line; remove it")
                continue
            records.append(row)
            lines.append(start)
    except csv.Error as exc:
        add(last + 1, None, "csv-syntax", f"malformed CSV ({exc}); check the quotes on this line")
    if header is None:
        add(1, None, "header", "the file is empty; it needs a header row")
        return None, found

    expected = resource.schema.field_names
    if header != expected:
        missing = [n for n in expected if n not in header]
        extra = [n for n in header if n not in expected]
        if missing or extra:
            detail = "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                             extra and f"unexpected {', '.join(extra)}"]))
        else:
            detail = "same names in a different order"
        add(1, None, "header", f"the header must be the schema's fields in order ({', '.join(expected)}): {detail}",
            ",".join(header))
    for row, line in zip(records, lines):
        if len(row) != len(header):
            add(line, None, "row-shape", f"the row has {len(row)} cells but the header has {len(header)}")
    return RawTable(resource.name, file, header, records, lines), found
