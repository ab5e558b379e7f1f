"""`sifc diff`: rows added, removed and changed, by primary key."""
from __future__ import annotations

import re
import subprocess

from conftest import ROOT, apply_edit, copy_package
from sifc.diff import EMPTY_TREE, diff, to_markdown, to_text


def test_folder_diff(tmp_path):
    old = copy_package(tmp_path / "old")
    new = copy_package(tmp_path / "new")
    apply_edit(new, {"file": "data/people.csv", "line": 2, "column": "notes", "value": "Corrected."})
    apply_edit(new, {"file": "data/themes.csv", "delete_lines": [2]})
    text = (new / "data" / "themes.csv").read_text(encoding="utf-8")
    (new / "data" / "themes.csv").write_text(text + "zz-new-theme,New,新,A new theme.,\n", encoding="utf-8")
    diffs = {d.table: d for d in diff(str(old), str(new))}
    assert diffs["people"].changed == {("chen-jining",): [("notes", "", "Corrected.")]}
    assert diffs["themes"].removed == [("asset-management",)] and diffs["themes"].added == [("zz-new-theme",)]
    assert diffs["sources"].empty
    out = to_text(list(diffs.values()))
    assert "people: 0 added, 1 modified, 0 deleted" in out and '~ chen-jining' in out
    md = to_markdown(list(diffs.values()))
    assert "| themes | 1 | 0 | 1 |" in md and "- deleted <code>asset-management</code>" in md


def test_git_revision_diff_and_changelog_counts():
    """Row counts the changelog records, summed over its entries, are what `sifc diff` reports from nothing."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        import pytest
        pytest.skip("not a git checkout")
    from_nothing = {d.table: len(d.added) for d in diff(EMPTY_TREE, str(ROOT))}
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    recorded: dict[str, int] = {}
    for table, added, _modified, deleted in re.findall(r"^\| ([a-z_]+) \| (\d+) \| (\d+) \| (\d+) \|$", changelog, re.M):
        recorded[table] = recorded.get(table, 0) + int(added) - int(deleted)
    assert recorded == {t: n for t, n in from_nothing.items() if n or t in recorded}
    same = diff("HEAD", "HEAD")
    assert all(d.empty for d in same)
