"""Great Expectations suites as JSON under validation/: the expectations that
restate a Table Schema are generated from it (meta.origin = "schema"), row-count
bounds come from the last released counts (meta.origin = "released-counts"),
and hand-written data-quality knowledge is kept as it is (meta.origin =
"curated"). This module only reads and writes JSON; it never imports GX."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..files.atomic import write_text_atomic
from ..schema import Field, TableSchema

SUITE_DIR = "validation"
RELEASED = "released_counts.json"
GENERATED = ("schema", "released-counts")
#: a table may grow to this multiple of its released size before a warning
GROWTH_WARNING = 10


def _unanchored(pattern: str) -> str:
    return re.sub(r"^\^|\$$", "", pattern)


def expectation(kind: str, meta: dict, severity: str = "critical", **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": meta, "severity": severity}


def field_expectations(field: Field) -> list[dict]:
    meta = lambda rule: {"origin": "schema", "rule": rule, "field": field.name}
    col, out = field.name, []
    if field.required:
        out.append(expectation("expect_column_values_to_not_be_null", meta("required"), column=col))
    if field.unique:
        out.append(expectation("expect_column_values_to_be_unique", meta("unique"), column=col))
    if field.enum is not None:
        out.append(expectation("expect_column_values_to_be_in_set", meta("enum"), column=col, value_set=list(field.enum)))
    if field.pattern and not field.is_list:
        out.append(expectation("expect_column_values_to_match_regex", meta("pattern"), column=col,
                               regex="^(?:" + _unanchored(field.pattern) + ")$"))
    if field.item_pattern:
        item = _unanchored(field.item_pattern)
        # An empty item is the pandera layer's `empty-list-item` finding; this
        # restates only what each present item must look like.
        out.append(expectation("expect_column_values_to_match_regex", meta("pattern"), column=col,
                               regex=f"^(?:{item})?(?:{re.escape(field.delimiter)}(?:{item})?)*$"))
    if field.type == "date":
        out.append(expectation("expect_column_values_to_match_regex", meta("type"), column=col,
                               regex="^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
    if field.type == "integer":
        out.append(expectation("expect_column_values_to_match_regex", meta("type"), column=col, regex="^[+-]?[0-9]+$"))
    if field.type == "boolean":
        out.append(expectation("expect_column_values_to_be_in_set", meta("type"), column=col,
                               value_set=list(field.true_values + field.false_values)))
    # A length cap an enum already implies is not restated: each expectation
    # costs GX about 15 ms and this one could never fail on its own.
    implied = field.enum is not None and all(len(v) <= field.max_length for v in field.enum) \
        if field.max_length is not None else False
    if field.max_length is not None and not implied:
        out.append(expectation("expect_column_value_lengths_to_be_between", meta("max-length"), column=col,
                               max_value=field.max_length))
    return out


def schema_expectations(schema: TableSchema) -> list[dict]:
    out = [expectation("expect_table_columns_to_match_ordered_list", {"origin": "schema", "rule": "header"},
                       column_list=schema.field_names)]
    if len(schema.primary_key) > 1:
        out.append(expectation("expect_compound_columns_to_be_unique",
                               {"origin": "schema", "rule": "primary-key", "field": "+".join(schema.primary_key)},
                               column_list=list(schema.primary_key)))
    for field in schema.fields:
        out += field_expectations(field)
    return out


def count_expectations(table: str, released: int | None) -> list[dict]:
    if released is None:
        return []
    return [
        expectation("expect_table_row_count_to_be_between",
                    {"origin": "released-counts", "rule": "row-count",
                     "why": "a table never has fewer rows than its last release: nothing is lost silently"},
                    min_value=released),
        expectation("expect_table_row_count_to_be_between",
                    {"origin": "released-counts", "rule": "row-count-growth",
                     "why": f"more than {GROWTH_WARNING}x the released rows usually means duplicated input"},
                    severity="warning", max_value=max(released * GROWTH_WARNING, 100)),
    ]


def suite_path(root: Path, table: str) -> Path:
    return Path(root) / SUITE_DIR / f"{table}.json"


def _read_text(root: Path, relative: str) -> str | None:
    """A generated or curated file's text, read like every package file (no
    links, bounded); None when it does not exist yet."""
    from ..files.safeio import MAX_JSON_BYTES, read_package_file
    try:
        return read_package_file(Path(root), relative, MAX_JSON_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None


def read_released(root: Path) -> dict:
    text = _read_text(root, f"{SUITE_DIR}/{RELEASED}")
    return json.loads(text) if text is not None else {"version": None, "tables": {}}


def read_suite(root: Path, table: str) -> dict:
    text = _read_text(root, f"{SUITE_DIR}/{table}.json")
    if text is not None:
        return json.loads(text)
    return {"name": table, "expectations": [], "meta": {}}


def generated_suite(root: Path, schema: TableSchema) -> dict:
    """The suite as it should be: regenerated parts, curated parts kept."""
    current = read_suite(root, schema.name)
    curated = [e for e in current.get("expectations", []) if e.get("meta", {}).get("origin") not in GENERATED]
    released = read_released(root)["tables"].get(schema.name)
    return {"name": schema.name,
            "meta": {"description": f"Expectations for data/{schema.name}.csv. Entries with origin 'schema' and "
                                    "'released-counts' are generated by `sifc generate`; edit the Table Schema or "
                                    "validation/released_counts.json instead. Entries with origin 'curated' are "
                                    "hand-written and kept."},
            "expectations": schema_expectations(schema) + count_expectations(schema.name, released) + curated}


def render(suite: dict) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def stale_suites(root: Path, schemas: list[TableSchema]) -> list[str]:
    return [s.name for s in schemas
            if _read_text(root, f"{SUITE_DIR}/{s.name}.json") != render(generated_suite(root, s))]


def write_suites(root: Path, schemas: list[TableSchema]) -> list[str]:
    changed = stale_suites(root, schemas)
    for s in schemas:
        if s.name in changed:
            write_text_atomic(suite_path(root, s.name), render(generated_suite(root, s)))
    return changed


def write_released(root: Path, version: str, counts: dict[str, int]) -> None:
    write_text_atomic(Path(root) / SUITE_DIR / RELEASED,
                      json.dumps({"version": version, "tables": counts}, indent=2) + "\n")
