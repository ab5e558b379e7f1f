"""sifc.load for pandas users: dtypes as documented, validation by default."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import sifc
from conftest import ROOT, apply_edit, copy_package


def test_dtypes_as_documented():
    p = sifc.load("participants")
    assert p.person_id.dtype == "string"
    assert p.delivered_speech.dtype == "boolean"
    assert p.listed_order.dtype == "Int64"
    assert isinstance(p.source_ids.iloc[0], tuple)
    e = sifc.load("events")
    assert str(e.start_on.dtype) == "datetime64[ns]"
    assert (e.start_on.dropna() == e.start_on.dropna().dt.normalize()).all()


def test_load_all_and_tables():
    tables = sifc.load_all()
    assert list(tables) == sifc.tables()
    assert all(isinstance(df, pd.DataFrame) and len(df) for df in tables.values())


def test_validation_failure_raises_located_findings(tmp_path):
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_zh", "value": "Chen"})
    with pytest.raises(sifc.ValidationError) as info:
        sifc.load("people", source=root)
    assert [(f.file, f.line, f.column, f.rule) for f in info.value.findings] == [("data/people.csv", 2, "name_zh", "cjk-only")]
    assert "data/people.csv:2:name_zh: cjk-only" in str(info.value)
    assert len(sifc.load("people", source=root, validate=False)) == 12


def test_loading_never_imports_great_expectations():
    code = "import sys, sifc; sifc.load_all(); import sifc.schemas; sifc.schemas.Measures; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_pandera_models_validate_derived_frames():
    from sifc.schemas import Measures
    import pandera.errors
    measures = sifc.load("measures")
    Measures.validate(measures)
    broken = measures.copy()
    broken.loc[broken.index[0], "title_en"] = " padded"
    with pytest.raises(pandera.errors.SchemaError):
        Measures.validate(broken)


def _run(code, env):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_validation_result_is_cached_by_content(tmp_path):
    """A second load of identical content skips re-validation (pandera is not
    even imported); one changed byte anywhere validates again and fails."""
    import os
    root = copy_package(tmp_path / "pkg")
    env = {**os.environ, "SIFC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("SIFC_NO_CACHE", None)
    code = f"import sys, sifc; sifc.load_all(source={str(root)!r}); print('pandera' in sys.modules)"
    assert _run(code, env) == "True"   # first load: validated
    assert _run(code, env) == "False"  # same content: known valid
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_zh", "value": "Chen"})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0 and "cjk-only" in out.stderr
    env["SIFC_NO_CACHE"] = "1"
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_zh", "value": "陈吉宁"})
    assert _run(code, env) == "True"   # caching off: always validated


def test_frames_carry_descriptions_and_enums_as_categoricals():
    from sifc.files.package import open_package
    package = open_package(ROOT)
    for name, frame in sifc.load_all().items():
        schema = package.resource(name).schema
        assert frame.attrs["table"] == name and frame.attrs["title"] == schema.title
        assert frame.attrs["columns"] == {f.name: f.description for f in schema.fields}
        for field in schema.fields:
            if field.enum:
                assert isinstance(frame[field.name].dtype, pd.CategoricalDtype), (name, field.name)
                assert list(frame[field.name].cat.categories) == list(field.enum)
    enums = [f for r in package.resources.values() for f in r.schema.fields if f.enum]
    assert enums, "no enum field: the categorical check above proved nothing"


def test_plain_read_csv_with_the_schema_arguments_types_like_load():
    """The README's one-liner for plain pandas gives the values and dtypes
    `sifc.load` gives (dates to the microsecond unit pandas 3 picks; lists
    stay text; enums stay text)."""
    for name in sifc.tables():
        plain = pd.read_csv(ROOT / "data" / f"{name}.csv", **sifc.read_csv_args(name))
        typed = sifc.load(name)
        assert list(plain.columns) == list(typed.columns)
        for column in plain.columns:
            a, b = plain[column], typed[column]
            if isinstance(b.dtype, pd.CategoricalDtype):
                b = b.astype("string")
            if b.dtype == object:  # list columns: tuples of IDs in load, the `;` text in the file
                b = b.map(lambda items: ";".join(items) if isinstance(items, tuple) else items).astype("string")
            if str(b.dtype).startswith("datetime64"):
                assert str(a.dtype).startswith("datetime64"), (name, column, a.dtype)
                b, a = b.astype("datetime64[us]"), a.astype("datetime64[us]")
            else:
                assert a.dtype == b.dtype, (name, column, a.dtype, b.dtype)
            pd.testing.assert_series_equal(a, b, check_names=False, check_dtype=False)
