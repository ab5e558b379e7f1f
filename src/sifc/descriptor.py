"""Keep datapackage.json's `bytes` and `hash` current, by command, not by hand."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .atomic import write_text_atomic
from .package import DESCRIPTOR


def file_stats(path: Path) -> tuple[int, str]:
    data = Path(path).read_bytes()
    return len(data), "sha256:" + hashlib.sha256(data).hexdigest()


def refreshed(root: Path) -> tuple[str, str]:
    """(current text, text with every resource's bytes and hash recomputed)."""
    path = Path(root) / DESCRIPTOR
    current = path.read_text(encoding="utf-8")
    descriptor = json.loads(current)
    for res in descriptor["resources"]:
        res["bytes"], res["hash"] = file_stats(Path(root) / res["path"])
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
