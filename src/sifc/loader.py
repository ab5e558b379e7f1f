"""Typed pandas DataFrames from the CSVs, with the dtypes the schemas document:
text as pandas' string dtype, dates as date-only datetime64, booleans as
`boolean`, integers as nullable `Int64`, list columns as tuples of IDs."""
from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from .csvfile import RawTable, read_raw
from .findings import Finding
from .package import DataPackage, open_package
from .schema import Field, TableSchema

INTEGER = re.compile(r"^[+-]?[0-9]+$")
NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
          "date": "datetime64[ns]", "list": "object"}


class ValidationError(ValueError):
    """Raised by `sifc.load` when a table fails validation; `.findings` holds
    the same located findings `sifc validate` prints."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        shown = "\n".join(f.text() for f in findings[:20])
        more = f"\n… and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(f"{len(findings)} validation error{'s' * (len(findings) != 1)}:\n{shown}{more}")


def dtype_of(field: Field) -> str:
    return DTYPES.get(field.type, "string")


def type_message(field: Field) -> str:
    return {"date": "is not a valid date (use YYYY-MM-DD)",
            "integer": "is not a whole number",
            "number": "is not a number",
            "boolean": f"must be {' or '.join(field.true_values + field.false_values)}"}.get(
        field.type, f"is not a valid {field.type}")


def coerce_column(values: pd.Series, field: Field) -> tuple[pd.Series, pd.Series]:
    """The typed column, and a mask of cells whose text is not of the type."""
    present = values.notna()
    text = values.where(present, "")
    if field.type == "integer":
        ok = text.str.match(INTEGER) | ~present
        typed = pd.array([int(v) if p and o else pd.NA for v, p, o in zip(text, present, ok)], dtype="Int64")
    elif field.type == "number":
        ok = text.str.match(NUMBER) | ~present
        typed = pd.to_numeric(text.where(ok & present, None), errors="coerce").astype("Float64")
    elif field.type == "boolean":
        allowed = {**{v: True for v in field.true_values}, **{v: False for v in field.false_values}}
        ok = text.isin(list(allowed)) | ~present
        typed = pd.array([allowed.get(v) if p else pd.NA for v, p in zip(text, present)], dtype="boolean")
    elif field.type == "date":
        parsed = pd.to_datetime(text.where(present & text.str.match(DATE), None), format="%Y-%m-%d", errors="coerce")
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
    frame = raw.frame()
    columns, found = {}, []
    for field in schema.fields:
        if field.name not in frame.columns:
            continue
        typed, bad = coerce_column(frame[field.name], field)
        columns[field.name] = typed
        for i in np.flatnonzero(bad.to_numpy()):
            found.append(Finding(raw.file, raw.line_of(int(i)), field.name, "type", type_message(field),
                                 frame[field.name].iat[int(i)], table=raw.name))
    typed_frame = pd.DataFrame(columns, index=frame.index)
    return typed_frame, found


def read_tables(package: DataPackage, names=None):
    """Raw tables, typed frames and file/type findings for the named tables."""
    raws, frames, found = {}, {}, []
    for name in names or package.resources:
        resource = package.resource(name)
        raw, problems = read_raw(resource)
        found += problems
        if raw is None:
            continue
        frame, type_problems = coerce(raw, resource.schema)
        found += type_problems
        raws[name], frames[name] = raw, frame
    return raws, frames, found


def _related(package: DataPackage, name: str) -> list[str]:
    """The table and every table its foreign keys point at."""
    schema = package.resource(name).schema
    names = [name] + [fk.resource for fk in schema.foreign_keys] + [r for _, r, _ in schema.list_references()]
    names += [spec["participants"] for spec in schema.rules if "participants" in spec]  # cross-table rules
    return list(dict.fromkeys(n for n in names if n in package.resources))


def _open(source):
    if source is None or isinstance(source, (str, os.PathLike)) and not str(source).startswith(("http://", "https://")) \
            and not str(source).endswith(".zip"):
        return open_package(source)
    from .fetch import open_remote
    return open_remote(str(source))


def _cache_dir():
    from pathlib import Path
    if os.environ.get("SIFC_NO_CACHE"):
        return None
    base = os.environ.get("SIFC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "sifc")
    return Path(base)


def content_key(package: DataPackage) -> str:
    """sha256 over everything validation depends on: this code's version,
    the descriptor, every schema and every data file."""
    import hashlib
    from . import __version__
    h = hashlib.sha256(f"sifc {__version__}\n".encode())
    h.update(package.descriptor_path.read_bytes())
    for resource in package.resources.values():
        for path in (package.root / resource.schema_path, resource.file):
            data = path.read_bytes()
            h.update(f"{path.name} {len(data)}\n".encode())
            h.update(data)
    return h.hexdigest()


def _known_valid(package: DataPackage) -> str | None:
    """The content key if this exact package content already passed
    validation on this machine, else None. Any changed byte misses."""
    cache = _cache_dir()
    if cache is None:
        return None
    try:
        key = content_key(package)
    except OSError:
        return None
    return key if (cache / f"valid-{key}").exists() else None


def _remember_valid(package: DataPackage) -> None:
    cache = _cache_dir()
    if cache is None:
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"valid-{content_key(package)}").touch()
    except OSError:
        pass  # a read-only home only costs speed


def load(table: str, source=None, validate: bool = True) -> pd.DataFrame:
    """One table as a typed DataFrame. `source`: a package folder, a path or
    https URL of datapackage.json, or a release zip; default: this package.

    Validation (`validate=True`) runs the pandera layer; a package whose exact
    content (sha256 of descriptor, schemas and data, and the sifc version)
    already passed `load_all` validation on this machine is not validated
    again. Set SIFC_NO_CACHE=1 to always validate."""
    package = _open(source)
    package.resource(table)
    if validate and _known_valid(package):
        validate = False  # this exact content passed validation before
    names = _related(package, table) if validate else [table]
    raws, frames, found = read_tables(package, names)
    if validate:
        from .pandera_layer import check_tables
        found += check_tables(package, raws, frames, only=[table])
        errors = [f for f in found if f.table == table and f.severity == "error"]
        if errors:
            raise ValidationError(errors)
    elif table not in frames:
        raise ValidationError(found)
    return frames[table]


def load_all(source=None, validate: bool = True) -> dict[str, pd.DataFrame]:
    """Every table, keyed by name, validated together."""
    package = _open(source)
    if validate and _known_valid(package):
        validate = False  # this exact content passed validation before
    raws, frames, found = read_tables(package)
    if validate:
        from .pandera_layer import check_tables
        found += check_tables(package, raws, frames)
        errors = [f for f in found if f.severity == "error"]
        if errors:
            raise ValidationError(errors)
        _remember_valid(package)
    return frames


def tables(source=None) -> list[str]:
    """The names of the tables in the package."""
    return list(_open(source).resources)
