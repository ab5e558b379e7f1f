"""`sifc diff OLD NEW`: what changed between two versions of the package,
per table and by primary key: rows added, removed and changed, with the
changed cells. OLD and NEW are package folders or git revisions of this
repository."""
from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .csvfile import read_raw
from .package import DESCRIPTOR, PackageError, open_package

#: git's empty tree: diff against it to list everything as added
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


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


def _rows(package, name) -> tuple[dict, list[str]]:
    """Rows of a table keyed by primary key, as {column: text}."""
    if package is None or name not in package.resources:
        return {}, []
    resource = package.resource(name)
    raw, problems = read_raw(resource)
    if raw is None:
        raise PackageError(f"{resource.path}: cannot be read ({problems[0].message if problems else 'unknown'})")
    pk = [c for c in resource.schema.primary_key if c in raw.header]
    rows = {}
    for record in raw.records:
        cells = dict(zip(raw.header, record + [""] * (len(raw.header) - len(record))))
        rows[tuple(cells[c] for c in pk)] = cells
    return rows, raw.header


def diff_packages(old, new) -> list[TableDiff]:
    names = list(dict.fromkeys((list(new.resources) if new else []) + (list(old.resources) if old else [])))
    out = []
    for name in names:
        before, _ = _rows(old, name)
        after, columns = _rows(new, name)
        d = TableDiff(name)
        d.added = sorted(k for k in after if k not in before)
        d.removed = sorted(k for k in before if k not in after)
        for k in sorted(set(before) & set(after)):
            cols = list(dict.fromkeys(list(after[k]) + list(before[k])))
            cells = [(c, before[k].get(c, ""), after[k].get(c, "")) for c in cols
                     if before[k].get(c, "") != after[k].get(c, "")]
            if cells:
                d.changed[k] = cells
        out.append(d)
    return out


def _checkout(rev: str, repo: Path, dest: Path):
    """The package as it was at a git revision, or None if it had none."""
    if rev == EMPTY_TREE:
        return None
    listing = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", rev],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        raise PackageError(f"{rev}: not a folder or a git revision ({listing.stderr.strip()})")
    files = [f for f in listing.stdout.splitlines()
             if f == DESCRIPTOR or f.startswith(("data/", "schemas/"))]
    if DESCRIPTOR not in files:
        return None
    for f in files:
        blob = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:{f}"], capture_output=True, check=True).stdout
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        (dest / f).write_bytes(blob)
    return open_package(dest)


def open_side(spec: str, repo: Path, tmp: Path):
    path = Path(spec)
    if path.is_dir() or path.name == DESCRIPTOR:
        return open_package(path)
    return _checkout(spec, repo, tmp)


def diff(old: str, new: str, repo: Path | None = None) -> list[TableDiff]:
    from .package import default_root
    repo = Path(repo) if repo else default_root()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        return diff_packages(open_side(old, repo, Path(a)), open_side(new, repo, Path(b)))


def _key(k: tuple) -> str:
    return "/".join(k)


def to_text(diffs: list[TableDiff]) -> str:
    lines = []
    for d in diffs:
        lines.append(f"{d.table}: {len(d.added)} added, {len(d.changed)} modified, {len(d.removed)} deleted")
        lines += [f"  + {_key(k)}" for k in d.added]
        lines += [f"  - {_key(k)}" for k in d.removed]
        for k, cells in d.changed.items():
            lines.append(f"  ~ {_key(k)}")
            lines += [f"      {c}: {json.dumps(o, ensure_ascii=False)} -> {json.dumps(n, ensure_ascii=False)}"
                      for c, o, n in cells]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(diffs: list[TableDiff], details: bool = True) -> str:
    rows = ["| table | added | modified | deleted |", "|---|---|---|---|"]
    rows += [f"| {d.table} | {len(d.added)} | {len(d.changed)} | {len(d.removed)} |" for d in diffs]
    if details:
        for d in diffs:
            if d.empty:
                continue
            rows += ["", f"#### {d.table}", ""]
            rows += [f"- added `{_key(k)}`" for k in d.added]
            rows += [f"- deleted `{_key(k)}`" for k in d.removed]
            for k, cells in d.changed.items():
                rows.append(f"- modified `{_key(k)}`: " + "; ".join(
                    f"`{c}` {_md(json.dumps(o, ensure_ascii=False))} → {_md(json.dumps(n, ensure_ascii=False))}"
                    for c, o, n in cells))
    return "\n".join(rows) + "\n"
