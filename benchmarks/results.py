"""benchmarks/RESULTS.md, one section per benchmark script: a script
replaces its own section (from its heading up to the next `## ` heading)
or appends it, and every other section stays byte for byte. Written
atomically, so an interrupted run leaves the old file."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
sys.path.insert(0, str(ROOT / "src"))
from sifc.files.atomic import write_text_atomic  # noqa: E402


def write_section(mark: str, text: str, path: Path = RESULTS) -> None:
    """`text` starts with `mark`, the section's heading line."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if mark in old:
        before, _, rest = old.partition(mark)
        following = rest.find("\n## ")
        after = rest[following + 1:] if following >= 0 else ""
        new = before + text.rstrip("\n") + "\n" + ("\n" + after if after else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text if old else text
    write_text_atomic(path, new)
