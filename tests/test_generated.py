"""Everything derived from the Table Schemas is current: regenerating it
gives exactly the committed files (PUDL's regenerate-and-compare)."""
from __future__ import annotations

import json

from conftest import ROOT, apply_edit, copy_package
from sifc.publish import docs
from sifc.files.descriptor import refresh
from sifc.files.package import open_package
from sifc.checks.suites import generated_suite, render, stale_suites, suite_path


def test_descriptor_is_current_and_records_no_stats():
    """The repository's descriptor records no bytes/hash (release descriptors
    do), so refresh has nothing to change in it."""
    assert refresh(ROOT, check=True), "run `sifc refresh`"
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert not any("bytes" in r or "hash" in r for r in descriptor["resources"])


def test_gx_suites_are_current():
    package = open_package(ROOT)
    assert stale_suites(ROOT, [r.schema for r in package.resources.values()]) == []


def test_data_dictionary_is_current():
    assert docs.stale(open_package(ROOT)) == []


def test_a_schema_change_makes_generated_files_stale_and_refresh_fixes_them(tmp_path):
    root = copy_package(tmp_path / "pkg")
    (root / "docs").mkdir()
    (root / "docs" / "data-dictionary.md").write_text(docs.render(open_package(root)), encoding="utf-8")
    apply_edit(root, {"file": "schemas/people.json", "json_set": {"path": ["fields", 1, "constraints", "maxLength"], "value": 99}})
    package = open_package(root)
    assert stale_suites(root, [r.schema for r in package.resources.values()]) == ["people"]
    assert docs.stale(package) == ["docs/data-dictionary.md"]
    from sifc.cli import main
    assert main(["refresh", "--check", str(root)]) == 1
    assert main(["refresh", str(root)]) == 0
    assert main(["refresh", "--check", str(root)]) == 0
    suite = json.loads(suite_path(root, "people").read_text(encoding="utf-8"))
    lengths = [e for e in suite["expectations"] if e["type"] == "expect_column_value_lengths_to_be_between"
               and e["kwargs"]["column"] == "name_en"]
    assert lengths[0]["kwargs"]["max_value"] == 99


def test_refresh_keeps_curated_expectations(tmp_path):
    root = copy_package(tmp_path / "pkg")
    package = open_package(root)
    schema = package.resource("people").schema
    curated = [e for e in generated_suite(root, schema)["expectations"] if e["meta"]["origin"] == "curated"]
    assert curated, "the people suite has hand-written expectations"
    suite_path(root, "people").write_text(render({"name": "people", "expectations": curated}), encoding="utf-8")
    regenerated = generated_suite(root, schema)["expectations"]
    assert [e for e in regenerated if e["meta"]["origin"] == "curated"] == curated


def test_every_field_is_documented():
    for resource in open_package(ROOT).resources.values():
        for field in resource.schema.raw["fields"]:
            for key in ("title", "description", "type", "example"):
                assert field.get(key) not in (None, ""), (resource.name, field["name"], key)


def test_frictionless_cli_accepts_the_package():
    import subprocess, sys, os
    exe = os.path.join(os.path.dirname(sys.executable), "frictionless")
    result = subprocess.run([exe, "validate", "datapackage.json"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
