"""The pandera layer runs the cell rules of a column as one folded check
(pandera's cost is per check). Folding must not change a single finding:
the folded schema reports exactly what a schema with one check per rule
reports (the same findings, in the same order), on every fixture package,
on the real package, and on frames with many rules broken at once."""
from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from pandera.errors import SchemaErrors

from conftest import FIXTURES, ROOT, load_case, prepare
from sifc.checks.pandera_layer import WHOLE_COLUMN, _verdicts, build, to_findings
from sifc.checks.rules import cell_rules, tables_read
from sifc.files.package import open_package
from sifc.tabletypes import read_tables

CASES = sorted((FIXTURES / "invalid").glob("*.json")) + sorted((FIXTURES / "valid").glob("*.json"))


def findings(schema, frame, frames, raw, fold: bool) -> list[dict]:
    model, registry = build(schema, frames, fold=fold)
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return [f.as_dict() for f in to_findings(errors, schema, frame, registry, raw)]
    return []


def assert_same(package, raws, frames, names):
    for name in names:
        schema = package.resource(name).schema
        folded = findings(schema, frames[name], frames, raws.get(name), fold=True)
        assert folded == findings(schema, frames[name], frames, raws.get(name), fold=False), name


@lru_cache(maxsize=None)
def real():
    package = open_package(ROOT)
    raws, frames, _ = read_tables(package)
    return package, raws, frames


def affected(package, root) -> list[str]:
    """The tables whose findings may differ from the real package's: those
    whose data or schema file a fixture edits, and those whose rules read
    them. The others give what they give on the real package (tested below)."""
    changed = set()
    for name, resource in package.resources.items():
        for part in (resource.path, f"schemas/{name}.json"):
            ours, theirs = ROOT / part, root / part
            if not ours.is_file() or not theirs.is_file() or ours.read_bytes() != theirs.read_bytes():
                changed.add(name)
    if (ROOT / "datapackage.json").read_bytes() != (root / "datapackage.json").read_bytes():
        return list(package.resources)
    out = set(changed)
    for name, resource in package.resources.items():
        schema = resource.schema
        read = {fk.resource for fk in schema.foreign_keys} | {t for _, t, _ in schema.list_references()}
        for spec in schema.rules:
            read |= tables_read(spec)
        if read & changed:
            out.add(name)
    return [name for name in package.resources if name in out]


def test_the_real_package_gives_the_same_findings_folded():
    package, raws, frames = real()
    assert_same(package, raws, frames, list(frames))


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}-{p.stem}" for p in CASES])
def test_every_fixture_gives_the_same_findings_folded(tmp_path, path, monkeypatch):
    case = load_case(path)
    root = prepare(tmp_path, case)
    for name, value in case.get("env", {}).items():
        monkeypatch.setenv(name, value)
    try:
        package = open_package(root)
    except Exception:  # a fixture about the definitions: no table is checked
        return
    raws, frames, _ = read_tables(package)
    assert_same(package, raws, frames, [n for n in affected(package, root) if n in frames])


TEXTS = [" padded", "a\u200bb", "ＡＢＣ", "x" * 3000, "=cmd", "Q1", "bad id!", "中文", "Ünïcode", "a  b", "tab\there",
         "http://user:pw@x.org", "foo@bar.com", "+86 21 1234 5678", "漢字 latin", "ｶﾀｶﾅ"]


def _missing(v) -> bool:
    return v is None or (not isinstance(v, tuple) and pd.isna(v))


def broken(frame: pd.DataFrame, rng: random.Random, rate: float) -> pd.DataFrame:
    """The frame with a share of its cells replaced: emptied, copied from
    another row, or made to break one or several rules at once."""
    out = frame.copy()
    for col in out.columns:
        cells = out[col].astype(object).tolist()
        values = [v for v in cells if not _missing(v)]
        listy = any(isinstance(v, tuple) for v in values)
        for i, v in enumerate(cells):
            if rng.random() > rate:
                continue
            r = rng.random()
            if r < 0.15:
                cells[i] = None
            elif r < 0.35 and values:
                cells[i] = rng.choice(values)
            elif listy:
                items = list(v if isinstance(v, tuple) else ("x",))
                cells[i] = tuple(items + rng.choice([[""], items[:1], [rng.choice(TEXTS)], ["", rng.choice(TEXTS)]]))
            elif isinstance(v, pd.Timestamp):
                cells[i] = pd.Timestamp(rng.choice(["2100-01-01", "1900-05-05", "1960-01-01"]))
            elif isinstance(v, (int, float, np.integer, np.floating)):
                cells[i] = rng.choice([-5, 0, 10**6, 2020, 1])
            else:
                cells[i] = rng.choice(TEXTS) + (rng.choice(TEXTS) if rng.random() < .3 else "")
        try:
            out[col] = pd.Series(cells, index=out.index, dtype=object).astype(frame[col].dtype)
        except (TypeError, ValueError):  # a value the column's dtype cannot hold: left as it was
            pass
    return out


@pytest.fixture(scope="module")
def many_broken():
    package, raws, frames = real()
    rng = random.Random(2)
    return package, raws, {name: broken(frame, rng, 0.2) for name, frame in frames.items()}


def test_many_broken_rules_give_the_same_findings_in_the_same_order(many_broken):
    package, raws, frames = many_broken
    assert_same(package, raws, frames, list(frames))
    # the case is worth its cost only if several rules of one check fail in one column
    found = findings(package.resource("measures").schema, frames["measures"], frames, raws["measures"], fold=True)
    rules_per_column = {}
    for f in found:
        rules_per_column.setdefault(f["column"], set()).add(f["rule"])
    assert any(len(rules) > 2 for rules in rules_per_column.values()), rules_per_column


def test_folded_rules_judge_each_cell_alone(many_broken):
    """A folded check's rules are judged again on its failing cells alone
    when they are reported: that gives their verdict only if each judges a
    cell by itself. Rules that look at the whole column are WHOLE_COLUMN."""
    package, _, frames = many_broken
    for name, frame in frames.items():
        for rule in cell_rules(package.resource(name).schema, frames):
            if rule.name in WHOLE_COLUMN:
                continue
            column = frame[rule.column]
            whole = next(_verdicts([rule], column))
            rows = np.arange(len(column)) % 3 == 1
            assert (next(_verdicts([rule], column[rows])) == whole[rows]).all(), (name, rule.column, rule.name)
            for i in range(0, len(column), 7):
                assert next(_verdicts([rule], column.iloc[[i]]))[0] == whole[i], (name, rule.column, rule.name, i)


def test_a_column_runs_one_check_for_its_cell_by_cell_rules():
    package, _, frames = real()
    for name in frames:
        model, _ = build(package.resource(name).schema, frames)
        for column, spec in model.columns.items():
            alone = [c for c in spec.checks if c.name in WHOLE_COLUMN]
            assert len(spec.checks) - len(alone) <= 1, (name, column, [c.name for c in spec.checks])
