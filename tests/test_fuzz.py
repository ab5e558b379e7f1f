"""Property-based robustness test (issue 9): random bytes, random CSV edits
and random descriptor/schema JSON fed to every command.

For every example the real package is copied into a sandbox
(`sandbox/work/pkg`, with `sandbox/work/out` for `build --out`), one random
edit is applied, and each command runs in-process. Whatever the input:

- the exit code is 0, 1 or 2 (`sifc.load` raises only `PackageError` or
  `ValidationError`);
- no traceback and no "internal error" line (the CLI's last-resort handler
  for a crash) is printed;
- every printed line is free of hidden characters: controls (tab included,
  which the escaper shows as \\t), format characters (bidi controls,
  zero-width characters), line/paragraph separators, surrogates, private
  use, unassigned code points, non-ASCII spaces, variation selectors;
- `validate --format json` prints one JSON document; `--format github`
  prints only workflow commands and the summary line; the step summary
  keeps its table shape;
- nothing outside the package folder and `--out` is created, changed or
  removed (the loader's cache and the step summary file are the only
  other places written, and each lives in the sandbox on a path of its
  own); the pristine copy `diff` compares against, which is also
  $SIFC_PACKAGE, is unchanged.

CI runs a small, derandomized number of examples. For exploration:
SIFC_FUZZ_EXAMPLES=300 .venv/bin/python -m pytest -q tests/test_fuzz.py
(random seeds then, and more examples per test; SIFC_FUZZ_SHRINK=0 reports
the first failing example as drawn, without the slow shrinking).
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from conftest import ROOT, copy_package

import sifc
from sifc.cli import main
from sifc.loader import ValidationError
from sifc.files.package import PackageError

# ---------------------------------------------------------------------------
# settings

_EXPLORE = int(os.environ.get("SIFC_FUZZ_EXAMPLES") or 0)


def fuzz_settings(n: int):
    """n examples in CI (derandomized: the same examples on every run);
    SIFC_FUZZ_EXAMPLES overrides n and draws fresh random examples."""
    phases = [p for p in Phase if p != Phase.shrink or os.environ.get("SIFC_FUZZ_SHRINK") != "0"]
    return settings(max_examples=_EXPLORE or n, deadline=None, derandomize=not _EXPLORE, database=None,
                    print_blob=True, phases=phases,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


PACKAGE_FILES = sorted(
    str(p.relative_to(ROOT)) for part in ("datapackage.json", "schemas", "data", "validation")
    for p in ([ROOT / part] if (ROOT / part).is_file() else sorted((ROOT / part).glob("*.*"))))
CSV_FILES = [f for f in PACKAGE_FILES if f.endswith(".csv")]
SCHEMA_FILES = [f for f in PACKAGE_FILES if f.startswith("schemas/")]
JSON_FILES = [f for f in PACKAGE_FILES if f.endswith(".json")]  # descriptor, schemas, GX suites
TABLES = [Path(f).stem for f in CSV_FILES]

# ---------------------------------------------------------------------------
# the properties checked on every printed text


def hidden(ch: str) -> bool:
    """A character that must never reach a terminal or log raw (the promise
    of sifc.safetext, restated here independently of its code)."""
    cat = unicodedata.category(ch)
    code = ord(ch)
    return (cat in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") or (cat == "Zs" and ch != " ")
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)


def check_printed(where: str, text: str) -> None:
    assert "Traceback (most recent call last)" not in text, f"{where}: a traceback was printed:\n{text[-3000:]}"
    assert "internal error, please report it" not in text, f"{where}: crashed:\n{text[-3000:]}"
    for n, line in enumerate(text.split("\n"), 1):
        bad = sorted({f"U+{ord(c):04X}" for c in line if hidden(c)})
        assert not bad, f"{where}: line {n} prints hidden characters {bad}: {line[:300]!r}"


GITHUB_COMMAND = re.compile(r"::(error|warning) file=[^:,]*(,line=\d+)?,title=[^:,]*::")
SUMMARY_LINE = re.compile(r"(valid|INVALID): \d+ errors?, \d+ warnings? in \d+ tables? \(layers run: [^)]*\)")


def check_format(fmt: str, out: str) -> None:
    if fmt == "json":
        report = json.loads(out)  # the whole of stdout is one JSON document
        assert isinstance(report, dict) and isinstance(report.get("findings"), list), out[:500]
        assert report["errors"] == sum(f["severity"] == "error" for f in report["findings"])
    elif fmt == "github":
        lines = out.split("\n")
        assert lines[-1] == "", "output ends with a line break"
        heading, *commands, summary = lines[:-1]
        assert heading.startswith("sifc validate: "), heading[:300]
        assert SUMMARY_LINE.fullmatch(summary), summary
        for line in commands:  # nothing else can start a line, so no value can start a workflow command
            assert GITHUB_COMMAND.match(line), f"not a workflow command: {line[:300]!r}"
    else:
        assert SUMMARY_LINE.fullmatch(out.rstrip("\n").split("\n")[-1]), out[-500:]


def check_step_summary(path: Path) -> None:
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    check_printed("GITHUB_STEP_SUMMARY", text)
    for line in text.split("\n"):
        if line.startswith("|"):  # no cell adds or removes a column of the findings table
            assert line.count("|") == 9, f"step summary row has {line.count('|') - 1} cells: {line[:300]!r}"


# ---------------------------------------------------------------------------
# the sandbox: what may be written, and a fingerprint of everything else


def fingerprint(top: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """Every entry under `top` (except the `skip` subtrees): its kind and,
    for a file, its content hash."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if d / n not in skip]
        for name in dirnames + filenames:
            p = d / name
            if p in skip:
                continue
            rel = str(p.relative_to(top))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_file():
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[rel] = ("dir" if p.is_dir() else "other",)
    return out


class Sandbox:
    """sandbox/work/pkg (the edited package), sandbox/work/out (--out),
    sandbox/cache (SIFC_CACHE_DIR), sandbox/summary.md (GITHUB_STEP_SUMMARY),
    sandbox/home (HOME). Commands run with sandbox/work as the working folder,
    so a relative path, or a '..' out of pkg or out, lands where it is seen."""

    def __init__(self, base: Path, pristine: Path):
        self.top = Path(tempfile.mkdtemp(dir=base))
        self.work = self.top / "work"
        self.pkg = self.work / "pkg"
        self.out = self.work / "out"
        self.cache = self.top / "cache"
        self.summary = self.top / "summary.md"
        self.home = self.top / "home"
        self.pristine = pristine
        shutil.copytree(pristine, self.pkg, symlinks=True)
        self.out.mkdir()
        self.home.mkdir()

    def allowed(self) -> tuple[Path, ...]:
        return (self.pkg, self.out, self.cache, self.summary)

    @contextlib.contextmanager
    def running(self):
        # SIFC_PACKAGE: a command that wrongly fell back to "the package"
        # would act on the pristine copy, and that is seen, rather than on
        # this checkout (which other work may be editing meanwhile)
        env = {"SIFC_CACHE_DIR": str(self.cache), "GITHUB_STEP_SUMMARY": str(self.summary), "HOME": str(self.home),
               "SIFC_PACKAGE": str(self.pristine), "SIFC_DEBUG": None, "SIFC_NO_CACHE": None}
        saved = {k: os.environ.get(k) for k in env}
        before = fingerprint(self.top, self.allowed())
        pristine_before = fingerprint(self.pristine)
        try:
            for k, v in env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            with contextlib.chdir(self.work):
                yield self
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        after = fingerprint(self.top, self.allowed())
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert not changed, f"written outside the package and --out: {changed}"
        assert fingerprint(self.pristine) == pristine_before, "the pristine package (diff's other side) was changed"

    def cleanup(self):
        shutil.rmtree(self.top, ignore_errors=True)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return copy_package(tmp_path_factory.mktemp("pristine") / "pkg")


def run(capfd, argv: list[str]) -> tuple[int, str, str]:
    """`sifc ARGV` in this process: (exit code, stdout, stderr), fd-level
    capture, so output of forked workers or of libraries is seen too."""
    capfd.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse; never expected with the argv used here
        code = exc.code
    out, err = capfd.readouterr()
    where = "sifc " + " ".join(argv)
    assert code in (0, 1, 2), f"{where}: exit code {code!r}\n{out[-2000:]}\n{err[-2000:]}"
    check_printed(where + " (stdout)", out)
    check_printed(where + " (stderr)", err)
    if code == 2:
        assert err.strip(), f"{where}: exit 2 without a word on stderr"
    return code, out, err


def load_one(table: str, pkg: Path, capfd) -> None:
    """The library: data or PackageError/ValidationError, nothing else."""
    capfd.readouterr()
    for call in (lambda: sifc.load(table, str(pkg)), lambda: sifc.load_all(str(pkg))):
        try:
            result = call()
        except (PackageError, ValidationError) as exc:
            assert str(exc), "an error with no message"
        else:
            assert result is not None
    out, err = capfd.readouterr()
    check_printed("sifc.load", out + err)


# ---------------------------------------------------------------------------
# strategies

INTERESTING_TEXT = [
    "", " ", "  x", "x ", "\t", "\r", "\n", "\r\n", "\n\n", '"', '""', '"x', 'x"', ",", ",,", ";", ";;", "a;b",
    "a;;b", ";a", "a;", "=1+1", "+cmd|' /C calc'!A0", "-1", "@SUM(A1)", "NA", "N/A", "#N/A", "null", "None", "NaN",
    "nan", "-nan", "inf", "-inf", "true", "false", "TRUE", "yes", "0", "-0", "00", "1", "1.0", "1e309", "1e3",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999", "0x1F",
    "１２", "٣", "2024-02-30", "2024-13-01", "0000-01-01", "0001-01-01", "9999-12-31", "2024-2-3", "20240101",
    "2099-01-01", "1677-09-21", "2262-04-12", "2024-01-01T00:00:00", "2024-01-01 ", "\u202e", "\u200b", "\ufeff",
    "\u2028", "\u2029", "\x1b[31mred\x1b[0m", "\x00", "\x85", "\x7f", "\x9b", "::error::x", "::add-mask::x", "%0A",
    "a\u0301", "\u00e1", "Ａ", "раураl", "\u3000", "\u00a0", "\U000e0041", "\ue000", "\U0010ffff", "\ufffe",
    "\U0001f600", "\ufe0f", "https://example.com/x", "http://", "https://", "javascript:alert(1)", "../x",
    "../../escape", "/etc/passwd", "C:\\x", "~", "data/../../x.csv", "x" * 10_000, "中" * 5_000,
    "[x](http://e)", "<script>", "`x`", "|", "@user", "a@b.example", "+86 21 1234 5678", "\\", "\\n",
    "上海", "sources", "sources.csv", "commitments", "(?P<x>a)+", "^(a+)+$", "[", "*",
]

#: text a contributor could type: any code point that UTF-8 can hold (no lone surrogates)
any_char = st.characters(codec="utf-8")
cell_text = st.one_of(
    st.sampled_from(INTERESTING_TEXT),
    st.text(any_char, max_size=40),
    st.builds(lambda s, n: (s * n)[:10_000], st.text(any_char, min_size=1, max_size=6), st.integers(1, 3000)),
    st.builds(lambda a, b: a + b, st.sampled_from(INTERESTING_TEXT), st.text(any_char, max_size=8)),
)

json_leaf = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.sampled_from([0, -1, 1, 2**63, -(2**63) - 1, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    cell_text,
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(cell_text, st.sampled_from(
                                   ["name", "path", "type", "constraints", "fields", "schema", "format", "pattern",
                                    "enum", "required", "unique", "minimum", "maximum", "maxLength", "minLength",
                                    "fields", "reference", "resource", "sifc", "rules", "primaryKey", "foreignKeys",
                                    "dialect", "encoding", "delimiter", "header", "missingValues", "bytes", "hash",
                                    "rule", "field", "fields", "group", "participants", "itemPattern", "script"])),
                                               children, max_size=4)),
    max_leaves=10,
)

#: (a) bytes
byte_payload = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"\x00", b"\xff", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\n", b'"',
                     b",", b'",', b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x1b[2J", b"\xe2\x80\xae",
                     b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u0000", b"\\ud800", b"1e999999", b"-", b"NaN",
                     b"[" * 5000, b"{\"a\":" * 3000, b"\n" * 100]),
)
bytes_edit = st.fixed_dictionaries({
    "kind": st.just("bytes"),
    "file": st.sampled_from(PACKAGE_FILES),
    "mode": st.sampled_from(["replace", "insert", "overwrite", "truncate", "append"]),
    "at": st.integers(0, 2**31),
    "payload": byte_payload,
})

#: (b) structured CSV edits
csv_op = st.one_of(
    st.fixed_dictionaries({"op": st.just("cell"), "row": st.integers(0, 10_000), "col": st.integers(0, 100),
                           "value": cell_text}),
    st.fixed_dictionaries({"op": st.just("copy_cell"), "row": st.integers(0, 10_000), "col": st.integers(0, 100),
                           "from_row": st.integers(0, 10_000)}),
    st.fixed_dictionaries({"op": st.sampled_from(["delete_row", "duplicate_row", "drop_column", "drop_header_cell",
                                                  "drop_all_rows", "empty_row"]),
                           "row": st.integers(0, 10_000), "col": st.integers(0, 100)}),
    st.fixed_dictionaries({"op": st.just("swap_rows"), "row": st.integers(0, 10_000), "row2": st.integers(0, 10_000)}),
    st.fixed_dictionaries({"op": st.sampled_from(["add_column", "rename_column"]), "col": st.integers(0, 100),
                           "value": cell_text}),
    st.fixed_dictionaries({"op": st.just("raw_line"), "row": st.integers(0, 10_000), "value": cell_text}),
)
csv_edit = st.fixed_dictionaries({
    "kind": st.just("csv"),
    "file": st.sampled_from(CSV_FILES),
    "ops": st.lists(csv_op, min_size=1, max_size=3),
    "style": st.sampled_from(["minimal", "all", "crlf", "bom"]),
})

#: (c) descriptor and schema JSON edits: a node found by a walk of choices
def _names_in_package() -> tuple[list[str], list[str]]:
    """The field and table names of the real package: plausible values for
    a descriptor or schema edit (a field renamed to another one, a foreign
    key aimed at another table)."""
    fields = set()
    for f in SCHEMA_FILES:
        try:
            fields.update(x["name"] for x in json.loads((ROOT / f).read_text(encoding="utf-8"))["fields"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return sorted(fields), TABLES


FIELD_NAMES, TABLE_NAMES = _names_in_package()
plausible = st.one_of(
    st.sampled_from(FIELD_NAMES + TABLE_NAMES + [
        "string", "integer", "number", "boolean", "date", "list", "any", "object", "year", "datetime", "cjk", "latin",
        "data/sources.csv", "data/missing.csv", "schemas/themes.json", "schemas/missing.json", "data", "data/",
        "../datapackage.json", "/etc/hostname", "file:///etc/hostname", "https://example.invalid/x.csv",
        "data\\x.csv", "data/./sources.csv", "DATA/SOURCES.CSV", "^[a-z]+$", "^(a+)+$", "(?i)x", "[", "\\",
        "utf-16", "latin-1", "UTF8", "", "no-cycle", "date-order", "speaker-attended", "unique-url", "critical",
        "warning", "info", "expect_column_values_to_not_be_null", "expect_table_row_count_to_equal"]),
    st.sampled_from([0, -1, 1, 10**20, 2**63, 1.5, float("nan"), True, False, None, [], {}, [""], ["", ""]]),
    st.lists(st.sampled_from(FIELD_NAMES + TABLE_NAMES), max_size=3),
)

json_op = st.one_of(
    st.fixed_dictionaries({"op": st.just("delete")}),
    st.fixed_dictionaries({"op": st.just("set"), "value": json_value}),
    st.fixed_dictionaries({"op": st.just("set"), "value": cell_text}),
    st.fixed_dictionaries({"op": st.just("set"), "value": plausible}),
    st.fixed_dictionaries({"op": st.sampled_from(["duplicate", "wrap", "empty", "rename"]),
                           "value": st.one_of(cell_text, plausible.filter(lambda v: isinstance(v, str)))}),
)
index = st.integers(0, 60)
#: walks to the nodes that matter, by key name (a missing key is created by
#: "set"); integer steps pick a key or an item modulo the size met
schema_walk = st.one_of(
    st.tuples(st.just("fields"), index, st.sampled_from(
        ["name", "type", "format", "constraints", "sifc", "delimiter", "trueValues", "falseValues", "missingValues",
         "itemType", "example", "groupChar", "bareNumber"])),
    st.tuples(st.just("fields"), index, st.just("constraints"), st.sampled_from(
        ["required", "unique", "pattern", "enum", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
         "jsonSchema"])),
    st.tuples(st.just("fields"), index, st.just("sifc"), st.sampled_from(
        ["references", "itemPattern", "script", "planned", "unknown"])),
    st.tuples(st.just("fields"), index, st.just("sifc"), st.just("references"), st.sampled_from(["resource", "field"])),
    st.tuples(st.just("sifc"), st.just("rules"), index, st.sampled_from(
        ["rule", "field", "fields", "start", "end", "dates", "note", "when", "group", "participants"])),
    st.tuples(st.sampled_from(["fields", "primaryKey", "foreignKeys", "missingValues", "sifc", "$schema"])),
    st.tuples(st.just("primaryKey"), index),
    st.tuples(st.just("foreignKeys"), index, st.sampled_from(["fields", "reference"])),
    st.tuples(st.just("foreignKeys"), index, st.just("reference"), st.sampled_from(["resource", "fields"])),
).map(list)
descriptor_walk = st.one_of(
    st.tuples(st.just("resources"), index, st.sampled_from(
        ["name", "path", "schema", "dialect", "encoding", "format", "mediatype", "bytes", "hash", "scheme", "type",
         "$schema", "profile", "compression", "data"])),
    st.tuples(st.just("resources"), index, st.just("dialect"), st.sampled_from(
        ["delimiter", "header", "quoteChar", "doubleQuote", "lineTerminator", "skipInitialSpace", "commentChar",
         "escapeChar", "headerRows", "nullSequence"])),
    st.tuples(st.sampled_from(["resources", "name", "version", "$schema", "profile", "licenses", "id", "title",
                               "created", "sources", "contributors"])),
    st.tuples(st.just("resources"), index),
).map(list)
suite_walk = st.one_of(
    st.tuples(st.just("expectations"), index, st.just("kwargs"), st.sampled_from(
        ["column", "column_list", "column_A", "column_B", "regex", "like_pattern", "value_set", "min_value",
         "max_value", "mostly", "value", "strftime_format"])),
    st.tuples(st.just("expectations"), index, st.sampled_from(["type", "severity", "meta", "kwargs"])),
    st.tuples(st.sampled_from(["expectations", "name", "tables", "version"])),
).map(list)
random_walk = st.lists(st.integers(0, 1000), min_size=1, max_size=6)


def _json_edit(files, walk):
    return st.fixed_dictionaries({"kind": st.just("json"), "file": st.sampled_from(files), "walk": walk,
                                  "op": json_op, "ascii": st.booleans()})


SUITE_FILES = [f for f in JSON_FILES if f.startswith("validation/")]
json_edit = st.one_of(
    _json_edit(JSON_FILES, random_walk),
    _json_edit(SCHEMA_FILES, schema_walk),
    _json_edit(["datapackage.json"], descriptor_walk),
    _json_edit(SUITE_FILES, suite_walk),
)


# ---------------------------------------------------------------------------
# applying an edit (indexes are taken modulo the sizes met, so an edit stays
# meaningful whatever the package holds)


def apply_bytes(root: Path, edit: dict) -> None:
    path = root / edit["file"]
    data = path.read_bytes()
    at = edit["at"] % (len(data) + 1)
    payload, mode = edit["payload"], edit["mode"]
    if mode == "replace":
        data = payload
    elif mode == "insert":
        data = data[:at] + payload + data[at:]
    elif mode == "overwrite":
        data = data[:at] + payload + data[at + len(payload):]
    elif mode == "truncate":
        data = data[:at]
    else:
        data = data + payload
    path.write_bytes(data)


def apply_csv(root: Path, edit: dict) -> None:
    path = root / edit["file"]
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    raw_lines: list[tuple[int, str]] = []
    for op in edit["ops"]:
        n = len(rows)
        kind = op["op"]
        if kind in ("cell", "copy_cell") and n:
            r = rows[op["row"] % n]
            if r:
                c = op["col"] % len(r)
                if kind == "cell":
                    r[c] = op["value"]
                else:
                    src = rows[op["from_row"] % n]
                    r[c] = src[c] if c < len(src) else ""
        elif kind == "delete_row" and n:
            del rows[op["row"] % n]
        elif kind == "duplicate_row" and n:
            i = op["row"] % n
            rows.insert(i, list(rows[i]))
        elif kind == "swap_rows" and n:
            a, b = op["row"] % n, op["row2"] % n
            rows[a], rows[b] = rows[b], rows[a]
        elif kind == "empty_row" and n:
            rows.insert(op["row"] % (n + 1), [])
        elif kind == "drop_all_rows":
            rows = rows[:1]
        elif kind == "drop_column" and n and rows[0]:
            c = op["col"] % len(rows[0])
            rows = [r[:c] + r[c + 1:] for r in rows]
        elif kind == "drop_header_cell" and n and rows[0]:
            del rows[0][op["col"] % len(rows[0])]
        elif kind == "add_column" and n:
            c = op["col"] % (len(rows[0]) + 1)
            rows = [r[:c] + ([op["value"]] if i == 0 else [""]) + r[c:] for i, r in enumerate(rows)]
        elif kind == "rename_column" and n and rows[0]:
            rows[0][op["col"] % len(rows[0])] = op["value"]
        elif kind == "raw_line":
            raw_lines.append((op["row"], op["value"]))
    style = edit["style"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if style == "crlf" else "\n",
               quoting=csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL).writerows(rows)
    text = buf.getvalue()
    if raw_lines:  # a line typed as is, no quoting at all
        lines = text.split("\n")
        for at, line in raw_lines:
            lines.insert(at % (len(lines) + 1), line)
        text = "\n".join(lines)
    path.write_bytes((("\ufeff" if style == "bom" else "") + text).encode("utf-8"))


def apply_json(root: Path, edit: dict) -> None:
    path = root / edit["file"]
    data = json.loads(path.read_text(encoding="utf-8"))
    parent, key, node = None, None, data
    for choice in edit["walk"]:
        if isinstance(choice, str):  # a key by name; a missing one is where "set" adds it
            if not isinstance(node, dict):
                break
            if choice not in node:
                parent, key, node = node, choice, None
                break
            k = choice
        elif isinstance(node, dict) and node:
            k = sorted(node)[choice % len(node)]
        elif isinstance(node, list) and node:
            k = choice % len(node)
        else:
            break
        parent, key, node = node, k, node[k]
    op = edit["op"]
    kind = op["op"]
    if parent is None:  # the root itself
        data = op.get("value") if kind == "set" else ({} if kind in ("delete", "empty") else [data])
    elif kind == "delete":
        if isinstance(parent, list) or key in parent:
            del parent[key]
    elif kind == "set":
        parent[key] = op["value"]
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(node)))
        else:
            parent[op["value"]] = json.loads(json.dumps(node))
    elif kind == "wrap":
        parent[key] = [node]
    elif kind == "empty":
        parent[key] = type(node)() if isinstance(node, (dict, list, str)) else None
    elif kind == "rename" and isinstance(parent, dict) and key in parent:
        parent[op["value"]] = parent.pop(key)
    path.write_text(json.dumps(data, ensure_ascii=edit["ascii"], indent=2, allow_nan=True) + "\n", encoding="utf-8")


def apply(root: Path, edit: dict) -> None:
    {"bytes": apply_bytes, "csv": apply_csv, "json": apply_json}[edit["kind"]](root, edit)


any_edit = st.one_of(bytes_edit, csv_edit, json_edit)


# ---------------------------------------------------------------------------
# the commands


def every_command(box: Sandbox, capfd, fmt: str, table: str) -> None:
    pkg = str(box.pkg)
    code, out, _ = run(capfd, ["validate", "--skip", "gx", "--format", fmt, pkg])
    if code != 2:  # exit 2: the package could not be read, one line on stderr
        check_format(fmt, out)
    check_step_summary(box.summary)
    run(capfd, ["fmt", "--check", pkg])
    run(capfd, ["diff", str(box.pristine), pkg])
    run(capfd, ["diff", "--format", "markdown", pkg, str(box.pristine)])
    run(capfd, ["refresh", "--check", pkg])
    load_one(table, box.pkg, capfd)
    run(capfd, ["fmt", pkg])  # writes inside the package: allowed
    run(capfd, ["refresh", "--force", pkg])
    run(capfd, ["fmt", "--check", pkg])


def fuzz_once(tmp_path, pristine, capfd, edits, body) -> None:
    box = Sandbox(tmp_path, pristine)
    try:
        for edit in edits:
            apply(box.pkg, edit)
        with box.running():
            body(box)
    finally:
        box.cleanup()


FORMATS = st.sampled_from(["text", "json", "github"])


@fuzz_settings(12)
@given(edit=bytes_edit, fmt=FORMATS, table=st.sampled_from(TABLES))
def test_random_bytes(tmp_path, pristine, capfd, edit, fmt, table):
    fuzz_once(tmp_path, pristine, capfd, [edit], lambda box: every_command(box, capfd, fmt, table))


@fuzz_settings(10)
@given(edit=csv_edit, fmt=FORMATS, table=st.sampled_from(TABLES))
def test_random_csv_edits(tmp_path, pristine, capfd, edit, fmt, table):
    fuzz_once(tmp_path, pristine, capfd, [edit], lambda box: every_command(box, capfd, fmt, table))


@fuzz_settings(14)
@given(edits=st.lists(json_edit, min_size=1, max_size=2), fmt=FORMATS, table=st.sampled_from(TABLES))
def test_random_descriptor_and_schema_json(tmp_path, pristine, capfd, edits, fmt, table):
    fuzz_once(tmp_path, pristine, capfd, edits, lambda box: every_command(box, capfd, fmt, table))


@fuzz_settings(6)
@given(edit=any_edit)
def test_build_writes_only_into_out(tmp_path, pristine, capfd, edit):
    def body(box):
        run(capfd, ["build", "--out", str(box.out), "--no-validate", str(box.pkg)])
    fuzz_once(tmp_path, pristine, capfd, [edit], body)


@fuzz_settings(2)
@given(edit=st.one_of(csv_edit, json_edit))
def test_validate_with_gx(tmp_path, pristine, capfd, edit):
    def body(box):
        run(capfd, ["validate", "--format", "json", str(box.pkg)])
    fuzz_once(tmp_path, pristine, capfd, [edit], body)


SIFC = Path(sys.executable).parent / "sifc"


@pytest.mark.skipif(not SIFC.exists(), reason="the sifc console script is not installed in this environment")
@fuzz_settings(2)
@given(edit=any_edit)
def test_console_script_never_shows_a_traceback(tmp_path, pristine, edit):
    """The installed command, in a process of its own: exit 0, 1 or 2 and
    nothing but escaped lines on stdout and stderr."""
    def body(box):
        for argv in (["validate", "--skip", "gx", str(box.pkg)], ["fmt", "--check", str(box.pkg)],
                     ["diff", str(box.pristine), str(box.pkg)], ["refresh", "--check", str(box.pkg)]):
            proc = subprocess.run([str(SIFC), *argv], capture_output=True, timeout=300, cwd=box.work,
                                  env={**os.environ, "PYTHONIOENCODING": "utf-8"})
            where = "sifc " + " ".join(argv)
            assert proc.returncode in (0, 1, 2), f"{where}: exit {proc.returncode}\n{proc.stderr[-2000:]!r}"
            check_printed(where + " (stdout)", proc.stdout.decode("utf-8"))
            check_printed(where + " (stderr)", proc.stderr.decode("utf-8"))
    fuzz_once(tmp_path, pristine, None, [edit], body)


# ---------------------------------------------------------------------------
# regressions: inputs the fuzzing found, kept as fixed cases

REGRESSIONS = {
    # a list where a schema's "$schema" profile belongs: the profile lookup
    # in a set raised TypeError (unhashable type: 'list') in schemacheck
    "schema-profile-is-a-list": [{"kind": "json", "file": "schemas/measures.json", "walk": [0],
                                  "op": {"op": "set", "value": []}, "ascii": False}],
    "descriptor-profile-is-an-object": [{"kind": "json", "file": "datapackage.json", "walk": [0],
                                         "op": {"op": "set", "value": {"a": 1}}, "ascii": True}],
    # a schema file holding valid JSON that is not an object (NaN, a number)
    # crashed every command in schemacheck (AttributeError: 'float' ... 'get')
    "schema-file-is-NaN": [{"kind": "bytes", "file": "schemas/participants.json", "mode": "replace", "at": 0,
                            "payload": b"NaN"}],
    "schema-field-name-is-a-list": [{"kind": "json", "file": "schemas/themes.json", "walk": [2, 0, 3],
                                     "op": {"op": "set", "value": ["theme_id"]}, "ascii": True}],
    # an expectation's "meta" that is not an object: suites.py called .get on it
    # (AttributeError) in refresh, and the GX layer dict() on it
    "suite-meta-is-a-list": [{"kind": "json", "file": "validation/measures.json", "walk": ["expectations", 0, "meta"],
                              "op": {"op": "set", "value": [[1]]}, "ascii": True}],
    # diff.py compares raw schema JSON: a list as a field's type crashes it
    # (TypeError: unhashable type: 'list' in diff._field_changes)
    "field-type-is-a-list": [{"kind": "json", "file": "schemas/themes.json", "walk": [2, 0, 5],
                              "op": {"op": "set", "value": ["string"]}, "ascii": True}],
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(tmp_path, pristine, capfd, name):
    fuzz_once(tmp_path, pristine, capfd, REGRESSIONS[name], lambda box: every_command(box, capfd, "json", "measures"))


BUILD_REGRESSIONS = {
    # a field title that is a list passed the definitions check and crashed
    # the Parquet metadata (TypeError: expected bytes, list found); now a
    # definitions finding (schemacheck.check_texts)
    "field-title-is-a-list": [{"kind": "json", "file": "schemas/events.json", "walk": ["fields", 0, "title"],
                               "op": {"op": "wrap", "value": ""}, "ascii": True}],
    "descriptor-title-is-a-list": [{"kind": "json", "file": "datapackage.json", "walk": ["title"],
                                    "op": {"op": "wrap", "value": ""}, "ascii": True}],
    # build.py, --no-validate: a control character in a cell reaches openpyxl
    # (IllegalCharacterError)
    "control-character-in-a-cell": [{"kind": "csv", "file": "data/people.csv", "style": "minimal",
                                     "ops": [{"op": "cell", "row": 1, "col": 2, "value": "a\x04b"}]}],
    # build.py, --no-validate: an event convened by an institution that does
    # not exist reaches SQLite (IntegrityError: FOREIGN KEY constraint failed)
    "event-convened-by-a-missing-institution": [{"kind": "csv", "file": "data/events.csv", "style": "minimal",
                                                 "ops": [{"op": "cell", "row": 1, "col": 8,
                                                          "value": "no-such-institution"}]}],
    # build.py, --no-validate: "licenses": 5 in the descriptor (TypeError:
    # 'int' object is not iterable in datasette_metadata)
    "licenses-is-a-number": [{"kind": "json", "file": "datapackage.json", "walk": ["licenses"],
                              "op": {"op": "set", "value": 5}, "ascii": True}],
}


@pytest.mark.parametrize("name", sorted(BUILD_REGRESSIONS))
def test_build_regression(tmp_path, pristine, capfd, name):
    def body(box):
        run(capfd, ["build", "--out", str(box.out), "--no-validate", str(box.pkg)])
    fuzz_once(tmp_path, pristine, capfd, BUILD_REGRESSIONS[name], body)
