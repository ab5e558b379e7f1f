"""The pandera layer: schemas derived from the Table Schemas (dtypes,
required, constraints, keys) plus the rules a Table Schema cannot say, run on
the typed frames, with every failure turned into a located finding.

pandera's own frictionless importer leaves dates as strings and ignores
foreign keys, so the schemas are built here from `sifc.schema` instead."""
from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..files.csvfile import RawTable
from ..findings import Finding
from ..tabletypes import dtype_of
from ..files.package import DataPackage
from .rules import CellRule, TableRule, _first_line_ref, cell_rules, table_rules
from ..schema import TableSchema

ROW_REF = re.compile(r"\{row:(\d+)\}")


def _on_present(fn):
    """Run a cell rule on the non-missing cells only; missing cells pass
    (whether a cell may be missing is the `required` rule's business)."""
    def check(series: pd.Series) -> pd.Series:
        present = series.notna()
        if not present.any():
            return pd.Series(True, index=series.index, dtype=bool)
        result = pd.Series(True, index=series.index, dtype=bool)
        result[present] = pd.Series(fn(series[present])).fillna(True).astype(bool).to_numpy()
        return result
    return check


def build(schema: TableSchema, context: dict[str, pd.DataFrame] | None = None):
    """The pandera DataFrameSchema of a table, and a registry mapping each
    check's name back to its rule. With `context` (every table's frame),
    foreign keys and other cross-table rules are included."""
    registry: dict[tuple[str | None, str], CellRule | TableRule] = {}
    per_column: dict[str, list[pa.Check]] = {f.name: [] for f in schema.fields}
    for rule in cell_rules(schema, context):
        registry[(rule.column, rule.name)] = rule
        per_column[rule.column].append(pa.Check(_on_present(rule.passes), name=rule.name, ignore_na=False))
    columns = {f.name: pa.Column(dtype_of(f), nullable=not f.required, checks=per_column[f.name],
                                 title=f.title or None, description=f.description or None)
               for f in schema.fields}
    frame_checks = []
    for rule in table_rules(schema, context):
        name = f"{rule.name}@{rule.column}"
        registry[(None, name)] = rule
        frame_checks.append(pa.Check(rule.passes, name=name, ignore_na=False))
    model = pa.DataFrameSchema(columns, checks=frame_checks, strict=True, ordered=True, name=schema.name,
                               title=schema.title, description=schema.description)
    return model, registry


def duplicate_message(first_row: int) -> str:
    return f"repeats the value of the row on {{row:{first_row}}}; it must be unique"


def _raw_value(raw: RawTable | None, frame: pd.DataFrame, index, column) -> str | None:
    if raw is not None and isinstance(index, int) and raw.cell(index, column) is not None:
        return raw.cell(index, column)
    if column in frame.columns and index in frame.index:
        v = frame.at[index, column]
        return None if v is None or (not isinstance(v, tuple) and pd.isna(v)) else str(v)
    return None


def to_findings(errors: SchemaErrors, schema: TableSchema, frame: pd.DataFrame, registry,
                raw: RawTable | None = None, file: str | None = None) -> list[Finding]:
    file = file or (raw.file if raw is not None else f"data/{schema.name}.csv")
    positions = {label: i for i, label in enumerate(frame.index)}

    def line(index):
        if raw is None or index is None or pd.isna(index):
            return None
        pos = positions.get(index)
        return raw.line_of(pos) if pos is not None else None

    def rows_to_lines(message: str) -> str:
        return ROW_REF.sub(lambda m: f"line {raw.line_of(int(m.group(1)))}" if raw is not None
                           else f"row {int(m.group(1)) + 1}", message)

    out, seen = [], set()
    for case in errors.failure_cases.itertuples(index=False):
        column, check, index = case.column, str(case.check), case.index
        index = None if index is None or (not isinstance(index, (int,)) and pd.isna(index)) else index
        if (None, check) in registry:  # a table rule: reported once per row, against its column
            rule = registry[(None, check)]
            if (check, index) in seen:
                continue
            seen.add((check, index))
            pos = positions.get(index)
            value = _raw_value(raw, frame, pos, rule.column) if rule.column in frame.columns else None
            out.append(Finding(file, line(index), rule.column, rule.name,
                               rows_to_lines(rule.message(frame, pos)), value, rule.severity, table=schema.name))
        elif (column, check) in registry:
            rule = registry[(column, check)]
            cell = frame.at[index, column]
            if rule.diagnose:  # a combined check: report each rule the cell breaks
                value = _raw_value(raw, frame, positions.get(index), column)
                for name, message in rule.diagnose(cell):
                    out.append(Finding(file, line(index), column, name, message, value, rule.severity,
                                       table=schema.name))
                continue
            value = rule.offending(cell) if rule.offending else _raw_value(raw, frame, positions.get(index), column)
            message = rule.message(cell)
            if rule.name == "unique":
                first = _first_line_ref(frame, [column], positions[index])
                message = rows_to_lines(duplicate_message(first))
            out.append(Finding(file, line(index), column, rule.name, message, value, rule.severity,
                               table=schema.name))
        elif check == "not_nullable":
            out.append(Finding(file, line(index), column, "required", "a value is required", None, table=schema.name))
        elif check.startswith("dtype("):
            out.append(Finding(file, None, column, "dtype",
                               f"has dtype {case.failure_case}, expected {dtype_of(schema.field(column))}",
                               None, table=schema.name))
        elif check in ("column_in_schema", "column_in_dataframe", "column_ordered"):
            what = {"column_in_schema": "is not a column of the schema",
                    "column_in_dataframe": "is missing",
                    "column_ordered": "is out of the schema's order"}[check]
            out.append(Finding(file, None, str(case.failure_case), "columns", f"column {what}", None,
                               table=schema.name))
        else:
            out.append(Finding(file, line(index), column, check, f"failed pandera check {check}",
                               None if case.failure_case is None else str(case.failure_case), table=schema.name))
    return out


def validate_frame(schema: TableSchema, frame: pd.DataFrame, context=None, raw: RawTable | None = None):
    model, registry = build(schema, context)
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return to_findings(errors, schema, frame, registry, raw)
    return []


def check_tables(package: DataPackage, raws: dict[str, RawTable], frames: dict[str, pd.DataFrame],
                 only: list[str] | None = None) -> list[Finding]:
    found = []
    for name in only or list(frames):
        if name in frames:
            found += validate_frame(package.resource(name).schema, frames[name], frames, raws.get(name))
    return found
