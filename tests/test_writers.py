"""The commands that change files (`build`, `refresh`, `fmt`, and the atomic
writer under them): they write where they are told and nowhere else, give
new files the umask's mode, and refuse to bless a broken package."""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from conftest import ROOT, apply_edit, copy_package, release_copy
from sifc.files.atomic import current_umask, stale_temporaries, write_bytes_atomic
from sifc.publish.build import artifact_names, build, name_problem
from sifc.cli import main
from sifc.files.descriptor import UnhashableFiles, file_stats, refresh, refreshed
from sifc.files.package import PackageError, open_package
from sifc.files.safeio import UnsafeFile


def snapshot(folder: Path) -> dict:
    """Every entry below `folder`: its kind, bytes (files), link target
    (links) and modification time, without following links."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                out[str(path.relative_to(folder))] = ("link", os.readlink(path), info.st_mtime_ns)
            elif stat.S_ISREG(info.st_mode):
                out[str(path.relative_to(folder))] = ("file", path.read_bytes(), info.st_mtime_ns)
            else:
                out[str(path.relative_to(folder))] = ("dir" if stat.S_ISDIR(info.st_mode) else "other",
                                                      None, None if stat.S_ISDIR(info.st_mode) else info.st_mtime_ns)
    return out


class umask:
    """Run a block under a given umask (process-wide; pytest runs tests one at a time)."""

    def __init__(self, mask: int):
        self.mask = mask

    def __enter__(self):
        self.old = os.umask(self.mask)

    def __exit__(self, *exc):
        os.umask(self.old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# ---- atomic writes and the umask ----------------------------------------------------------------

@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_0666_less_the_umask(tmp_path, mask, expected):
    with umask(mask):
        assert current_umask() == mask
        write_bytes_atomic(tmp_path / "new.txt", b"x")
        assert current_umask() == mask  # reading it did not change it
    assert mode(tmp_path / "new.txt") == expected
    assert (tmp_path / "new.txt").read_bytes() == b"x"


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "kept.txt"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with umask(0o002):
        write_bytes_atomic(path, b"new")
    assert mode(path) == 0o640 and path.read_bytes() == b"new"


def test_a_link_is_replaced_not_written_through(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"outside")
    link = tmp_path / "out" / "artifact.bin"
    link.parent.mkdir()
    link.symlink_to(target)
    with umask(0o022):
        write_bytes_atomic(link, b"artifact")
    assert target.read_bytes() == b"outside"
    assert not link.is_symlink() and link.read_bytes() == b"artifact" and mode(link) == 0o644


def test_stale_temporaries_are_only_our_own(tmp_path):
    target = tmp_path / "people.csv"
    target.write_text("x\n")
    ours = tmp_path / ".people.csv.ab_3x9z0.tmp"
    ours.write_text("half")
    others = [".people.csv.tmp", ".people.csv.ABCDEFGH.tmp", ".people.csv.abc.tmp", ".other.csv.abcdefgh.tmp",
              "people.csv.abcdefgh.tmp", ".people.csv.abcdefgh.tmp.bak"]
    for name in others:
        (tmp_path / name).write_text("not ours")
    (tmp_path / ".people.csv.linklink.tmp").symlink_to(tmp_path / "people.csv")  # a link is never ours
    assert stale_temporaries(target) == [ours]


# ---- build --out ----------------------------------------------------------------------------------

@pytest.mark.parametrize("out", ["data", "data/sub", "schemas", "validation/x/y", "docs", "docs/html", "."])
def test_build_refuses_an_out_folder_inside_the_package(tmp_path, capsys, out):
    root = copy_package(tmp_path / "pkg")
    (root / "docs").mkdir()
    before = snapshot(root)
    assert main(["build", "--no-validate", str(root), "--out", str(root / out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--out" in err and "Traceback" not in err
    assert snapshot(root) == before


def test_build_refuses_an_out_folder_reached_through_a_link(tmp_path, capsys):
    root = copy_package(tmp_path / "pkg")
    (tmp_path / "innocent").symlink_to(root / "schemas")
    before = snapshot(root)
    assert main(["build", "--no-validate", str(root), "--out", str(tmp_path / "innocent" / "dist")]) == 2
    assert "inside the package's schemas/ folder" in capsys.readouterr().err
    (tmp_path / "rootlink").symlink_to(root)
    assert main(["build", "--no-validate", str(root), "--out", str(tmp_path / "rootlink")]) == 2
    assert "package folder itself" in capsys.readouterr().err
    assert snapshot(root) == before


@pytest.mark.parametrize("value, reason", [
    ("../evil", "'..'"), ("a/b", "separator"), ("a\\b", "separator"), (".hidden", "dot"), ("..", "'..'"),
    ("x\x00y", "NUL"), ("line\nbreak", "control"), ("bidi\u202eexe", "format"), ("", "non-empty"), (3, "string"),
    ("C:evil", "separator"), (" padded", "white space"), ("x" * 201, "longer"),
])
def test_names_that_cannot_be_file_names(value, reason):
    assert reason in name_problem(value)


@pytest.mark.parametrize("value", ["shanghai-ifc", "1.0.0", "2025.1-rc.1", "上海国际金融中心", "people_v2"])
def test_names_that_can(value):
    assert name_problem(value) is None


@pytest.mark.parametrize("key, value", [("name", "../../escaped"), ("version", "../../../x"),
                                        ("name", "nested/name"), ("version", ".1")])
def test_build_refuses_an_unsafe_name_before_writing_anything(tmp_path, key, value):
    root = copy_package(tmp_path / "pkg")
    apply_edit(root, {"file": "datapackage.json", "json_set": {"path": [key], "value": value}})
    out = tmp_path / "deep" / "er" / "out"
    before = snapshot(tmp_path)
    with pytest.raises(PackageError):
        build(root, out, validate_first=False)
    assert snapshot(tmp_path) == before  # not even --out was created


def test_artifact_names_are_checked_on_the_opened_package(tmp_path):
    package = open_package(copy_package(tmp_path / "pkg"))
    assert artifact_names(package) == {"name": "shanghai-ifc", "version": json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]}
    package.descriptor["name"] = "..\\..\\evil"
    with pytest.raises(PackageError, match="name"):
        artifact_names(package)


def test_build_writes_only_inside_out_with_the_umask(tmp_path):
    root = copy_package(tmp_path / "pkg")
    out = tmp_path / "dist"
    out.mkdir()
    before = snapshot(tmp_path)
    with umask(0o027):
        summary = build(root, out, validate_first=False)
    after = snapshot(tmp_path)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed and all(k == "dist" or k.startswith("dist/") for k in changed)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert summary["zip"] in files and summary["sqlite"] in files
    assert {mode(p) for p in files} == {0o640}
    assert [p.name for p in out.rglob(".*")] == []  # no temporary file or folder left


def test_build_refuses_a_subfolder_that_is_a_link(tmp_path):
    root = copy_package(tmp_path / "pkg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "dist"
    out.mkdir()
    (out / "parquet").symlink_to(elsewhere)
    with pytest.raises(PackageError, match="link"):
        build(root, out, validate_first=False)
    assert list(elsewhere.iterdir()) == []


def test_build_reads_extra_files_safely(tmp_path):
    root = copy_package(tmp_path / "pkg")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the zip")
    (root / "README.md").symlink_to(secret)
    with pytest.raises(PackageError, match="README.md"):
        build(root, tmp_path / "dist", validate_first=False)


# ---- refresh -----------------------------------------------------------------------------------

def invalid_copy(tmp_path) -> Path:
    """A copy with a release descriptor whose data fails validation and
    whose stats are therefore stale."""
    root = release_copy(tmp_path / "pkg")
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "person_id", "value": "Not An ID!"})
    apply_edit(root, {"file": "data/events.csv", "line": 2, "column": "start_on", "value": "not a date"})
    return root


def test_refresh_refuses_an_invalid_package(tmp_path, capsys):
    root = invalid_copy(tmp_path)
    before = snapshot(root)
    assert main(["refresh", str(root)]) == 1
    out, err = capsys.readouterr()
    assert "fails validation (" in err and "`sifc validate`" in err and "--force" in err
    assert "data/people.csv:2:person_id" in out and "data/events.csv:2:start_on" in out
    assert snapshot(root) == before


def test_refresh_force_rehashes_an_invalid_package(tmp_path):
    root = invalid_copy(tmp_path)
    assert not refresh(root, check=True)
    assert main(["refresh", "--force", str(root)]) == 0
    assert refresh(root, check=True)


def test_stale_stats_alone_do_not_block_refresh(tmp_path, capsys):
    root = release_copy(tmp_path / "pkg")
    apply_edit(root, {"file": "data/people.csv", "swap_lines": [2, 3]})  # out of key order: invalid
    assert main(["refresh", str(root)]) == 1
    assert "row-order" in capsys.readouterr().out
    assert main(["fmt", str(root)]) == 0
    assert refresh(root, check=True)  # fmt sorted it back to the original bytes
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_en", "value": "Another Name"})
    assert not refresh(root, check=True)
    assert main(["refresh", str(root)]) == 0
    assert refresh(root, check=True)


@pytest.mark.parametrize("edit, reason", [
    ({"delete_file": True}, "does not exist"),
    ({"symlink_to": "/etc/passwd"}, "symbolic link"),
    ({"fifo": True}, "not a regular file"),
])
@pytest.mark.parametrize("flags", [[], ["--force"], ["--check"]])
@pytest.mark.parametrize("make", [copy_package, release_copy], ids=["repository", "release"])
def test_refresh_reports_an_unreadable_file_as_a_finding(tmp_path, capsys, edit, reason, flags, make):
    root = make(tmp_path / "pkg")
    apply_edit(root, {"file": "data/people.csv", **edit})
    before = snapshot(root)
    assert main(["refresh", *flags, str(root)]) == 1
    out, err = capsys.readouterr()
    lines = [l for l in out.splitlines() if "data/people.csv" in l]
    assert len(lines) == 1 and reason in lines[0] and lines[0].startswith("datapackage.json:")
    assert "Traceback" not in out + err and "nothing was changed" in err
    assert snapshot(root) == before


def test_file_stats_reads_through_safeio(tmp_path):
    root = copy_package(tmp_path / "pkg")
    assert file_stats(root, "data/people.csv")[0] == (root / "data/people.csv").stat().st_size
    (root / "data" / "link.csv").symlink_to(root / "data" / "people.csv")
    with pytest.raises(UnsafeFile, match="symbolic link"):
        file_stats(root, "data/link.csv")
    with pytest.raises(UnsafeFile, match=r"\.\."):
        file_stats(root, "../pkg/data/people.csv")
    os.mkfifo(root / "data" / "pipe.csv")
    with pytest.raises(UnsafeFile, match="not a regular file"):
        file_stats(root, "data/pipe.csv")


def test_refreshed_names_every_unhashable_file(tmp_path):
    root = release_copy(tmp_path / "pkg")
    (root / "data" / "people.csv").unlink()
    (root / "data" / "themes.csv").unlink()
    (root / "data" / "themes.csv").symlink_to(ROOT / "data" / "themes.csv")
    with pytest.raises(UnhashableFiles) as caught:
        refreshed(root)
    problems = dict(caught.value.problems)
    assert sorted(problems) == ["data/people.csv", "data/themes.csv"]
    assert "not found" in problems["data/people.csv"] and "symbolic link" in problems["data/themes.csv"]


def test_refresh_force_adds_deleted_stats(tmp_path, capsys):
    """In a release descriptor, bytes/hash deleted from one resource are a
    finding (not a way to switch tamper detection off); --force restores them."""
    root = release_copy(tmp_path / "pkg")
    apply_edit(root, {"file": "datapackage.json", "json_delete": ["resources", 2, "bytes"]})
    apply_edit(root, {"file": "datapackage.json", "json_delete": ["resources", 2, "hash"]})
    assert main(["refresh", str(root)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["refresh", "--force", str(root)]) == 0
    resource = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))["resources"][2]
    assert resource["bytes"] == (root / resource["path"]).stat().st_size
    assert main(["refresh", "--check", str(root)]) == 0


def test_refresh_check_of_the_real_package_passes():
    assert main(["refresh", "--check", str(ROOT)]) == 0


def test_the_repository_descriptor_records_no_stats():
    """bytes/hash live in release descriptors and MANIFEST.json; in the
    repository they would make every CSV edit a change to datapackage.json."""
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    assert all("bytes" not in r and "hash" not in r for r in descriptor["resources"])


@pytest.mark.parametrize("flags", [[], ["--force"]])
def test_refresh_never_adds_stats_to_a_descriptor_without_them(tmp_path, capsys, flags):
    root = copy_package(tmp_path / "pkg")
    shutil.copytree(ROOT / "docs", root / "docs")  # the generated data dictionary, current
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_en", "value": "Another Name"})
    before = (root / "datapackage.json").read_bytes()
    assert refreshed(root)[0] == refreshed(root)[1] and refresh(root, check=True)
    assert main(["refresh", "--check", str(root)]) == 0
    assert main(["refresh", *flags, str(root)]) == 0
    assert "datapackage.json" not in capsys.readouterr().out
    assert (root / "datapackage.json").read_bytes() == before


def test_refresh_keeps_a_release_descriptors_stats_current(tmp_path, capsys):
    root = release_copy(tmp_path / "pkg")
    shutil.copytree(ROOT / "docs", root / "docs")
    apply_edit(root, {"file": "data/people.csv", "line": 2, "column": "name_en", "value": "Another Name"})
    assert main(["refresh", "--check", str(root)]) == 1
    assert "stale: datapackage.json (bytes, hash)" in capsys.readouterr().out
    assert main(["refresh", str(root)]) == 0
    resource = next(r for r in json.loads((root / "datapackage.json").read_text(encoding="utf-8"))["resources"]
                    if r["name"] == "people")
    assert file_stats(root, "data/people.csv") == (resource["bytes"], resource["hash"])
    assert main(["refresh", "--check", str(root)]) == 0
