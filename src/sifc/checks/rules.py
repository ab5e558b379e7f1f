"""The checks of the pandera layer, each a named rule with its own message.

Cell rules come from the Table Schema's field constraints plus the hygiene
rules every text cell obeys; table rules come from each schema's
`sifc.rules` list (the rules a Table Schema cannot say) and its keys.
Each rule returns a boolean Series: True where the row passes.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from . import textrules
from ..schema import Field, TableSchema

#: the README promises every table reads with plain `pd.read_csv`; a field
#: may hold dates in the future only when its schema says so (`sifc.planned`)
EARLIEST_DATE = "1949-01-01"


@dataclass
class CellRule:
    """A check of one column's cells."""
    name: str
    column: str
    passes: Callable[[pd.Series], pd.Series]
    message: Callable[[object], str]
    #: what to show as the offending value; default: the cell as written
    offending: Callable[[object], str] | None = None
    severity: str = "error"
    #: for a combined check: (rule, message) for each rule a failing cell breaks
    diagnose: Callable[[object], list[tuple[str, str]]] | None = None


@dataclass
class TableRule:
    """A check of whole rows, reported against one column."""
    name: str
    column: str
    passes: Callable[[pd.DataFrame], pd.Series]
    message: Callable[[pd.DataFrame, int], str]
    severity: str = "error"


def _map(series: pd.Series, fn) -> pd.Series:
    return pd.Series([bool(fn(v)) for v in series], index=series.index, dtype=bool)


def _text(series: pd.Series) -> pd.Series:
    return series if isinstance(series.dtype, pd.StringDtype) else series.astype("string")


def _fullmatch(series: pd.Series, pattern: str) -> pd.Series:
    """Vectorised (pyarrow's RE2 for the string dtype) where the pattern allows,
    Python's re otherwise."""
    try:
        return _text(series).str.fullmatch(pattern).fillna(False).astype(bool)
    except Exception:  # a construct RE2 does not support
        rx = re.compile(pattern)
        return _map(series, lambda v: rx.fullmatch(v))


def _items_series(series: pd.Series) -> pd.Series:
    """A list column's items, one per row, indexed by their row."""
    return series.explode().astype(object)


def _all_items(series: pd.Series, item_ok) -> pd.Series:
    """True where every item of a list cell passes `item_ok` (a vectorised test)."""
    items = _items_series(series)
    ok = pd.Series(item_ok(items).to_numpy(dtype=bool), index=items.index)
    return ok.groupby(level=0).all().reindex(series.index, fill_value=True)


def _items(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _text_cells(field: Field):
    """A function giving the strings a cell holds (one, or a list's items)."""
    return (lambda v: _items(v)) if field.is_list else (lambda v: (v,))


def hygiene_rules(field: Field) -> list[CellRule]:
    """The text rules of `textrules` as one check per column (pandera's cost
    is per check); a failing cell is split back into the rules it breaks
    when it is reported. List cells are checked item by item."""
    if field.type not in ("string", "list"):
        return []
    rules = textrules.rules_for(field.script)

    def bad_texts(texts: pd.Series) -> np.ndarray:
        texts = _text(texts)
        found = textrules.breaches(texts, rules)
        return np.logical_or.reduce(list(found.values())) if found else np.zeros(len(texts), dtype=bool)

    if field.is_list:
        def passes(s):
            items = _items_series(s)
            present = items.notna() & (items != "")
            bad = np.zeros(len(items), dtype=bool)
            if present.any():
                bad[present.to_numpy()] = bad_texts(items[present])
            return pd.Series(~bad, index=items.index).groupby(level=0).all().reindex(s.index, fill_value=True)

        def diagnose(value):
            seen = {}
            for item in _items(value):
                for rule, message in (textrules.cell_breaches(item, rules) if item else []):
                    seen.setdefault(rule, f"item {item!r}: {message}")
            return list(seen.items())
    else:
        passes = lambda s: pd.Series(~bad_texts(s), index=s.index)
        diagnose = lambda value: textrules.cell_breaches(str(value), rules)
    return [CellRule("hygiene", field.name, passes, lambda v: "breaks a text rule", diagnose=diagnose)]


def list_rules(field: Field) -> list[CellRule]:
    """A list cell's structure: no empty item, no item twice."""
    if not field.is_list:
        return []
    name, d = field.name, field.delimiter
    dup = lambda v: sorted({t for t in _items(v) if _items(v).count(t) > 1})
    return [
        CellRule("empty-list-item", name, lambda s: _all_items(s, lambda items: items.fillna("") != ""),
                 lambda v: f"has an empty item ('{d}{d}', or '{d}' at the start or end); remove the extra '{d}'"),
        CellRule("duplicate-item", name,
                 lambda s: pd.Series([len(set(v)) == len(v) for v in s], index=s.index, dtype=bool),
                 lambda v: f"lists {', '.join(repr(t) for t in dup(v))} more than once"),
    ]


def date_rules(field: Field) -> list[CellRule]:
    """A date is not before 1949 (Table Schema `minimum`, see
    constraint_rules) and, unless the field holds planned dates, not after today."""
    if field.type != "date" or field.planned:
        return []
    today = pd.Timestamp.today().normalize()
    return [CellRule("future-date", field.name, lambda s: s <= today,
                     lambda v: f"is after today ({today:%Y-%m-%d}); a recorded fact cannot be dated in the "
                               "future (a field for planned dates says so in its schema)")]


def constraint_rules(field: Field) -> list[CellRule]:
    """The field's Table Schema constraints, restated for pandera."""
    name, out = field.name, []
    if field.unique:
        out.append(CellRule("unique", name, lambda s: ~s.duplicated(keep="first"),
                            lambda v: "duplicates a value above; it must be unique"))
    if field.enum is not None:
        allowed = set(field.enum)
        out.append(CellRule("enum", name, lambda s: s.isin(allowed),
                            lambda v: f"must be one of: {', '.join(field.enum)}"))
    if field.pattern and not field.is_list:
        out.append(CellRule("pattern", name, lambda s: _fullmatch(s, field.pattern),
                            lambda v: f"does not match the pattern {field.pattern}"))
    if field.item_pattern:
        rx = re.compile(field.item_pattern)
        bad = lambda v: [t for t in _items(v) if t and not rx.fullmatch(t)]
        out.append(CellRule("pattern", name,
                            lambda s: _all_items(s, lambda items: _fullmatch(items.fillna(""), field.item_pattern)
                                                 | (items.fillna("") == "").to_numpy()),
                            lambda v: f"each item must match {field.item_pattern}; bad: "
                                      + ", ".join(repr(t) for t in bad(v)),
                            offending=lambda v: field.delimiter.join(_items(v))))
    if field.max_length is not None:
        out.append(CellRule("max-length", name, lambda s: s.str.len() <= field.max_length,
                            lambda v: f"is longer than {field.max_length} characters ({len(v)})"))
    if field.min_length is not None:
        out.append(CellRule("min-length", name, lambda s: s.str.len() >= field.min_length,
                            lambda v: f"is shorter than {field.min_length} characters"))
    bound = (lambda b: pd.Timestamp(b)) if field.type == "date" else (lambda b: b)
    if field.minimum is not None:
        out.append(CellRule("minimum", name, lambda s: s >= bound(field.minimum),
                            lambda v: f"must be at least {field.minimum}"))
    if field.maximum is not None:
        out.append(CellRule("maximum", name, lambda s: s <= bound(field.maximum),
                            lambda v: f"must be at most {field.maximum}"))
    return out


class Keys:
    """The values of a referenced column, for membership tests: a whole
    column at once on pyarrow's hash table (pandas' `isin` turns a set into
    Python objects cell by cell), one value with `in`."""

    def __init__(self, column: pd.Series):
        self.column = column.dropna()
        self._arrow = self._set = None

    def holds(self, series: pd.Series) -> pd.Series:
        import pyarrow as pa
        import pyarrow.compute as pc
        try:
            if self._arrow is None:
                self._arrow = pa.array(self.column.unique(), type=pa.string(), from_pandas=True)
            found = pc.is_in(pa.array(series, type=pa.string(), from_pandas=True), value_set=self._arrow)
            return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=series.index, dtype=bool)
        except (pa.ArrowException, TypeError):  # keys that are not text
            return series.isin(self._values())

    def _values(self) -> set:
        if self._set is None:
            self._set = set(self.column)
        return self._set

    def __contains__(self, value) -> bool:
        return value in self._values()


def reference_rules(schema: TableSchema, context: dict[str, pd.DataFrame]) -> list[CellRule]:
    """Foreign keys, scalar and list-valued, against the referenced tables."""
    out = []
    for fk in schema.foreign_keys:
        target = context.get(fk.resource)
        if target is None or fk.ref_field not in target:
            continue
        valid = Keys(target[fk.ref_field])
        out.append(CellRule("foreign-key", fk.field, valid.holds,
                            lambda v, fk=fk: f"no row of {fk.resource} has {fk.ref_field} {v!r}"))
    for field, resource, ref_field in schema.list_references():
        target = context.get(resource)
        if target is None or ref_field not in target:
            continue
        valid = Keys(target[ref_field])
        missing = lambda v, valid=valid: [t for t in _items(v) if t and t not in valid]
        out.append(CellRule("foreign-key", field.name,
                            lambda s, valid=valid: _all_items(s, lambda items: valid.holds(items) | (items == "")),
                            lambda v, missing=missing, r=resource, f=ref_field:
                                f"no row of {r} has {f} " + ", ".join(repr(t) for t in missing(v)),
                            offending=lambda v, missing=missing, d=field.delimiter: d.join(missing(v))))
    return out


def cell_rules(schema: TableSchema, context: dict[str, pd.DataFrame] | None = None) -> list[CellRule]:
    out = []
    for field in schema.fields:
        out += constraint_rules(field) + list_rules(field) + date_rules(field) + hygiene_rules(field)
    if context is not None:
        out += reference_rules(schema, context)
    return out


# --- table rules ------------------------------------------------------------

_CACHES: dict[int, dict] = {}


def _frame_cache(df: pd.DataFrame) -> dict:
    """Per-frame memo for the messages of repeated rows (kept outside the
    frame: pandas copies `attrs` on every operation)."""
    key = id(df)
    if key not in _CACHES:
        _CACHES[key] = {}
        weakref.finalize(df, _CACHES.pop, key, None)
    return _CACHES[key]


def _first_line_ref(df: pd.DataFrame, cols: list[str], i: int) -> int:
    """Position of the first row with the same values in cols as row i. The
    map of first positions is built once per frame and column set, so
    reporting many repeats stays linear."""
    cache = _frame_cache(df)
    key = tuple(cols)
    if key not in cache:
        keys = df[cols].astype(object).where(df[cols].notna(), "\0")
        group = keys.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
        first: dict[int, int] = {}
        for pos, g in enumerate(group):
            first.setdefault(int(g), pos)
        cache[key] = [first[int(g)] for g in group]
    return cache[key][i]


def primary_key_rule(schema: TableSchema) -> TableRule | None:
    pk = list(schema.primary_key)
    if len(pk) < 2:
        return None  # a one-field key is the field's own `unique` constraint
    return TableRule("primary-key", "+".join(pk), lambda df: ~df.duplicated(subset=pk, keep="first"),
                     lambda df, i: f"repeats the key ({', '.join(pk)}) of the row on {{row:{_first_line_ref(df, pk, i)}}}")


def _no_cycle(spec, schema):
    field, key = spec["field"], schema.primary_key[0]

    def passes(df):
        """Each node is visited once (white-grey-black walk), so a long chain
        costs linear time, not quadratic."""
        parent = {k: p for k, p in zip(df[key], df[field]) if k is not None and not pd.isna(k)}
        state: dict = {}  # absent: unvisited; 1: on the current path; 2: done
        on_cycle: set = set()
        for start in parent:
            path, node = [], start
            while node in parent and state.get(node) is None:
                state[node] = 1
                path.append(node)
                node = parent[node]
                if node is None or (not isinstance(node, str) and pd.isna(node)):
                    break
            if node in parent and state.get(node) == 1:  # closed a loop on this path
                on_cycle.update(path[path.index(node):])
            for n in path:
                state[n] = 2
        return pd.Series([k not in on_cycle for k in df[key]], index=df.index, dtype=bool)
    return TableRule("no-cycle", field, passes,
                     lambda df, i: f"{field} leads back to this row: the {field} chain has a cycle")


def _date_order(spec, schema):
    start, end = spec["start"], spec["end"]
    return TableRule("date-order", end, lambda df: ~(df[end] < df[start]).fillna(False).astype(bool),
                     lambda df, i: f"{end} is before {start} ({df[start].iloc[i]:%Y-%m-%d})")


def _date_or_note(spec, schema):
    dates, note = spec["dates"], spec["note"]
    return TableRule("date-or-note", note,
                     lambda df: df[dates].notna().any(axis=1) | df[note].notna(),
                     lambda df, i: f"{' and '.join(dates)} is empty, so {note} must say what is known about the date")


def _one_of(spec, schema):
    fields = spec["fields"]
    return TableRule("one-of", fields[0], lambda df: df[fields].notna().any(axis=1),
                     lambda df, i: f"needs at least one of {', '.join(fields)}")


def _required_with(spec, schema):
    field, when = spec["field"], spec["when"]
    return TableRule("required-with", field, lambda df: df[field].notna() | df[when].isna(),
                     lambda df, i: f"is required when {when} is set")


def _unique_together(spec, schema):
    fields = spec["fields"]
    return TableRule("unique-together", fields[-1], lambda df: ~df.duplicated(subset=fields, keep="first"),
                     lambda df, i: f"({', '.join(fields)}) repeats the row on {{row:{_first_line_ref(df, fields, i)}}}")


def _consistent_within(spec, schema):
    group, fields = spec["group"], spec["fields"]
    rules = []
    for field in fields:
        def passes(df, field=field):
            keyed = df[group].notna().all(axis=1).to_numpy()
            sub = df.loc[keyed, group + [field]].astype(object)
            firsts = sub.drop_duplicates(subset=group, keep="first")
            # a left merge keeps the left rows' order, so values line up by position
            expected = sub[group].merge(firsts, on=group, how="left")[field]
            same = sub[field].fillna("\0").to_numpy() == expected.fillna("\0").to_numpy()
            out = pd.Series(True, index=df.index, dtype=bool)
            out[keyed] = same
            return out
        rules.append(TableRule("consistent", field, passes,
                               lambda df, i, field=field: f"differs from the row on {{row:{_first_line_ref(df, group, i)}}} "
                                                          f"with the same {', '.join(group)}; {field} must agree"))
    return rules


#: columns a rule reads besides those its spec names
#: the columns of the participants table that say who attended what
PARTICIPATION = ("event_id", "person_id", "institution_id")
FIXED_COLUMNS = {"speaker-attended": PARTICIPATION}


def columns_read(spec: dict) -> set[str]:
    """The columns of its own table a table rule reads, so a finding on one
    of them (a mistyped date, a broken reference) can stand for it: the
    names its spec gives (in lists, in an `if`/`unless` condition, at the
    start of each `bounds` path)."""
    cols = set(FIXED_COLUMNS.get(spec.get("rule"), ()))
    for key, value in spec.items():
        if key in ("in", "why", "label", "rule"):
            continue
        if key == "bounds" and isinstance(value, list):
            cols.update(p[0] for p in value if isinstance(p, list) and p and isinstance(p[0], str))
            continue
        if isinstance(value, dict):
            value = value.get("field")
        cols.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return cols


def tables_read(spec: dict) -> set[str]:
    """The other tables a cross-table rule reads (the loader reads them too)."""
    out = {spec["participants"]} if isinstance(spec.get("participants"), str) else set()
    paths = spec.get("bounds")
    for path in paths if isinstance(paths, list) else ():
        for hop in (path[1:] if isinstance(path, list) else ()):
            parsed = parse_hop(hop)
            if parsed:
                out.add(parsed[0])
    return out


def tables_looked_up(schema: TableSchema) -> list[str]:
    """Every other table a table's foreign keys and cross-table rules read
    (and possibly itself), in that order, each once."""
    names = [fk.resource for fk in schema.foreign_keys] + [r for _, r, _ in schema.list_references()]
    names += [t for spec in schema.rules if isinstance(spec, dict) for t in sorted(tables_read(spec))]
    return list(dict.fromkeys(names))


def context_columns(package) -> dict[str, set[str] | None]:
    """table -> the columns of it that the rules of the tables referring to
    it read (foreign-key targets and the lookups of cross-table rules);
    None: every column. Validating one table at a time, this is all that
    is kept of a table once its own checks are done."""
    out: dict[str, set[str] | None] = {name: set() for name in package.resources}

    def need(table, columns):
        if table in out and out[table] is not None:
            out[table] = None if columns is None else out[table] | set(columns)

    for resource in package.resources.values():
        schema = resource.schema
        for fk in schema.foreign_keys:
            need(fk.resource, [fk.ref_field])
        for _, target, ref_field in schema.list_references():
            need(target, [ref_field])
        for spec in schema.rules:
            if not isinstance(spec, dict) or spec.get("rule") not in CROSS_TABLE:
                continue
            kind = spec["rule"]
            if kind == "speaker-attended" and isinstance(spec.get("participants"), str):
                need(spec["participants"], PARTICIPATION)
            elif kind == "not-before":
                for path in spec.get("bounds") if isinstance(spec.get("bounds"), list) else ():
                    for hop in (path[1:] if isinstance(path, list) else ()):
                        parsed = parse_hop(hop)
                        if parsed:
                            need(parsed[0], parsed[1:])
            elif kind == "some-item" and isinstance(spec.get("field"), str) and spec["field"] in schema.field_names:
                refs = schema.field(spec["field"]).references
                if refs:
                    need(refs[0], [refs[1], spec.get("column")])
            else:  # a rule whose lookups are not listed here: keep every column it may read
                for table in tables_read(spec):
                    need(table, None)
    return out


def _speaker_attended(spec, schema, context):
    participants = (context or {}).get(spec["participants"])
    if participants is None:
        return None
    keys = set(zip(*(participants[c] for c in PARTICIPATION)))
    return TableRule("speaker-attended", "person_id",
                     lambda df: pd.Series([k in keys for k in zip(*(df[c] for c in PARTICIPATION))],
                                          index=df.index, dtype=bool),
                     lambda df, i: "this person is not a participant of this event for this institution")


def normalized_url(url) -> str | None:
    """A URL as it identifies a page: scheme (http = https), host in lower
    case without www. and default port, path without a trailing slash, no
    fragment."""
    from urllib.parse import urlsplit
    if url is None or (not isinstance(url, str) and pd.isna(url)):
        return None
    try:
        parts = urlsplit(str(url).strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        port = parts.port
    except ValueError:
        return str(url)
    netloc = host + (f":{port}" if port not in (None, 80, 443) else "")
    return f"{netloc}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "")


def _unique_url(spec, schema):
    field = spec["field"]

    def passes(df):
        keys = pd.Series([normalized_url(v) for v in df[field]], index=df.index, dtype=object)
        return ~(keys.notna() & keys.duplicated(keep="first"))

    def message(df, i):
        cache = _frame_cache(df)
        if ("url", field) not in cache:
            first: dict = {}
            cache[("url", field)] = [first.setdefault(normalized_url(v), pos) for pos, v in enumerate(df[field])]
        return (f"points to the same page as the row on {{row:{cache[('url', field)][i]}}}; cite that source instead "
                "of adding it twice")
    return TableRule("unique-url", field, passes, message)


# --- conditions, and the rules about what became of a measure (progress) -----

def _is_missing(v) -> bool:
    return v is None or (not isinstance(v, (tuple, list)) and pd.isna(v))


def _said(values) -> str:
    """['a', 'b', 'c'] -> "a, b or c"."""
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def condition_text(cond: dict) -> str:
    return f"{cond['field']} is {_said(cond['in'])}"


def condition_holds(df: pd.DataFrame, cond: dict) -> pd.Series:
    """True where the row's `cond['field']` is one of `cond['in']`."""
    values = {str(v) for v in cond["in"]}
    col = df[cond["field"]]
    return pd.Series([not _is_missing(v) and str(v) in values for v in col], index=df.index, dtype=bool)


def _conditional(rule: TableRule, spec: dict) -> TableRule:
    """A rule that applies only to the rows its spec's `if` condition holds
    for and not to those its `unless` condition holds for; the spec's `why`,
    if any, is added to the message in plain words."""
    when, unless, why = spec.get("if"), spec.get("unless"), spec.get("why")
    passes, message = rule.passes, rule.message
    if when or unless:
        def passes(df, inner=rule.passes):
            exempt = pd.Series(False, index=df.index, dtype=bool)
            if when:
                exempt |= ~condition_holds(df, when)
            if unless:
                exempt |= condition_holds(df, unless)
            return inner(df) | exempt
    if why:
        message = lambda df, i, inner=rule.message: f"{inner(df, i)}; {why}"
    return TableRule(rule.name, rule.column, passes, message, rule.severity)


def _exactly_one(spec, schema):
    """Exactly one of the fields is set: 'none' is reported at the first
    field, 'more than one' at the last."""
    fields = spec["fields"]
    names = _said(fields).replace(" or ", " and ")

    def set_ones(df, i):
        return [f for f in fields if not _is_missing(df[f].iloc[i])]
    return [
        TableRule("exactly-one", fields[0], lambda df: df[fields].notna().sum(axis=1) >= 1,
                  lambda df, i: f"none of {names} is set; a row is about exactly one of them: fill in one"),
        TableRule("exactly-one", fields[-1], lambda df: df[fields].notna().sum(axis=1) <= 1,
                  lambda df, i: f"{_said(set_ones(df, i)).replace(' or ', ' and ')} are all set; a row is about "
                                "exactly one of them: keep one and empty the others"
                  if len(set_ones(df, i)) > 2 else
                  f"{' and '.join(set_ones(df, i))} are both set; a row is about exactly one of them: keep one and "
                  "empty the other"),
    ]


def _required_when(spec, schema):
    field, cond = spec["field"], spec["if"]
    rule = TableRule("required-when", field, lambda df: df[field].notna(),
                     lambda df, i: f"is empty; it is required when {condition_text(cond)}")
    return rule  # the `if` condition is applied by _conditional


HOP = re.compile(r"([a-z][a-z0-9_]*)\[([a-z][a-z0-9_]*)\]\.([a-z][a-z0-9_]*)")


def parse_hop(hop) -> tuple[str, str, str] | None:
    """'measures[measure_id].document_id' -> ('measures', 'measure_id', 'document_id'):
    in table `measures`, the row whose `measure_id` is the value so far; its `document_id`."""
    m = HOP.fullmatch(hop) if isinstance(hop, str) else None
    return (m.group(1), m.group(2), m.group(3)) if m else None


def _follow(start: pd.Series, hops, context) -> tuple[pd.Series, pd.Series] | None:
    """Walk one bound path from a column of the table: (the value reached,
    the key of the last row looked up), per row; None when a table or
    column of the path is not available."""
    value, last_key = start.astype(object).where(start.notna(), None), None
    for hop in hops:
        table, key, column = parse_hop(hop)
        frame = (context or {}).get(table)
        if frame is None or key not in frame or column not in frame:
            return None
        pair = frame[[key, column]] if key != column else frame[[key]]
        keyed = pair[pair[key].notna()].drop_duplicates(subset=[key], keep="first")
        lookup = pd.Series(keyed[column].to_numpy(dtype=object), index=keyed[key].to_numpy(dtype=object))
        last_key = value
        value = value.map(lookup).astype(object)
        value = value.where(value.notna(), None)
    return value, last_key


def _not_before(spec, schema, context):
    """A date of this table is not before the earliest date any `bounds`
    path reaches: each path starts at a column of this table and follows
    `table[key].column` lookups (the announcement of the measure or
    commitment a progress row is about)."""
    field, paths, label = spec["field"], spec["bounds"], spec.get("label", "the earliest date it may have")
    if context is None:
        return None

    def bounds(df):
        """(earliest bound, its description) per row."""
        cache = _frame_cache(df)
        if ("not-before", field) in cache:
            return cache[("not-before", field)]
        best = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        chosen = np.full(len(df), -1)  # which path gave the bound: described only for a finding
        walks = []
        for n, path in enumerate(paths):
            if ("walk", tuple(path)) not in cache:  # two dates of a row often share their paths
                cache[("walk", tuple(path))] = _follow(df[path[0]], path[1:], context)
            walked = cache[("walk", tuple(path))]
            walks.append(walked)
            if walked is None:
                continue
            dates = pd.to_datetime(walked[0], errors="coerce").astype("datetime64[ns]")
            better = dates.notna() & (best.isna() | (dates < best))
            best = best.where(~better, dates)
            chosen[better.to_numpy()] = n
        cache[("not-before", field)] = best, chosen, walks
        return best, chosen, walks

    def passes(df):
        best = bounds(df)[0]
        value = df[field].astype("datetime64[ns]")
        return ~(value.notna() & best.notna() & (value < best))

    def message(df, i):
        best, chosen, walks = bounds(df)
        path = paths[chosen[i]]
        table, _, column = parse_hop(path[-1])
        reached = f"{table}.{column} of {walks[chosen[i]][1].iloc[i]}"
        return f"is before {best.iloc[i]:%Y-%m-%d}, {label} ({reached}): correct {field}, or check {path[0]}"
    return TableRule("not-before", field, passes, message)


def _some_item(spec, schema, context):
    """At least one item of a list field that references another table is
    a row whose `column` is one of `in` (an implemented status needs an
    official or news source)."""
    field, column, allowed = spec["field"], spec["column"], [str(v) for v in spec["in"]]
    refs = schema.field(field).references
    target = (context or {}).get(refs[0]) if refs else None
    if target is None or refs[1] not in target or column not in target:
        return None
    # the last row of a repeated key decides, as a dict built row by row would
    keyed = target.loc[target[refs[1]].notna(), [refs[1], column]].drop_duplicates(subset=[refs[1]], keep="last")
    kinds = keyed[column]
    text = kinds.astype("string") if isinstance(kinds.dtype, pd.StringDtype) else \
        pd.Series([None if _is_missing(v) else str(v) for v in kinds], index=kinds.index, dtype="string")
    good = Keys(keyed.loc[text.isin(allowed).fillna(False).to_numpy(dtype=bool), refs[1]])
    kind_of: dict = {}  # key -> kind, made only to word a finding

    def passes(df):
        values = df[field]
        items = _items_series(values)
        found = pd.Series(good.holds(items).to_numpy(dtype=bool), index=items.index)
        some = found.groupby(level=0).any().reindex(values.index, fill_value=False)
        missing = pd.Series([_is_missing(v) for v in values], index=values.index, dtype=bool)
        return some | missing

    def message(df, i):
        if not kind_of:
            kind_of.update(zip(keyed[refs[1]], text.astype(object).where(text.notna(), None)))
        kind = kind_of
        items = [t for t in _items(df[field].iloc[i]) if t]
        found = ", ".join(f"{t} ({kind[t]})" for t in items if kind.get(t)) or "none that exists"
        lead = f"because {condition_text(spec['if'])}, " if spec.get("if") else ""
        return (f"{lead}at least one item of {field} must be a {refs[0]} row whose {column} is {_said(allowed)}; "
                f"it lists {found}")
    return TableRule("some-item", field, passes, message)


BUILDERS = {"no-cycle": _no_cycle, "date-order": _date_order, "date-or-note": _date_or_note, "one-of": _one_of,
            "required-with": _required_with, "unique-together": _unique_together,
            "consistent-within": _consistent_within, "unique-url": _unique_url, "exactly-one": _exactly_one,
            "required-when": _required_when}
CROSS_TABLE = {"speaker-attended": _speaker_attended, "not-before": _not_before, "some-item": _some_item}


def table_rules(schema: TableSchema, context: dict[str, pd.DataFrame] | None = None) -> list[TableRule]:
    out = [r for r in [primary_key_rule(schema)] if r]
    for spec in schema.rules:
        kind = spec["rule"]
        if kind in BUILDERS:
            built = BUILDERS[kind](spec, schema)
        elif kind in CROSS_TABLE:
            built = CROSS_TABLE[kind](spec, schema, context) if context is not None else None
        else:
            raise ValueError(f"schemas/{schema.name}.json: unknown rule {kind!r}")
        built = built if isinstance(built, list) else [built] if built else []
        out += [_conditional(rule, spec) for rule in built]
    return out
