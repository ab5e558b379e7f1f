"""The checks of the pandera layer, each a named rule with its own message.

Cell rules come from the Table Schema's field constraints plus the hygiene
rules every text cell obeys; table rules come from each schema's
`sifc.rules` list (the rules a Table Schema cannot say) and its keys.
Each rule returns a boolean Series: True where the row passes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from .findings import INVISIBLE
from .schema import Field, TableSchema

CJK_ALLOWED = ("\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs
               "\u3000-\u303f"  # CJK symbols and punctuation: 、。〈〉《》「」
               "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"  # full-width punctuation
               "\u00b7\u2014\u2026"  # middle dot, em dash, ellipsis
               "0-9")  # official Chinese names use Arabic numerals for years
CJK_ONLY = re.compile(f"^[{CJK_ALLOWED}]+$")
FULL_WIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
FULL_WIDTH_ANY = re.compile("[\uff01-\uff5e]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
INVISIBLE_RE = re.compile("[" + "".join(sorted(INVISIBLE)) + "]")
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
#: exactly the characters str.strip() removes, spelled out: pandas runs a
#: pattern with \s in Python rather than pyarrow (RE2's \s differs)
SPACE = "[" + "".join(sorted({chr(c) for c in range(0x3001) if chr(c).isspace()})) + "]"
PLAIN_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


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
    #: for a combined check: the specific rules a failing cell breaks
    parts: list["CellRule"] | None = None


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
    if field.type not in ("string", "list"):
        return []
    texts = _text_cells(field)
    name = field.name

    def all_ok(pred):
        return lambda s: _map(s, lambda v: all(pred(t) for t in texts(v)))

    full_width = FULL_WIDTH_ALNUM if field.script == "cjk" else FULL_WIDTH_ANY
    parts = [
        CellRule("control-character", name, all_ok(lambda t: not CONTROL.search(t)),
                 lambda v: "contains a line break, tab or other control character; keep each cell on one line"),
        CellRule("invisible-character", name, all_ok(lambda t: not INVISIBLE_RE.search(t)),
                 lambda v: "contains an invisible character (zero-width space, BOM, direction mark…); delete it"),
        CellRule("whitespace", name, all_ok(lambda t: t == t.strip()),
                 lambda v: "has leading or trailing whitespace"),
        CellRule("full-width-ascii", name, all_ok(lambda t: not full_width.search(t)),
                 lambda v: "contains full-width ASCII characters (Ａ１，…); use ordinary ASCII"
                 if field.script != "cjk" else "contains full-width letters or digits; use ordinary ASCII ones"),
        CellRule("formula-injection", name,
                 all_ok(lambda t: not FORMULA_START.match(t) or bool(PLAIN_NUMBER.match(t))),
                 lambda v: "starts with =, +, -, @, tab or CR, which a spreadsheet would run as a formula; reword it"),
    ]
    # One check per column instead of five: pandera's cost is per check, and
    # a failing cell is split back into the rules it breaks when reported.
    if field.is_list:
        passes = lambda s: _map(s, lambda v: _clean(v, texts, full_width))
    else:
        suspicious = "|".join([CONTROL.pattern, INVISIBLE_RE.pattern, full_width.pattern, "^" + SPACE, SPACE + "$"])
        passes = lambda s: ~(_text(s).str.contains(suspicious, regex=True).fillna(False).astype(bool)
                             | (_text(s).str.match(FORMULA_START.pattern).fillna(False).astype(bool)
                                & ~_fullmatch(s, PLAIN_NUMBER.pattern.strip("^$"))))
    return [CellRule("hygiene", name, passes, lambda v: "breaks a text hygiene rule", parts=parts)]


def _clean(value, texts, full_width) -> bool:
    """True when no hygiene rule fails for any text of this cell."""
    for t in texts(value):
        if (CONTROL.search(t) or INVISIBLE_RE.search(t) or t != t.strip() or full_width.search(t)
                or (FORMULA_START.match(t) and not PLAIN_NUMBER.match(t))):
            return False
    return True


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
        bad = lambda v: [t for t in _items(v) if not rx.fullmatch(t)]
        out.append(CellRule("pattern", name,
                            lambda s: _all_items(s, lambda items: _fullmatch(items.fillna(""), field.item_pattern)),
                            lambda v: f"each item must match {field.item_pattern}; bad: "
                                      + ", ".join(repr(t) for t in bad(v)),
                            offending=lambda v: field.delimiter.join(_items(v))))
    if field.is_list:
        dup = lambda v: sorted({t for t in _items(v) if _items(v).count(t) > 1})
        out.append(CellRule("duplicate-item", name,
                            lambda s: pd.Series([len(set(v)) == len(v) for v in s], index=s.index, dtype=bool),
                            lambda v: f"lists {', '.join(repr(t) for t in dup(v))} more than once"))
    if field.max_length is not None:
        out.append(CellRule("max-length", name, lambda s: s.str.len() <= field.max_length,
                            lambda v: f"is longer than {field.max_length} characters ({len(v)})"))
    if field.min_length is not None:
        out.append(CellRule("min-length", name, lambda s: s.str.len() >= field.min_length,
                            lambda v: f"is shorter than {field.min_length} characters"))
    if field.minimum is not None:
        out.append(CellRule("minimum", name, lambda s: s >= field.minimum,
                            lambda v: f"must be at least {field.minimum}"))
    if field.maximum is not None:
        out.append(CellRule("maximum", name, lambda s: s <= field.maximum,
                            lambda v: f"must be at most {field.maximum}"))
    if field.script == "cjk":
        out.append(CellRule("cjk-only", name, lambda s: _fullmatch(s, CJK_ONLY.pattern.strip("^$")),
                            lambda v: "must hold only Chinese characters, CJK punctuation and digits "
                                      "(no Latin letters, spaces or pinyin)"))
    return out


def reference_rules(schema: TableSchema, context: dict[str, pd.DataFrame]) -> list[CellRule]:
    """Foreign keys, scalar and list-valued, against the referenced tables."""
    out = []
    for fk in schema.foreign_keys:
        target = context.get(fk.resource)
        if target is None or fk.ref_field not in target:
            continue
        valid = set(target[fk.ref_field].dropna())
        out.append(CellRule("foreign-key", fk.field, lambda s, valid=valid: s.isin(valid),
                            lambda v, fk=fk: f"no row of {fk.resource} has {fk.ref_field} {v!r}"))
    for field, resource, ref_field in schema.list_references():
        target = context.get(resource)
        if target is None or ref_field not in target:
            continue
        valid = set(target[ref_field].dropna())
        missing = lambda v, valid=valid: [t for t in _items(v) if t not in valid]
        out.append(CellRule("foreign-key", field.name,
                            lambda s, valid=valid: _all_items(s, lambda items: items.isin(valid)),
                            lambda v, missing=missing, r=resource, f=ref_field:
                                f"no row of {r} has {f} " + ", ".join(repr(t) for t in missing(v)),
                            offending=lambda v, missing=missing, d=field.delimiter: d.join(missing(v))))
    return out


def cell_rules(schema: TableSchema, context: dict[str, pd.DataFrame] | None = None) -> list[CellRule]:
    out = []
    for field in schema.fields:
        out += constraint_rules(field) + hygiene_rules(field)
    if context is not None:
        out += reference_rules(schema, context)
    return out


# --- table rules ------------------------------------------------------------

def _first_line_ref(df: pd.DataFrame, cols: list[str], i: int) -> int:
    """Position of the first row with the same values in cols as row i."""
    key = df[cols].iloc[i]
    same = (df[cols].astype(object).fillna("\0") == key.astype(object).fillna("\0")).all(axis=1)
    return int(same.to_numpy().nonzero()[0][0])


def primary_key_rule(schema: TableSchema) -> TableRule | None:
    pk = list(schema.primary_key)
    if len(pk) < 2:
        return None  # a one-field key is the field's own `unique` constraint
    return TableRule("primary-key", "+".join(pk), lambda df: ~df.duplicated(subset=pk, keep="first"),
                     lambda df, i: f"repeats the key ({', '.join(pk)}) of the row on {{row:{_first_line_ref(df, pk, i)}}}")


def _no_cycle(spec, schema):
    field, key = spec["field"], schema.primary_key[0]

    def passes(df):
        parent = dict(zip(df[key], df[field]))
        ok = []
        for start in df[key]:
            seen, node, cyclic = set(), start, False
            while node is not None and not pd.isna(node) and node in parent:
                if node in seen:
                    cyclic = start in seen
                    break
                seen.add(node)
                node = parent[node]
            ok.append(not cyclic)
        return pd.Series(ok, index=df.index, dtype=bool)
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


def _speaker_attended(spec, schema, context):
    participants = (context or {}).get(spec["participants"])
    if participants is None:
        return None
    keys = set(zip(participants["event_id"], participants["person_id"], participants["institution_id"]))
    return TableRule("speaker-attended", "person_id",
                     lambda df: pd.Series([k in keys for k in zip(df["event_id"], df["person_id"], df["institution_id"])],
                                          index=df.index, dtype=bool),
                     lambda df, i: "this person is not a participant of this event for this institution")


BUILDERS = {"no-cycle": _no_cycle, "date-order": _date_order, "date-or-note": _date_or_note, "one-of": _one_of,
            "required-with": _required_with, "unique-together": _unique_together,
            "consistent-within": _consistent_within}
CROSS_TABLE = {"speaker-attended": _speaker_attended}


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
        out += built if isinstance(built, list) else [built] if built else []
    return out
