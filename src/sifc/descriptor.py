"""Keep datapackage.json's `bytes` and `hash` current, by command, not by hand.

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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found; restore it, or remove the resource from datapackage.json"
    if isinstance(exc, UnsafeFile):
        return f"cannot be read safely: {exc}"
    if isinstance(exc, OSError):
        return f"cannot be read: {exc.strerror or exc}"
    return str(exc)


def refreshed(root: Path) -> tuple[str, str]:
    """(current text, text with every local resource's bytes and hash
    recomputed). Remote resources keep what they have. UnhashableFiles
    when a resource's file cannot be read safely; PackageError when the
    descriptor cannot be read."""
    _, _, descriptor, current = read_descriptor(Path(root))
    resources = descriptor.get("resources")
    if not isinstance(resources, list):
        raise PackageError(f"{DESCRIPTOR}: has no list of resources")
    problems = []
    for i, res in enumerate(resources):
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
    return current, json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n"


def refresh(root: Path, check: bool = False) -> bool:
    """Rewrite the descriptor's stats; with check=True only report whether
    they are stale. Returns True when the file is (or was) up to date."""
    current, new = refreshed(root)
    if current == new:
        return True
    if not check:
        write_text_atomic(Path(root) / DESCRIPTOR, new)
    return False
