"""`sifc diff --check-weakening`: every way of weakening the package is listed
and fails unless the CHANGELOG.md lines added between the two versions
record it; tightening passes; duplicate rows are shown; nothing a cell holds
reaches the output raw; a revision can never become an option of git."""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import ROOT, apply_edit, copy_package, set_cell
from sifc.cli import main
from sifc.diff import compare, report_markdown, report_text
from sifc.files.package import PackageError

CHANGELOG_HEAD = "# Changelog\n\n## Unreleased\n\n"


def field_index(table: str, name: str) -> int:
    schema = json.loads((ROOT / "schemas" / f"{table}.json").read_text(encoding="utf-8"))
    return [f["name"] for f in schema["fields"]].index(name)


def constraint(table: str, name: str, key: str, value) -> dict:
    return {"file": f"schemas/{table}.json",
            "json_set": {"path": ["fields", field_index(table, name), "constraints", key], "value": value}}


def versions(tmp_path, edits, changelog: str | None = None):
    """Two package folders: OLD is the real package with a changelog, NEW has
    the edits and, if given, one more changelog line."""
    old = copy_package(tmp_path / "old")
    new = copy_package(tmp_path / "new")
    (old / "CHANGELOG.md").write_text(CHANGELOG_HEAD, encoding="utf-8")
    (new / "CHANGELOG.md").write_text(CHANGELOG_HEAD + (changelog + "\n" if changelog else ""), encoding="utf-8")
    for edit in edits:
        apply_edit(new, edit)
    return old, new


def sifc_diff(capsys, *args):
    code = main(["diff", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


#: (kind, edits of NEW, the line `sifc diff` lists, a CHANGELOG line that records it)
WEAKENINGS = [
    ("maxLength raised", [constraint("themes", "label_en", "maxLength", 300)],
     "themes.label_en: maxLength 100 → 300 (loosened)",
     "- `themes.label_en`: maxLength raised to 300 for long official names."),
    ("enum widened", [constraint("participants", "role", "enum", ["chair", "co-chair", "speaker", "attendee", "host"])],
     'participants.role: enum ["chair", "co-chair", "speaker", "attendee"] → '
     '["chair", "co-chair", "speaker", "attendee", "host"] (gains ["host"]) (loosened)',
     "- participants.role gains the value `host`."),
    ("pattern changed", [constraint("themes", "theme_id", "pattern", "^[a-z0-9-]+$")],
     'themes.theme_id: pattern "^[a-z0-9]+(-[a-z0-9]+)*$" → "^[a-z0-9-]+$" (loosened)',
     "- `themes.theme_id`: the ID pattern now allows doubled hyphens."),
    ("required dropped", [constraint("themes", "label_zh", "required", False)],
     "themes.label_zh: required true → false (loosened)",
     "- themes: label_zh may now be empty."),
    ("rule removed", [{"file": "schemas/themes.json", "json_set": {"path": ["sifc", "rules"], "value": []}}],
     'themes: rule no-cycle {"field": "parent_id", "rule": "no-cycle"} removed (removed)',
     "- Dropped the `no-cycle` rule of `themes`."),
    ("field removed", [{"file": "schemas/themes.json", "json_delete": ["fields", field_index("themes", "parent_id")]}],
     "themes.parent_id: field removed",
     "- `themes.parent_id` removed: themes are no longer nested."),
    ("row deleted", [{"file": "data/themes.csv", "delete_lines": [2]}],
     'themes: row "asset-management" deleted',
     "- themes: the row asset-management was deleted as a duplicate."),
    ("released count lowered",
     [{"file": "validation/released_counts.json", "json_set": {"path": ["tables", "themes"], "value": 26}}],
     "themes: validation/released_counts.json count 27 → 26 (lowered)",
     "- `themes`: released_counts lowered to 26 after a deleted duplicate."),
]


@pytest.mark.parametrize("kind,edits,listed,line", WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_each_weakening_is_listed_and_fails_unless_recorded(tmp_path, capsys, kind, edits, listed, line):
    old, new = versions(tmp_path, edits)
    code, out, err = sifc_diff(capsys, old, new)
    assert code == 0 and f"  {listed} [not recorded]" in out  # plain diff: listed, never fails

    code, out, err = sifc_diff(capsys, "--check-weakening", old, new)
    assert code == 1
    assert f"not recorded in CHANGELOG.md: {listed}; add a line to CHANGELOG.md naming" in out
    assert "weakening(s) not recorded in CHANGELOG.md" in err

    code, out, err = sifc_diff(capsys, "--check-weakening", "--format", "markdown", old, new)
    assert code == 1 and "#### Weakenings: 1, 1 not recorded in CHANGELOG.md" in out
    assert f"sifc diff: not recorded in CHANGELOG.md: {listed};" in err  # the CI log says it too

    old, new = versions(tmp_path / "recorded", edits, changelog=line)
    code, out, err = sifc_diff(capsys, "--check-weakening", old, new)
    assert code == 0, out + err
    assert f"  {listed} [recorded]" in out and "not recorded in CHANGELOG.md:" not in out


def test_a_line_naming_only_the_table_does_not_record_a_field(tmp_path, capsys):
    old, new = versions(tmp_path, [constraint("themes", "label_en", "maxLength", 300)],
                        changelog="- themes: labels reworded.\n- label_en is clearer now.")
    code, out, _ = sifc_diff(capsys, "--check-weakening", old, new)
    assert code == 1 and "naming themes and label_en" in out


def test_a_line_already_in_the_old_changelog_does_not_record(tmp_path, capsys):
    line = "- `themes.label_en`: maxLength raised to 300."
    old, new = versions(tmp_path, [constraint("themes", "label_en", "maxLength", 300)], changelog=line)
    (old / "CHANGELOG.md").write_text(CHANGELOG_HEAD + line + "\n", encoding="utf-8")
    code, _, _ = sifc_diff(capsys, "--check-weakening", old, new)
    assert code == 1


def test_tightening_alone_passes(tmp_path, capsys):
    rules = json.loads((ROOT / "schemas" / "themes.json").read_text(encoding="utf-8"))["sifc"]["rules"]
    old, new = versions(tmp_path, [
        constraint("themes", "label_en", "maxLength", 90),
        constraint("participants", "role", "enum", ["chair", "speaker", "attendee", "co-chair"]),  # reordered
        constraint("sources", "kind", "enum", ["official", "news", "reference"]),
        {"file": "schemas/themes.json", "json_set": {"path": ["sifc", "rules"],
                                                      "value": rules + [{"rule": "unique-together",
                                                                         "fields": ["label_en", "label_zh"]}]}},
        {"file": "validation/released_counts.json", "json_set": {"path": ["tables", "themes"], "value": 28}},
    ])
    code, out, err = sifc_diff(capsys, "--check-weakening", old, new)
    assert code == 0, out + err
    assert "themes.label_en: maxLength 100 → 90 (tightened)" in out
    assert "sources.kind: enum" in out and "(tightened)" in out
    assert "themes: rule unique-together" in out and "weakenings: 0" in out
    assert "participants.role" not in out  # the same values in another order is no change


def test_schema_changes_lowering_minimum_and_removing_a_constraint(tmp_path):
    index = field_index("participants", "listed_order")
    old, new = versions(tmp_path, [
        constraint("participants", "listed_order", "minimum", 0),
        {"file": "schemas/themes.json",
         "json_delete": ["fields", field_index("themes", "theme_id"), "constraints", "unique"]},
    ])
    schema = json.loads((old / "schemas" / "participants.json").read_text(encoding="utf-8"))
    assert schema["fields"][index]["constraints"]["minimum"] == 1  # what the test assumes
    report = compare(str(old), str(new))
    kinds = {(c.table, c.subject, c.what): c.kind for c in report.changes}
    assert kinds[("participants", "listed_order", "minimum")] == "loosened"
    assert kinds[("themes", "theme_id", "unique")] == "removed"
    assert len(report.unrecorded) == 2


def test_exact_duplicate_rows_are_shown(tmp_path, capsys):
    old, new = versions(tmp_path, [])
    text = (new / "data" / "themes.csv").read_text(encoding="utf-8")
    second = text.split("\n")[1]
    (new / "data" / "themes.csv").write_text(text + second + "\n", encoding="utf-8")
    code, out, _ = sifc_diff(capsys, old, new)
    assert code == 0
    assert "duplicate rows (identical in every cell): 1" in out
    assert 'themes (new): lines 2, 29 are identical rows (asset-management)' in out
    code, out, _ = sifc_diff(capsys, "--format", "markdown", old, new)
    assert "- themes (new): lines 2, 29 <code>asset-management</code>" in out
    # a row that differs in one cell is not an exact duplicate
    (new / "data" / "themes.csv").write_text(text + second + "x\n", encoding="utf-8")
    code, out, _ = sifc_diff(capsys, old, new)
    assert "duplicate rows (identical in every cell): 0" in out


HOSTILE = "\x1b[31mred\x1b[0m\n::error file=x::pwned\u202e@everyone|[x](http://e)"


def test_hostile_values_are_escaped_in_text_and_markdown(tmp_path, capsys):
    old, new = versions(tmp_path, [])
    set_cell(new / "data" / "themes.csv", 2, "description_en", HOSTILE)
    text = (new / "data" / "themes.csv").read_text(encoding="utf-8")
    (new / "data" / "themes.csv").write_text(text + '"zz\x1b[2J\n::warning::key",New,新,x,\n', encoding="utf-8")
    apply_edit(new, constraint("themes", "label_en", "pattern", "^a\n::error::b\x1b$"))
    report = compare(str(old), str(new))
    for output in (report_text(report, check=True), report_markdown(report, check=True)):
        assert "\x1b" not in output and "\u202e" not in output
        assert not any(line.lstrip("-| ").startswith("::") for line in output.split("\n"))
        assert "\\u001b" in output and "\\n::error" in output
    md = report_markdown(report)
    assert "@everyone" not in md and "](http" not in md and "[x]" not in md
    assert "<code>zz\\u001b[2J\\n::warning::key</code>" in md or \
        "<code>zz\\u001b&#91;2J\\n::warning::key</code>" in md
    for args in ([old, new], ["--format", "markdown", old, new], ["--check-weakening", old, new]):
        _, out, err = sifc_diff(capsys, *args)
        for stream in (out, err):
            assert "\x1b" not in stream and not any(line.startswith("::") for line in stream.split("\n"))


def test_a_revision_or_folder_starting_with_a_dash_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["--", "--output=x"], ["HEAD", "--", "--output=x"], ["--check-weakening", "--", "-x"]):
        code, out, err = sifc_diff(capsys, *args)
        assert code == 2 and "cannot start with '-'" in err and not out
    with pytest.raises(SystemExit) as exc:  # as an option, argparse refuses it first
        main(["diff", "--output=x"])
    assert exc.value.code == 2
    with pytest.raises(PackageError, match="cannot start with"):
        compare("--output=x", "HEAD", ROOT)
    assert not (tmp_path / "x").exists()


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.org",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True)


def test_git_revisions(tmp_path, capsys):
    repo = copy_package(tmp_path / "repo")
    (repo / "CHANGELOG.md").write_text(CHANGELOG_HEAD, encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v1")

    apply_edit(repo, constraint("themes", "label_en", "maxLength", 300))
    apply_edit(repo, {"file": "data/themes.csv", "delete_lines": [2]})
    # the working tree (NEW's default) already differs from HEAD
    code, out, _ = sifc_diff(capsys, "--repo", repo, "--check-weakening", "HEAD")
    assert code == 1
    assert "themes.label_en: maxLength 100 → 300 (loosened) [not recorded]" in out
    assert 'themes: row "asset-management" deleted [not recorded]' in out
    git(repo, "commit", "-q", "-am", "loosen")

    code, out, _ = sifc_diff(capsys, "--repo", repo, "--check-weakening", "HEAD~1", "HEAD")
    assert code == 1 and "themes: 0 added, 0 modified, 1 deleted" in out
    code, out, _ = sifc_diff(capsys, "--repo", repo, "--check-weakening", "HEAD", "HEAD")
    assert code == 0 and "weakenings: 0" in out

    with (repo / "CHANGELOG.md").open("a", encoding="utf-8") as fh:
        fh.write("- `themes.label_en`: maxLength raised to 300.\n- themes: row asset-management deleted.\n")
    git(repo, "commit", "-q", "-am", "record")
    code, out, err = sifc_diff(capsys, "--repo", repo, "--check-weakening", "HEAD~2", "HEAD")
    assert code == 0, out + err
    code, out, err = sifc_diff(capsys, "--repo", repo, "--check-weakening", "--format", "markdown", "HEAD~2")
    assert code == 0 and "#### Weakenings: 2, 0 not recorded in CHANGELOG.md" in out
    # only lines added between the two versions count: HEAD~1 → HEAD records, HEAD~2 → HEAD~1 does not
    code, _, _ = sifc_diff(capsys, "--repo", repo, "--check-weakening", "HEAD~2", "HEAD~1")
    assert code == 1

    code, _, err = sifc_diff(capsys, "--repo", repo, "no-such-revision")
    assert code == 2 and "neither a folder nor a revision" in err


def test_git_revision_with_a_symlinked_schema_is_not_followed(tmp_path, capsys):
    """A link committed in place of a schema is left out, never read."""
    repo = copy_package(tmp_path / "repo")
    git(repo, "init", "-q")
    (repo / "schemas" / "themes.json").unlink()
    (repo / "schemas" / "themes.json").symlink_to("/etc/passwd")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "link")
    code, _, err = sifc_diff(capsys, "--repo", repo, "HEAD", str(repo))
    assert code == 2 and "schemas/themes.json" in err and "root:" not in err


def test_schema_changes_of_tables_keys_types_and_missing_values():
    from sifc.diff import schema_changes

    old = json.loads((ROOT / "schemas" / "themes.json").read_text(encoding="utf-8"))
    assert schema_changes("themes", old, old) == []
    assert [(c.what, c.kind) for c in schema_changes("themes", old, None)] == [("table", "removed")]
    assert [(c.what, c.kind) for c in schema_changes("themes", None, old)] == [("table", "added")]
    new = json.loads(json.dumps(old))
    new["foreignKeys"] = []
    new["primaryKey"] = ["theme_id", "label_en"]
    new["missingValues"] = ["", "NA"]
    new["fields"][field_index("themes", "label_en")]["type"] = "any"
    new["fields"][field_index("themes", "theme_id")]["constraints"]["maxLength"] = 80  # unchanged
    kinds = {(c.subject, c.what): c.kind for c in schema_changes("themes", old, new)}
    assert kinds == {("parent_id", "foreignKey"): "removed", ("primaryKey", "primaryKey"): "loosened",
                     ("missingValues", "missingValues"): "loosened", ("label_en", "type"): "loosened"}
    back = {(c.subject, c.what): c.kind for c in schema_changes("themes", new, old)}
    assert set(back.values()) == {"tightened"}

    events = json.loads((ROOT / "schemas" / "events.json").read_text(encoding="utf-8"))
    planned = json.loads(json.dumps(events))
    planned["fields"][field_index("events", "start_on")].setdefault("sifc", {})["planned"] = True
    assert [(c.subject, c.what, c.kind) for c in schema_changes("events", events, planned)] == \
        [("start_on", "planned", "loosened")]  # a future date now passes
