"""Typed pandas DataFrames from the CSVs, with the dtypes the schemas document:
text as pandas' string dtype, dates as date-only datetime64, booleans as
`boolean`, integers as nullable `Int64`, list columns as tuples of IDs."""
from __future__ import annotations

import os

import pandas as pd

from .findings import Finding
from .files.package import DataPackage, open_package
from .tabletypes import coerce, dtype_of, read_tables, type_message  # noqa: F401  (re-exported)


class ValidationError(ValueError):
    """Raised by `sifc.load` when a table fails validation; `.findings` holds
    the same located findings `sifc validate` prints."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        shown = "\n".join(f.text() for f in findings[:20])
        more = f"\n… and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(f"{len(findings)} validation error{'s' * (len(findings) != 1)}:\n{shown}{more}")


def _related(package: DataPackage, name: str) -> list[str]:
    """The table and every table its foreign keys point at."""
    from .checks.rules import tables_looked_up
    names = [name] + tables_looked_up(package.resource(name).schema)
    return list(dict.fromkeys(n for n in names if n in package.resources))


def _open(source):
    if source is None:  # an analyst's own project may have a datapackage.json of its own
        from .files.package import default_root
        return open_package(default_root(ours_only=True))
    if isinstance(source, (str, os.PathLike)) and not str(source).startswith(("http://", "https://")) \
            and not str(source).endswith(".zip"):
        return open_package(source)
    from .files.fetch import open_remote
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
        from .checks.pandera_layer import check_tables
        found += check_tables(package, raws, frames, only=[table])
        errors = [f for f in found if f.table == table and f.severity == "error"]
        if errors:
            raise ValidationError(errors)
    elif table not in frames:
        raise ValidationError(found)
    return annotated(frames[table], package.resource(table))


def load_all(source=None, validate: bool = True) -> dict[str, pd.DataFrame]:
    """Every table, keyed by name, validated together."""
    package = _open(source)
    if validate and _known_valid(package):
        validate = False  # this exact content passed validation before
    raws, frames, found = read_tables(package)
    if validate:
        from .checks.pandera_layer import check_tables
        found += check_tables(package, raws, frames)
        errors = [f for f in found if f.severity == "error"]
        if errors:
            raise ValidationError(errors)
        _remember_valid(package)
    return {name: annotated(frame, package.resource(name)) for name, frame in frames.items()}


def annotated(frame: pd.DataFrame, resource) -> pd.DataFrame:
    """What the schema knows, on the frame: enum columns as categoricals of
    exactly their allowed values, and `.attrs` with the table's name, title
    and description and each column's description."""
    schema = resource.schema
    frame = frame.copy()
    for field in schema.fields:
        if field.enum and field.name in frame:
            frame[field.name] = pd.Categorical(frame[field.name].astype(object).where(frame[field.name].notna(), None),
                                               categories=list(field.enum))
    frame.attrs = {"table": schema.name, "title": schema.title, "description": getattr(schema, "description", ""),
                   "columns": {f.name: f.description for f in schema.fields}}
    return frame


def read_csv_args(table: str, source=None) -> dict:
    """Arguments for plain `pd.read_csv` that type a table as its schema says
    (without validating it): `pd.read_csv(path, **sifc.read_csv_args("people"))`.
    Empty cells are missing values and nothing else is; dates are parsed
    strictly as YYYY-MM-DD; list columns stay `;`-separated text."""
    schema = _open(source).resource(table).schema
    dtype, dates = {}, []
    for field in schema.fields:
        if field.type == "date":
            dates.append(field.name)
        elif field.type == "boolean":
            dtype[field.name] = "boolean"
        else:
            dtype[field.name] = {"integer": "Int64", "number": "Float64"}.get(field.type, "string")
    return {"dtype": dtype, "parse_dates": dates, "date_format": "%Y-%m-%d",
            "keep_default_na": False, "na_values": [""]}


def tables(source=None) -> list[str]:
    """The names of the tables in the package."""
    return list(_open(source).resources)
