"""The README's examples run as written (from the repository root)."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import ROOT


def python_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_pandas_examples_run():
    blocks = python_blocks("Using the data with pandas")
    assert len(blocks) >= 3
    # the third block lists calls with placeholders (a URL, your own frame)
    runnable = [b for b in blocks if "example.org" not in b and "my_frame" not in b]
    assert len(runnable) >= 2
    code = "import sifc\n" + "\n".join(runnable) + "\nprint(len(measures), len(people), events['start_on'].dtype)"
    env = {k: v for k, v in os.environ.items() if k != "SIFC_PACKAGE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    n_measures, n_people, dtype = out.stdout.split()
    assert int(n_measures) > 0 and int(n_people) > 0 and dtype.startswith("datetime64")
