"""benchmarks/RESULTS.md is shared by several benchmark scripts: each one
replaces only its own section (an earlier version of benchmarks/load.py
dropped every section after its own)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def results_module():
    spec = importlib.util.spec_from_file_location("bench_results", ROOT / "benchmarks" / "results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_section_is_replaced_and_every_other_section_stays(tmp_path):
    write_section = results_module().write_section
    path = tmp_path / "RESULTS.md"
    path.write_text("# Top\n\ntable\n\n## Loading: x\n\nold\n\n## Site: y\n\nsite figures\n", encoding="utf-8")
    write_section("## Loading: x", "## Loading: x\n\nnew figures\n", path)
    assert path.read_text(encoding="utf-8") == \
        "# Top\n\ntable\n\n## Loading: x\n\nnew figures\n\n## Site: y\n\nsite figures\n"
    write_section("## Site: y", "## Site: y\n\nnewer\n", path)  # the last section
    assert path.read_text(encoding="utf-8").endswith("## Loading: x\n\nnew figures\n\n## Site: y\n\nnewer\n")
    write_section("## Paired", "## Paired\n\np\n", path)  # a new section is appended
    assert path.read_text(encoding="utf-8").endswith("## Site: y\n\nnewer\n\n## Paired\n\np\n")


def test_the_recorded_results_hold_every_benchmark_section():
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    for heading in ("# Benchmark results", "## Loading:", "## Site:"):
        assert heading in text, heading
