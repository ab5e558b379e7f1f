"""The built site in a real headless Chromium (Playwright driving the
operating system's browser), served by http.server on 127.0.0.1: table
pages show exactly their CSV's rows, filtering and sorting work, every
internal link resolves, no request leaves 127.0.0.1, no console error;
screenshots for review are written to build/screenshots/.

Locally a missing browser is a skip that says how to install it; in CI
(the CI environment variable set) it is a failure."""
from __future__ import annotations

import csv
import functools
import http.server
import io
import os
import re
import shutil
import threading
import unicodedata
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import ROOT

INSTALL = "apt-get install -y chromium fonts-wqy-microhei (and pip install -c requirements.lock -e '.[dev]')"
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def _unavailable(reason: str):
    message = f"browser tests need {reason}; install it with: {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the browser tests, not skip them)", pytrace=False)
    pytest.skip(message)


def _chromium() -> str | None:
    for path in CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("jinja2")
    from sifc.publish.site.build import build_site
    out = tmp_path_factory.mktemp("browser") / "site"
    build_site(ROOT, out)
    return out


@pytest.fixture(scope="module")
def base_url(site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package")
    executable = _chromium()
    if executable is None:
        _unavailable("Chromium from the operating system's packages")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True)
        yield b
        b.close()


class Watch:
    """Every request the pages make (those leaving 127.0.0.1 are aborted and
    recorded), console errors and uncaught exceptions."""

    def __init__(self, context, page):
        self.outside: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        # only what is not on 127.0.0.1 goes through the handler (aborted); every request is recorded
        context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/])"), self._outside)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _outside(self, route):
        self.outside.append(route.request.url)
        route.abort()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(context, page)
    yield page, watch
    context.close()


def csv_rows(name: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO((ROOT / "data" / f"{name}.csv").read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def table_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "data").glob("*.csv"))


def shown_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "table[data-sortable] tbody tr:not([hidden])",
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")


def test_every_table_page_shows_exactly_the_rows_of_its_csv(tab, base_url):
    page, watch = tab
    for name in table_names():
        header, rows = csv_rows(name)
        page.goto(f"{base_url}tables/{name}.html")
        heads = page.eval_on_selector_all("table[data-sortable] thead th", "ths => ths.map(t => t.textContent)")
        assert heads == header, name
        assert shown_rows(page) == rows, name
        assert page.text_content(".count") == f"Showing {len(rows)} of {len(rows)} rows"
    assert not watch.errors and not watch.outside


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def test_searching_filtering_by_column_and_sorting(tab, base_url):
    page, watch = tab
    header, rows = csv_rows("measures")
    page.goto(f"{base_url}tables/measures.html")
    search = page.locator("#search-measures")

    search.fill("RMB")
    expected = [r for r in rows if any("rmb" in _norm(c) for c in r)]
    assert 0 < len(expected) < len(rows)
    assert shown_rows(page) == expected
    assert page.text_content(".count") == f"Showing {len(expected)} of {len(rows)} rows"

    search.fill("digital rmb")  # every word, anywhere in the row
    expected = [r for r in rows if all(w in _norm("\u0001".join(r)) for w in ("digital", "rmb"))]
    assert shown_rows(page) == expected and expected

    col = header.index("implemented_on")
    search.fill("2025")
    page.select_option("#column-measures", str(col))  # only that column
    expected = [r for r in rows if "2025" in r[col]]
    assert shown_rows(page) == expected and 0 < len(expected) < len([r for r in rows if "2025" in "".join(r)])

    page.click("button.reset")
    assert len(shown_rows(page)) == len(rows)

    # sorting: text, both ways, empty cells last; numbers as numbers
    title = header.index("title_en")
    page.click(f"th:nth-child({title + 1}) button")
    assert shown_rows(page) == sorted(rows, key=lambda r: (r[title] == "", r[title]))
    assert page.get_attribute(f"th:nth-child({title + 1})", "aria-sort") == "ascending"
    page.click(f"th:nth-child({title + 1}) button")
    assert [r[title] for r in shown_rows(page)] == sorted((r[title] for r in rows), reverse=True)
    assert page.get_attribute(f"th:nth-child({title + 1})", "aria-sort") == "descending"
    order = header.index("listed_order")
    page.click(f"th:nth-child({order + 1}) button")
    got = [r[order] for r in shown_rows(page)]
    filled = [int(v) for v in got if v]
    assert filled == sorted(filled) and got[len(filled):] == [""] * (len(got) - len(filled))
    assert len(filled) > 9  # 10 sorts before 9 as text, so this is a numeric sort

    # sorted and filtered together, from the keyboard
    search.fill("shanghai")
    page.focus(f"th:nth-child({title + 1}) button")
    page.keyboard.press("Enter")
    expected = sorted((r for r in rows if any("shanghai" in _norm(c) for c in r)), key=lambda r: r[title])
    assert shown_rows(page) == expected
    assert not watch.errors and not watch.outside


def test_every_internal_link_resolves_and_nothing_leaves_127_0_0_1(tab, base_url, site):
    """Crawl every page from the home page in the browser; other files
    (CSVs, CITATION.cff) are fetched over HTTP. downloads/ is filled by the
    release step and is not part of the built site."""
    page, watch = tab
    start = base_url + "index.html"
    seen, queue, files, visited = {start}, deque([start]), set(), 0
    while queue:
        url = queue.popleft()
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        visited += 1
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
        for href in hrefs:
            target = urljoin(url, href).split("#")[0]
            if urlsplit(target).hostname != "127.0.0.1" or target in seen:
                continue
            seen.add(target)
            path = urlsplit(target).path
            if path.startswith("/downloads/"):
                continue
            if path.endswith(".html"):
                queue.append(target)
            else:
                files.add(target)
        assert not watch.errors, f"{url}: {watch.errors}"
    for url in sorted(files):
        assert page.request.get(url).status == 200, url
    pages_on_disk = len(list(site.rglob("*.html")))
    assert visited == pages_on_disk, "some pages are not reachable by links from the home page"
    assert not watch.outside, watch.outside
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in watch.requests)
    assert any(u.endswith("static/site.css") for u in watch.requests)
    # the watch itself: a request to another host is caught, not let through
    with pytest.raises(Exception):
        page.goto("http://192.0.2.1/elsewhere.html", timeout=5000)
    assert watch.outside == ["http://192.0.2.1/elsewhere.html"]


def test_the_page_is_usable_from_the_keyboard_and_on_a_phone(browser, base_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = Watch(context, page)
    page.goto(base_url + "tables/people.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # nothing wider than the screen but the scrolling table region
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
    page.goto(base_url + "network.html")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    links = page.eval_on_selector_all("svg a", "as => as.map(a => a.querySelector('title').textContent)")
    assert len(links) >= 12 + 18 + 3 and all(links)
    assert not watch.errors and not watch.outside
    context.close()


def test_screenshots_for_review(browser, base_url):
    out = ROOT / "build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(context, page)
    for path, name in (("index.html", "home"), ("tables/measures.html", "table-measures"),
                       ("network.html", "network")):
        page.goto(base_url + path)
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)
        assert (out / f"{name}.png").stat().st_size > 10_000
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    p2 = phone.new_page()
    p2.goto(base_url + "index.html")
    p2.screenshot(path=str(out / "home-phone.png"))
    phone.close()
    assert not watch.errors and not watch.outside
    context.close()


def test_the_site_works_from_a_file_url_offline(browser, site):
    """Opened from disk (no server): the script runs under the page's
    Content-Security-Policy, and nothing is requested but local files."""
    context = browser.new_context()
    page = context.new_page()
    requests, errors = [], []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                          if route.request.url.startswith("file://") else route.abort()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((site / "tables" / "people.html").as_uri())
    page.fill("#search-people", "pan")
    assert [r[0] for r in shown_rows(page)] == ["pan-gongsheng"]
    assert not errors and all(u.startswith("file://") for u in requests)
    context.close()
