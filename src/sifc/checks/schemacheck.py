"""Checks of the package's own definitions before any data is read: the
descriptor, every Table Schema and every expectation suite.

A mistake in a definition (an unknown rule, a rule naming a missing field, a
regex that does not compile or could backtrack for ever, a resource without
a file) is one finding pointing at the file and key, and the data checks do
not run on a package whose definitions are broken: they would only repeat
the mistake as many confusing findings, or fail outright.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..findings import Finding
from ..files.safeio import MAX_JSON_BYTES, UnsafeFile, package_file, path_problem, read_limited

DESCRIPTOR = "datapackage.json"
RULE = "definition"
NAME = re.compile(r"[a-z][a-z0-9_]*")
TYPES = {"string", "integer", "number", "boolean", "date", "list"}
CONSTRAINT_TYPES = {"required": bool, "unique": bool, "enum": list, "pattern": str, "minLength": int,
                    "maxLength": int, "minimum": (int, float, str), "maximum": (int, float, str)}
FIELD_KEYS = {"name", "title", "description", "example", "type", "format", "constraints", "sifc", "itemType",
              "delimiter", "trueValues", "falseValues", "missingValues", "rdfType", "categories", "groupChar",
              "decimalChar", "bareNumber"}
EXTENSION_KEYS = {"references", "itemPattern", "script", "planned"}
SCRIPTS = {"cjk", "latin"}
#: profiles the tools know and never fetch; anything else is refused
KNOWN_PROFILES = {
    "data-package", "tabular-data-package", "data-resource", "tabular-data-resource", "table-schema",
    *(f"https://datapackage.org/profiles/{v}/{p}.json" for v in ("1.0", "2.0")
      for p in ("datapackage", "dataresource", "tableschema", "tabledialect")),
    *(f"https://specs.frictionlessdata.io/schemas/{p}.json" for p in
      ("data-package", "tabular-data-package", "data-resource", "tabular-data-resource", "table-schema")),
}


def named_in(value, known) -> bool:
    """`value in known` for a name read from JSON: a list or object where a
    name belongs (which a set or dict lookup cannot take) is simply not one
    of the known names, a finding rather than a crash."""
    return isinstance(value, str) and value in known


def check_texts(loc: "Located", where: tuple, obj: dict) -> None:
    """title and description are text wherever they appear (descriptor,
    resource, schema, field): the spec says so, and the data dictionary,
    the Excel sheets and the Parquet metadata print them as text."""
    for key in ("title", "description"):
        if key in obj and not isinstance(obj[key], str):
            loc.add(where + (key,), "must be text (a JSON string)", obj[key])


def unknown_profile(value) -> bool:
    """True unless `value` names a profile the tools know."""
    return not named_in(value, KNOWN_PROFILES)


MAX_DEPTH = 20
#: keys of each row rule that name fields of the table, and the other keys it needs
RULE_KEYS = {
    "no-cycle": ({"field"}, set()), "date-order": ({"start", "end"}, set()),
    "date-or-note": ({"dates", "note"}, set()), "one-of": ({"fields"}, set()),
    "required-with": ({"field", "when"}, set()), "unique-together": ({"fields"}, set()),
    "consistent-within": ({"group", "fields"}, set()), "speaker-attended": (set(), {"participants"}),
    "unique-url": ({"field"}, set()), "exactly-one": ({"fields"}, set()), "required-when": ({"field"}, {"if"}),
    "not-before": ({"field"}, {"bounds"}), "some-item": ({"field"}, {"column", "in"}),
}
#: keys of a rule that name one field; the other field keys (fields, group, dates) name a list
ONE_FIELD = {"field", "start", "end", "note", "when"}
#: keys any rule may have: a condition on the rows it applies to, words added to its message
CONDITION_KEYS = ("if", "unless")


class Located:
    """Findings about one JSON file, each with the editor line of its key."""

    def __init__(self, file: str, text: str = ""):
        self.file, self.found = file, []
        self.text = text

    @property
    def lines(self):
        return self.text.split("\n")

    @lines.setter
    def lines(self, value):
        self.text = "\n".join(value)

    def add(self, path: tuple, message: str, value=None) -> None:
        value = None if value is None else (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:200])
        self.found.append(Finding(self.file, self.line_of(path), dotted(path) or None, RULE, message, value))

    def line_of(self, path: tuple) -> int | None:
        """The line of the deepest part of `path` the file has."""
        if not self.text:
            return None
        lines = key_lines(self.text)
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in lines:
                return lines[tuple(path[:n])]
        return None


def key_lines(text: str) -> dict[tuple, int]:
    """The editor line where each value of a JSON text starts, by path
    (keys and list indices). A small scanner: the json module keeps no
    positions. Empty on text that is not JSON."""
    from json.decoder import scanstring
    out: dict[tuple, int] = {}
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    import bisect
    line = lambda pos: bisect.bisect_right(starts, pos)
    number = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")
    space = re.compile(r"[ \t\n\r]*")

    def value(pos: int, path: tuple, depth: int) -> int:
        pos = space.match(text, pos).end()
        out[path] = line(pos)
        if depth > MAX_DEPTH * 2:
            raise ValueError("too deep")
        ch = text[pos:pos + 1]
        if ch == "{":
            pos = space.match(text, pos + 1).end()
            if text[pos:pos + 1] == "}":
                return pos + 1
            while True:
                pos = space.match(text, pos).end()
                key, pos = scanstring(text, pos + 1)
                pos = space.match(text, pos).end() + 1  # the colon
                key_line = line(pos)
                pos = value(pos, path + (key,), depth + 1)
                out[path + (key,)] = min(out[path + (key,)], key_line)
                pos = space.match(text, pos).end()
                if text[pos:pos + 1] == "}":
                    return pos + 1
                pos += 1  # the comma
        if ch == "[":
            pos = space.match(text, pos + 1).end()
            if text[pos:pos + 1] == "]":
                return pos + 1
            i = 0
            while True:
                pos = value(pos, path + (i,), depth + 1)
                pos = space.match(text, pos).end()
                if text[pos:pos + 1] == "]":
                    return pos + 1
                pos, i = pos + 1, i + 1
        if ch == '"':
            return scanstring(text, pos + 1)[1]
        m = number.match(text, pos)
        if not m:
            raise ValueError("not JSON")
        return m.end()

    try:
        value(0, (), 0)
    except (ValueError, IndexError, RecursionError):
        return {}
    return out


def dotted(path: tuple) -> str:
    out = ""
    for k in path:
        out += f"[{k}]" if isinstance(k, int) else (("." if out else "") + str(k))
    return out


def depth(value, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON nests deeper than `limit` (checked iteratively)."""
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return True
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return False


def has_nul(value) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str) and "\x00" in v:
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
            stack.extend(k for k in v if "\x00" in k)
        elif isinstance(v, list):
            stack.extend(v)
    return False


def read_json(root: Path, relative: str, loc: Located):
    """The parsed JSON of a package file, or None (with a finding)."""
    try:
        data = read_limited(package_file(root, relative), MAX_JSON_BYTES, what="JSON file")
    except FileNotFoundError:
        loc.add((), "file not found")
        return None
    except (UnsafeFile, OSError) as exc:
        loc.add((), f"cannot be read: {exc}")
        return None
    try:
        text = data.decode("utf-8")
        loc.lines = text.split("\n")
        value = json.loads(text)
    except UnicodeDecodeError:
        loc.add((), "is not UTF-8 text")
        return None
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        loc.found.append(Finding(loc.file, line, None, RULE, f"is not valid JSON ({getattr(exc, 'msg', exc)})"))
        return None
    if depth(value):
        loc.add((), f"nests more than {MAX_DEPTH} levels deep")
        return None
    if has_nul(value):
        loc.add((), "contains a NUL character")
        return None
    return value


# --- patterns -----------------------------------------------------------------

@lru_cache(maxsize=512)
def pattern_problem(pattern) -> str | None:
    """Why a regex must not be run on contributed text, or None. It must
    compile both in Python (frictionless, GX) and in RE2 (our linear-time
    engine), and must not be able to backtrack catastrophically in Python's
    engine: no repeated group whose body can match its own start again (the
    `(a+)+` and `(a|a)*` shapes)."""
    if not isinstance(pattern, str) or not pattern:
        return "must be a non-empty string"
    if len(pattern) > 1000:
        return "is longer than 1000 characters"
    try:
        import re._parser as sre  # the parser of Python's own engine
        tree = sre.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return f"is not a valid regular expression ({exc})"
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        pc.match_substring_regex(pa.array([""], pa.string()), pattern=pattern)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid or NotImplemented
        return f"uses a construct the linear-time engine (RE2) does not support ({str(exc).splitlines()[0]})"
    return _backtracking(tree)


def _backtracking(tree) -> str | None:
    """A conservative test of Python's backtracking engine on `tree` (the
    parse of a pattern): every repeated group must be unambiguous."""
    from re import _constants as c
    for op, av in tree:
        children = []
        if op in _repeats(c):
            low, high, body = av
            if high is c.MAXREPEAT or high > 1:
                if _nullable(body, c):
                    return "could take exponential time (a repeated group that can match nothing, like (a?)*); rewrite it"
                inner = _nested_repeat_chars(body, c)
                first = _first_chars(body, c)
                if inner and (first is None or first & inner):
                    return ("could take exponential time (a repeated group whose body repeats characters it can "
                            "also start with, like (a+)+); rewrite it so each repetition starts with a character "
                            "the inner repeat cannot match")
                if _ambiguous_branch(body, c):
                    return ("could take exponential time (a repeated alternation whose branches can start alike "
                            "or be empty, like (a|aa)*); rewrite it")
            children = [body]
        elif op is c.SUBPATTERN:
            children = [av[-1]]
        elif op is c.BRANCH:
            children = list(av[1])
        elif op in (c.ASSERT, c.ASSERT_NOT):
            children = [av[1]]
        problem = next((p for p in map(_backtracking, children) if p), None) or _adjacent_repeats(tree, c)
        if problem:
            return problem
    return None


def _repeats(c):
    return tuple(x for x in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)) if x is not None)


def _unbounded(op, av, c) -> bool:
    return op in _repeats(c) and (av[1] is c.MAXREPEAT or av[1] > 1)


class _All(frozenset):
    """Any character: overlaps everything non-empty."""

    def __and__(self, other):
        return frozenset({-1}) if other else frozenset()

    __rand__ = __and__

    def __or__(self, other):
        return self

    __ror__ = __or__


ALL = _All({-1})


def _all_chars(seq, c):
    """Every code point a sequence can consume (ALL when unbounded sets)."""
    out = frozenset()
    for op, av in seq:
        if op is c.LITERAL:
            out = out | frozenset({av})
        elif op is c.IN:
            out = out | _class_chars(av, c)
        elif op in _repeats(c):
            out = out | _all_chars(av[2], c)
        elif op is c.SUBPATTERN:
            out = out | _all_chars(av[-1], c)
        elif op is c.BRANCH:
            for alt in av[1]:
                out = out | _all_chars(alt, c)
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:  # ANY, NOT_LITERAL, CATEGORY, GROUPREF…
            return ALL
        if out is ALL:
            return ALL
    return out


def _class_chars(items, c):
    out = set()
    for kind, value in items:
        if kind is c.LITERAL:
            out.add(value)
        elif kind is c.RANGE and value[1] - value[0] <= 5000:
            out.update(range(value[0], value[1] + 1))
        else:  # NEGATE, CATEGORY, wide ranges
            return ALL
    return frozenset(out)


def _first_chars(seq, c):
    """What the first consumed character can be, or None if unknown."""
    for op, av in seq:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        if op is c.SUBPATTERN:
            return _first_chars(av[-1], c)
        if op is c.LITERAL:
            return frozenset({av})
        if op is c.IN:
            return _class_chars(av, c)
        return None
    return None


def _nullable(seq, c) -> bool:
    for op, av in seq:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        if op in _repeats(c):
            if av[0] > 0 and not _nullable(av[2], c):
                return False
        elif op is c.SUBPATTERN:
            if not _nullable(av[-1], c):
                return False
        elif op is c.BRANCH:
            if not any(_nullable(alt, c) for alt in av[1]):
                return False
        else:
            return False
    return True


def _nested_repeat_chars(seq, c):
    """Union of the characters of every unbounded repeat nested in `seq`."""
    out = frozenset()
    for op, av in seq:
        if _unbounded(op, av, c):
            out = out | _all_chars(av[2], c)
        elif op in _repeats(c):
            out = out | _nested_repeat_chars(av[2], c)
        elif op is c.SUBPATTERN:
            out = out | _nested_repeat_chars(av[-1], c)
        elif op is c.BRANCH:
            for alt in av[1]:
                out = out | _nested_repeat_chars(alt, c)
    return out


def _ambiguous_branch(seq, c) -> bool:
    """Any alternation in `seq` whose branches are empty or can start alike."""
    for op, av in seq:
        if op is c.BRANCH:
            firsts = [_first_chars(alt, c) for alt in av[1]]
            if any(f is None or not f for f in firsts):
                return True
            seen = frozenset()
            for f in firsts:
                if seen & f:
                    return True
                seen = seen | f
            if any(_ambiguous_branch(alt, c) for alt in av[1]):
                return True
        elif op is c.SUBPATTERN and _ambiguous_branch(av[-1], c):
            return True
        elif op in _repeats(c) and _ambiguous_branch(av[2], c):
            return True
    return False


def _adjacent_repeats(seq, c) -> str | None:
    """Two unbounded repeats in a row over overlapping characters (\\d+\\d+,
    .*.*) take quadratic time on a long cell that fails."""
    previous = None
    for op, av in seq:
        if _unbounded(op, av, c):
            chars = _all_chars(av[2], c)
            start = _first_chars(av[2], c)
            if previous is not None and previous & (chars if start is None else start):
                return ("could take quadratic time (two repeats in a row that match the same characters, like "
                        "\\d+\\d*); merge them")
            previous = chars
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        elif op in _repeats(c) and _nullable([(op, av)], c):
            continue  # an optional item between them does not separate them
        else:
            previous = None
    return None


# --- Table Schemas --------------------------------------------------------------

def check_schema(relative: str, raw, tables: set[str] | None = None, text: str = "") -> list[Finding]:
    """Findings about one Table Schema (parsed JSON). `tables`: the package's
    resource names, for foreign keys and cross-table rules."""
    loc = Located(relative, text)
    if not isinstance(raw, dict):
        loc.add((), "a Table Schema must be a JSON object")
        return loc.found
    check_texts(loc, (), raw)
    profile = raw.get("$schema")
    if profile is not None and unknown_profile(profile):
        loc.add(("$schema",), "is not a known Table Schema profile; profiles are never fetched", profile)
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields:
        loc.add(("fields",), "must be a non-empty list of fields")
        return loc.found
    names = []
    for i, field in enumerate(fields):
        if not isinstance(field, dict):
            loc.add(("fields", i), "each field must be a JSON object")
            continue
        names.append(field.get("name"))
        _check_field(loc, i, field, tables)
    good = [n for n in names if isinstance(n, str)]
    for n in sorted({n for n in good if good.count(n) > 1}):
        loc.add(("fields", "name"), f"field name {n!r} is used twice", n)
    known = set(good)
    missing = raw.get("missingValues", [""])
    if missing != [""]:
        loc.add(("missingValues",), 'must be [""]: an empty cell means missing, and nothing else does', missing)
    pk = raw.get("primaryKey")
    pk_fields = [pk] if isinstance(pk, str) else pk
    if not isinstance(pk_fields, list) or not pk_fields or not all(isinstance(k, str) for k in pk_fields):
        loc.add(("primaryKey",), "must name the key field (a string) or fields (a list of strings)", pk)
    else:
        for k in pk_fields:
            if k not in known:
                loc.add(("primaryKey",), f"names {k!r}, which is not a field", k)
    fks = raw.get("foreignKeys", [])
    if not isinstance(fks, list):
        loc.add(("foreignKeys",), "must be a list", fks)
        fks = []
    for i, fk in enumerate(fks):
        _check_foreign_key(loc, i, fk, known, tables)
    ext = raw.get("sifc", {})
    if not isinstance(ext, dict):
        loc.add(("sifc",), "must be an object", ext)
        ext = {}
    rules = ext.get("rules", [])
    if not isinstance(rules, list):
        loc.add(("sifc", "rules"), "must be a list", rules)
        rules = []
    by_name = {f["name"]: f for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)}
    for i, rule in enumerate(rules):
        _check_rule(loc, i, rule, known, tables, by_name)
    return loc.found


def _check_field(loc: Located, i: int, field: dict, tables) -> None:
    name = field.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        loc.add(("fields", i, "name"), "a field name must be lower-case letters, digits and _ (starting with a letter)",
                name)
    check_texts(loc, ("fields", i), field)
    ftype = field.get("type", "string")
    if not named_in(ftype, TYPES):
        loc.add(("fields", i, "type"), f"must be one of {', '.join(sorted(TYPES))}", ftype)
        return
    unknown = set(field) - FIELD_KEYS
    if unknown:
        loc.add(("fields", i, sorted(unknown)[0]), f"unknown field property {sorted(unknown)[0]!r}", None)
    constraints = field.get("constraints", {})
    if not isinstance(constraints, dict):
        loc.add(("fields", i, "constraints"), "must be an object", constraints)
        constraints = {}
    for key, value in constraints.items():
        expected = CONSTRAINT_TYPES.get(key)
        if expected is None:
            loc.add(("fields", i, "constraints", key), f"unknown constraint {key!r}", None)
        elif isinstance(value, bool) and expected is not bool or not isinstance(value, expected):
            loc.add(("fields", i, "constraints", key), f"has the wrong type for {key}", value)
    if ftype in ("string", "list") and not isinstance(constraints.get("maxLength"), int):
        loc.add(("fields", i, "constraints", "maxLength"),
                "every text field needs a maxLength, so no cell can grow without bound", None)
    for key in ("minLength", "maxLength"):
        if isinstance(constraints.get(key), int) and not isinstance(constraints[key], bool) and constraints[key] < 0:
            loc.add(("fields", i, "constraints", key), "must not be negative", constraints[key])
    enum = constraints.get("enum")
    if isinstance(enum, list) and (not enum or not all(isinstance(v, str) for v in enum)):
        loc.add(("fields", i, "constraints", "enum"), "must be a non-empty list of strings", enum)
    if "pattern" in constraints and isinstance(constraints["pattern"], str):
        problem = pattern_problem(constraints["pattern"])
        if problem:
            loc.add(("fields", i, "constraints", "pattern"), f"the pattern {problem}", constraints["pattern"])
    for key in ("minimum", "maximum"):
        if key in constraints:
            bound = constraints[key]
            if ftype == "date":
                from datetime import date
                try:
                    date.fromisoformat(bound) if isinstance(bound, str) and len(bound) == 10 else date.fromisoformat("")
                except (ValueError, TypeError):
                    loc.add(("fields", i, "constraints", key), "a date bound must be written YYYY-MM-DD", bound)
            elif ftype in ("integer", "number") and (isinstance(bound, (bool, str))):
                loc.add(("fields", i, "constraints", key), "must be a number", bound)
            elif ftype not in ("integer", "number", "date"):
                loc.add(("fields", i, "constraints", key), f"does not apply to a {ftype} field", bound)
    if "delimiter" in field and (not isinstance(field["delimiter"], str) or len(field["delimiter"]) != 1
                                 or field["delimiter"] in '"\n\r,'):
        loc.add(("fields", i, "delimiter"), "must be one character other than a comma, quote or line break",
                field["delimiter"])
    for key in ("trueValues", "falseValues"):
        if key in field and (not isinstance(field[key], list) or not all(isinstance(v, str) and v for v in field[key])):
            loc.add(("fields", i, key), "must be a list of non-empty strings", field[key])
    ext = field.get("sifc", {})
    if not isinstance(ext, dict):
        loc.add(("fields", i, "sifc"), "must be an object", ext)
        return
    for key in sorted(set(ext) - EXTENSION_KEYS):
        loc.add(("fields", i, "sifc", key), f"unknown sifc property {key!r} (known: {', '.join(sorted(EXTENSION_KEYS))})",
                None)
    if "script" in ext and not named_in(ext["script"], SCRIPTS):
        loc.add(("fields", i, "sifc", "script"), f"must be one of {', '.join(sorted(SCRIPTS))}", ext["script"])
    if "planned" in ext and not isinstance(ext["planned"], bool):
        loc.add(("fields", i, "sifc", "planned"), "must be true or false", ext["planned"])
    if "itemPattern" in ext:
        problem = pattern_problem(ext["itemPattern"])
        if problem:
            loc.add(("fields", i, "sifc", "itemPattern"), f"the pattern {problem}", ext["itemPattern"])
    if "references" in ext:
        ref = ext["references"]
        if not isinstance(ref, dict) or not isinstance(ref.get("resource"), str) or not isinstance(ref.get("field"), str):
            loc.add(("fields", i, "sifc", "references"), 'must be {"resource": …, "field": …}', ref)
        elif tables is not None and ref["resource"] not in tables:
            loc.add(("fields", i, "sifc", "references"), f"names the table {ref['resource']!r}, which the package "
                                                         "does not have", ref["resource"])
        if ftype != "list":
            loc.add(("fields", i, "sifc", "references"), "applies to list fields only (use foreignKeys)", None)


def _check_foreign_key(loc: Located, i: int, fk, known: set, tables) -> None:
    if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
        loc.add(("foreignKeys", i), 'must be {"fields": …, "reference": {"resource": …, "fields": …}}', fk)
        return
    fields = [fk.get("fields")] if isinstance(fk.get("fields"), str) else fk.get("fields")
    ref = fk["reference"]
    ref_fields = [ref.get("fields")] if isinstance(ref.get("fields"), str) else ref.get("fields")
    if not isinstance(fields, list) or not isinstance(ref_fields, list) or len(fields) != 1 or len(ref_fields) != 1 \
            or not all(isinstance(f, str) for f in fields + ref_fields):
        loc.add(("foreignKeys", i, "fields"), "must name one field on each side (a string or a one-item list)",
                fk.get("fields"))
        return
    if fields[0] not in known:
        loc.add(("foreignKeys", i, "fields"), f"names {fields[0]!r}, which is not a field", fields[0])
    resource = ref.get("resource", "")
    if not isinstance(resource, str) or (tables is not None and resource and resource not in tables):
        loc.add(("foreignKeys", i, "reference", "resource"), "names a table the package does not have", resource)


def _check_rule(loc: Located, i: int, rule, known: set, tables, by_name: dict | None = None) -> None:
    if not isinstance(rule, dict) or not named_in(rule.get("rule"), RULE_KEYS):
        kind = rule.get("rule") if isinstance(rule, dict) else rule
        loc.add(("sifc", "rules", i, "rule"), f"unknown rule; known: {', '.join(sorted(RULE_KEYS))}", kind)
        return
    _check_rule_extras(loc, i, rule, known, tables, by_name or {})
    field_keys, other_keys = RULE_KEYS[rule["rule"]]
    for key in sorted(field_keys | other_keys):
        if key not in rule:
            loc.add(("sifc", "rules", i, "rule"), f"the {rule['rule']} rule needs {key!r}", rule["rule"])
    for key in sorted(field_keys & set(rule)):
        value = rule[key]
        names = [value] if isinstance(value, str) else value
        if key in ONE_FIELD and not isinstance(value, str):  # the builders read these as one name
            loc.add(("sifc", "rules", i, key), f"must name one field (a string) in the {rule['rule']} rule", value)
            continue
        if key not in ONE_FIELD and isinstance(value, str):  # … and these as a list
            loc.add(("sifc", "rules", i, key), f'must be a list of fields in the {rule["rule"]} rule '
                                               f'(write ["{value}"] for one)', value)
            continue
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            loc.add(("sifc", "rules", i, key), "must name a field (or a list of fields)", value)
            continue
        for n in names:
            if n not in known:
                loc.add(("sifc", "rules", i, key), f"names {n!r}, which is not a field of this table", n)
    if "participants" in rule and tables is not None and not named_in(rule["participants"], tables):
        loc.add(("sifc", "rules", i, "participants"), "names a table the package does not have", rule["participants"])


def _check_rule_extras(loc: Located, i: int, rule: dict, known: set, tables, by_name: dict) -> None:
    """The parts of a rule beyond the fields it names: conditions (`if`,
    `unless`), words (`why`, `label`), the `bounds` paths of not-before, the
    list field and values of some-item."""
    from .rules import parse_hop
    where = ("sifc", "rules", i)
    for key in CONDITION_KEYS:
        if key not in rule:
            continue
        cond = rule[key]
        if not isinstance(cond, dict) or not isinstance(cond.get("field"), str) or not isinstance(cond.get("in"), list) \
                or not cond["in"] or not all(isinstance(v, str) for v in cond["in"]):
            loc.add(where + (key,), 'must be {"field": a field of this table, "in": [one or more values]}', cond)
            continue
        if cond["field"] not in known:
            loc.add(where + (key, "field"), f"names {cond['field']!r}, which is not a field of this table", cond["field"])
            continue
        constraints = by_name.get(cond["field"], {}).get("constraints")
        enum = constraints.get("enum") if isinstance(constraints, dict) else None
        if isinstance(enum, list):
            for v in cond["in"]:
                if v not in enum:
                    loc.add(where + (key, "in"), f"{v!r} is not a value {cond['field']} can have "
                                                 f"(its enum: {', '.join(map(str, enum))})", v)
    for key in ("why", "label"):
        if key in rule and (not isinstance(rule[key], str) or not rule[key].strip()):
            loc.add(where + (key,), "must be text (a JSON string)", rule[key])
    kind = rule["rule"]
    field = rule.get("field") if isinstance(rule.get("field"), str) else None
    ftype = (by_name.get(field) or {}).get("type", "string") if field in known else None
    if kind == "exactly-one" and isinstance(rule.get("fields"), list) and len(rule["fields"]) < 2:
        loc.add(where + ("fields",), "must name at least two fields", rule["fields"])
    if kind == "not-before":
        if ftype is not None and ftype != "date":
            loc.add(where + ("field",), f"names {field!r}, a {ftype} field; not-before compares dates", field)
        paths = rule.get("bounds")
        if "bounds" in rule and (not isinstance(paths, list) or not paths):
            loc.add(where + ("bounds",), "must be a non-empty list of paths, each [a field of this table, "
                                         "\"table[key].column\", …]", paths)
            paths = []
        for j, path in enumerate(paths or ()):
            if not isinstance(path, list) or len(path) < 2 or not all(isinstance(h, str) for h in path):
                loc.add(where + ("bounds", j), "a path is [a field of this table, \"table[key].column\", …]", path)
                continue
            if path[0] not in known:
                loc.add(where + ("bounds", j, 0), f"names {path[0]!r}, which is not a field of this table", path[0])
            for k, hop in enumerate(path[1:], 1):
                parsed = parse_hop(hop)
                if parsed is None:
                    loc.add(where + ("bounds", j, k), "must be written table[key].column, for example "
                                                      "measures[measure_id].event_id", hop)
                elif tables is not None and parsed[0] not in tables:
                    loc.add(where + ("bounds", j, k), f"names the table {parsed[0]!r}, which the package does "
                                                      "not have", hop)
    if kind == "some-item":
        ext = by_name[field].get("sifc") if ftype is not None else None
        if ftype is not None and (ftype != "list" or not isinstance(ext, dict)
                                  or not isinstance(ext.get("references"), dict)):
            loc.add(where + ("field",), f"names {field!r}, which is not a list field with sifc.references; some-item "
                                        "looks its items up in the table they reference", field)
        if "column" in rule and not isinstance(rule["column"], str):
            loc.add(where + ("column",), "must name a column of the referenced table", rule["column"])
        if "in" in rule and (not isinstance(rule["in"], list) or not rule["in"]
                             or not all(isinstance(v, str) for v in rule["in"])):
            loc.add(where + ("in",), "must be a non-empty list of values", rule["in"])


def check_rule_targets(schemas: dict[str, tuple[str, dict, str]]) -> list[Finding]:
    """Rules that name columns of other tables (not-before's paths,
    some-item's column) checked against those tables' schemas. `schemas`:
    resource name -> (schema file, parsed schema, its text)."""
    from .rules import parse_hop
    fields = {name: {f.get("name"): f for f in raw.get("fields", []) if isinstance(f, dict)}
              for name, (_, raw, _) in schemas.items() if isinstance(raw, dict) and isinstance(raw.get("fields"), list)}
    found = []
    for name, (relative, raw, text) in schemas.items():
        if name not in fields:
            continue
        loc = Located(relative, text)
        rules = (raw.get("sifc") or {}).get("rules") if isinstance(raw.get("sifc"), dict) else None
        for i, rule in enumerate(rules if isinstance(rules, list) else ()):
            if not isinstance(rule, dict):
                continue
            where = ("sifc", "rules", i)
            if rule.get("rule") == "not-before" and isinstance(rule.get("bounds"), list):
                for j, path in enumerate(rule["bounds"]):
                    hops = path[1:] if isinstance(path, list) else []
                    for k, hop in enumerate(hops, 1):
                        parsed = parse_hop(hop)
                        if parsed is None or parsed[0] not in fields:
                            continue
                        table, key, column = parsed
                        for col in (key, column):
                            if col not in fields[table]:
                                loc.add(where + ("bounds", j, k), f"names {table}.{col}, which {table} does not have",
                                        hop)
                        if k == len(hops) and column in fields[table] and fields[table][column].get("type") != "date":
                            loc.add(where + ("bounds", j, k), f"ends at {table}.{column}, which is not a date field",
                                    hop)
            if rule.get("rule") == "some-item" and isinstance(rule.get("field"), str) \
                    and isinstance(rule.get("column"), str):
                ext = fields[name].get(rule["field"], {}).get("sifc")
                ref = ext.get("references") if isinstance(ext, dict) else None
                target = ref.get("resource") if isinstance(ref, dict) else None
                if target in fields and rule["column"] not in fields[target]:
                    loc.add(where + ("column",), f"names {target}.{rule['column']}, which {target} does not have",
                            rule["column"])
        found += loc.found
    return found


# --- the descriptor -----------------------------------------------------------

def check_descriptor(root: Path, descriptor: dict, text: str = "", allow_remote: bool = False) -> list[Finding]:
    """Findings about datapackage.json itself: its resources, their files and
    schemas, profiles; then every schema it names."""
    loc = Located(DESCRIPTOR, text)
    if has_nul(descriptor):
        loc.add((), "contains a NUL character")
        return loc.found
    if depth(descriptor):
        loc.add((), f"nests more than {MAX_DEPTH} levels deep")
        return loc.found
    check_texts(loc, (), descriptor)
    for key in ("$schema", "profile"):
        if key in descriptor and unknown_profile(descriptor[key]):
            loc.add((key,), "is not a known Data Package profile; profiles are never fetched", descriptor[key])
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        loc.add(("resources",), "must be a non-empty list of resources")
        return loc.found
    names, files, schemas = [], set(), []
    with_stats = [isinstance(r, dict) and ("bytes" in r or "hash" in r) for r in resources]
    for i, res in enumerate(resources):
        if not isinstance(res, dict):
            loc.add(("resources", i), "each resource must be a JSON object")
            continue
        name = res.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            loc.add(("resources", i, "name"), "every resource needs a name of lower-case letters, digits and _", name)
        else:
            names.append(name)
        path = res.get("path")
        if isinstance(path, list):
            loc.add(("resources", i, "path"), "multi-file resources are not supported", path)
        elif not (allow_remote and isinstance(path, str) and "://" in path):
            problem = path_problem(path)
            if problem:
                loc.add(("resources", i, "path"), f"the path {problem}", path)
            elif not path.endswith(".csv") or PurePosixPath(path).parts[0] != "data":
                loc.add(("resources", i, "path"), "a table's file is a .csv under data/", path)
            else:
                files.add(path)
                _check_file(loc, root, path, ("resources", i, "path"))
        encoding = res.get("encoding", "utf-8")
        if not isinstance(encoding, str) or encoding.lower().replace("-", "") != "utf8":
            loc.add(("resources", i, "encoding"), "must be utf-8 (the files are UTF-8; another encoding would be "
                                                  "read wrongly)", encoding)
        check_texts(loc, ("resources", i), res)
        for key in ("$schema", "profile"):
            if key in res and unknown_profile(res[key]):
                loc.add(("resources", i, key), "is not a known profile; profiles are never fetched", res[key])
        schema = res.get("schema")
        problem = path_problem(schema) if isinstance(schema, str) else "must be the path of a Table Schema file"
        if problem:
            loc.add(("resources", i, "schema"), f"the schema {problem}", schema)
        else:
            schemas.append(schema)
            _check_file(loc, root, schema, ("resources", i, "schema"))
        if any(with_stats) and not with_stats[i]:
            loc.add(("resources", i), "carries no bytes/hash while other resources do: a descriptor records "
                                      "them for every resource (a release descriptor, as `sifc build` writes it) "
                                      "or for none (the repository's datapackage.json); deleting them from one "
                                      "resource does not switch tamper detection off. Restore them with "
                                      "`sifc refresh --force`, or delete them from every resource",
                    name)
    for n in sorted({n for n in names if names.count(n) > 1}):
        loc.add(("resources", "name"), f"two resources are named {n!r}", n)
    data_dir = Path(root) / "data"
    if data_dir.is_dir():
        for csv in sorted(p.name for p in data_dir.iterdir() if p.suffix == ".csv"):
            if f"data/{csv}" not in files:
                loc.add(("resources",), f"data/{csv} is not a resource of the package; add it or remove the file",
                        f"data/{csv}")
    found = list(loc.found)
    if not found:
        fields_of, read = {}, {}
        for res in resources:
            sloc = Located(res["schema"])
            raw = read_json(root, res["schema"], sloc)
            found += sloc.found
            if raw is not None:
                problems = check_schema(res["schema"], raw, set(names), "\n".join(sloc.lines))
                found += [p for p in problems if p not in found]
                read[res["name"]] = (res["schema"], raw, "\n".join(sloc.lines))
                # a schema file may hold any JSON (a number, a list): check_schema
                # reported that; only an object's string field names are collected
                if isinstance(raw, dict) and isinstance(raw.get("fields"), list):
                    fields_of[res["name"]] = {f.get("name") for f in raw["fields"]
                                              if isinstance(f, dict) and isinstance(f.get("name"), str)}
        if not found:
            found += check_rule_targets(read)
        if not found:
            found += check_suites(root, fields_of)
    return found


SEVERITIES = {"critical", "warning", "info"}


def check_suites(root: Path, fields_of: dict[str, set]) -> list[Finding]:
    """The expectation suites in validation/: readable, well-formed, about
    columns that exist, with regexes as safe as a schema's."""
    found = []
    counts = Path(root) / "validation" / "released_counts.json"
    if counts.exists() or counts.is_symlink():
        cloc = Located("validation/released_counts.json")
        data = read_json(root, "validation/released_counts.json", cloc)
        found += cloc.found
        if data is not None and (not isinstance(data, dict) or not isinstance(data.get("tables"), dict)
                                 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                            for v in data["tables"].values())):
            cloc.add(("tables",), 'must be {"version": …, "tables": {table: row count ≥ 0}}')
            found += cloc.found
    for table, fields in fields_of.items():
        relative = f"validation/{table}.json"
        if not ((Path(root) / relative).exists() or (Path(root) / relative).is_symlink()):
            continue
        sloc = Located(relative)
        suite = read_json(root, relative, sloc)
        if suite is None:
            found += sloc.found
            continue
        entries = suite.get("expectations") if isinstance(suite, dict) else None
        if not isinstance(entries, list):
            sloc.add(("expectations",), "a suite is an object with an 'expectations' list")
            found += sloc.found
            continue
        for i, e in enumerate(entries):
            where = ("expectations", i)
            if not isinstance(e, dict) or not isinstance(e.get("type"), str) or not e["type"].startswith("expect_") \
                    or not isinstance(e.get("kwargs", {}), dict):
                sloc.add(where, 'each expectation is {"type": "expect_…", "kwargs": {…}}', e.get("type") if isinstance(e, dict) else e)
                continue
            if not isinstance(e.get("meta", {}), dict):  # suites.py and the GX layer read it as an object
                sloc.add(where + ("meta",), "must be an object", e["meta"])
            kwargs = e.get("kwargs", {})
            for key in ("column", "column_A", "column_B"):
                if key in kwargs and not named_in(kwargs[key], fields):
                    sloc.add(where + ("kwargs", key), f"names the column {kwargs[key]!r}, which {table} does not have",
                             kwargs[key])
            if "column_list" in kwargs:
                cols = kwargs["column_list"] if isinstance(kwargs["column_list"], list) else [kwargs["column_list"]]
                for col in cols:
                    if not named_in(col, fields):
                        sloc.add(where + ("kwargs", "column_list"), f"names a column {table} does not have", col)
            for key in ("regex", "like_pattern"):
                if key in kwargs:
                    problem = pattern_problem(kwargs[key])
                    if problem:
                        sloc.add(where + ("kwargs", key), f"the regex {problem}", kwargs[key])
            if not named_in(e.get("severity", "critical"), SEVERITIES):
                sloc.add(where + ("severity",), f"must be one of {', '.join(sorted(SEVERITIES))}", e.get("severity"))
        found += sloc.found
    return found


def _check_file(loc: Located, root: Path, relative: str, where: tuple) -> None:
    try:
        path = package_file(root, relative)
    except FileNotFoundError:
        loc.add(where, "names a file that does not exist", relative)
        return
    except UnsafeFile as exc:
        loc.add(where, f"is refused: {exc}", relative)
        return
    if not path.is_file():
        loc.add(where, "is not a regular file", relative)
