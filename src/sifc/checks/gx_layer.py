"""The Great Expectations layer: the suites in validation/ run on every
table's CSV text, failures become located findings, and the Data Docs HTML
report is written under build/. Only this module imports great_expectations."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from ..files.csvfile import RawTable
from ..findings import ERROR, WARNING, Finding
from ..files.package import DataPackage
from .suites import read_suite

RULE_OF_TYPE = {"expect_column_values_to_not_be_null": "required",
                "expect_column_values_to_be_unique": "unique",
                "expect_column_values_to_be_in_set": "enum",
                "expect_column_values_to_match_regex": "pattern",
                "expect_column_value_lengths_to_be_between": "max-length",
                "expect_compound_columns_to_be_unique": "primary-key",
                "expect_table_columns_to_match_ordered_list": "header",
                "expect_table_row_count_to_be_between": "row-count"}


def _quiet():
    # No usage statistics leave the machine.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


#: expectations generated from a Table Schema; the other layers check the same
RESTATED = "schema"


def own_expectations(entries: list) -> list:
    """What only GX checks: row-count bounds, completeness ratios and the
    curated expectations, without those restating a Table Schema."""
    return [e for e in entries if not (isinstance(e, dict) and isinstance(e.get("meta"), dict)
                                       and e["meta"].get("origin") == RESTATED)]


def run(package: DataPackage, tables: Mapping[str, RawTable] | Callable[[str], RawTable | None],
        docs_dir: Path | None = None, restated: bool = True) -> list[Finding]:
    """Findings of every table's suite. `tables`: the tables read, or a
    function reading one by name (None: it cannot be read), called for each
    of the package's tables in turn, so that only one is in memory at a time;
    a table it returns is this function's to trim. With `docs_dir`, the
    results are also stored and rendered as Data Docs there (slower: GX
    serialises every result); without it, each suite is first run for
    pass/fail only and just the failing expectations are run again for their
    details. `restated` False (a large package): only the expectations no
    other layer checks."""
    _quiet()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        context.add_data_docs_site(site_name="sifc", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(docs_dir).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    source = context.data_sources.add_pandas("sifc")
    if isinstance(tables, Mapping):
        names, read, ours = list(tables), tables.get, False
    else:
        names, read, ours = list(package.resources), tables, True
    found: list[Finding] = []
    for name in names:
        # The table is read inside, so it is dropped before the next is read.
        found += _table_findings(context, source, package, name, read, ours, docs_dir, restated)
    if docs_dir is not None:
        _escape_stored_values(context)
        context.build_data_docs(site_names=["sifc"])
    return found


def _forget_batches(source) -> None:
    """GX's execution engine keeps every batch it was given, frame and all,
    for as long as its data source lives, and in a reference cycle: only a
    full garbage collection would free them, and one takes 0.15 s with GX
    loaded. Emptying its cache lets a table's frame go with the table."""
    manager = source.get_execution_engine().batch_manager
    manager.batch_data_cache.clear()
    manager.reset_batch_cache()


def _table_findings(context, source, package: DataPackage, name: str, read: Callable[[str], RawTable | None],
                    ours: bool, docs_dir: Path | None, restated: bool) -> list[Finding]:
    """One table's findings (see run). `ours`: the table `read` returns is
    this function's, so its columns no expectation reads can be dropped."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    raw = read(name)
    if raw is None:
        return []
    entries = read_suite(package.root, name).get("expectations", [])
    entries, found = _buildable(entries if restated else own_expectations(entries), name)
    if not entries:
        return found
    columns = _columns_read(entries, raw.header)
    if ours:
        _keep_only(raw, columns)
    frame = raw.frame(only=columns)
    complete = {"result_format": "COMPLETE"}
    batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
    if docs_dir is not None:
        suite = context.suites.add(ExpectationSuite(name=name, expectations=[_expectation(e) for e in entries]))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
        outcomes = definition.run(batch_parameters={"dataframe": frame}, result_format=complete).results
    else:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        # Each expectation carries its position, so a result is matched to
        # its entry whatever order GX returns results in.
        suite = ExpectationSuite(name=name, expectations=[_expectation(e, position=i) for i, e in enumerate(entries)])
        quick = batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"}).results
        failing = [entries[o.expectation_config.meta["position"]] for o in quick if not o.success]
        outcomes = []
        if failing:
            again = ExpectationSuite(name=name, expectations=[_expectation(e) for e in failing])
            outcomes = batch.validate(again, result_format=complete).results
    _forget_batches(source)
    for outcome in outcomes:
        if not outcome.success:
            found += _findings(package, raw, frame, outcome)
    return found


def _escape_stored_values(context) -> None:
    """GX's Data Docs put observed cell values into the HTML as they are, so a
    cell holding <img onerror=…> would run in whoever opens the report CI
    uploads. Every string in the stored results is escaped before the pages
    are rendered; the verdict (taken from the results before) is unchanged."""
    import html
    from ..safetext import escape

    def clean(value):
        if isinstance(value, str):
            return html.escape(escape(value), quote=True)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, tuple):
            return tuple(clean(v) for v in value)
        if isinstance(value, dict):
            return {clean(k) if isinstance(k, str) else k: clean(v) for k, v in value.items()}
        return value

    store = context.validation_results_store
    for key in store.list_keys():
        suite_result = store.get(key)
        for outcome in suite_result.results:
            outcome.result = clean(outcome.result or {})
        store.set(key, suite_result)


#: expectations of the whole table that read no column
TABLE_LEVEL = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}


def _columns_read(entries: list, header: list[str]) -> list[str] | None:
    """The columns the expectations read (None: all of them), so a large
    table's frame holds only those."""
    names = set()
    for e in entries:
        kwargs = e.get("kwargs", {})
        cols = [kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)]
        cols += [c for c in kwargs.get("column_list") or [] if isinstance(c, str)]
        if not cols and e.get("type") not in TABLE_LEVEL:
            return None
        names.update(cols)
    return [h for h in header if h in names]


def _keep_only(raw: RawTable, columns: list[str] | None) -> None:
    """Drop the text of the columns the expectations do not read from a
    table read into columns, so a large table's other columns are not held
    while GX runs. One column stays when none is read: the table's row
    count is taken from its columns."""
    if not raw.columns or columns is None:
        return
    keep = set(columns) or {min(raw.columns, key=lambda h: raw.columns[h].nbytes)}
    for h in [h for h in raw.columns if h not in keep]:
        del raw.columns[h]


def _buildable(entries: list, table: str) -> tuple[list, list[Finding]]:
    """The entries GX can build, and a finding for each it cannot (an
    unknown expectation type, a wrong argument): a mistake in a suite is
    reported where it is, never a crash."""
    ok, found = [], []
    for i, entry in enumerate(entries):
        try:
            _expectation(entry)
        except Exception as exc:  # noqa: BLE001 - GX raises many kinds here
            found.append(Finding(f"validation/{table}.json", None, f"expectations[{i}]", "definition",
                                 f"Great Expectations cannot build this expectation ({type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:200] if str(exc) else ''})", entry.get("type")))
            continue
        ok.append(entry)
    return ok, found


def _expectation(entry: dict, position: int | None = None):
    from great_expectations.expectations.registry import get_expectation_impl

    meta = dict(entry.get("meta", {}))
    if position is not None:
        meta["position"] = position
    impl = get_expectation_impl(entry["type"])
    return impl(**entry["kwargs"], meta=meta, severity=entry.get("severity", "critical"))


def _findings(package, raw: RawTable, frame: pd.DataFrame, outcome) -> list[Finding]:
    config = outcome.expectation_config
    meta = config.meta or {}
    kwargs = config.kwargs
    severity = ERROR if str(getattr(config.severity, "value", config.severity)).lower() == "critical" else WARNING
    rule = meta.get("rule") or RULE_OF_TYPE.get(config.type, config.type)
    schema = package.resource(raw.name).schema
    column = kwargs.get("column") or meta.get("field")
    result = outcome.result or {}
    mostly = kwargs.get("mostly")

    def one(line, col, message, value=None):
        return Finding(raw.file, line, col, rule, message, value, severity, table=raw.name)

    if config.type == "expect_table_row_count_to_be_between":
        observed = result.get("observed_value")
        bound = (f"at least {kwargs['min_value']}" if kwargs.get("min_value") is not None else "") + \
                (f"at most {kwargs['max_value']}" if kwargs.get("max_value") is not None else "")
        return [one(None, None, f"the table has {observed} rows; expected {bound} ({meta.get('why', '')})",
                    str(observed))]
    if config.type == "expect_table_columns_to_match_ordered_list":
        return [one(1, None, "the columns differ from the schema's fields in order", ",".join(raw.header))]
    if mostly is not None and mostly < 1:  # a completeness ratio: one finding for the column, in plain words
        return [one(None, column, _share_message(column, mostly, result, len(frame), config.type, meta))]
    indices = result.get("unexpected_index_list") or []
    indices = [i if isinstance(i, int) else i.get("index") for i in indices]
    if rule in ("unique", "primary-key"):  # report repeats, not the first occurrence
        cols = list(kwargs.get("column_list") or [column])
        repeated = set(frame.index[frame.duplicated(subset=cols, keep="first")])
        indices = [i for i in indices if i in repeated]
    out = []
    for i in indices:
        value = frame.at[i, column] if column in frame.columns else None
        out.append(one(raw.line_of(int(i)), column, _message(schema, rule, column, meta, config), value))
    if not indices:
        out.append(one(None, column, _message(schema, rule, column, meta, config)))
    return out


def _share_message(column, mostly: float, result: dict, rows: int, kind: str, meta: dict) -> str:
    """"only 3 of 12 rows have a wikidata_id (25%); at least 50% should. <Why>",
    where the suite's `why` says what the value is for and how to add it."""
    total = int(result.get("element_count") or rows)
    share = 100 - float(result.get("unexpected_percent") or 0)
    if kind == "expect_column_values_to_not_be_null":
        filled = total - int(result.get("unexpected_count") or 0)
        text = f"only {filled} of {total} rows have a {column} ({share:.0f}%); at least {mostly:.0%} should"
    else:
        text = f"only {share:.0f}% of the {total} rows meet this check on {column}; at least {mostly:.0%} should"
    why = meta.get("why")
    return f"{text}. {why[0].upper()}{why[1:]}" if isinstance(why, str) and why else text


def _message(schema, rule: str, column: str | None, meta: dict, config) -> str:
    """Schema-restating expectations word their findings like the other
    layers, so one problem found by several validators is reported once."""
    if meta.get("origin") == "schema" and column in schema.field_names:
        from .frictionless_layer import constraint_message
        from ..tabletypes import type_message
        field = schema.field(column)
        if rule == "type":
            return type_message(field)
        if rule == "pattern" and field.item_pattern:
            return f"each item must match {field.item_pattern}"
        return constraint_message(field, rule)
    if rule == "primary-key":
        return f"repeats the key ({', '.join(config.kwargs.get('column_list', []))}) of a row above"
    return meta.get("why") or config.type.replace("_", " ")
