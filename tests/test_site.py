"""`sifc site`: the static site built from the real package (once for the
module), read back as HTML: every entity has a page, every internal link
resolves, nothing points outside the site but the sources' own pages,
Chinese text carries lang="zh-Hans", and a hostile cell is shown as text."""
from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT, copy_package, set_cell

pytest.importorskip("jinja2")

from sifc.cli import main  # noqa: E402
from sifc.files.package import PackageError, open_package  # noqa: E402
from sifc.publish.site.build import MARKER, build_site, external_url  # noqa: E402

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Links, sources, scripts, elements, and every text node with the
    lang in force where it stands."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.links: list[tuple[str, str]] = []  # (tag, href)
        self.srcs: list[tuple[str, str]] = []
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[tuple[str, str | None, str]] = []  # (text, lang, enclosing tag)
        self.scripts: list[dict] = []
        self.script_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "href" in a:
            self.links.append((tag, a["href"] or ""))
        if "src" in a:
            self.srcs.append((tag, a["src"] or ""))
        if tag == "script":
            self.scripts.append(a)
        if tag not in VOID:
            lang = a.get("lang", self.stack[-1][1] if self.stack else None)
            self.stack.append((tag, lang))

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "href" in a:
            self.links.append((tag, a["href"] or ""))
        if "src" in a:
            self.srcs.append((tag, a["src"] or ""))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            top, _ = self.stack.pop()
            if top == tag:
                break

    def handle_data(self, data):
        tag, lang = self.stack[-1] if self.stack else ("", None)
        if tag == "script":
            self.script_text += data
        if data.strip():
            self.texts.append((data, lang, tag))


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    summary = build_site(ROOT, out)
    assert summary["pages"] > 100
    return out


@pytest.fixture(scope="module")
def pages(site) -> dict[Path, Page]:
    return {path: parse(path) for path in sorted(site.rglob("*.html"))}


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def entity_tables():
    package = open_package(ROOT)
    return {name: r.schema.primary_key[0] for name, r in package.resources.items() if len(r.schema.primary_key) == 1}


def test_every_entity_has_a_page_and_every_table_a_page_and_its_csv(site):
    package = open_package(ROOT)
    entities = entity_tables()
    assert set(entities) == {"people", "institutions", "events", "documents", "measures", "commitments", "themes",
                             "sources", "progress"}
    for name, resource in package.resources.items():
        assert (site / "tables" / f"{name}.html").is_file(), name
        assert (site / "tables" / f"{name}.csv").read_bytes() == resource.file.read_bytes(), name
    for name, key in entities.items():
        header, rows = csv_rows(package.resource(name).file)
        ids = [row[header.index(key)] for row in rows]
        assert ids, name
        for ident in ids:
            assert (site / name / f"{ident}.html").is_file(), f"{name}/{ident}.html missing"
        assert len(list((site / name).glob("*.html"))) == len(ids), f"{name}: a page for a row that does not exist"
    for page in ("index.html", "network.html", "timeline.html", "static/site.css", "static/site.js"):
        assert (site / page).is_file(), page


def test_table_pages_hold_exactly_the_rows_of_the_csv(site):
    """The HTML as written (the browser test checks it as rendered)."""
    package = open_package(ROOT)
    for name, resource in package.resources.items():
        header, rows = csv_rows(resource.file)
        text = (site / "tables" / f"{name}.html").read_text(encoding="utf-8")
        body = text[text.index("<tbody>"):text.index("</tbody>")]
        shown = []
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
            shown.append([unescape_text(c) for c in cells])
        assert shown == rows, name


def unescape_text(fragment: str) -> str:
    import html
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_every_internal_link_and_source_resolves_to_a_file(site, pages):
    from sifc.publish.site.build import download_names
    expected_downloads = set()
    d = download_names(open_package(ROOT))
    for group in ("files", "parquet", "csv_excel"):
        expected_downloads |= {f["href"] for f in d[group]}
    seen_downloads = set()
    checked = 0
    for path, page in pages.items():
        for tag, ref in page.links + page.srcs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc:
                continue  # external: checked by the next test
            if not parts.path:
                assert parts.fragment, f"{path}: empty link"
                continue
            target = (path.parent / unquote(parts.path)).resolve()
            rel = target.relative_to(site.resolve()).as_posix()
            if rel.startswith("downloads/"):
                seen_downloads.add(rel)  # the release step fills downloads/
                continue
            assert target.is_file(), f"{path.relative_to(site)}: {tag} {ref} does not resolve"
            assert target.is_relative_to(site.resolve())
            checked += 1
    assert checked > 1000
    assert seen_downloads == expected_downloads
    assert any(re.fullmatch(r"downloads/shanghai-ifc-\d+\.\d+\.\d+\.zip", d) for d in seen_downloads)
    assert "downloads/parquet/people.parquet" in seen_downloads


def test_nothing_is_fetched_from_outside_and_only_sources_link_out(site, pages):
    urls = {row[5] for row in csv_rows(ROOT / "data" / "sources.csv")[1]}
    external_links = 0
    for path, page in pages.items():
        for tag, ref in page.srcs:
            assert not urlsplit(ref).scheme and not ref.startswith("//"), f"{path}: {tag} src={ref}"
        for tag, ref in page.links:
            if urlsplit(ref).scheme or ref.startswith("//"):
                assert tag == "a" and ref in urls, f"{path}: {tag} href={ref} is not a source's own page"
                external_links += 1
        for attrs in page.scripts:
            assert attrs.get("src", "").endswith("static/site.js"), f"{path}: script {attrs}"
        assert not page.script_text.strip(), f"{path}: inline script"
        for tag, attrs in page.tags:
            assert not any(k.startswith("on") for k in attrs), f"{path}: event handler on <{tag}>"
            if tag == "link":
                assert not urlsplit(attrs.get("href", "")).scheme
    assert external_links >= len(urls)  # each source's own page, from its page at least
    for css in site.rglob("*.css"):
        assert not re.search(r"url\(|@import", css.read_text(encoding="utf-8")), css
    js = (site / "static" / "site.js").read_text(encoding="utf-8")
    assert not re.search(r"fetch\(|XMLHttpRequest|https?:", js)


def test_chinese_text_is_marked_as_chinese_and_pages_are_described(pages):
    for path, page in pages.items():
        langs = [a.get("lang") for t, a in page.tags if t == "html"]
        assert langs == ["en"], path
        for text, lang, tag in page.texts:
            if HAN.search(text) and tag != "title":
                assert lang and lang.startswith("zh-Hans"), f"{path}: {text.strip()[:40]!r} has lang {lang}"
        assert any(t == "meta" and a.get("name") == "viewport" for t, a in page.tags), path
        for tag, attrs in page.tags:
            if tag == "img":
                assert attrs.get("alt"), f"{path}: <img> without alt"
            if tag == "svg":
                assert attrs.get("aria-labelledby"), f"{path}: <svg> without a title"
    network = next(p for path, p in pages.items() if path.name == "network.html")
    titles = [text for text, _, tag in network.texts if tag == "title"]
    assert len(titles) >= 1 + 12 + 18 + 3  # the picture and every node


def test_network_nodes_link_to_every_person_institution_and_event(site):
    text = (site / "network.html").read_text(encoding="utf-8")
    svg = text[text.index("<svg"):text.index("</svg>")]
    hrefs = set(re.findall(r'<a href="([^"]+)"', svg))
    for name in ("people", "institutions", "events"):
        header, rows = csv_rows(ROOT / "data" / f"{name}.csv")
        for row in rows:
            assert f"{name}/{row[0]}.html" in hrefs, f"{name}/{row[0]} has no node"
    timeline = (site / "timeline.html").read_text(encoding="utf-8")
    assert 'href="events/lujiazui-forum-2025.html"' in timeline
    assert 'href="documents/nfra-shanghai-sifc-action-plan-2025.html"' in timeline


def test_entity_facts_show_their_sources_as_links(site):
    text = (site / "people" / "pan-gongsheng.html").read_text(encoding="utf-8")
    assert 'href="../sources/freshfromchina-mechanism-first-meeting.html"' in text
    assert 'lang="zh-Hans">潘功胜' in text
    assert 'href="../events/lujiazui-forum-2025.html"' in text  # a title at an event, with its sources
    source = (site / "sources" / "freshfromchina-mechanism-first-meeting.html").read_text(encoding="utf-8")
    assert 'href="../people/pan-gongsheng.html"' in source  # every row citing it
    assert 'href="https://freshfromchina.com/' in source and 'rel="external noopener noreferrer"' in source


def test_measure_and_commitment_pages_show_their_current_status_and_evidence(site):
    import sifc
    import sifc.views
    tables = sifc.load_all()
    for row in sifc.views.current_status(tables).itertuples():
        table = "measures" if row.subject == "measure" else "commitments"
        text = (site / table / f"{row.subject_id}.html").read_text(encoding="utf-8")
        current = text.split(">Current status <", 1)[1].split("</table>", 1)[0]
        assert f"<td>{row.status}</td>" in current, (table, row.subject_id)
        if isinstance(row.status_progress_id, str):
            assert f'href="../progress/{row.status_progress_id}.html"' in current
    for row in tables["progress"].itertuples():
        table, ident = ("measures", row.measure_id) if isinstance(row.measure_id, str) else \
            ("commitments", row.commitment_id)
        text = (site / table / f"{ident}.html").read_text(encoding="utf-8")
        evidence = text.split(">Progress: evidence of what became of it <", 1)[1].split("</table>", 1)[0]
        assert re.search(rf'href="../progress/{row.progress_id}.html"[^>]*>{row.progress_id}</a>', evidence)
        for sid in row.source_ids:  # each piece of evidence with its sources
            assert f'href="../sources/{sid}.html"' in evidence


def test_a_hostile_cell_is_shown_as_text(tmp_path):
    from sifc.files.descriptor import refresh
    root = copy_package(tmp_path / "pkg")
    hostile = '</td><script>alert(1)</script><img src=x onerror=alert(2)> & "quoted" \'single\' <!-- x'
    set_cell(root / "data" / "people.csv", 2, "notes", hostile)
    set_cell(root / "data" / "themes.csv", 2, "description_en", '<a href="https://evil.example/">evil</a>')
    refresh(root)
    out = tmp_path / "site"
    build_site(root, out)
    person = csv_rows(root / "data" / "people.csv")[1][0][0]
    for page in (out / "people" / f"{person}.html", out / "tables" / "people.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &amp; " in text
        parsed = parse(page)
        assert not any(t == "img" for t, _ in parsed.tags)
        assert any(hostile in t for t, _, _ in parsed.texts) or hostile in "".join(t for t, _, _ in parsed.texts)
    for path in out.rglob("*.html"):
        assert "evil.example" not in {urlsplit(h).netloc for _, h in parse(path).links}, path


def test_only_http_urls_become_links():
    assert external_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//example.org/", "https://", "https://a.b/\nx",
                "ftp://example.org/", "example.org"):
        assert external_url(bad) is None, bad


def test_out_is_refused_inside_the_package_or_over_other_content(tmp_path, capsys):
    root = copy_package(tmp_path / "pkg")
    package = open_package(root)
    for folder in ("data", "schemas", "validation", "docs"):
        with pytest.raises(PackageError, match=f"inside the package's {folder}/"):
            build_site(root, root / folder / "site", validate_first=False)
    with pytest.raises(PackageError, match="package folder itself"):
        build_site(root, root, validate_first=False)
    with pytest.raises(PackageError, match="holds the package"):
        build_site(root, tmp_path, validate_first=False)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(PackageError, match="did not write"):
        build_site(root, other, validate_first=False)
    assert (other / "keep.txt").read_text() == "mine"
    link = tmp_path / "link"
    link.symlink_to(other)
    with pytest.raises(PackageError, match="not a folder"):
        build_site(root, link, validate_first=False)
    assert sorted(p.name for p in root.iterdir()) == sorted(["datapackage.json", "data", "schemas", "validation"])
    del package
    # the CLI: exit 2 and one line
    assert main(["site", str(root), "--out", str(root / "data" / "x"), "--no-validate"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("sifc site: --out ")


def test_rebuilding_replaces_the_previous_site_and_leaves_no_temporary_folder(tmp_path, capsys):
    root = copy_package(tmp_path / "pkg")
    out = tmp_path / "out" / "site"
    assert main(["site", str(root), "--out", str(out), "--no-validate"]) == 0
    assert "pages" in capsys.readouterr().out
    (out / "stale.html").write_text("old")
    assert (out / MARKER).is_file()
    assert main(["site", str(root), "--out", str(out), "--no-validate"]) == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert [p.name for p in out.parent.iterdir()] == ["site"]


def test_an_invalid_package_is_not_published(tmp_path, capsys):
    from sifc.files.descriptor import refresh
    root = copy_package(tmp_path / "pkg")
    set_cell(root / "data" / "participants.csv", 2, "person_id", "nobody-at-all")
    refresh(root)
    out = tmp_path / "site"
    assert main(["site", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("sifc site: the package is invalid") and "sifc validate" in err[-1]
    assert not out.exists()
