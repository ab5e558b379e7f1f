"""The README's R example runs as written (Rscript with readr) in the
unzipped release zip, and gives every column the type its schema declares
and exactly the CSVs' missing values.

Rscript and readr come from Debian's packages (r-base-core, r-cran-readr),
which .ci/run installs: in CI (CI set) a missing R fails the test; on a
machine without R it is skipped with the install command."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sifc
from conftest import ROOT
from sifc.files.package import open_package

SIFC = Path(sys.executable).with_name("sifc")
PACKAGE = open_package(ROOT)
INSTALL = "apt-get install -y --no-install-recommends r-base-core r-cran-readr"
#: what class(x)[1] is in R for each Table Schema type read as the README says
R_CLASS = {"string": "character", "integer": "integer", "boolean": "logical", "date": "Date",
           "number": "numeric", "list": "character"}


def r_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n## R\n" in text, "README.md has no section '## R'"
    body = text.split("\n## R\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```r\n(.*?)```", body, re.S)


def need_r() -> str:
    rscript = shutil.which("Rscript")
    ok = rscript and subprocess.run([rscript, "-e", 'quit(status = !requireNamespace("readr", quietly = TRUE))'],
                                    capture_output=True, timeout=120).returncode == 0
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"Rscript with readr is missing; .ci/run installs it with: {INSTALL}")
        pytest.skip(f"needs Rscript and readr: {INSTALL}")
    return rscript


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """The release zip of `sifc build`, unzipped: where a user runs the example."""
    base = tmp_path_factory.mktemp("r")
    run = subprocess.run([str(SIFC), "build", str(ROOT), "--out", str(base / "dist"), "--no-validate"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    (archive,) = (base / "dist").glob("*.zip")
    with zipfile.ZipFile(archive) as z:
        z.extractall(base / "release")
    return base / "release"


REPORT = r"""
for (name in c(%s)) {
  frame <- get(name)
  stopifnot(nrow(problems(frame)) == 0)
  cat("rows", name, nrow(frame), "\n", sep = "\t")
  for (col in names(frame)) {
    x <- frame[[col]]
    cat("col", name, col, class(x)[1], sum(is.na(x)), "\n", sep = "\t")
  }
}
cat("first", paste(measures$theme_ids[[1]], collapse = "|"), "\n", sep = "\t")
"""


def test_readme_r_example_reads_the_schema_types(release):
    rscript = need_r()
    blocks = r_blocks()
    assert len(blocks) == 1 and "library(readr)" in blocks[0]
    code = blocks[0]
    frames = re.findall(r"^(\w+) <- read_csv\(", code, re.M)
    assert {"measures", "participants", "events"} <= set(frames)
    script = code + REPORT % ", ".join(f'"{f}"' for f in frames)
    out = subprocess.run([rscript, "--vanilla", "-e", script], cwd=release, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line.rstrip("\t").split("\t") for line in out.stdout.splitlines() if line.strip()]
    tables = sifc.load_all(validate=False)
    rows = {name: int(n) for kind, name, n, *_ in (line for line in lines if line[0] == "rows")}
    assert rows == {name: len(tables[name]) for name in frames}
    seen = set()
    for _, table, column, r_class, missing in (line for line in lines if line[0] == "col"):
        field = PACKAGE.resource(table).schema.field(column)
        split = r_class == "list" and field.is_list  # split with strsplit as the README shows
        assert r_class == R_CLASS[field.type] or split, (table, column, r_class)
        assert int(missing) == int(tables[table][column].isna().sum()), (table, column)
        seen.add((table, field.type))
    assert {t for _, t in seen} >= {"string", "integer", "boolean", "date", "list"}
    first = next(line for line in lines if line[0] == "first")[1]
    assert first.split("|") == list(tables["measures"].theme_ids.iloc[0])


def test_readme_names_the_frictionless_r_limit_and_the_workaround():
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## R\n", 1)[1].split("\n## ", 1)[0]
    assert "frictionless" in text and "`list`" in text and 'strsplit(x, ";"' in text
