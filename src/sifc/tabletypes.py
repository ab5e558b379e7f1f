"""Typing: Table Schema types to pandas dtypes, cell coercion and the
words used when a cell is not of its type. The one low module that the
loader and every validator layer use, so no layer imports the user-facing
loader.

Text becomes pandas' string dtype, dates date-only datetime64, booleans
`boolean`, integers nullable `Int64` (within 64 bits), list columns tuples."""
from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from .files.csvfile import RawTable, read_raw
from .findings import Finding
from .files.package import DataPackage
from .schema import Field, TableSchema

INTEGER = re.compile(r"[+-]?[0-9]{1,19}")  # fullmatch; more digits cannot fit in 64 bits
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INT64 = (-(2 ** 63), 2 ** 63 - 1)
DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
          "date": "datetime64[ns]", "list": "object"}
#: dates as spreadsheets write them, with the fix spelled out
DATE_LOOKALIKES = [
    (re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"), "M/D/YYYY", lambda m: (m[3], m[1], m[2])),
    (re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})"), "D.M.YYYY", lambda m: (m[3], m[2], m[1])),
    (re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"), "YYYY/M/D", lambda m: (m[1], m[2], m[3])),
    (re.compile(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"), "YYYY年M月D日", lambda m: (m[1], m[2], m[3])),
]


def dtype_of(field: Field) -> str:
    return DTYPES.get(field.type, "string")


def type_message(field: Field, value: str | None = None) -> str:
    """Why a cell's text is not of its field's type; with the value, the
    likely cause and the fix."""
    if value is not None and field.type == "date":
        text = str(value).strip()
        for pattern, shape, ymd in DATE_LOOKALIKES:
            m = pattern.fullmatch(text)
            if m:
                y, mo, d = ymd(m)
                return f"looks like a date written {shape}; write it as {int(y):04d}-{int(mo):02d}-{int(d):02d}"
        if DATE.fullmatch(text):
            try:
                date.fromisoformat(text)
                return "has a year outside the dates the tools can hold (1678 to 2261); check the year"
            except ValueError:
                return "is not a real calendar date (check the month and day; use YYYY-MM-DD)"
    if value is not None and field.type == "integer" and re.fullmatch(r"[+-]?[0-9]+", str(value)):
        return "is too large: whole numbers must fit in 64 bits"
    if value is not None and field.type == "boolean" and str(value).strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return f"must be written {' or '.join(field.true_values + field.false_values)} (lower case)"
    return {"date": "is not a valid date (use YYYY-MM-DD)",
            "integer": "is not a whole number",
            "number": "is not a number",
            "boolean": f"must be {' or '.join(field.true_values + field.false_values)}"}.get(
        field.type, f"is not a valid {field.type}")


def _integer(text: str) -> int | None:
    if not INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if INT64[0] <= value <= INT64[1] else None


def coerce_column(values: pd.Series, field: Field) -> tuple[pd.Series, pd.Series]:
    """The typed column, and a mask of cells whose text is not of the type."""
    present = values.notna()
    text = values.where(present, "")
    if field.type == "integer":
        parsed = [_integer(v) if p else None for v, p in zip(text, present)]
        ok = pd.Series([v is not None or not p for v, p in zip(parsed, present)], index=values.index)
        typed = pd.array([pd.NA if v is None else v for v in parsed], dtype="Int64")
    elif field.type == "number":
        ok = pd.Series([bool(NUMBER.fullmatch(v)) or not p for v, p in zip(text, present)], index=values.index)
        typed = pd.to_numeric(text.where(ok & present, None), errors="coerce").astype("Float64")
    elif field.type == "boolean":
        allowed = {**{v: True for v in field.true_values}, **{v: False for v in field.false_values}}
        ok = text.isin(list(allowed)) | ~present
        typed = pd.array([allowed.get(v) if p else pd.NA for v, p in zip(text, present)], dtype="boolean")
    elif field.type == "date":
        shaped = pd.Series([bool(DATE.fullmatch(v)) for v in text], index=values.index)
        parsed = pd.to_datetime(text.where(present & shaped, None), format="%Y-%m-%d", errors="coerce")
        # datetime64[ns] holds 1677-09-21 to 2262-04-11; a year outside is a finding, not an overflow
        years = parsed.dt.year
        parsed = parsed.where((years > 1677) & (years < 2262))
        ok = parsed.notna() | ~present
        typed = parsed.astype("datetime64[ns]")
    elif field.type == "list":
        ok = pd.Series(True, index=values.index)
        typed = pd.Series([tuple(v.split(field.delimiter)) if p else None for v, p in zip(text, present)],
                          index=values.index, dtype=object)
    else:
        ok = pd.Series(True, index=values.index)
        typed = values.astype("string")
    return pd.Series(typed, index=values.index, name=field.name), ~pd.Series(np.asarray(ok, dtype=bool), index=values.index)


def coerce(raw: RawTable, schema: TableSchema) -> tuple[pd.DataFrame, list[Finding]]:
    if raw.columns is not None:
        return coerce_columns(raw, schema)
    frame = raw.frame()
    columns, found = {}, []
    for field in schema.fields:
        if field.name not in frame.columns:
            continue
        typed, bad = coerce_column(frame[field.name], field)
        columns[field.name] = typed
        for i in np.flatnonzero(bad.to_numpy()):
            value = frame[field.name].iat[int(i)]
            found.append(Finding(raw.file, raw.line_of(int(i)), field.name, "type", type_message(field, value),
                                 value, table=raw.name))
    typed_frame = pd.DataFrame(columns, index=frame.index)
    return typed_frame, found


def coerce_columns(raw: RawTable, schema: TableSchema) -> tuple[pd.DataFrame, list[Finding]]:
    """`coerce` for a table read into Arrow columns: the same frame and
    findings, computed on the arrays (no Python string per cell except in
    list columns, whose cells are tuples)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    n = raw.n_records
    index = pd.RangeIndex(n)
    columns, found = {}, []
    for field in schema.fields:
        if field.name not in raw.columns:
            continue
        text = raw.columns[field.name]
        present = _bools(pc.not_equal(text, ""))
        if field.type in ("string", "list") or field.type not in DTYPES:
            ok = np.ones(n, dtype=bool)
            if field.type == "list":
                typed = pd.Series(_shared_tuples(text, field.delimiter), index=index, dtype=object)
            else:
                typed = pd.Series(pd.array(_empty_as_null(text, present), dtype="string"), index=index)
        elif field.type == "integer":
            shaped = present & _bools(pc.match_substring_regex(text, pattern=r"\A[+-]?[0-9]{1,19}\z"))
            short = shaped & _bools(pc.less_equal(pc.utf8_length(text), 18))
            values = pc.cast(pc.utf8_ltrim(pc.if_else(pa.array(short), text, "0"), characters="+"), pa.int64())
            ok = short.copy()
            values = values.to_pylist() if (shaped & ~short).any() else values
            if not isinstance(values, pa.Array):  # 19 digits: may not fit in 64 bits
                for i in np.flatnonzero(shaped & ~short):
                    values[i] = _integer(text[int(i)].as_py())
                    ok[i] = values[i] is not None
                values = pa.array(values, pa.int64())
            typed = pd.Series(pd.array(_nulls(values, ok), dtype="Int64"), index=index)
            ok |= ~present
        elif field.type == "boolean":
            allowed = list(field.true_values) + list(field.false_values)
            ok = _bools(pc.is_in(text, value_set=pa.array(allowed, pa.string()))) & present
            truth = pc.is_in(text, value_set=pa.array(list(field.true_values), pa.string()))
            typed = pd.Series(pd.array(_nulls(truth, ok), dtype="boolean"), index=index)
            ok |= ~present
        elif field.type == "date":
            shaped = present & _bools(pc.match_substring_regex(text, pattern=r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\z"))
            t = pc.if_else(pa.array(shaped), text, "2000-01-01")
            y, m, d = (np.asarray(pc.cast(pc.utf8_slice_codeunits(t, a, b), pa.int64()).to_numpy(), dtype=np.int64)
                       for a, b in ((0, 4), (5, 7), (8, 10)))
            leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
            days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)] + ((m == 2) & leap)
            # datetime64[ns] holds 1677-09-21 to 2262-04-11; a year outside is a finding, not an overflow
            ok = shaped & (m >= 1) & (m <= 12) & (d >= 1) & (d <= days) & (y > 1677) & (y < 2262)
            stamps = pc.strptime(pc.if_else(pa.array(ok), text, "2000-01-01"), format="%Y-%m-%d", unit="ns")
            typed = pd.Series(pd.to_datetime(np.asarray(stamps.to_numpy(zero_copy_only=False))).where(ok),
                              index=index).astype("datetime64[ns]")
            ok |= ~present
        else:  # number: as the row path does it
            values = pd.Series(np.asarray(text.to_numpy(zero_copy_only=False), dtype=object), index=index)
            typed, bad = coerce_column(values.where(values != "", None), field)
            ok = ~bad.to_numpy()
        columns[field.name] = typed.rename(field.name)
        for i in np.flatnonzero(~ok):
            value = text[int(i)].as_py()
            found.append(Finding(raw.file, raw.line_of(int(i)), field.name, "type", type_message(field, value),
                                 value, table=raw.name))
    return pd.DataFrame(columns, index=index), found


def _shared_tuples(text, delimiter: str) -> np.ndarray:
    """A list column's cells as tuples (None for an empty cell), one tuple
    per distinct cell and one string per distinct item: on a large package
    a Python object per cell and per item is most of a table's memory, and
    list cells repeat (the same sources, the same institutions)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    encoded = pc.dictionary_encode(text, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    item: dict[str, str] = {}
    distinct = np.empty(len(encoded.dictionary), dtype=object)
    for i, cell in enumerate(encoded.dictionary.to_pylist()):
        distinct[i] = tuple(item.setdefault(v, v) for v in cell.split(delimiter)) if cell else None
    return distinct[np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)]


def _bools(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _empty_as_null(text, present: np.ndarray):
    """`text` with null where `present` is False, sharing its character
    data: on a large package a second copy of every text column would
    double the memory the text takes."""
    import pyarrow as pa
    if text.null_count or not len(text):
        return _nulls(text, present)
    validity = pa.array(np.concatenate([np.ones(text.offset, dtype=bool), present])).buffers()[1]
    return pa.Array.from_buffers(text.type, len(text), [validity, *text.buffers()[1:]], offset=text.offset)


def _nulls(array, keep: np.ndarray):
    """`array` with null where `keep` is False."""
    import pyarrow as pa
    import pyarrow.compute as pc
    return pc.if_else(pa.array(keep), array, pa.scalar(None, array.type))


def read_tables(package: DataPackage, names=None, columnar: bool = False):
    """Raw tables, typed frames and file/type findings for the named tables.
    `columnar` (a large package): files read into Arrow columns where they
    are well-formed (`read_raw`)."""
    raws, frames, found = {}, {}, []
    for name in names or package.resources:
        resource = package.resource(name)
        raw, problems = read_raw(resource, columnar=columnar)
        found += problems
        if raw is None:
            continue
        frame, type_problems = coerce(raw, resource.schema)
        found += type_problems
        raws[name], frames[name] = raw, frame
    return raws, frames, found
