"""`bytes` and `hash` of the resources: where they live and how they stay current.

The repository's datapackage.json carries no `bytes` or `hash`: a one-row
edit of a CSV (in GitHub's web editor, with no local tool) leaves it
current, and two pull requests editing different rows of one table do not
conflict in it. Integrity lives in what is released: `sifc build` writes a
*release descriptor* with `bytes` and a sha256 `hash` for every resource
(`with_stats`), and MANIFEST.json with both for every file; zip and remote
loads require and verify them (`fetch`).

A descriptor that does carry them (a release descriptor, or one unpacked
from a release) carries them for every resource or for none (schemacheck),
and `sifc refresh` keeps them current there (`refreshed`). It never adds
them to a descriptor that has none.

Every file is read the safe way (`safeio`): a resource whose file is
missing, a link, a device, outside the package or too large is not hashed
but reported (`UnhashableFiles`, one (file, reason) pair each); the
descriptor is then left as it is."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .atomic import write_text_atomic
from .package import DESCRIPTOR, PackageError, is_remote, read_descriptor
from .safeio import UnsafeFile, read_package_file

STATS = ("bytes", "hash")


class UnhashableFiles(PackageError):
    """Resources whose file cannot be read safely; `.problems` holds one
    (file, reason) pair each."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        first = f"{problems[0][0]}: {problems[0][1]}" if problems else ""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"cannot compute bytes and hash: {first}{more}")


def file_stats(root: Path, relative: str) -> tuple[int, str]:
    """(bytes, "sha256:…") of the package file `relative`, read without
    following links, refusing anything but a regular file inside `root`,
    bounded in size (UnsafeFile, FileNotFoundError, OSError otherwise)."""
    data = read_package_file(Path(root), relative, what="data file")
    return len(data), "sha256:" + hashlib.sha256(data).hexdigest()


def carries_stats(descriptor: dict) -> bool:
    """Whether any resource of `descriptor` records `bytes` or `hash` (a
    release descriptor does; the repository's does not)."""
    resources = descriptor.get("resources")
    return isinstance(resources, list) and any(
        isinstance(r, dict) and any(k in r for k in STATS) for r in resources)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found; restore it, or remove the resource from datapackage.json"
    if isinstance(exc, UnsafeFile):
        return f"cannot be read safely: {exc}"
    if isinstance(exc, OSError):
        return f"cannot be read: {exc.strerror or exc}"
    return str(exc)


def _stamp(root: Path, descriptor: dict) -> dict:
    """`descriptor` with every local resource's bytes and hash computed from
    its file (remote resources keep what they have). UnhashableFiles when a
    file cannot be read safely."""
    resources = descriptor.get("resources")
    if not isinstance(resources, list):
        raise PackageError(f"{DESCRIPTOR}: has no list of resources")
    problems = []
    for res in resources:
        if not isinstance(res, dict):
            continue
        path = res.get("path")
        if not isinstance(path, str) or is_remote(path):
            continue
        try:
            res["bytes"], res["hash"] = file_stats(root, path)
        except (OSError, UnsafeFile) as exc:
            problems.append((path, _reason(exc)))
    if problems:
        raise UnhashableFiles(problems)
    return descriptor


def _dump(descriptor: dict) -> str:
    return json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n"


def with_stats(root: Path) -> str:
    """The text of a release descriptor for the package at `root`: its own
    descriptor with `bytes` and a sha256 `hash` for every local resource.
    Nothing is written."""
    root, _, descriptor, _ = read_descriptor(Path(root))
    return _dump(_stamp(root, descriptor))


def refreshed(root: Path) -> tuple[str, str]:
    """(current text, text it should have). A descriptor that carries bytes
    or hash gets them recomputed for every local resource (all or none); a
    descriptor that carries none (the repository's) is left exactly as it
    is. UnhashableFiles when a resource's file cannot be read safely;
    PackageError when the descriptor cannot be read."""
    root, _, descriptor, current = read_descriptor(Path(root))
    if not carries_stats(descriptor):
        if not isinstance(descriptor.get("resources"), list):
            raise PackageError(f"{DESCRIPTOR}: has no list of resources")
        return current, current
    return current, _dump(_stamp(root, descriptor))


def refresh(root: Path, check: bool = False) -> bool:
    """Bring the stats of a descriptor that carries them up to date; with
    check=True only report whether they are stale. Returns True when the
    file is (or was) up to date. A descriptor without stats is never
    changed."""
    current, new = refreshed(root)
    if current == new:
        return True
    if not check:
        root = Path(root)
        write_text_atomic(root if root.name.endswith(".json") else root / DESCRIPTOR, new)
    return False
