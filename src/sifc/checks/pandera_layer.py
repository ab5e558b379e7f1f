"""The pandera layer: schemas derived from the Table Schemas (dtypes,
required, constraints, keys) plus the rules a Table Schema cannot say, run on
the typed frames, with every failure turned into a located finding.

pandera's own frictionless importer leaves dates as strings and ignores
foreign keys, so the schemas are built here from `sifc.schema` instead."""
from __future__ import annotations

import re

import numpy as np
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


#: cell rules that judge a cell by the other cells of its column; they keep
#: a check of their own, because the rules of a folded check are judged
#: again on the failing cells alone when they are reported
WHOLE_COLUMN = {"unique"}


def _verdicts(rules: list[CellRule], series: pd.Series):
    """Each rule's verdict (True: passes) on the cells of `series`, as a
    boolean array. Rules run on the non-missing cells only; missing cells
    pass (whether a cell may be missing is the `required` rule's business)."""
    present = series.notna().to_numpy()
    cells = series if present.all() else series[present]
    for rule in rules:
        verdict = np.ones(len(series), dtype=bool)
        if len(cells):
            verdict[present] = pd.Series(rule.passes(cells)).fillna(True).astype(bool).to_numpy()
        yield verdict


def _folded(rules: list[CellRule]):
    """One pandera check for several rules of a column: pandera's and
    pandas' cost is per check, not per rule. A cell passes if it passes
    every rule."""
    def check(series: pd.Series) -> pd.Series:
        ok = np.ones(len(series), dtype=bool)
        for verdict in _verdicts(rules, series):
            ok &= verdict
        return pd.Series(ok, index=series.index, dtype=bool)
    return check


def _groups(rules: list[CellRule], fold: bool) -> list[list[CellRule]]:
    """A column's rules as the checks that run them, in the rules' order:
    runs of cell-by-cell rules together, a WHOLE_COLUMN rule alone."""
    groups: list[list[CellRule]] = []
    for rule in rules:
        if fold and groups and rule.name not in WHOLE_COLUMN and groups[-1][-1].name not in WHOLE_COLUMN:
            groups[-1].append(rule)
        else:
            groups.append([rule])
    return groups


def build(schema: TableSchema, context: dict[str, pd.DataFrame] | None = None, fold: bool = True):
    """The pandera DataFrameSchema of a table, and a registry mapping each
    check's name back to its rules (a list of cell rules, or a table rule).
    With `context` (every table's frame), foreign keys and other cross-table
    rules are included. `fold=False` gives each cell rule a check of its
    own (the tests compare both)."""
    registry: dict[tuple[str | None, str], list[CellRule] | TableRule] = {}
    rules_of: dict[str, list[CellRule]] = {f.name: [] for f in schema.fields}
    for rule in cell_rules(schema, context):
        rules_of[rule.column].append(rule)
    per_column: dict[str, list[pa.Check]] = {}
    for column, rules in rules_of.items():
        per_column[column] = []
        for group in _groups(rules, fold):
            name = "+".join(rule.name for rule in group)
            registry[(column, name)] = group
            per_column[column].append(pa.Check(_folded(group), name=name, ignore_na=False))
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

    def cell_finding(rule: CellRule, column, index) -> list[Finding]:
        cell = frame.at[index, column]
        if rule.diagnose:  # a combined rule: report each rule the cell breaks
            value = _raw_value(raw, frame, positions.get(index), column)
            return [Finding(file, line(index), column, name, message, value, rule.severity, table=schema.name)
                    for name, message in rule.diagnose(cell)]
        value = rule.offending(cell) if rule.offending else _raw_value(raw, frame, positions.get(index), column)
        message = rule.message(cell)
        if rule.name == "unique":
            first = _first_line_ref(frame, [column], positions[index])
            message = rows_to_lines(duplicate_message(first))
        return [Finding(file, line(index), column, rule.name, message, value, rule.severity, table=schema.name)]

    def label(index):
        return None if index is None or (not isinstance(index, (int,)) and pd.isna(index)) else index

    cases = list(errors.failure_cases.itertuples(index=False))
    # a cell check -> the rows it failed, in pandera's order: a folded
    # check's rules are judged once on all of them, not cell by cell
    failing: dict[tuple, list] = {}
    for case in cases:
        if (None, str(case.check)) not in registry and (case.column, str(case.check)) in registry:
            failing.setdefault((case.column, str(case.check)), []).append(label(case.index))

    out, seen, done = [], set(), set()
    for case in cases:
        column, check, index = case.column, str(case.check), label(case.index)
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
            # Reported rule by rule, in the rules' order, each over the cells
            # in pandera's order: as if each rule were a check of its own.
            if (column, check) in done:
                continue
            done.add((column, check))
            group, labels = registry[(column, check)], failing[(column, check)]
            # a rule alone broke every row pandera names (and a WHOLE_COLUMN
            # rule cannot be judged on those rows alone)
            broken = [labels] if len(group) == 1 else \
                [[i for i, ok in zip(labels, verdict) if not ok]
                 for verdict in _verdicts(group, frame.loc[labels, column])]
            for rule, indexes in zip(group, broken):
                for index in indexes:
                    out += cell_finding(rule, column, index)
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
