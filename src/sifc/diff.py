"""`sifc diff OLD [NEW]`: what changed between two versions of the package.

* rows added, removed and changed per table, by primary key, with the
  changed cells;
* schema changes per table: fields added, removed or retyped, constraints
  and rules added, removed or changed, keys changed, each classified as
  tightened, loosened/removed (a *weakening*) or neutral;
* rows deleted and released row counts lowered (weakenings too);
* exact duplicate rows (identical in every cell) on either side.

OLD and NEW are package folders or git revisions of the repository; NEW
defaults to the working tree. With `--check-weakening` the command fails
(exit 1) when a weakening is not recorded in the lines CHANGELOG.md gained
between OLD and NEW.

Every value echoed (names from schemas, cells, keys, revisions) may be
contributed text and goes through `safetext` before it is printed.
"""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .files.package import DESCRIPTOR, PackageError, read_descriptor
from .files.safeio import MAX_JSON_BYTES, UnsafeFile, allow_long_cells, max_file_bytes, path_problem, read_package_file
from .safetext import escape, markdown_cell, markdown_text

#: git's empty tree: diff against it to list everything as added
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
CHANGELOG = "CHANGELOG.md"
COUNTS = "validation/released_counts.json"

#: kinds of change; the first four weaken the package
WEAKENING = ("loosened", "removed", "deleted", "lowered")
NEUTRAL = ("added", "changed")
TIGHTENED = "tightened"


# ---------------------------------------------------------------- rows

@dataclass
class TableDiff:
    table: str
    added: list[tuple] = field(default_factory=list)
    removed: list[tuple] = field(default_factory=list)
    #: key -> [(column, old, new)]
    changed: dict[tuple, list[tuple[str, str, str]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class Duplicate:
    """Rows identical in every cell, in one version of one table."""
    table: str
    side: str  # "old" or "new"
    lines: list[int]
    key: tuple  # the primary key cells (the whole row when there is no key)


@dataclass
class Table:
    header: list[str]
    records: list[list[str]]
    lines: list[int]
    primary_key: list[str]


def _read_table(side: "Side", name: str) -> Table | None:
    """A table as its file holds it, valid or not: `sifc diff` shows what
    changed even in a version that does not validate."""
    if name not in side.tables:
        return None
    path, schema = side.tables[name]
    try:
        data = read_package_file(side.root, path, what="data file")
    except FileNotFoundError:
        raise PackageError(f"{escape(side.label)}: {escape(path)}: file not found") from None
    except (UnsafeFile, OSError) as exc:
        raise PackageError(f"{escape(side.label)}: {escape(path)}: cannot be read ({escape(exc)})") from None
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"{escape(side.label)}: {escape(path)}: not UTF-8 (byte {exc.start}); "
                           "`sifc validate` locates the mistake") from None
    allow_long_cells(len(text))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines, start = [], [], 1
    try:
        for record in reader:
            rows.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise PackageError(f"{escape(side.label)}: {escape(path)}:{reader.line_num}: malformed CSV "
                           f"({escape(exc)}); `sifc validate` locates the mistake") from None
    if not rows:
        return Table([], [], [], [])
    header, records = rows[0], rows[1:]
    width = len(header)
    records = [(r + [""] * width)[:width] if len(r) < width else r for r in records]
    pk = [c for c in _as_list(schema.get("primaryKey")) if isinstance(c, str)]
    return Table(header, records, lines[1:], pk)


def _key_columns(old: Table | None, new: Table | None) -> list[str]:
    """One key for both sides, so that a row is matched with itself: the new
    primary key where both headers have it, else the old one, else the whole row."""
    for t in (new, old):
        if t and t.primary_key and all(c in side.header for side in (old, new) if side for c in t.primary_key):
            return list(t.primary_key)
    return []


def _rows(table: Table | None, key: list[str]) -> dict[tuple, dict[str, str]]:
    if table is None:
        return {}
    rows = {}
    for record in table.records:
        cells = dict(zip(table.header, record))
        rows[tuple(cells[c] for c in key) if key else tuple(record)] = cells
    return rows


def _duplicates(name: str, side: str, table: Table | None) -> list[Duplicate]:
    if table is None:
        return []
    seen: dict[tuple, list[int]] = {}
    for record, line in zip(table.records, table.lines):
        seen.setdefault(tuple(record), []).append(line)
    pk = [table.header.index(c) for c in table.primary_key if c in table.header]
    return [Duplicate(name, side, lines, tuple(record[i] for i in pk) if pk else record)
            for record, lines in seen.items() if len(lines) > 1]


def _diff_rows(name: str, old: Table | None, new: Table | None) -> TableDiff:
    key = _key_columns(old, new)
    before, after = _rows(old, key), _rows(new, key)
    d = TableDiff(name)
    d.added = sorted(k for k in after if k not in before)
    d.removed = sorted(k for k in before if k not in after)
    for k in sorted(set(before) & set(after)):
        cols = list(dict.fromkeys(list(after[k]) + list(before[k])))
        cells = [(c, before[k].get(c, ""), after[k].get(c, "")) for c in cols
                 if before[k].get(c, "") != after[k].get(c, "")]
        if cells:
            d.changed[k] = cells
    return d


def _names(old: "Side", new: "Side") -> list[str]:
    return list(dict.fromkeys(list(new.tables) + list(old.tables)))


# ---------------------------------------------------------------- schema changes

@dataclass
class Change:
    """One difference that matters to what the package promises."""
    table: str  # "" for a package-level file (released_counts.json)
    subject: str  # the field, rule, key or row concerned ("" for the table itself)
    what: str  # "maxLength", "enum", "field", "rule", "row", "type", "released count", …
    kind: str  # tightened, loosened, removed, deleted, lowered, added, changed
    old: object = None
    new: object = None
    #: a CHANGELOG item naming the table and any one of these records the change
    words: tuple[str, ...] = ()
    recorded: bool = False

    @property
    def weakening(self) -> bool:
        return self.kind in WEAKENING

    @property
    def schema(self) -> bool:
        return self.what not in ("row", "released count", "file")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


RAISE_LOOSENS = {"maxLength", "maximum", "exclusiveMaximum", "maxItems"}
LOWER_LOOSENS = {"minLength", "minimum", "exclusiveMinimum", "minItems"}
FLAGS = {"required", "unique"}
#: flags that let more through when true (`sifc.planned`: a date may lie in the future)
LOOSENING_FLAGS = {"planned"}
#: field properties that change how a cell is read, not what it may hold
READING = ("format", "itemType", "delimiter", "trueValues", "falseValues", "groupChar", "decimalChar",
           "bareNumber")
#: field types, each accepting everything the ones before it accept
WIDER_TYPE = {("integer", "number"), ("integer", "string"), ("number", "string"), ("date", "string"),
              ("boolean", "string"), ("list", "string"), ("datetime", "string"), ("year", "string"),
              ("year", "integer"), ("year", "number")}


def _compare_value(what: str, old, new) -> str | None:
    """The kind of change from `old` to `new` for one constraint (None:
    no change). A missing constraint is None."""
    if old == new:
        return None
    if what in FLAGS:
        if bool(old) == bool(new):
            return None
        return TIGHTENED if new else ("loosened" if old is not None and new is not None else "removed")
    if what in LOOSENING_FLAGS:
        return None if bool(old) == bool(new) else ("loosened" if new else TIGHTENED)
    if old is None:
        return TIGHTENED
    if new is None:
        return "removed"
    if what == "enum" and isinstance(old, list) and isinstance(new, list):
        before, after = set(map(_canon, old)), set(map(_canon, new))
        if after - before:
            return "loosened"
        return TIGHTENED if after < before else None
    if what in RAISE_LOOSENS | LOWER_LOOSENS and (
            (_is_number(old) and _is_number(new)) or (isinstance(old, str) and isinstance(new, str))):
        raised = new > old
        return "loosened" if raised == (what in RAISE_LOOSENS) else TIGHTENED
    # a pattern, a script, a reference or anything else we cannot order: any
    # change may let through what was refused before
    return "loosened"


def _canon(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _fields(schema: dict) -> dict[str, dict]:
    out = {}
    for f in _as_list(schema.get("fields")):
        if isinstance(f, dict) and isinstance(f.get("name"), str):
            out.setdefault(f["name"], f)
    return out


def _field_changes(table: str, name: str, old: dict, new: dict) -> list[Change]:
    out = []
    words = (name,)

    def add(what, kind, a, b):
        if kind:
            out.append(Change(table, name, what, kind, a, b, words))

    # a broken schema may hold a list or object as a type: compare its JSON text
    t_old, t_new = (t if isinstance(t, str) else _canon(t)
                    for t in (old.get("type", "string"), new.get("type", "string")))
    if t_old != t_new:
        if t_new == "any" or (t_old, t_new) in WIDER_TYPE:
            kind = "loosened"
        elif t_old == "any" or (t_new, t_old) in WIDER_TYPE:
            kind = TIGHTENED
        else:
            kind = "changed"
        add("type", kind, t_old, t_new)
    for section in ("constraints", "sifc"):
        before, after = _as_dict(old.get(section)), _as_dict(new.get(section))
        for key in dict.fromkeys(list(before) + list(after)):
            add(key, _compare_value(key, before.get(key), after.get(key)), before.get(key), after.get(key))
    for key in READING:
        if old.get(key) != new.get(key):
            add(key, "changed", old.get(key), new.get(key))
    return out


def _rule_name(rule) -> str:
    if isinstance(rule, dict) and isinstance(rule.get("rule"), str):
        return rule["rule"]
    return _canon(rule)


def _foreign_keys(schema: dict) -> dict[str, dict]:
    out = {}
    for fk in _as_list(schema.get("foreignKeys")):
        if isinstance(fk, dict):
            out[_canon({"fields": _as_list(fk.get("fields")),
                        "reference": {"resource": _as_dict(fk.get("reference")).get("resource", ""),
                                      "fields": _as_list(_as_dict(fk.get("reference")).get("fields"))}})] = fk
    return out


def schema_changes(table: str, old: dict | None, new: dict | None) -> list[Change]:
    """The differences between two Table Schemas of one table."""
    if old is None and new is None:
        return []
    if old is None:
        return [Change(table, "", "table", "added", None, table)]
    if new is None:
        return [Change(table, "", "table", "removed", table, None, ("removed", "deleted", "dropped"))]
    out: list[Change] = []
    before, after = _fields(old), _fields(new)
    for name in dict.fromkeys(list(before) + list(after)):
        if name not in after:
            out.append(Change(table, name, "field", "removed", name, None, (name,)))
        elif name not in before:
            required = _as_dict(after[name].get("constraints")).get("required") is True
            out.append(Change(table, name, "field", TIGHTENED if required else "added", None, name, (name,)))
        else:
            out += _field_changes(table, name, before[name], after[name])

    pk_old, pk_new = _as_list(old.get("primaryKey")), _as_list(new.get("primaryKey"))
    if pk_old != pk_new:
        cols_old, cols_new = set(map(_canon, pk_old)), set(map(_canon, pk_new))
        if not pk_new:
            kind = "removed"
        elif not pk_old or cols_new < cols_old:
            kind = TIGHTENED
        elif cols_new == cols_old:
            kind = None  # the same columns in another order
        else:  # unique on other or more columns: what was refused as a duplicate may pass
            kind = "loosened"
        if kind:
            out.append(Change(table, "primaryKey", "primaryKey", kind, pk_old, pk_new,
                              ("primaryKey", "primary key", *map(str, pk_old))))
    fk_old, fk_new = _foreign_keys(old), _foreign_keys(new)
    for key, fk in fk_old.items():
        if key not in fk_new:
            fields = [str(f) for f in _as_list(fk.get("fields"))]
            out.append(Change(table, ",".join(fields), "foreignKey", "removed", fk, None,
                              ("foreignKeys", "foreign key", *fields)))
    for key, fk in fk_new.items():
        if key not in fk_old:
            fields = [str(f) for f in _as_list(fk.get("fields"))]
            out.append(Change(table, ",".join(fields), "foreignKey", TIGHTENED, None, fk, tuple(fields)))

    mv_old, mv_new = old.get("missingValues", [""]), new.get("missingValues", [""])
    if mv_old != mv_new and isinstance(mv_old, list) and isinstance(mv_new, list):
        gained = set(map(_canon, mv_new)) - set(map(_canon, mv_old))
        kind = "loosened" if gained else (TIGHTENED if set(map(_canon, mv_new)) < set(map(_canon, mv_old)) else None)
        if kind:  # a value that becomes "missing" escapes the required check
            out.append(Change(table, "missingValues", "missingValues", kind, mv_old, mv_new, ("missingValues",)))

    s_old, s_new = _as_dict(old.get("sifc")), _as_dict(new.get("sifc"))
    rules_old = Counter(_canon(r) for r in _as_list(s_old.get("rules")))
    rules_new = Counter(_canon(r) for r in _as_list(s_new.get("rules")))
    for rule in (rules_old - rules_new):
        name = _rule_name(json.loads(rule))
        out.append(Change(table, name, "rule", "removed", json.loads(rule), None, (name,)))
    for rule in (rules_new - rules_old):
        name = _rule_name(json.loads(rule))
        out.append(Change(table, name, "rule", TIGHTENED, None, json.loads(rule), (name,)))
    for key in dict.fromkeys(list(s_old) + list(s_new)):
        if key != "rules":
            kind = _compare_value(key, s_old.get(key), s_new.get(key))
            if kind:
                out.append(Change(table, key, key, kind, s_old.get(key), s_new.get(key), (key,)))
    return out


# ---------------------------------------------------------------- the two sides

@dataclass
class Side:
    """One version of the package: its tables (data path and Table Schema),
    its CHANGELOG.md text and its released counts."""
    label: str
    root: Path | None
    #: name -> (data file path, Table Schema as JSON)
    tables: dict[str, tuple[str, dict]] = field(default_factory=dict)
    changelog: str = ""
    counts: dict | None = None  # released_counts.json "tables", None when absent

    def schema(self, name: str) -> dict | None:
        return self.tables[name][1] if name in self.tables else None


def read_tables(path: Path, label: str) -> tuple[Path, dict[str, tuple[str, dict]]]:
    """The resources of a package folder, read without judging them (a
    version older than today's definition rules still compares), but never
    outside the package: paths are checked and links refused."""
    root, descriptor_path, descriptor, _ = read_descriptor(path)
    where = f"{escape(label)}: {DESCRIPTOR}"
    resources = descriptor.get("resources")
    if not isinstance(resources, list):
        raise PackageError(f"{where}: has no list of resources")
    tables = {}
    for i, res in enumerate(resources):
        name = res.get("name") if isinstance(res, dict) else None
        if not isinstance(name, str) or not name:
            raise PackageError(f"{where}: resources[{i}] has no name")
        data = res.get("path")
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        problem = path_problem(data)
        if problem:
            raise PackageError(f"{where}: resource {escape(name)!s}: path {escape(data)} {problem}; "
                               "sifc diff compares local files inside the package only")
        schema = res.get("schema")
        if isinstance(schema, str):
            try:
                text = read_package_file(root, schema, limit=MAX_JSON_BYTES, what="schema")
                schema = json.loads(text.decode("utf-8"))
            except FileNotFoundError:
                raise PackageError(f"{escape(label)}: {escape(schema)}: file not found") from None
            except (UnsafeFile, OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                raise PackageError(f"{escape(label)}: {escape(schema)}: cannot be read as JSON ({escape(exc)})") \
                    from None
        if not isinstance(schema, dict):
            raise PackageError(f"{where}: resource {escape(name)}: its schema is not a JSON object or file")
        tables.setdefault(name, (data, schema))
    return root, tables


def check_spec(spec: str) -> None:
    """A revision or folder given on the command line: never an option."""
    if not isinstance(spec, str) or not spec:
        raise PackageError("an empty revision or folder was given")
    if spec.startswith("-"):
        raise PackageError(f"{escape(spec)!s}: a revision or folder cannot start with '-' "
                           "(write ./NAME for a folder)")
    if "\x00" in spec or "\n" in spec:
        raise PackageError(f"{escape(spec)}: not a revision or folder name")


def _git(repo: Path, args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True)
    except FileNotFoundError:
        raise PackageError("git is not installed: give two package folders instead of revisions") from None


def _wanted(path: str) -> bool:
    return path in (DESCRIPTOR, CHANGELOG, COUNTS) or path.startswith(("data/", "schemas/"))


def _checkout(rev: str, repo: Path, dest: Path) -> bool:
    """Write the package files of a git revision into `dest`; False if the
    revision has no datapackage.json. The revision is resolved first, with
    --end-of-options, so it can never be read as an option of git."""
    check_spec(rev)
    found = _git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{tree}"])
    if found.returncode != 0:
        raise PackageError(f"{escape(rev)}: neither a folder nor a revision of the git repository at "
                           f"{escape(repo)}; give a package folder, a branch, a tag or a commit")
    tree = found.stdout.decode("ascii", "replace").strip()
    if not re.fullmatch(r"[0-9a-f]{40,64}", tree):
        raise PackageError(f"{escape(rev)}: git gave an unexpected answer ({escape(tree)})")
    listing = _git(repo, ["ls-tree", "-r", "-z", "-l", "--end-of-options", tree])
    if listing.returncode != 0:
        raise PackageError(f"{escape(rev)}: cannot list its files "
                           f"({escape(listing.stderr.decode('utf-8', 'replace').strip())})")
    entries = []
    for item in listing.stdout.split(b"\0"):
        if not item:
            continue
        meta, _, raw_path = item.partition(b"\t")
        mode, kind, oid, size = meta.split()
        path = raw_path.decode("utf-8", "surrogateescape")
        # regular files only: a link or a submodule is left out, as if missing
        if kind != b"blob" or mode not in (b"100644", b"100755") or not _wanted(path) or path_problem(path):
            continue
        limit = MAX_JSON_BYTES if path.endswith(".json") or path == CHANGELOG else max_file_bytes()
        if int(size) > limit:
            raise PackageError(f"{escape(rev)}:{escape(path)} has {int(size):,} bytes, more than the limit "
                               f"of {limit:,}")
        entries.append((path, oid.decode("ascii")))
    if not any(p == DESCRIPTOR for p, _ in entries):
        for p, oid in entries:  # the changelog may be there without a package
            if p == CHANGELOG:
                _write_blobs(repo, dest, [(p, oid)])
        return False
    _write_blobs(repo, dest, entries)
    return True


def _write_blobs(repo: Path, dest: Path, entries: list[tuple[str, str]]) -> None:
    batch = _git(repo, ["cat-file", "--batch"], "".join(oid + "\n" for _, oid in entries).encode("ascii"))
    if batch.returncode != 0:
        raise PackageError(f"git cat-file failed ({escape(batch.stderr.decode('utf-8', 'replace').strip())})")
    out, pos = batch.stdout, 0
    for path, oid in entries:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) != 3 or header[0].decode("ascii", "replace") != oid or header[1] != b"blob":
            raise PackageError(f"git cat-file: unexpected answer for {escape(path)}")
        size = int(header[2])
        blob = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
        target = dest.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)


def _read_optional(root: Path | None, relative: str, label: str, limit: int) -> bytes | None:
    if root is None:
        return None
    try:
        return read_package_file(root, relative, limit=limit)
    except FileNotFoundError:
        return None
    except (UnsafeFile, OSError) as exc:
        raise PackageError(f"{escape(label)}: {relative}: cannot be read ({escape(exc)})") from None


def _counts(data: bytes | None, label: str) -> dict | None:
    if data is None:
        return None
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PackageError(f"{escape(label)}: {COUNTS}: not readable JSON ({escape(exc)}); "
                           "`sifc validate` locates the mistake") from None
    tables = parsed.get("tables") if isinstance(parsed, dict) else None
    if not isinstance(tables, dict):
        raise PackageError(f'{escape(label)}: {COUNTS}: must be {{"version": …, "tables": {{table: row count}}}}')
    return tables


def open_side(spec: str, repo: Path, tmp: Path) -> Side:
    """A version of the package: a folder (or its datapackage.json), or a git
    revision of `repo` written out into `tmp`."""
    check_spec(spec)
    path = Path(spec)
    if path.is_dir() or path.name == DESCRIPTOR:
        root, tables = read_tables(path, spec)
    elif spec == EMPTY_TREE:
        root, tables = None, {}
    else:
        root, tables = tmp, {}
        if _checkout(spec, repo, tmp):
            _, tables = read_tables(tmp, spec)
    side = Side(spec, root, tables)
    text = _read_optional(root, CHANGELOG, spec, MAX_JSON_BYTES)
    side.changelog = text.decode("utf-8", "replace") if text is not None else ""
    side.counts = _counts(_read_optional(root, COUNTS, spec, MAX_JSON_BYTES), spec)
    return side


# ---------------------------------------------------------------- the changelog

LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s|^\s*#")
COUNT_ROW = re.compile(r"^\|\s*(\S+?)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*$")


def added_items(old_text: str, new_text: str) -> list[str]:
    """The CHANGELOG text NEW gained over OLD, as items: consecutive added
    lines form one item, split at blank lines, list items and headings; each
    table row is an item of its own. A line is added when NEW has it more
    often than OLD (so a moved line is not new)."""
    budget = Counter(old_text.splitlines())
    items: list[list[str]] = []
    previous_added = False
    for line in new_text.splitlines():
        if budget[line] > 0:
            budget[line] -= 1
            previous_added = False
            continue
        if not line.strip():
            previous_added = False
            continue
        starts = not previous_added or LIST_ITEM.match(line) or line.lstrip().startswith("|") \
            or (items and items[-1][-1].lstrip().startswith("|"))
        if starts:
            items.append([line])
        else:
            items[-1].append(line)
        previous_added = True
    return [" ".join(i) for i in items]


def _mentions(text: str, word: str) -> bool:
    if not word:
        return False
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text, re.I) is not None


def mark_recorded(changes: list[Change], items: list[str]) -> None:
    """A weakening is recorded when one added CHANGELOG item names its table
    and one of its words (the field, the rule, …); deleted rows are also
    recorded by a release-style counts row `| table | a | m | d |` with d at
    least the number of rows deleted."""
    deleted_counted: Counter = Counter()
    for item in items:
        m = COUNT_ROW.match(item)
        if m:
            deleted_counted[m.group(1)] += int(m.group(4))
    deleted_rows = Counter(c.table for c in changes if c.what == "row")
    prose = [item for item in items if not COUNT_ROW.match(item)]
    about: dict[str, list[str]] = {}  # the items naming a table, found once per table
    for c in changes:
        if not c.weakening:
            continue
        if c.what in ("row", "released count") and deleted_counted[c.table] and \
                deleted_counted[c.table] >= deleted_rows[c.table]:
            c.recorded = True
            continue
        if c.table not in about:
            about[c.table] = [item for item in prose if not c.table or _mentions(item, c.table)]
        c.recorded = any(_mentions(item, w) for item in about[c.table] for w in c.words)


# ---------------------------------------------------------------- the report

@dataclass
class Report:
    old: str
    new: str
    tables: list[TableDiff]
    changes: list[Change]
    duplicates: list[Duplicate]

    @property
    def weakenings(self) -> list[Change]:
        return [c for c in self.changes if c.weakening]

    @property
    def unrecorded(self) -> list[Change]:
        return [c for c in self.weakenings if not c.recorded]


def compare_sides(old: Side, new: Side) -> Report:
    changes: list[Change] = []
    tables: list[TableDiff] = []
    duplicates: list[Duplicate] = []
    for name in _names(old, new):
        changes += schema_changes(name, old.schema(name), new.schema(name))
        t_old, t_new = _read_table(old, name), _read_table(new, name)
        d = _diff_rows(name, t_old, t_new)
        tables.append(d)
        if t_new is not None:  # a removed table is one weakening, not one per row
            changes += [Change(name, "/".join(k), "row", "deleted", k, None, ("deleted", "removed", "/".join(k)))
                        for k in d.removed]
        duplicates += _duplicates(name, "old", t_old) + _duplicates(name, "new", t_new)
    if old.counts is not None:
        if new.counts is None:
            changes.append(Change("", COUNTS, "file", "removed", COUNTS, None, ("released_counts",)))
        else:
            for table, count in old.counts.items():
                after = new.counts.get(table)
                if after is None:
                    changes.append(Change(table, "released_counts", "released count", "removed", count, None,
                                          ("released_counts", "deleted", "removed")))
                elif _is_number(count) and _is_number(after) and after < count:
                    changes.append(Change(table, "released_counts", "released count", "lowered", count, after,
                                          ("released_counts", "deleted", "removed")))
    mark_recorded(changes, added_items(old.changelog, new.changelog))
    return Report(old.label, new.label, tables, changes, duplicates)


def compare(old: str, new: str | None = None, repo: Path | str | None = None) -> Report:
    """Compare two versions; `new` defaults to the working tree (the package
    folder of `repo`, or of this checkout)."""
    from .files.package import default_root
    check_spec(old)
    if new is not None:
        check_spec(new)
    def is_folder(spec):
        return Path(spec).is_dir() or Path(spec).name == DESCRIPTOR
    if repo:
        repo = Path(repo)
    elif new is not None and is_folder(old) and is_folder(new):
        repo = None  # two folders: no repository is needed, so none is looked for
    else:
        repo = default_root()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        before = open_side(old, repo, Path(a))
        after = open_side(new if new is not None else str(repo), repo, Path(b))
        report = compare_sides(before, after)
    report.old, report.new = old, new if new is not None else str(repo)
    return report


def diff(old: str, new: str | None = None, repo: Path | None = None) -> list[TableDiff]:
    """Rows added, removed and changed per table."""
    return compare(old, new, repo).tables


# ---------------------------------------------------------------- output

def _key(k: tuple) -> str:
    return "/".join(k)


def _value(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)


def _where(c: Change) -> str:
    if not c.table:
        return c.subject
    if c.what in ("row", "table", "rule", "primaryKey", "missingValues", "released count") or c.subject == c.what:
        return c.table
    return f"{c.table}.{c.subject}"


def describe(c: Change, name=escape, value=None, kind: bool = True) -> str:
    """One line for a change; `name` renders a name from a schema, `value` a value."""
    value = value or (lambda v: escape(json.dumps(v, ensure_ascii=False, sort_keys=True)))
    where = name(_where(c))
    if c.what == "row":
        return f"{where}: row {value(_key(c.old))} deleted"
    if c.what == "table":
        return f"{where}: table {c.kind}"
    if c.what == "field":
        return f"{where}: field {'added' if c.kind != 'removed' else 'removed'}" + \
            (" (required: tightened)" if c.kind == TIGHTENED else "")
    if c.what == "file":
        return f"{where}: file removed"
    label = name(c.what) if c.what != "rule" else f"rule {name(c.subject)}"
    if c.what == "released count":
        label = f"{name(COUNTS)} count"
    if c.old is None:
        body = f"{label} {value(c.new)} added"
    elif c.new is None:
        body = f"{label} {value(c.old)} removed"
    else:
        body = f"{label} {value(c.old)} → {value(c.new)}"
        if c.what == "enum" and isinstance(c.old, list) and isinstance(c.new, list):
            gained = [v for v in c.new if _canon(v) not in set(map(_canon, c.old))]
            if gained:
                body += f" (gains {value(gained)})"
    return f"{where}: {body}" + (f" ({c.kind})" if kind else "")


def advice(c: Change, name=escape) -> str:
    """What to add to CHANGELOG.md to record a weakening."""
    word = c.words[0] if c.words else c.subject
    if c.what == "row":
        return (f"add a line to {CHANGELOG} naming {name(c.table)} and saying the row {name(c.subject)} "
                f"was deleted, and why")
    if c.table:
        return f"add a line to {CHANGELOG} naming {name(c.table)} and {name(word)}, and why"
    return f"add a line to {CHANGELOG} naming {name(word)}, and why"


def unrecorded_line(c: Change) -> str:
    return f"not recorded in {CHANGELOG}: {describe(c)}; {advice(c)}"


def to_text(diffs: list[TableDiff]) -> str:
    lines = []
    for d in diffs:
        lines.append(f"{escape(d.table)}: {len(d.added)} added, {len(d.changed)} modified, {len(d.removed)} deleted")
        lines += [f"  + {escape(_key(k))}" for k in d.added]
        lines += [f"  - {escape(_key(k))}" for k in d.removed]
        for k, cells in d.changed.items():
            lines.append(f"  ~ {escape(_key(k))}")
            lines += [f"      {escape(c)}: {escape(json.dumps(o, ensure_ascii=False))} -> "
                      f"{escape(json.dumps(n, ensure_ascii=False))}" for c, o, n in cells]
    return "\n".join(lines) + "\n"


def _duplicate_text(d: Duplicate) -> str:
    return (f"{escape(d.table)} ({d.side}): lines {', '.join(map(str, d.lines))} are identical rows "
            f"({escape(_key(d.key))})")


def report_text(report: Report, check: bool = False) -> str:
    out = []
    schema = [c for c in report.changes if c.schema]
    out.append(f"schema changes: {len(schema)}")
    out += [f"  {describe(c)}" for c in schema]
    out.append(f"duplicate rows (identical in every cell): {len(report.duplicates)}")
    out += [f"  {_duplicate_text(d)}" for d in report.duplicates]
    out.append("rows:")
    out.append(to_text(report.tables).rstrip("\n"))
    weak = report.weakenings
    out.append(f"weakenings: {len(weak)} ({len(report.unrecorded)} not recorded in {CHANGELOG})")
    out += [f"  {describe(c)} [{'recorded' if c.recorded else 'not recorded'}]" for c in weak]
    if check:
        out += [unrecorded_line(c) for c in report.unrecorded]
    return "\n".join(out) + "\n"


def to_markdown(diffs: list[TableDiff], details: bool = True) -> str:
    rows = ["| table | added | modified | deleted |", "|---|---|---|---|"]
    rows += [f"| {markdown_text(d.table)} | {len(d.added)} | {len(d.changed)} | {len(d.removed)} |" for d in diffs]
    if details:
        for d in diffs:
            if d.empty:
                continue
            rows += ["", f"#### {markdown_text(d.table)}", ""]
            rows += [f"- added {markdown_cell(_key(k))}" for k in d.added]
            rows += [f"- deleted {markdown_cell(_key(k))}" for k in d.removed]
            for k, cells in d.changed.items():
                rows.append(f"- modified {markdown_cell(_key(k))}: " + "; ".join(
                    f"{markdown_cell(c)} {markdown_cell(json.dumps(o, ensure_ascii=False))} → "
                    f"{markdown_cell(json.dumps(n, ensure_ascii=False))}" for c, o, n in cells))
    return "\n".join(rows) + "\n"


def _md_describe(c: Change, kind: bool = True) -> str:
    return describe(c, name=markdown_cell, value=lambda v: markdown_cell(_value(v)), kind=kind)


def report_markdown(report: Report, check: bool = False) -> str:
    md = [f"### Changes against {markdown_cell(report.old)}", ""]
    weak = report.weakenings
    if weak:
        missing = len(report.unrecorded)
        md += [f"#### Weakenings: {len(weak)}, {missing} not recorded in {CHANGELOG}", "",
               "| recorded | weakening | what to do |", "|---|---|---|"]
        for c in weak:
            md.append(f"| {'yes' if c.recorded else '**no**'} | {_md_describe(c)} | "
                      f"{'' if c.recorded else advice(c, name=markdown_cell)} |")
        md.append("")
    else:
        md += ["No constraint loosened or removed, no row deleted, no released count lowered.", ""]
    schema = [c for c in report.changes if c.schema]
    if schema:
        md += ["#### Schema changes", "", "| change | kind |", "|---|---|"]
        md += [f"| {_md_describe(c, kind=False)} | {c.kind} |" for c in schema]
        md.append("")
    if report.duplicates:
        md += ["#### Duplicate rows (identical in every cell)", ""]
        md += [f"- {markdown_text(d.table)} ({d.side}): lines {', '.join(map(str, d.lines))} "
               f"{markdown_cell(_key(d.key))}" for d in report.duplicates]
        md.append("")
    md += ["#### Data changes", "", to_markdown(report.tables).rstrip("\n")]
    return "\n".join(md) + "\n"


def run(old: str, new: str | None, repo, fmt: str = "text", summary: bool = False, check: bool = False,
        out=None, err=None) -> int:
    """`sifc diff`: print the report; 1 when --check-weakening finds a
    weakening CHANGELOG.md does not record."""
    out, err = out or sys.stdout, err or sys.stderr
    report = compare(old, new, repo)
    if fmt == "markdown":
        out.write(to_markdown(report.tables, details=False) if summary else report_markdown(report, check))
        if check:
            for c in report.unrecorded:
                err.write(f"sifc diff: {unrecorded_line(c)}\n")
    else:
        out.write(report_text(report, check))
    if check and report.unrecorded:
        err.write(f"sifc diff: {len(report.unrecorded)} weakening(s) not recorded in {CHANGELOG} "
                  f"(see CONTRIBUTING.md, 'Changes that weaken the package')\n")
        return 1
    return 0
