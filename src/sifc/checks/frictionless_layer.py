"""The frictionless layer: the descriptor against the Data Package profile and
every resource against its Table Schema (types, constraints, primary and
foreign keys), exactly as `frictionless validate datapackage.json` does, with
its errors located on editor lines."""
from __future__ import annotations

import re

from ..files.csvfile import RawTable
from ..findings import Finding
from ..tabletypes import type_message
from ..files.package import DESCRIPTOR, DataPackage

CONSTRAINT = re.compile(r'constraint "(\w+)"')
FIRST_ROW = re.compile(r"row at position (\d+)")
CONSTRAINT_RULES = {"required": "required", "unique": "unique", "enum": "enum", "pattern": "pattern",
                    "minLength": "min-length", "maxLength": "max-length", "minimum": "minimum",
                    "maximum": "maximum"}


def constraint_message(field, rule: str, value: object = "") -> str:
    """The same wording the pandera layer uses, so both layers' findings merge."""
    from .rules import constraint_rules
    if rule == "required":
        return "a value is required"
    for r in constraint_rules(field):
        if r.name == rule:
            return r.message(value if value is not None else "")
    return f"violates the {rule} constraint"


def check(package: DataPackage, raws: dict[str, RawTable]) -> list[Finding]:
    from frictionless import validate

    try:
        report = validate(str(package.descriptor_path))
    except Exception as exc:  # noqa: BLE001 - frictionless raises for descriptors it cannot open
        return [Finding(DESCRIPTOR, None, None, "descriptor",
                        f"frictionless could not check the package: {str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}")]
    out: list[Finding] = []
    for error in report.errors:  # package-level: the descriptor itself
        out.append(Finding(DESCRIPTOR, None, None, "descriptor", error.message, table=None))
    by_path = {r.path: r for r in package.resources.values()}
    for task in report.tasks:
        resource = by_path.get(task.place) or package.resources.get(task.name)
        for error in task.errors:
            out.extend(_convert(error, resource, raws.get(resource.name) if resource else None, task.place))
    return out


def _convert(error, resource, raw: RawTable | None, place: str) -> list[Finding]:
    kind = error.type
    file = resource.path if resource else place
    table = resource.name if resource else None
    row_number = getattr(error, "row_number", None)
    line = row = None  # row: the index of the record in raw
    if row_number is not None and raw is not None:
        line, row = raw.at_row_number(row_number)
    field_name = getattr(error, "field_name", None)
    cell = getattr(error, "cell", None)
    schema = resource.schema if resource else None

    def finding(column, rule, message, value=None):
        return Finding(file, line, column, rule, message, value, table=table)

    if kind == "type-error" and schema:
        return [finding(field_name, "type", type_message(schema.field(field_name), cell), cell)]
    if kind == "constraint-error" and schema:
        m = CONSTRAINT.search(error.note or "")
        rule = CONSTRAINT_RULES.get(m.group(1), m.group(1)) if m else "constraint"
        value = None if rule == "required" else cell
        return [finding(field_name, rule, constraint_message(schema.field(field_name), rule, value), value)]
    first = FIRST_ROW.search(error.note or "")
    first_line = raw.at_row_number(int(first.group(1)))[0] if first and raw is not None else None
    where = f"the row on line {first_line}" if first_line else "a row above"
    if kind == "unique-error" and schema:
        return [finding(field_name, "unique", f"repeats the value of {where}; it must be unique", cell)]
    if kind == "primary-key" and schema:
        pk = list(schema.primary_key)
        if len(pk) == 1:  # the same duplicate the field's unique constraint reports
            return [finding(pk[0], "unique", f"repeats the value of {where}; it must be unique",
                            raw_cell(raw, row, pk[0]))]
        return [finding("+".join(pk), "primary-key", f"repeats the key ({', '.join(pk)}) of {where}")]
    if kind == "foreign-key" and schema:
        out = []
        for fk in schema.foreign_keys:
            value = raw_cell(raw, row, fk.field)
            if value is not None and fk.field in (error.note or ""):
                out.append(finding(fk.field, "foreign-key", f"no row of {fk.resource} has {fk.ref_field} {value!r}",
                                   value))
        return out or [finding(None, "foreign-key", error.note or error.message)]
    if kind in ("missing-cell", "extra-cell", "blank-row"):
        return [finding(None, "row-shape", error.message)]
    if kind in ("incorrect-label", "duplicate-label", "missing-label", "extra-label", "blank-label"):
        return [Finding(file, 1, None, "header", error.message, table=table)]
    if kind == "encoding-error":
        return [finding(None, "encoding", error.message)]
    if kind in ("hash-count", "byte-count"):
        return [Finding(DESCRIPTOR, None, None, "descriptor-stats",
                        f"{file}: {error.note}; run `sifc refresh` to update bytes and hash", table=table)]
    return [finding(field_name, kind, error.message, cell)]


def raw_cell(raw: RawTable | None, row: int | None, column: str) -> str | None:
    """The cell of record `row` of the raw table; None when empty."""
    if raw is None or row is None:
        return None
    return raw.cell(row, column) or None
