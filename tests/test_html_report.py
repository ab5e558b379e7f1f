"""The HTML report agrees with the verdict, covers all three layers, and is
self-contained: no script and nothing fetched from elsewhere."""
from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from conftest import ROOT, copy_package, set_cell


class Page(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.tags, self.attrs, self.status, self._cell = [], [], {}, None
        self._row, self._texts = None, []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        attrs = dict(attrs)
        if tag == "tr" and "data-table" in attrs:
            self._row = attrs["data-table"]
        if tag == "td" and self._row and (attrs.get("class") or "").startswith("status-"):
            self.status[self._row] = attrs["class"].removeprefix("status-")


def run(*args):
    return subprocess.run([sys.executable, "-m", "sifc.cli", "validate", *args], capture_output=True, text=True,
                          timeout=600)


def assert_self_contained(page: Page, text: str):
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    for tag, key, value in page.attrs:
        assert not re.match(r"\s*(https?:|//|javascript:|data:)", value, re.I), (tag, key, value)
        assert not key.startswith("on"), (tag, key)
    assert "default-src 'none'" in text


@pytest.fixture(scope="module")
def real_report(tmp_path_factory):
    docs = tmp_path_factory.mktemp("docs")
    result = run(str(ROOT), "--docs-dir", str(docs))
    assert result.returncode == 0, result.stdout + result.stderr
    return docs, result


def test_valid_package_page_says_valid_and_links_gx_detail(real_report):
    docs, result = real_report
    text = (docs / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert_self_contained(page, text)
    verdict = result.stdout.strip().splitlines()[-1]
    assert f'class="verdict valid" id="verdict">{verdict}<' in text.replace("&#x27;", "'")
    assert ("a", "href", "gx/index.html") in page.attrs and (docs / "gx" / "index.html").is_file()
    # tables with warnings only are not marked as failed; clean ones are clean
    assert set(page.status.values()) <= {"clean", "warnings"}
    assert "frictionless" in text and "pandera" in text and "<th>gx</th>" in text


def test_invalid_table_is_marked_errors_and_the_verdict_is_invalid(tmp_path):
    root = copy_package(tmp_path / "pkg")
    set_cell(root / "data" / "people.csv", 2, "name_en", "x\u202e<script>alert(1)</script>")
    docs = tmp_path / "docs"
    result = run(str(root), "--skip", "gx", "--docs-dir", str(docs))
    assert result.returncode == 1
    text = (docs / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert_self_contained(page, text)
    assert 'class="verdict invalid"' in text and "INVALID" in text
    assert page.status["people"] == "errors" and page.status["themes"] == "clean"
    assert "\u202e" not in text and "&lt;script&gt;" in text
    assert ("a", "href", "gx/index.html") not in page.attrs  # GX skipped: no detail view to link
