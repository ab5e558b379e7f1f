"""The Arrow engine of the frictionless layer: the row checks of
`frictionless validate` (types, required, unique, enum, pattern, length,
range, primary and foreign keys, list items), vectorised on Apache Arrow
arrays, for packages above a size threshold (docs/engines.md).

Frictionless stays the authority: it still reads and validates the
descriptor and every resource's metadata, and its own code judges every
cell the vectorised path cannot decide with certainty (a number written
`+5`, a date that is not plain `YYYY-MM-DD`, a pattern cell outside the
characters the RE2 translation is exact for): those cells go through the
very cell reader frictionless uses. The errors are frictionless's own error
objects, in the order frictionless emits them and cut at its error limit,
and they become findings through the same conversion
(`frictionless_layer._convert`), so both engines report the same findings;
tests/test_engines.py checks that on random tables and corruptions.

A package the engine cannot judge exactly (a file-level problem such as an
encoding error or a broken header, a dialect other than plain CSV, a key on
a list or number field, ...) is handed back (`Ineligible`) and frictionless
validates it row by row, as below the threshold."""
from __future__ import annotations

import os
from dataclasses import dataclass, field as dataclass_field

import numpy as np

from ..files.csvfile import RawTable
from ..findings import Finding
from ..files.package import DataPackage

ENGINE_VAR = "SIFC_ENGINE"  # auto (default), arrow or frictionless
THRESHOLD_VAR = "SIFC_ARROW_THRESHOLD"  # bytes of CSV from which `auto` picks arrow
DEFAULT_THRESHOLD = 2_000_000
#: file-level findings after which the rows still read exactly as frictionless reads them
HARMLESS = {"row-shape", "row-order", "final-newline"}
FAST_TYPES = {"string", "integer", "date", "boolean", "list"}
#: types whose values can be compared by their text (unique, keys)
KEY_TYPES = {"string", "integer", "date", "boolean"}
DIALECT_DEFAULTS = {"header": True, "header_rows": [1], "comment_char": None, "comment_rows": [],
                    "skip_blank_rows": False}


class Ineligible(Exception):
    """The package needs the frictionless engine; the message says why."""


def large(data_bytes: int) -> bool:
    """Whether a package is large: at least $SIFC_ARROW_THRESHOLD bytes of
    CSV (default 2 MB). The real package is far below."""
    try:
        threshold = int(os.environ.get(THRESHOLD_VAR, "").strip())
    except ValueError:
        threshold = DEFAULT_THRESHOLD
    return data_bytes >= threshold


def engine_for(data_bytes: int) -> str:
    """"arrow" or "frictionless": $SIFC_ENGINE when it names one, else
    arrow for a large package."""
    choice = os.environ.get(ENGINE_VAR, "").strip().lower()
    if choice in ("arrow", "frictionless"):
        return choice
    return "arrow" if large(data_bytes) else "frictionless"


# --- entry point ---------------------------------------------------------------

def check(package: DataPackage, raws: dict[str, RawTable], read_findings: list[Finding]) -> list[Finding]:
    """The findings `frictionless_layer.check` gives, computed on Arrow
    arrays. Raises Ineligible when only frictionless can say."""
    from .frictionless_layer import _convert
    for f in read_findings:
        if f.rule not in HARMLESS:
            raise Ineligible(f"{f.file}: {f.rule}")
    fpackage = _frictionless_package(package)
    tables = {}
    for fres in fpackage.resources:
        resource = package.resources.get(fres.name)
        raw = raws.get(fres.name)
        if resource is None or raw is None:
            raise Ineligible(f"resource {fres.name!r} was not read")
        tables[fres.name] = _Table.prepare(fres, resource, raw)
    for table in tables.values():
        table.plan_keys(tables)
    for table in tables.values():
        table.check_cells()
    out: list[Finding] = []
    for table in tables.values():
        for error in table.errors(tables):
            out.extend(_convert(error, table.resource, table.raw, table.resource.path))
    return out


class TableByTable:
    """`check` one table at a time, so a large package is never held in
    memory whole: the tables come in an order where every foreign key
    points at the table itself or at one checked before, and of a checked
    table only the typed keys other tables' foreign keys look up are kept.
    The findings of each table are those `check` gives for it. Raises
    Ineligible where `check` would."""

    def __init__(self, package: DataPackage):
        self.package = package
        self.fpackage = _frictionless_package(package)
        self.fres = {fres.name: fres for fres in self.fpackage.resources}
        if set(self.fres) != set(package.resources):
            raise Ineligible("the descriptor names other resources than the package reads")
        #: table -> its fields that another table's foreign key reads
        self.referenced: dict[str, set[str]] = {name: set() for name in self.fres}
        for fres in self.fpackage.resources:
            for fk in fres.schema.foreign_keys:
                target = fk["reference"].get("resource") or fres.name
                if target in self.referenced:
                    self.referenced[target].update(fk["reference"]["fields"])
        self.done: dict[str, _Table] = {}

    def check(self, name: str, raw: RawTable, read_findings: list[Finding]) -> list[Finding]:
        from .frictionless_layer import _convert
        for f in read_findings:
            if f.rule not in HARMLESS:
                raise Ineligible(f"{f.file}: {f.rule}")
        resource = self.package.resources[name]
        table = _Table.prepare(self.fres[name], resource, raw)
        looked_up = {table.names.index(n) for n in self.referenced[name] if n in table.names}
        table.key_fields |= looked_up
        for _, target, _ in table.fks:
            if target not in ("", name) and target not in self.done:
                raise Ineligible(f"{name}: a foreign key to {target!r}, which is not checked before it")
        tables = {**self.done, name: table}
        table.plan_keys(tables)
        table.check_cells()
        out: list[Finding] = []
        for error in table.errors(tables):
            out.extend(_convert(error, resource, raw, resource.path))
        table.release(looked_up)
        self.done[name] = table
        return out


def _frictionless_package(package: DataPackage):
    """The package as frictionless reads it, its metadata validated exactly
    as `frictionless validate` validates it before any row."""
    from frictionless import Resource
    try:
        fpackage = Resource(str(package.descriptor_path)).read_metadata()
        fpackage.to_descriptor(validate=True)
        for fres in fpackage.resources:
            fres.to_descriptor(validate=True)
    except Exception as exc:  # noqa: BLE001 - frictionless reports it; let it
        raise Ineligible(f"frictionless reports the metadata ({type(exc).__name__})") from None
    return fpackage


# --- one table -------------------------------------------------------------------

@dataclass
class _Column:
    """One field's cells in the rows of the right width (records)."""
    j: int
    field: object  # frictionless Field
    text: object  # pa.StringArray
    missing: np.ndarray
    #: cells frictionless's own reader judged: record index -> (value, [(tag, note)])
    slow: dict = dataclass_field(default_factory=dict)
    #: (tag, record indices) of the vectorised failures, tags in frictionless's order
    events: list = dataclass_field(default_factory=list)
    #: str(typed value) per record, null where the value is None (keys only)
    key: object = None


@dataclass
class _Special:
    """A row left out of the records (blank, or of the wrong width), read by
    frictionless's own Row."""
    position: int
    cells: list
    row: object
    values: dict  # field name -> typed value


class _Table:
    def __init__(self, fres, resource, raw: RawTable):
        self.fres, self.resource, self.raw = fres, resource, raw
        self.name = fres.name

    # -- preparation and eligibility

    @classmethod
    def prepare(cls, fres, resource, raw: RawTable) -> "_Table":
        from frictionless.resources import TableResource
        from frictionless.table.row import create_cell_handlers
        t = cls(fres, resource, raw)
        if resource.root is None:
            raise Ineligible(f"{t.name}: a remote file")
        if not isinstance(fres, TableResource):
            raise Ineligible(f"{t.name}: not a table resource")
        if fres.format != "csv" or str(fres.encoding or "").lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise Ineligible(f"{t.name}: format {fres.format!r}, encoding {fres.encoding!r}")
        if not isinstance(fres.path, str) or fres.compression or fres.innerpath or fres.data is not None:
            raise Ineligible(f"{t.name}: not one plain file")
        dialect = fres.dialect
        for attr, default in DIALECT_DEFAULTS.items():
            if getattr(dialect, attr, default) != default:
                raise Ineligible(f"{t.name}: dialect {attr}")
        schema = fres.schema
        fields = list(schema.fields)
        if [f.name for f in fields] != raw.header:
            raise Ineligible(f"{t.name}: header")
        t.fields = fields
        t.names = [f.name for f in fields]
        try:
            t.handlers = create_cell_handlers(fields)
        except Exception as exc:  # noqa: BLE001 - a pattern Python cannot compile wrapped in ^…$
            raise Ineligible(f"{t.name}: frictionless cannot read the fields ({type(exc).__name__})") from None
        t.csv_dialect_check()
        # positions: row_number - 2 of every row after the header
        t.n_all = len(raw.row_numbers or [])
        t.n = raw.n_records
        t.rec_pos = np.zeros(t.n, dtype=np.int64)
        left_out = dict(zip(raw.left_out_lines or [], raw.left_out or []))
        t.special = []
        from frictionless.table.row import Row
        for p, (line, idx) in enumerate(raw.row_numbers or []):
            if idx is not None:
                t.rec_pos[idx] = p
            else:
                cells = list(left_out.get(line, []))
                row = Row(list(cells), handlers=t.handlers, row_number=p + 2)
                row.errors  # noqa: B018 - process every cell, as frictionless does
                t.special.append(_Special(p, cells, row, {n: row[n] for n in t.names}))
        # keys: unique fields, the primary key, foreign keys (planned with the targets)
        t.unique = [j for j, f in enumerate(fields) if f.constraints.get("unique")]
        pk = list(schema.primary_key)
        t.has_pk = bool(pk) and set(pk) <= set(t.names)
        t.pk = [t.names.index(n) for n in pk] if t.has_pk else []
        t.fks = []
        for fk in schema.foreign_keys:
            fields_, ref = list(fk["fields"]), fk["reference"]
            if not set(fields_) <= set(t.names):
                continue
            if len(fields_) != 1 or len(ref["fields"]) != 1:
                raise Ineligible(f"{t.name}: a foreign key of several fields")
            t.fks.append((fields_, ref.get("resource") or "", list(ref["fields"])))
        t.key_fields = set(t.unique) | set(t.pk) | {t.names.index(f[0][0]) for f in t.fks}
        return t

    def csv_dialect_check(self) -> None:
        """Frictionless sniffs the first 100 lines for what the dialect does
        not say; the rows read the same only if it lands on plain CSV."""
        import csv
        from frictionless.formats.csv.control import CsvControl
        control = CsvControl.from_dialect(self.fres.dialect)
        sample = _first_lines(self.resource, 100)
        delimiter = control.get_defined("delimiter", default=",\t;|")
        try:
            config = csv.Sniffer().sniff("".join(sample), delimiter)
        except csv.Error:
            config = csv.excel()
        if config.quotechar == "'":
            config.quotechar = '"'
        control.set_not_defined("delimiter", config.delimiter, distinct=True)
        control.set_not_defined("escape_char", config.escapechar, distinct=True)
        control.set_not_defined("quote_char", config.quotechar, distinct=True)
        control.set_not_defined("skip_initial_space", config.skipinitialspace, distinct=True)
        d = control.to_python()
        if (d.delimiter, d.quotechar, d.doublequote, d.escapechar, d.skipinitialspace, d.quoting) != \
                (",", '"', True, None, False, csv.QUOTE_MINIMAL):
            raise Ineligible(f"{self.name}: frictionless reads the file with another CSV dialect")

    def plan_keys(self, tables: dict) -> None:
        """Which fields need their typed values compared, here and as the
        target of another table's foreign key."""
        self.targets = {}
        for fields_, target, ref_fields in self.fks:
            other = self if target in ("", self.name) else tables.get(target)
            if other is None:
                raise Ineligible(f"{self.name}: foreign key to {target!r}")
            if ref_fields[0] not in other.names:
                raise Ineligible(f"{self.name}: foreign key to a missing field")
            mine = self.fields[self.names.index(fields_[0])]
            theirs = other.fields[other.names.index(ref_fields[0])]
            if mine.type != theirs.type:
                raise Ineligible(f"{self.name}: foreign key between fields of different types")
            other.key_fields.add(other.names.index(ref_fields[0]))
            self.targets[target] = other
        for j in self.key_fields:
            if self.fields[j].type not in KEY_TYPES:
                raise Ineligible(f"{self.name}: a key or unique field of type {self.fields[j].type}")

    # -- cells

    def check_cells(self) -> None:
        import pyarrow as pa
        if self.raw.columns is not None:  # read by Arrow already
            columns = [self.raw.columns[name] for name in self.names]
        else:
            columns = [pa.array(c, pa.string()) for c in zip(*self.raw.records)] if self.n else \
                [pa.array([], pa.string()) for _ in self.names]
        self.columns = []
        for j, f in enumerate(self.fields):
            self.columns.append(_check_column(j, f, columns[j], self.handlers[f.name].reader, j in self.key_fields))
        del columns
        missing = [c.missing for c in self.columns]
        self.blank = np.logical_and.reduce(missing) if missing else np.zeros(self.n, bool)

    # -- errors, in frictionless's order, cut at its limit

    def errors(self, tables: dict) -> list:
        from frictionless import errors as E, settings
        limit = settings.DEFAULT_LIMIT_ERRORS
        N = self.n_all
        counts = np.zeros(N, dtype=np.int64)
        not_blank = ~self.blank

        def add(positions):
            if len(positions):
                counts[:] += np.bincount(positions, minlength=N)

        # cell errors of the records (a blank row has one error instead)
        cell_events = []  # (j, tag, record indices)
        for c in self.columns:
            for tag, idx in c.events:
                idx = idx[not_blank[idx]]
                if len(idx):
                    cell_events.append((c.j, tag, idx))
                    add(self.rec_pos[idx])
            for i, (_, notes) in c.slow.items():
                if notes:
                    counts[self.rec_pos[i]] += len(notes)
        blank_idx = np.flatnonzero(self.blank)
        add(self.rec_pos[blank_idx])
        for s in self.special:
            counts[s.position] += len(s.row.errors)
        # integrity: unique fields, primary key, foreign keys over every row
        unique = {j: self._duplicates([j], skip_null_any=True) for j in self.unique}
        for dup, _ in unique.values():
            add(dup)
        pk = None
        if self.has_pk:
            pk = self._primary_key()
            add(pk[0])
        fk = []
        for g, (fields_, target, ref_fields) in enumerate(self.fks):
            pos, vals = self._missing_references(fields_[0], self.targets[target], ref_fields[0])
            fk.append((pos, vals))
            add(pos)
        rows = np.flatnonzero(counts)
        before = np.cumsum(counts[rows]) - counts[rows]
        rows = rows[before < limit]
        partial = counts.sum() >= limit
        # the errors of the wanted rows, assembled row by row
        hit = np.flatnonzero(np.isin(self.rec_pos, rows))
        pos_to_idx = dict(zip(self.rec_pos[hit].tolist(), hit.tolist()))
        special = {s.position: s for s in self.special}
        per_row: dict[int, dict] = {int(p): {"cells": {}, "unique": {}, "fk": {}} for p in rows}
        for j, tag, idx in cell_events:
            hit = idx[np.isin(self.rec_pos[idx], rows)]
            for i in hit.tolist():
                per_row[int(self.rec_pos[i])]["cells"].setdefault(j, []).append(("vector", tag, i))
        for c in self.columns:
            for i, (_, notes) in c.slow.items():
                p = int(self.rec_pos[i])
                if notes and p in per_row:
                    per_row[p]["cells"].setdefault(c.j, []).extend(("slow", (tag, note), i) for tag, note in notes)
        for j, (dup, prev) in unique.items():
            for p, q in zip(dup.tolist(), prev.tolist()):
                if p in per_row:
                    per_row[p]["unique"][j] = q
        if pk is not None:
            for p, q in zip(pk[0].tolist(), pk[1].tolist()):
                if p in per_row:
                    per_row[p]["pk"] = q
        for g, (pos, vals) in enumerate(fk):
            for p, v in zip(pos.tolist(), vals):
                if p in per_row:
                    per_row[p]["fk"][g] = v
        out = []
        for p in rows.tolist():
            out.extend(self._row_errors(E, p, per_row[p], pos_to_idx.get(p), special.get(p)))
            if len(out) >= limit:
                break
        out = out[:limit]
        if not partial:
            out.extend(self._end_errors(E))
        return out

    def _row_errors(self, E, p: int, info: dict, idx: int | None, special: _Special | None) -> list:
        """One row's errors in the order frictionless appends them: a field
        is read when the unique, primary-key and foreign-key checks first
        touch it, the rest of the row when an integrity error is added."""
        rn = p + 2
        cells = list(special.cells) if special else [self.raw.cell(idx, h) for h in self.raw.header]
        field_errors: dict[int, list] = {}
        shape, blank = [], None
        if special is not None:
            for e in special.row.errors:
                if e.type in ("type-error", "constraint-error"):
                    field_errors.setdefault(self.names.index(e.field_name), []).append(e)
                elif e.type == "blank-row":
                    blank = e
                else:
                    shape.append(e)
        else:
            if self.blank[idx]:
                blank = E.BlankRowError(note="", cells=cells, row_number=rn)
            for j, items in info["cells"].items():
                f = self.fields[j]
                made = []
                for how, tag, _ in items:
                    if how == "slow":
                        kind, note = tag
                    else:
                        kind, note = tag, f'constraint "{tag}" is "{f.constraints[tag]}"'
                    cls = E.TypeError if kind == "type" else E.ConstraintError
                    made.append(cls(note=note, cells=cells, row_number=rn, cell=str(cells[j]),
                                    field_name=f.name, field_number=j + 1))
                # frictionless: a type error, or the failing constraints in its order
                order = {c: k for k, c in enumerate(["type"] + list(type(f).supported_constraints))}
                made.sort(key=lambda e: order.get(_tag_of(e), 99))
                field_errors[j] = made
        errs: list = []
        done: set[int] = set()
        full = False

        def read(j):
            if not full and j not in done:
                done.add(j)
                errs.extend(field_errors.get(j, ()))

        def read_all():
            nonlocal full, errs
            if full:
                return
            for j in range(len(self.fields)):
                if j not in done:
                    errs.extend(field_errors.get(j, ()))
            errs.extend(shape)
            if blank is not None:
                errs = [blank]
            full = True

        for j in self.unique:
            read(j)
            if j in info["unique"]:
                read_all()
                errs.append(E.UniqueError(note=f"the same as in the row at position {info['unique'][j] + 2}",
                                          cells=cells, row_number=rn, cell=str(self._value(j, p, idx, special)),
                                          field_name=self.names[j], field_number=j + 1))
        if self.has_pk:
            for j in self.pk:
                read(j)
            if "pk" in info:
                read_all()
                q = info["pk"]
                note = 'cells composing the primary keys are all "None"' if q < 0 else \
                    f"the same as in the row at position {q + 2}"
                errs.append(E.PrimaryKeyError(note=note, cells=cells, row_number=rn))
        for g, (fields_, target, ref_fields) in enumerate(self.fks):
            for name in fields_:
                read(self.names.index(name))
            if g in info["fk"]:
                read_all()
                value = info["fk"][g]
                note = (f'for "{", ".join(fields_)}": values "{value}" not found in the lookup table '
                        f'"{target}" as "{", ".join(ref_fields)}"')
                errs.append(E.ForeignKeyError(note=note, cells=cells, row_number=rn, field_names=list(fields_),
                                              field_cells=[value], reference_name=target,
                                              reference_field_names=list(ref_fields)))
        read_all()
        return errs

    def release(self, looked_up: set[int]) -> None:
        """Keep only what a later table's foreign keys look up: the typed
        keys of the fields in `looked_up`, the rows left out and their
        positions. (The table's own unique and key fields were needed only
        while it was checked.)"""
        self.raw = None
        for c in self.columns:
            c.text, c.slow, c.events = None, {}, []
            if c.j not in looked_up:
                c.key = None

    def _value(self, j: int, p: int, idx: int | None, special: _Special | None):
        if special is not None:
            return special.values[self.names[j]]
        return self.columns[j].key[idx].as_py()

    def _end_errors(self, E) -> list:
        """Frictionless's checks after the last row: bytes and hash."""
        from frictionless import helpers
        out = []
        fres = self.fres
        if fres.hash or fres.bytes:
            data = self.resource.file.read_bytes()
            if fres.hash:
                import hashlib
                algorithm, expected = helpers.parse_resource_hash_v1(fres.hash)
                actual = hashlib.new(algorithm, data).hexdigest() if algorithm in ("md5", "sha256") else None
                if actual and actual != expected:
                    out.append(E.HashCountError(note=f'expected is "{expected}" and actual is "{actual}"'))
            if fres.bytes and fres.bytes != len(data):
                out.append(E.ByteCountError(note=f'expected is "{fres.bytes}" and actual is "{len(data)}"'))
        return out

    # -- keys over every row (records and left-out rows)

    def _keys(self, j: int):
        """(positions, str values with None) of field j over every row."""
        import pyarrow as pa
        name = self.names[j]
        vals = [None if s.values[name] is None else str(s.values[name]) for s in self.special]
        key = pa.concat_arrays([self.columns[j].key, pa.array(vals, pa.string())])
        pos = np.concatenate([self.rec_pos, np.array([s.position for s in self.special], dtype=np.int64)])
        return pos, key

    def _duplicates(self, js: list[int], skip_null_any: bool):
        """(positions of rows repeating an earlier row's value, the position
        of the latest earlier row with it), rows with None left out."""
        pos, codes, valid = self._codes(js)
        if skip_null_any:
            pos, codes = pos[valid], codes[valid]
        return _repeats(pos, codes)

    def _codes(self, js: list[int]):
        combined, valid, pos = None, None, None
        for j in js:
            pos, key = self._keys(j)
            enc = key.dictionary_encode(null_encoding="encode")
            codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            notnull = ~np.asarray(key.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            valid = notnull if valid is None else (valid | notnull)
            if combined is None:
                combined = codes
            else:
                combined = np.unique(combined * (len(enc.dictionary) + 1) + codes, return_inverse=True)[1]
        return pos, combined, valid

    def _primary_key(self):
        pos, codes, any_value = self._codes(self.pk)
        none_pos = pos[~any_value]
        dup, prev = _repeats(pos[any_value], codes[any_value])
        return (np.concatenate([none_pos, dup]), np.concatenate([np.full(len(none_pos), -1), prev]))

    def _missing_references(self, field: str, target: "_Table", ref_field: str):
        import pyarrow as pa
        import pyarrow.compute as pc
        pos, key = self._keys(self.names.index(field))
        _, target_key = target._keys(target.names.index(ref_field))
        present = target_key.drop_null()
        found = pc.is_in(key, value_set=present).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(~np.asarray(found, bool) & ~np.asarray(key.is_null().to_numpy(zero_copy_only=False), bool))
        return pos[bad], key.take(pa.array(bad, pa.int64())).to_pylist()


def _tag_of(error) -> str:
    if error.type == "type-error":
        return "type"
    import re
    m = re.search(r'constraint "(\w+)"', error.note or "")
    return m.group(1) if m else ""


def _repeats(pos: np.ndarray, codes: np.ndarray):
    """For rows (positions) with equal codes, each row after the first of its
    code, with the position of the latest row before it with that code."""
    if len(pos) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((pos, codes))
    c, p = codes[order], pos[order]
    same = c[1:] == c[:-1]
    return p[1:][same], p[:-1][same]


def _first_lines(resource, n: int) -> list[str]:
    """The first n lines of a file, as frictionless's text stream gives them."""
    with open(resource.file, "rb") as fh:
        chunk = b""
        while chunk.count(b"\n") < n:
            more = fh.read(1 << 16)
            if not more:
                break
            chunk += more
    text = chunk.decode("utf-8", errors="replace")
    return text.splitlines(keepends=True)[:n] if "\r" not in text else []


# --- one column ------------------------------------------------------------------

def _check_column(j: int, f, text, reader, need_key: bool) -> _Column:
    import pyarrow as pa
    import pyarrow.compute as pc
    missing_values = f.missing_values if f.has_defined("missing_values") or not f.schema else f.schema.missing_values
    missing_values = [str(v) for v in missing_values]
    if missing_values == [""]:
        missing = pc.equal(text, "")
    else:
        missing = pc.is_in(text, value_set=pa.array(missing_values, pa.string()))
    missing = _np(missing)
    present = ~missing
    col = _Column(j, f, text, missing)
    constraints = {c: f.constraints[c] for c in type(f).supported_constraints if f.constraints.get(c) is not None}
    kind = _fast_kind(f)
    fast = np.zeros(len(text), bool)
    canonical = None  # str(typed value) of the fast cells, where fast
    if kind == "string" or kind == "list":
        fast = present
        canonical = text
    elif kind == "integer":
        fast = present & _np(pc.match_substring_regex(text, pattern=r"\A-?[0-9]{1,18}\z"))
        ints = pc.cast(pc.if_else(pa.array(fast), text, "0"), pa.int64())
        canonical = pc.cast(ints, pa.string())
    elif kind == "date":
        fast = present & _valid_dates(text)
        canonical = text
    elif kind == "boolean":
        trues, falses = [str(v) for v in f.true_values], [str(v) for v in f.false_values]
        fast = present & _np(pc.is_in(text, value_set=pa.array(trues + falses, pa.string())))
        canonical = pc.if_else(pc.is_in(text, value_set=pa.array(trues, pa.string())), "True", "False")
    slow_idx = np.flatnonzero(present & ~fast)
    if len(slow_idx):
        cells = text.take(pa.array(slow_idx, pa.int64())).to_pylist()
        for i, cell in zip(slow_idx.tolist(), cells):
            value, notes = reader(cell)
            col.slow[i] = (value, list(notes.items()) if notes else [])
    # the constraints, on the fast cells (a missing cell can only be required)
    value_reader = f.create_value_reader()
    for name, constraint in constraints.items():
        if kind is None and name != "required":
            continue  # frictionless's reader judged every present cell
        if name == "required":
            bad = missing if constraint else None
        elif name in ("minLength", "maxLength"):
            if kind == "list":
                lengths = _np_int(pc.add(pc.count_substring(text, pattern=f.delimiter), 1))
            else:
                lengths = _np_int(pc.utf8_length(text))
            bad = fast & ((lengths < constraint) if name == "minLength" else (lengths > constraint))
        elif name == "pattern":
            bad = fast & ~_pattern_matches(text, str(constraint), fast)
        elif name == "enum":
            allowed = [str(v) for v in map(value_reader, constraint) if v is not None]
            bad = fast & ~_np(pc.is_in(canonical, value_set=pa.array(allowed, pa.string())))
        elif name in ("minimum", "maximum"):
            bound = value_reader(constraint)
            if bound is None:
                raise Ineligible(f"field {f.name}: a {name} frictionless cannot read")
            if kind == "integer":
                if not -(2 ** 63) <= bound < 2 ** 63:
                    raise Ineligible(f"field {f.name}: a {name} beyond 64 bits")
                values, bound = ints, pa.scalar(bound, pa.int64())
            else:  # dates written YYYY-MM-DD compare as text
                values, bound = text, pa.scalar(bound.isoformat(), pa.string())
            bad = fast & _np((pc.less if name == "minimum" else pc.greater)(values, bound))
        else:
            raise Ineligible(f"field {f.name}: constraint {name}")
        if bad is not None and bad.any():
            col.events.append((name, np.flatnonzero(bad)))
    if need_key:
        keys = pc.if_else(pa.array(fast), canonical, pa.scalar(None, pa.string())) if canonical is not None \
            else pa.nulls(len(text), pa.string())
        if col.slow:
            idx = sorted(i for i, (v, _) in col.slow.items() if v is not None)
            if idx:
                mask = np.zeros(len(text), bool)
                mask[idx] = True
                keys = pc.replace_with_mask(keys, pa.array(mask), pa.array([str(col.slow[i][0]) for i in idx],
                                                                           pa.string()))
        col.key = keys
    return col


def _fast_kind(f) -> str | None:
    """The vectorised path of a field, or None: every cell to frictionless's reader."""
    if f.type == "string" and f.format == "default":
        return "string"
    if f.type == "integer" and getattr(f, "bare_number", True):
        return "integer"
    if f.type == "date" and f.format == "default":
        return "date"
    if f.type == "boolean":
        return "boolean"
    if f.type == "list" and getattr(f, "item_type", "string") == "string" and f.delimiter:
        return "list"
    return None


def _np(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _np_int(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _valid_dates(text) -> np.ndarray:
    """YYYY-MM-DD of a real calendar day from year 1: what strptime
    accepts written that way."""
    import pyarrow as pa
    import pyarrow.compute as pc
    shaped = _np(pc.match_substring_regex(text, pattern=r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\z"))
    if not shaped.any():
        return shaped
    t = pc.if_else(pa.array(shaped), text, "2000-01-01")
    y = _np_int(pc.cast(pc.utf8_slice_codeunits(t, 0, 4), pa.int64()))
    m = _np_int(pc.cast(pc.utf8_slice_codeunits(t, 5, 7), pa.int64()))
    d = _np_int(pc.cast(pc.utf8_slice_codeunits(t, 8, 10), pa.int64()))
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 0, 12)] + ((m == 2) & leap)
    return shaped & (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= days)


# --- patterns ----------------------------------------------------------------------

def _pattern_matches(text, pattern: str, where: np.ndarray) -> np.ndarray:
    """Whether each cell matches as frictionless tests it: Python's
    re.compile("^" + pattern + "$").match. RE2 runs a translation of
    Python's parse of the pattern; cells where the two engines could differ
    (a line break before the end, characters outside printable ASCII for
    \\d, \\w, \\s and \\b) are matched by Python."""
    import re
    import pyarrow as pa
    import pyarrow.compute as pc
    rx = re.compile("^{0}$".format(pattern))
    translated = re2_translation("^{0}$".format(pattern))
    if translated is None:
        out = np.ones(len(text), bool)
        idx = np.flatnonzero(where)
        cells = text.take(pa.array(idx, pa.int64())).to_pylist()
        out[idx] = [bool(rx.match(c)) for c in cells]
        return out
    re2, newline, ascii_only = translated
    out = _np(pc.match_substring_regex(text, pattern=re2))
    risky = np.zeros(len(text), bool)
    if newline:
        risky |= _np(pc.match_substring(text, pattern="\n"))
    if ascii_only:
        risky |= ~_np(pc.match_substring_regex(text, pattern=r"\A[\x20-\x7e]*\z"))
    risky &= where
    if risky.any():
        idx = np.flatnonzero(risky)
        cells = text.take(pa.array(idx, pa.int64())).to_pylist()
        out[idx] = [bool(rx.match(c)) for c in cells]
    return out


def re2_translation(pattern: str):
    """(RE2 pattern anchored at the start, whether `$` needs Python on cells
    with a line break, whether character classes need Python outside
    printable ASCII), or None when the pattern uses anything else."""
    import re._constants as C
    import re._parser as P
    try:
        tree = P.parse(pattern)
    except Exception:  # noqa: BLE001
        return None
    if tree.state.flags & ~C.SRE_FLAG_UNICODE:
        return None
    needs = {"newline": False, "ascii": False}
    categories = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_NOT_DIGIT: r"\D", C.CATEGORY_SPACE: r"\s",
                  C.CATEGORY_NOT_SPACE: r"\S", C.CATEGORY_WORD: r"\w", C.CATEGORY_NOT_WORD: r"\W"}

    def lit(c: int) -> str:
        return "\\x{%x}" % c

    def seq(items) -> str:
        return "".join(node(op, av) for op, av in items)

    def node(op, av) -> str:
        if op is C.LITERAL:
            return lit(av)
        if op is C.NOT_LITERAL:
            return "[^" + lit(av) + "]"
        if op is C.ANY:
            return "."
        if op is C.IN:
            parts, negate = [], False
            for iop, iav in av:
                if iop is C.NEGATE:
                    negate = True
                elif iop is C.LITERAL:
                    parts.append(lit(iav))
                elif iop is C.RANGE:
                    parts.append(lit(iav[0]) + "-" + lit(iav[1]))
                elif iop is C.CATEGORY and iav in categories:
                    needs["ascii"] = True
                    parts.append(categories[iav])
                else:
                    raise ValueError(iop)
            return "[" + ("^" if negate else "") + "".join(parts) + "]"
        if op is C.BRANCH:
            return "(?:" + "|".join(seq(a) for a in av[1]) + ")"
        if op is C.SUBPATTERN:
            _, add, remove, body = av
            if add or remove:
                raise ValueError(op)
            return "(?:" + seq(body) + ")"
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, high, body = av
            if low > 1000 or (high is not C.MAXREPEAT and high > 1000):
                raise ValueError(op)
            q = "{%d,}" % low if high is C.MAXREPEAT else "{%d,%d}" % (low, high)
            return "(?:" + seq(body) + ")" + q + ("?" if op is C.MIN_REPEAT else "")
        if op is C.AT:
            if av is C.AT_BEGINNING or av is C.AT_BEGINNING_STRING:
                return r"\A"
            if av is C.AT_END:
                needs["newline"] = True
                return r"\z"
            if av is C.AT_END_STRING:
                return r"\z"
            if av in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
                needs["ascii"] = True
                return r"\b" if av is C.AT_BOUNDARY else r"\B"
        if op is C.CATEGORY and av in categories:
            needs["ascii"] = True
            return categories[av]
        raise ValueError(op)

    try:
        body = r"\A(?:" + seq(tree) + ")"
    except (ValueError, TypeError):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        pc.match_substring_regex(pa.array([""], pa.string()), pattern=body)
    except Exception:  # noqa: BLE001 - RE2 refuses it
        return None
    return body, needs["newline"], needs["ascii"]
