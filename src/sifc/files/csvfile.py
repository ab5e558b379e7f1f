"""Read a CSV exactly as it is on disk, with the editor line of every record,
and check what frictionless does not check reliably: every byte is UTF-8
(not only a sample), no byte-order mark, LF line endings, well-formed
quoting, a header equal to the schema's fields, rectangular rows."""
from __future__ import annotations

import codecs
import csv
import difflib
import io

from ..findings import Finding
from ..memory import trim
from .package import Resource, is_remote
from .safeio import UnsafeFile, allow_long_cells, read_limited, read_package_file

BOM = b"\xef\xbb\xbf"


class RawTable:
    """A table as written: its header and cells, with the editor line of
    every record. Small files keep their records as lists of strings; a large
    file read by Arrow (`read_raw(..., columnar=True)`) keeps one Arrow
    string array per column instead (`columns`), and the lists are made only
    if someone asks for `records`."""

    def __init__(self, name: str, file: str, header: list[str], records: list[list[str]] | None = None,
                 lines=None, row_numbers: list[tuple[int, int | None]] | None = None,
                 left_out: list[list[str]] | None = None, left_out_lines: list[int] | None = None,
                 columns: dict | None = None):
        self.name = name
        self.file = file  # display path, relative to the package root
        self.header = header
        self._records = records
        #: lines[i]: the editor line where record i starts (header = line 1)
        self.lines = lines if lines is not None else []
        #: for every row after the header, blank and wrong-width ones included
        #: (frictionless's numbering): (its line, its index in records or None)
        self._row_numbers = row_numbers
        #: the rows of the wrong width, left out of records (their cells are
        #: shifted, but a key written before the stray comma is still there)
        self.left_out = left_out
        #: the line of each row in left_out
        self.left_out_lines = left_out_lines
        #: column name -> pyarrow string array of every record's cell (columnar reading only)
        self.columns = columns

    @property
    def n_records(self) -> int:
        if self._records is not None:
            return len(self._records)
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @property
    def records(self) -> list[list[str]]:
        if self._records is None:
            cols = [self.columns[h].to_pylist() for h in self.header] if self.columns else []
            self._records = [list(r) for r in zip(*cols)] if cols else []
        return self._records

    @property
    def row_numbers(self) -> list[tuple[int, int | None]] | None:
        if self._row_numbers is None and self.columns is not None:
            self._row_numbers = [(int(line), i) for i, line in enumerate(self.lines)]
        return self._row_numbers

    def frame(self, only: list[str] | None = None) -> "pd.DataFrame":
        """Every cell as text; an empty cell is missing (None). `only`: just
        these columns (the rows are all there)."""
        import pandas as pd  # here, so that fmt and diff start without pandas
        names = self.header if only is None else [h for h in self.header if h in only]
        if self.columns is not None:
            import numpy as np
            data = {}
            for h in names:
                values = np.asarray(self.columns[h].to_numpy(zero_copy_only=False), dtype=object)
                values[values == ""] = None
                data[h] = values
            return pd.DataFrame(data, columns=names, index=pd.RangeIndex(self.n_records), dtype=object)
        width = len(self.header)
        rows = [(r + [""] * width)[:width] for r in self.records]
        df = pd.DataFrame(rows, columns=self.header, dtype=object) if rows else pd.DataFrame(columns=self.header, dtype=object)
        df = df.where(df != "", None)
        return df if only is None else df[names]

    def cell(self, index: int | None, column: str) -> str | None:
        """The text of record `index` in `column` as written ('' when empty);
        None when there is no such record or column."""
        if index is None or column not in self.header or not 0 <= index < self.n_records:
            return None
        if self._records is None and self.columns is not None:
            return self.columns[column][int(index)].as_py()
        record, pos = self.records[index], self.header.index(column)
        return record[pos] if pos < len(record) else None

    def line_of(self, index: int) -> int:
        return int(self.lines[index]) if 0 <= index < len(self.lines) else None

    def at_row_number(self, row_number: int) -> tuple[int | None, int | None]:
        """(line, record index) of a row as frictionless numbers rows (header
        = 1, blank and wrong-width rows counted); the index is None for a row
        this table left out."""
        if self._row_numbers is None and self.columns is not None:
            i = row_number - 2
            return (self.line_of(i), i) if 0 <= i < len(self.lines) else (None, None)
        rows = self.row_numbers or []
        if 0 <= row_number - 2 < len(rows):
            return rows[row_number - 2]
        return None, None


def read_bytes(resource: Resource) -> bytes:
    if is_remote(resource.path):
        from .fetch import fetch_bytes
        return fetch_bytes(resource.path)
    if resource.root is None:
        return read_limited(resource.file, what="data file")
    return read_package_file(resource.root, resource.path, what="data file")


#: problems after which a table's rows cannot be trusted: its cell checks
#: would only repeat the mistake, so they do not run on it
BLOCKS_TABLE = ("file", "header", "csv-syntax", "encoding-file")


def is_utf8(data: bytes, piece: int = 1 << 20) -> bool:
    """Whether `data` decodes as UTF-8 (exactly as `data.decode("utf-8")`
    judges), decoded a piece at a time: the decoded text of a whole large
    file would take up to four times its bytes, all at once."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), piece):
            decoder.decode(view[start:start + piece])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def whole_file_encoding(data: bytes) -> str | None:
    """The encoding a file not in UTF-8 was saved in as a whole, when that is
    certain: "utf-16" (a byte-order mark, or NUL bytes between letters) or
    "gb18030" (GBK, the default of Chinese Excel: it decodes without error
    and holds Chinese characters). None for UTF-8 or anything less sure."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (data[:200].count(b"\x00") > len(data[:200]) // 4 > 0):
        return "utf-16"
    if is_utf8(data):
        return None
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return "gb18030" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else None


ENCODING_NAMES = {"utf-16": "UTF-16", "gb18030": "GBK/GB18030 (the default of Chinese Excel)"}


def _encoding_findings(data: bytes, add) -> bool:
    """Report bytes that are not UTF-8. A file saved in another encoding as a
    whole (UTF-16, or GBK from a Chinese spreadsheet) is one finding naming
    it; returns True then (the table cannot be read)."""
    encoding = whole_file_encoding(data)
    if encoding:
        add(1, None, "encoding", f"the file is saved as {ENCODING_NAMES[encoding]}; save it as UTF-8 (in Excel: "
            "Save As, 'CSV UTF-8'), or run `sifc fmt --convert-encoding` to convert it", None, "encoding-file")
        return True
    if is_utf8(data):
        return False
    bad = []
    for i, line in enumerate(data.split(b"\n")):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((i + 1, exc.start, line[exc.start:exc.end]))
    for number, start, chunk in bad[:20]:
        add(number, None, "encoding", f"bytes at position {start + 1} of the line are not valid UTF-8", chunk.hex(" "))
    if len(bad) > 20:
        add(bad[20][0], None, "encoding", f"{len(bad) - 20} more lines are not valid UTF-8 (first 20 shown); "
            "save the file as UTF-8")
    return False


def read_raw(resource: Resource, data: bytes | None = None,
             columnar: bool = False) -> tuple[RawTable | None, list[Finding]]:
    """The table as written, and the file-level findings. The RawTable is
    None when the rows cannot be trusted (see BLOCKS_TABLE). `columnar` (a
    large package): a file whose every record is well-formed is parsed by
    Arrow into columns (`_read_columns`); any other file is read as below."""
    file = resource.path
    found: list[Finding] = []
    blocked = False

    def add(line, column, rule, message, value=None, kind=None):
        nonlocal blocked
        found.append(Finding(file, line, column, rule, message, value, table=resource.name))
        blocked = blocked or (kind or rule) in BLOCKS_TABLE

    if data is None:
        try:
            data = read_bytes(resource)
        except FileNotFoundError:
            add(None, None, "file", "the file does not exist")
            return None, found
        except (OSError, UnsafeFile) as exc:
            add(None, None, "file", f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")
            return None, found
    if data.startswith(BOM):
        add(1, None, "bom", "the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
        data = data[len(BOM):]
    if _encoding_findings(data, add):
        return None, found
    if columnar and not found:
        table = _read_columns(resource, data)
        if table is not None:
            _row_order(table, out_of_order_columns(table, list(resource.schema.primary_key)), resource, add)
            return table, found

    physical = data.split(b"\n")
    crlf = [i + 1 for i, line in enumerate(physical) if line.endswith(b"\r")]
    if crlf:
        add(crlf[0], None, "line-ending",
            f"{len(crlf)} line{'s' * (len(crlf) != 1)} end in CRLF (first shown); use LF line endings")
    bare_cr = [i + 1 for i, line in enumerate(physical) if b"\r" in line.rstrip(b"\r")]
    if bare_cr:
        add(bare_cr[0], None, "line-ending", "a bare carriage return (CR) inside a line; use LF line endings")
    if data and not data.endswith(b"\n"):
        add(len(physical), None, "final-newline", "the last line does not end with a line break; add one "
                                                  "(`sifc fmt` does)")
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")

    allow_long_cells(len(text))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    every_row: list[int] = []  # the start line of each row after the header
    header: list[str] | None = None
    last = 0
    try:
        for row in reader:
            start = last + 1
            last = reader.line_num
            if header is None:
                header = row
                continue
            every_row.append(start)
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
        add(1, None, "header", header_message(header, expected), ",".join(header))
    # A row of the wrong width is reported once and left out: its cells are
    # shifted, so every check of them would report a wrong finding.
    shaped = [(row, line) for row, line in zip(records, lines) if len(row) == len(header)]
    for row, line in zip(records, lines):
        if len(row) != len(header):
            add(line, None, "row-shape", shape_message(row, header))
    if blocked:
        return None, found
    index_of_line = {line: i for i, (_, line) in enumerate(shaped)}
    table = RawTable(resource.name, file, header, [r for r, _ in shaped], [n for _, n in shaped],
                     [(line, index_of_line.get(line)) for line in every_row],
                     [row for row in records if len(row) != len(header)],
                     [line for row, line in zip(records, lines) if len(row) != len(header)])
    _row_order(table, out_of_order(table, list(resource.schema.primary_key)), resource, add)
    return table, found


def _row_order(table: RawTable, order: int | None, resource: Resource, add) -> None:
    """The row-order finding for the first record out of key order, if any."""
    if order is not None:
        add(table.line_of(order), None, "row-order",
            f"rows are not sorted by {', '.join(resource.schema.primary_key)}: this row belongs before the one "
            f"above it; run `sifc fmt` to sort the file")


#: a field as Python's strict csv reader and Arrow's parser read alike: quoted
#: (quotes doubled inside), or unquoted without comma, quote or line break
_FIELD = r'(?:"(?:[^"]|"")*"|[^,\n"]*)'


#: bytes Arrow parses at a time: its working copy of the text is one block's,
#: not the file's (its default, 1 MB, cuts a column into more pieces than
#: that saves)
ARROW_BLOCK = 8 << 20


def _read_columns(resource: Resource, data: bytes) -> RawTable | None:
    """The table parsed by Arrow into one string array per column, or None
    when the file is not certain to read exactly as `csv.reader(strict=True)`
    reads it: every record must have the header's width and only
    well-formed fields (checked on the whole file with one RE2 expression),
    with LF line endings, a final line break, no NUL byte and the schema's
    header. Editor lines come from the line breaks inside quoted cells."""
    if b"\r" in data or b"\x00" in data or not data.endswith(b"\n"):
        return None
    first = data.find(b"\n")
    head = data[:first]
    if b'"' in head:
        return None
    header = head.decode("utf-8").split(",")
    if header != resource.schema.field_names or len(header) < 2 or len(set(header)) != len(header):
        return None
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    buffer = pa.py_buffer(data)
    body = pa.LargeStringArray.from_buffers(1, pa.array([first + 1, len(data)], pa.int64()).buffers()[1], buffer)
    record = _FIELD + "(?:," + _FIELD + "){%d}\n" % (len(header) - 1)
    try:
        if not pc.match_substring_regex(body, pattern=r"\A(?:" + record + r")*\z")[0].as_py():
            return None
        table = pcsv.read_csv(pa.BufferReader(buffer), read_options=pcsv.ReadOptions(block_size=ARROW_BLOCK),
                              parse_options=pcsv.ParseOptions(newlines_in_values=True),
                              convert_options=pcsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                                  strings_can_be_null=False,
                                                                  quoted_strings_can_be_null=False))
    except (pa.ArrowException, ValueError):
        return None
    del body
    columns = {}
    for h in header:  # each column's pieces are joined and let go one column at a time: one copy at a time
        column = table.column(h)
        pieces = column.num_chunks
        columns[h] = column.chunk(0) if pieces == 1 else column.combine_chunks()
        table = table.drop_columns([h])
        del column
        if pieces > 1:
            trim()  # the pieces, freed, go back to the system now, not after the last column
    del table
    n = len(columns[header[0]])
    breaks = np.zeros(n, dtype=np.int64)  # line breaks inside each record's cells
    if b'"' in data:
        for col in columns.values():
            breaks += np.asarray(pc.count_substring(col, pattern="\n").to_numpy(zero_copy_only=False), dtype=np.int64)
    lines = 2 + np.arange(n, dtype=np.int64) + np.concatenate([[0], np.cumsum(breaks)[:-1]]) if n else \
        np.zeros(0, dtype=np.int64)
    if n + int(breaks.sum()) != data.count(b"\n") - 1:
        return None
    return RawTable(resource.name, resource.path, header, None, lines, None, [], [], columns=columns)


def out_of_order_columns(table: RawTable, key: list[str]) -> int | None:
    """out_of_order for a table read into columns: compared as Python
    compares the text (Arrow compares UTF-8 bytes, the same order)."""
    import numpy as np
    import pyarrow.compute as pc
    key = [k for k in key if k in table.header]
    n = table.n_records
    if not key or n < 2:
        return None
    before = None  # record i+1 sorts before record i
    for k in reversed(key):
        col = table.columns[k]
        cur, prev = col.slice(1), col.slice(0, n - 1)
        less = np.asarray(pc.less(cur, prev).to_numpy(zero_copy_only=False), dtype=bool)
        if before is None:
            before = less
        else:
            before = less | (np.asarray(pc.equal(cur, prev).to_numpy(zero_copy_only=False), dtype=bool) & before)
    hit = np.flatnonzero(before)
    return int(hit[0]) + 1 if len(hit) else None


def header_message(header: list[str], expected: list[str]) -> str:
    """What is wrong with a header, in words, with "did you mean"."""
    repeated = sorted({h for h in header if header.count(h) > 1})
    missing = [n for n in expected if n not in header]
    extra = [n for n in header if n not in expected]
    parts = []
    if repeated:
        parts.append("repeats " + ", ".join(repeated))
    for name in extra:
        guess = difflib.get_close_matches(name, missing, n=1, cutoff=0.6)
        parts.append(f"unexpected {name!r}" + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    if missing:
        parts.append("missing " + ", ".join(missing))
    if not parts:
        parts.append("same names in a different order")
    return f"the header must be the schema's fields in order ({', '.join(expected)}): {'; '.join(parts)}"


def shape_message(row: list[str], header: list[str]) -> str:
    if len(row) > len(header):
        return (f"the row has {len(row)} cells but the header has {len(header)}; a comma inside a cell needs the "
                'cell in double quotes ("like, this")')
    return f"the row has {len(row)} cells but the header has {len(header)}; a cell or a comma is missing"


def out_of_order(table: RawTable, key: list[str]) -> int | None:
    """Index of the first record whose key sorts before the previous one's
    (the order `sifc fmt` writes), or None. One pass."""
    positions = [table.header.index(k) for k in key if k in table.header]
    if not positions:
        return None
    previous = None
    for i, record in enumerate(table.records):
        current = tuple(record[p] if p < len(record) else "" for p in positions)
        if previous is not None and current < previous:
            return i
        previous = current
    return None
