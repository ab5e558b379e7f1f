"""Build the static site: every page is rendered into a fresh temporary
folder beside --out and moved into place only when complete, so an
interrupted build leaves the previous site as it was.

Layout of the output (every link relative, so the site works from any
folder, from a file:// URL and from GitHub Pages):

    index.html                 home: the dataset, counts, downloads, citation, licence, validation status
    tables/<table>.html        every row, sortable and filterable; tables/<table>.csv beside it
    <table>/<id>.html          one page per row of the entity tables (people/, institutions/, …)
    network.html, timeline.html  pictures drawn at build time as inline SVG, with a text alternative
    static/                    site.css, site.js (no other script, no external resource)
    downloads/                 left for the release step: it copies `sifc build`'s artifacts there
"""
from __future__ import annotations

import importlib.resources
import importlib.util
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..build import artifact_names, check_out_dir, read_file
from ...files.package import PackageError, open_package
from ...safetext import escape as visible, escape_lines

#: a file written in --out so that a later build may replace the folder (and nothing else)
MARKER = ".sifc-site"
#: identifiers that may become file names; anything else is refused before anything is written
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
MAX_ID_BYTES = 200
#: Han ideographs (with CJK punctuation between them): marked lang="zh-Hans" wherever they appear
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
HAN_RUN = re.compile(_HAN + r"(?:[\u3000-\u303f\uff01-\uff65\u00b7\u2014\u2026" + _HAN[1:-1] + r"]*" + _HAN + r")?"
                     r"[\u3001\u3002\uff0c\uff1b\uff1a\uff01\uff1f\u300b\u300d\u300f\uff09]?")
HAN_CHAR = re.compile(_HAN)

TABLE_ZH = {"sources": "来源", "themes": "主题", "institutions": "机构", "people": "人物", "events": "活动",
            "documents": "文件", "measures": "措施", "participants": "参会者", "commitments": "承诺",
            "progress": "进展"}
SINGULAR = {"sources": "Source", "themes": "Theme", "institutions": "Institution", "people": "Person",
            "events": "Event", "documents": "Document", "measures": "Measure", "commitments": "Commitment",
            "progress": "Progress evidence"}
SINGULAR_ZH = {"sources": "来源", "themes": "主题", "institutions": "机构", "people": "人物", "events": "活动",
               "documents": "文件", "measures": "措施", "commitments": "承诺", "progress": "进展记录"}
#: (English, Chinese) label fields of each entity table
LABEL_FIELDS = {"people": ("name_en", "name_zh"), "institutions": ("name_en", "name_zh"),
                "events": ("name_en", "name_zh"), "documents": ("title_en", "title_zh"),
                "measures": ("title_en", None), "commitments": ("statement_en", None),
                "themes": ("label_en", "label_zh"), "sources": ("title", None), "progress": ("summary_en", None)}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Part:
    """One piece of a cell: text, a link (internal, or external for a
    source's own page), or the separator between the items of a list."""
    text: str
    href: str | None = None
    external: bool = False
    title: str | None = None
    sep: bool = False


def text_value(value) -> str:
    """A loaded value as the CSV writes it: '' for missing, YYYY-MM-DD
    for dates, true/false, integers without '.0', lists ';'-joined."""
    import pandas as pd
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(str(v) for v in value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def mark_chinese(value, lines: bool = False):
    """The text HTML-escaped, every run of Chinese characters wrapped in
    <span lang="zh-Hans">; hidden characters shown as visible escapes
    (line breaks kept with `lines`, for a block shown in <pre>)."""
    text = "" if value is None else str(value)
    return han_runs_in(escape_lines(text) if lines else visible(text), "span")


def han_runs_in(text: str, tag: str):
    """`text` HTML-escaped, each run of Chinese characters wrapped in
    <tag lang="zh-Hans"> (span in HTML, tspan in SVG)."""
    from markupsafe import Markup, escape
    out, pos = [], 0
    for m in HAN_RUN.finditer(text):
        out.append(escape(text[pos:m.start()]))
        out.append(Markup(f'<{tag} lang="zh-Hans">') + escape(m.group()) + Markup(f"</{tag}>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def external_url(value: str) -> str | None:
    """An http(s) URL that may be a link to a source's own page, or None."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() or ord(c) < 32 for c in value):
        return value
    return None


class Site:
    """The package's tables, indexed for links between pages."""

    def __init__(self, package, tables: dict, raws: dict):
        self.package = package
        self.t = tables
        self.raws = raws
        self.entities = {}  # table -> primary-key column, for tables with a page per row
        for name, resource in package.resources.items():
            pk = resource.schema.primary_key
            if len(pk) == 1 and name in tables:
                self.entities[name] = pk[0]
        self.rows = {}  # (table, id) -> row as a dict of loaded values
        problems = []
        for name, key in self.entities.items():
            for row in tables[name].to_dict("records"):
                ident = text_value(row[key])
                if not SAFE_ID.fullmatch(ident) or len(ident.encode()) > MAX_ID_BYTES:
                    problems.append(f"{package.resource(name).path}: {key} {visible(repr(ident))} cannot name a page "
                                    "(letters, digits, '-', '_' and inner dots only)")
                self.rows[(name, ident)] = row
        if problems:
            raise PackageError("cannot build the site: " + "; ".join(problems[:5])
                               + (f"; … and {len(problems) - 5} more" if len(problems) > 5 else ""))
        self.references = {}  # (table, column) -> referenced table
        for name, resource in package.resources.items():
            schema = resource.schema
            for fk in schema.foreign_keys:
                self.references[(name, fk.field)] = fk.resource
            for field, ref, _ in schema.list_references():
                self.references[(name, field.name)] = ref
            if name in self.entities:
                self.references[(name, self.entities[name])] = name

    def current_status(self):
        """sifc.views.current_status of the tables, computed once."""
        if getattr(self, "_status", None) is None:
            from ... import views
            self._status = views.current_status(self.t)
        return self._status

    # --- labels and links ---------------------------------------------------
    def label(self, table: str, ident: str) -> tuple[str, str]:
        """(English label, Chinese label) of an entity."""
        row = self.rows.get((table, ident))
        if row is None:
            return ident, ""
        en_field, zh_field = LABEL_FIELDS.get(table, (None, None))
        en = text_value(row.get(en_field)) if en_field else ""
        zh = text_value(row.get(zh_field)) if zh_field else ""
        if table == "institutions" and text_value(row.get("abbreviation")):
            en = f"{en} ({text_value(row['abbreviation'])})"
        if table in ("commitments", "progress") and len(en) > 90:
            en = en[:88].rstrip() + "…"
        return en or ident, zh

    def title(self, table: str, ident: str) -> str:
        en, zh = self.label(table, ident)
        return f"{en} {zh}".strip()

    def href(self, table: str, ident: str, root: str) -> str | None:
        if table in self.entities and (table, ident) in self.rows:
            return f"{root}{table}/{quote(ident, safe='')}.html"
        return None

    def link(self, table: str, ident: str, root: str, names: bool = True) -> Part:
        href = self.href(table, ident, root)
        text = self.title(table, ident) if names and href else ident
        return Part(text, href, title=self.title(table, ident) if href and not names else None)

    def cell(self, table: str, column: str, text: str, root: str, names: bool = False) -> list[Part]:
        """A cell's parts: IDs as links to their pages (with the ID as text
        on table pages, the name on entity pages), a source's URL as a link
        to that page, everything else as text."""
        if text == "":
            return []
        field = self.package.resource(table).schema.field(column)
        ref = self.references.get((table, column))
        if field.is_list:
            items = text.split(field.delimiter)
            parts = []
            for i, item in enumerate(items):
                if i:
                    parts.append(Part(field.delimiter, sep=True))
                parts.append(self.link(ref, item, root, names) if ref else Part(item))
            return parts
        if ref:
            return [self.link(ref, text, root, names)]
        if table == "sources" and column == "url" and external_url(text):
            return [Part(text, text, external=True)]
        return [Part(text)]

    def sources(self, row: dict, root: str) -> list[Part]:
        parts = []
        for i, sid in enumerate(row.get("source_ids") or ()):
            if i:
                parts.append(Part(";", sep=True))
            parts.append(Part(sid, self.href("sources", sid, root), title=self.title("sources", sid)))
        return parts

    def related(self, table: str, frame, columns: list[str], root: str, with_sources: bool = True,
                as_ids: tuple[str, ...] = ()) -> dict:
        """A small table of related rows: the named columns (IDs as names
        linking to their pages, except the columns in `as_ids`, shown as
        IDs) and each row's sources."""
        schema = self.package.resource(table).schema
        head = [_heading(schema.field(c).title or c) for c in columns] + (["Sources 来源"] if with_sources else [])
        rows = []
        for row in frame.to_dict("records"):
            cells = [{"parts": self.cell(table, c, text_value(row.get(c)), root, names=c not in as_ids),
                      "zh": schema.field(c).script == "cjk"} for c in columns]
            if with_sources:
                cells.append({"parts": self.sources(row, root), "zh": False})
            rows.append(cells)
        return {"head": head, "rows": rows}


def _heading(title: str) -> str:
    """A column title for a column shown by name: "Event ID" -> "Event"."""
    return title[:-3] if title.endswith(" ID") and len(title) > 3 else title


def _has(value, ident: str) -> bool:
    return isinstance(value, tuple) and ident in value


def _rows_with(frame, column: str, ident: str):
    return frame[frame[column].map(lambda v: _has(v, ident))]


def _rows_eq(frame, column: str, ident: str):
    return frame[frame[column].astype("string").fillna("") == ident]


def entity_sections(site: Site, table: str, ident: str, root: str) -> list[dict]:
    """The related rows shown on an entity's page, by kind of entity."""
    from ... import views
    t = site.t
    sections = []

    def add(title_en: str, title_zh: str, rel_table: str, frame, columns: list[str], sources: bool = True,
            as_ids: tuple[str, ...] = ()):
        if len(frame):
            sections.append({"title_en": title_en, "title_zh": title_zh,
                             **site.related(rel_table, frame, columns, root, sources, as_ids)})

    def progress_of(subject: str, key: str, subject_id: str) -> None:
        """The current status of a measure or commitment and every progress
        row about it, oldest first (the last dated one decides)."""
        if "progress" not in t:
            return
        status = site.current_status()
        status = status[(status["subject"] == subject) & (status["subject_id"] == subject_id)]
        if len(status):
            row = status.iloc[0]
            decided = text_value(row["status_progress_id"])
            sections.append({"title_en": "Current status", "title_zh": "当前状态",
                             "head": ["Status 状态", "As of 日期", "Decided by 依据"],
                             "rows": [[{"parts": [Part(text_value(row["status"]))], "zh": False},
                                       {"parts": [Part(text_value(row["status_on"]))] if text_value(row["status_on"])
                                        else [], "zh": False},
                                       {"parts": [site.link("progress", decided, root, names=False)] if decided
                                        else [Part("no progress row yet (see the codebook's Progress section)")],
                                        "zh": False}]]})
        rows = views.evidence_order(_rows_eq(t["progress"], key, subject_id))
        add("Progress: evidence of what became of it", "进展", "progress", rows,
            ["progress_id", "status", "observed_on", "date_note", "searched_on", "institution_ids", "summary_en"],
            as_ids=("progress_id",))

    parts = t["participants"]
    if table == "people":
        rows = parts[parts["person_id"] == ident]
        add("Titles at events", "各活动中的职务", "participants", rows,
            ["event_id", "title_en", "title_zh", "role", "delivered_speech", "institution_id"])
        insts = list(dict.fromkeys(list(rows["institution_id"].dropna())
                                   + list(_rows_eq(t["commitments"], "person_id", ident)["institution_id"].dropna())))
        add("Institutions", "所属机构", "institutions", t["institutions"][t["institutions"]["institution_id"].isin(insts)],
            ["institution_id", "name_zh", "kind", "level"])
        add("Commitments spoken", "发言中的承诺", "commitments", _rows_eq(t["commitments"], "person_id", ident),
            ["commitment_id", "event_id", "institution_id", "kind"])
        add("Measures announced", "宣布的措施", "measures", _rows_eq(t["measures"], "announced_by", ident),
            ["measure_id", "event_id", "implemented_on"])
    elif table == "institutions":
        inst = t["institutions"]
        add("Parts and subordinate bodies", "下属机构", "institutions", _rows_eq(inst, "parent_id", ident),
            ["institution_id", "name_zh", "kind", "level"])
        rows = parts[parts["institution_id"] == ident]
        add("People", "人物", "participants", rows, ["person_id", "event_id", "title_en", "title_zh", "role"])
        add("Commitments", "承诺", "commitments", _rows_eq(t["commitments"], "institution_id", ident),
            ["commitment_id", "event_id", "person_id", "kind"])
        add("Measures led", "牵头的措施", "measures", _rows_with(t["measures"], "lead_institution_ids", ident),
            ["measure_id", "document_id", "event_id", "aspect_no"])
        add("Documents issued", "发布的文件", "documents", _rows_with(t["documents"], "issuer_ids", ident),
            ["document_id", "title_zh", "kind", "issued_on"])
        add("Events convened", "召集的活动", "events", _rows_with(t["events"], "convened_by", ident),
            ["event_id", "name_zh", "start_on", "date_note"])
        if "progress" in t:
            add("Progress it acted in", "参与的进展", "progress",
                views.evidence_order(_rows_with(t["progress"], "institution_ids", ident)),
                ["progress_id", "measure_id", "commitment_id", "status", "observed_on"], as_ids=("progress_id",))
    elif table == "events":
        joined = views.participants(t)
        joined = joined[joined["event_id"] == ident]
        rows = parts[parts["event_id"] == ident]
        for role in sorted(set(rows["role"].dropna().astype(str))):
            add(f"Participants: {role}", "参会者", "participants", rows[rows["role"].astype(str) == role]
                .sort_values("listed_order", na_position="last"),
                ["person_id", "title_en", "title_zh", "institution_id", "delivered_speech", "listed_order"])
        add("Commitments", "承诺", "commitments", _rows_eq(t["commitments"], "event_id", ident)
            .sort_values("listed_order", na_position="last"), ["commitment_id", "institution_id", "person_id", "kind"])
        add("Measures announced", "宣布的措施", "measures", _rows_eq(t["measures"], "event_id", ident),
            ["measure_id", "announced_by", "implemented_on", "theme_ids"])
        del joined
    elif table == "documents":
        measures = views.measures(t)
        measures = measures[measures["document_id"].astype("string").fillna("") == ident]
        base = t["measures"].set_index("measure_id")
        groups = measures.groupby(measures["aspect_no"].astype("Int64").astype("string").fillna(""), sort=True,
                                  dropna=False)
        for aspect, group in groups:
            title = text_value(group["aspect_title_en"].dropna().iloc[0]) if group["aspect_title_en"].notna().any() else ""
            head = f"Aspect {aspect}: {title}" if aspect else "Measures without an aspect"
            rows = base.loc[list(group.sort_values("listed_order", na_position="last")["measure_id"])].reset_index()
            add(head, "措施", "measures", rows, ["measure_id", "measure_no", "listed_order", "theme_ids",
                                                 "lead_institution_ids"])
    elif table == "measures":
        progress_of("measure", "measure_id", ident)
        add("Commitments linked to this measure", "相关承诺", "commitments",
            _rows_with(t["commitments"], "measure_ids", ident), ["commitment_id", "event_id", "institution_id"])
    elif table == "commitments":
        progress_of("commitment", "commitment_id", ident)
        row = site.rows[(table, ident)]
        ids = list(row.get("measure_ids") or ())
        add("Linked measures", "相关措施", "measures", t["measures"][t["measures"]["measure_id"].isin(ids)],
            ["measure_id", "document_id", "event_id"])
        tids = list(row.get("theme_ids") or ())
        add("Themes", "主题", "themes", t["themes"][t["themes"]["theme_id"].isin(tids)],
            ["theme_id", "label_zh", "description_en"], sources=False)
    elif table == "themes":
        add("Narrower themes", "下级主题", "themes", _rows_eq(t["themes"], "parent_id", ident),
            ["theme_id", "label_zh"], sources=False)
        add("Measures", "措施", "measures", _rows_with(t["measures"], "theme_ids", ident),
            ["measure_id", "document_id", "event_id"])
        add("Commitments", "承诺", "commitments", _rows_with(t["commitments"], "theme_ids", ident),
            ["commitment_id", "event_id", "institution_id"])
    elif table == "progress":
        row = site.rows[(table, ident)]
        key, subject = ("measure_id", "measure") if text_value(row.get("measure_id")) else ("commitment_id", "commitment")
        if text_value(row.get(key)):
            progress_of(subject, key, text_value(row.get(key)))
    elif table == "sources":
        for name, resource in site.package.resources.items():
            if name == "sources" or "source_ids" not in t[name]:
                continue
            schema = resource.schema
            columns = list(schema.primary_key) + [c for c in ("title_en", "name_en", "title_zh", "name_zh", "role")
                                                  if c in schema.field_names and c not in schema.primary_key]
            add(f"Cited by {name}", f"引用此来源的{TABLE_ZH.get(name, name)}", name,
                _rows_with(t[name], "source_ids", ident), columns[:4], sources=False)
    return sections


def _check_out(package, out: Path) -> Path:
    """--out checked like `sifc build`'s, and more, because the folder is
    replaced as a whole: it may not hold the package, be a link, or be a
    folder with content that a previous `sifc site` did not write."""
    out = check_out_dir(package, Path(out))
    target = Path(os.path.abspath(out))
    if Path(package.root).resolve().is_relative_to(target.resolve()):
        raise PackageError(f"--out {visible(out)} holds the package itself; choose a folder of its own, "
                           "for example build/site")
    if os.path.lexists(target):
        mode = os.lstat(target).st_mode
        if not stat.S_ISDIR(mode):
            raise PackageError(f"--out {visible(out)} exists and is not a folder (a file or a link); "
                               "remove it or choose another folder")
        if any(target.iterdir()) and not (target / MARKER).is_file():
            raise PackageError(f"--out {visible(out)} is a folder with content that `sifc site` did not write; "
                               "choose an empty or new folder, for example build/site")
    return target


def _environment():
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.PackageLoader("sifc.publish.site", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["zh"] = mark_chinese
    env.filters["zh_lines"] = lambda value: mark_chinese(value, lines=True)
    env.globals["Markup"] = Markup
    return env


def _static_files() -> dict[str, bytes]:
    folder = importlib.resources.files("sifc.publish.site") / "static"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir()
            if entry.is_file() and not entry.name.startswith(".")}


def download_names(package) -> list[dict]:
    """The release artifacts the release step copies into downloads/ (see
    the README's Releases section), as relative links."""
    names = artifact_names(package)
    stem = f"{names['name']}-{names['version']}"
    files = [
        {"href": f"downloads/{stem}.zip", "label": "Frictionless data package (zip)", "zh": "数据包"},
        {"href": f"downloads/{stem}.xlsx", "label": "Excel workbook", "zh": "Excel 工作簿"},
        {"href": f"downloads/{stem}.sqlite", "label": "SQLite database", "zh": "SQLite 数据库"},
        {"href": "downloads/metadata.json", "label": "Datasette metadata for the SQLite file", "zh": "Datasette 元数据"},
        {"href": f"downloads/{stem}.json", "label": "JSON (every table as records)", "zh": "JSON"},
    ]
    parquet = [{"href": f"downloads/parquet/{quote(name)}.parquet", "label": name}
               for name in package.resources]
    csv_excel = [{"href": f"downloads/csv-excel/{quote(Path(r.path).name)}", "label": Path(r.path).name}
                 for r in package.resources.values()]
    return {"stem": stem, "files": files, "parquet": parquet, "csv_excel": csv_excel}


def build_site(path=None, out: Path = Path("build/site"), validate_first: bool = True) -> dict:
    """Render the site of the package at `path` (default: this package)
    into `out`. Returns a summary: pages written, bytes, out."""
    if importlib.util.find_spec("jinja2") is None:
        raise PackageError("building the site needs Jinja2: pip install 'shanghai-ifc[site]'")
    from ...loader import load_all, read_tables
    from .graphics import network_svg, timeline_svg

    package = open_package(path)
    target = _check_out(package, Path(out))
    names = artifact_names(package)
    report = None
    if validate_first:
        say("[1/3] validating (frictionless, pandera)…")
        from ...validate import validate
        report = validate(package.root, skip={"gx"})
        if not report.ok:
            raise RuntimeError(f"the package is invalid ({len(report.errors)} errors); run `sifc validate` and fix it")
    say("[2/3] reading the tables…")
    raws, _, found = read_tables(package)
    if [f for f in found if f.severity == "error"]:
        raise RuntimeError("the tables cannot be read cleanly; run `sifc validate`")
    tables = load_all(package.root, validate=False)  # validated above (or not asked to be)
    site = Site(package, tables, raws)
    env = _environment()
    say("[3/3] rendering the pages…")
    pages: dict[str, bytes] = {}
    descriptor = package.descriptor
    nav_tables = [{"name": n, "zh": TABLE_ZH.get(n, ""), "title": package.resource(n).schema.title or n}
                  for n in package.resources]
    common = {"site_title": descriptor.get("title") or names["name"], "name": names["name"],
              "version": names["version"], "nav_tables": nav_tables,
              "licenses": descriptor.get("licenses") or []}

    def render(rel: str, template: str, **context) -> None:
        root = "../" * rel.count("/")
        html = env.get_template(template).render(**common, **context, root=root, here=rel)
        pages[rel] = html.encode("utf-8")

    # table pages and their CSVs
    counts = []
    for name, resource in package.resources.items():
        schema = resource.schema
        raw = raws[name]
        data = read_file(package, resource.path)
        pages[f"tables/{name}.csv"] = data
        root = "../"
        columns = [{"name": c, "title": schema.field(c).title or c, "description": schema.field(c).description,
                    "type": schema.field(c).type, "zh": schema.field(c).script == "cjk"} for c in raw.header]
        rows = []
        for record in raw.records:
            values = (record + [""] * len(raw.header))[:len(raw.header)]
            rows.append([site.cell(name, c, v, root) for c, v in zip(raw.header, values)])
        counts.append({"name": name, "zh": TABLE_ZH.get(name, ""), "title": schema.title or name,
                       "description": schema.description, "rows": len(rows)})
        render(f"tables/{name}.html", "table.html", table=name, table_zh=TABLE_ZH.get(name, ""),
               title=schema.title or name, description=schema.description, columns=columns, rows=rows,
               csv_name=f"{name}.csv", has_pages=name in site.entities)

    # entity pages
    entity_count = 0
    for name, key in site.entities.items():
        schema = package.resource(name).schema
        for (table, ident), row in site.rows.items():
            if table != name:
                continue
            root = "../"
            en, zh = site.label(name, ident)
            facts = [{"label": schema.field(c).title or c, "description": schema.field(c).description,
                      "parts": site.cell(name, c, text_value(row.get(c)), root, names=c != key),
                      "zh": schema.field(c).script == "cjk"}
                     for c in schema.field_names if c != "source_ids"]
            cited = [{"id": sid, "href": site.href("sources", sid, root), "title": site.title("sources", sid),
                      "publisher": text_value(site.rows.get(("sources", sid), {}).get("publisher")),
                      "date": text_value(site.rows.get(("sources", sid), {}).get("published_on")),
                      "url": external_url(text_value(site.rows.get(("sources", sid), {}).get("url")))}
                     for sid in (row.get("source_ids") or ())]
            render(f"{name}/{quote(ident, safe='')}.html", "entity.html", table=name, table_zh=TABLE_ZH.get(name, ""),
                   kind=SINGULAR.get(name, name), kind_zh=SINGULAR_ZH.get(name, ""), ident=ident,
                   title=en, title_zh=zh, facts=facts, cited=cited, has_sources="source_ids" in schema.field_names,
                   sections=entity_sections(site, name, ident, root))
            entity_count += 1

    network = network_svg(site, "")
    render("network.html", "network.html", title="Network of people, institutions and events", svg=network)
    timeline = timeline_svg(site, "")
    render("timeline.html", "timeline.html", title="Timeline of events, documents and measures", svg=timeline)

    citation = None
    try:
        citation = read_file(package, "CITATION.cff")
        pages["CITATION.cff"] = citation
        citation = citation.decode("utf-8", "replace")
    except PackageError:
        citation = None
    status = None
    if report is not None:
        status = {"ok": report.ok, "errors": len(report.errors), "warnings": len(report.warnings),
                  "layers": report.layers_run, "summary": report.summary_line(),
                  "warning_list": [f.text() for f in report.sorted() if f.severity != "error"][:20]}
    render("index.html", "home.html", title="Home", description=descriptor.get("description", ""),
           counts=counts, entity_count=entity_count, downloads=download_names(package), citation=citation,
           status=status, keywords=descriptor.get("keywords") or [], homepage=descriptor.get("homepage", ""))
    for file, data in _static_files().items():
        pages[f"static/{file}"] = data
    pages[".nojekyll"] = b""
    pages[MARKER] = b"written by `sifc site`; the next `sifc site --out` here replaces this whole folder\n"
    _write_tree(target, pages)
    return {"out": Path(out), "pages": sum(1 for p in pages if p.endswith(".html")), "entities": entity_count,
            "files": len(pages), "bytes": sum(len(b) for b in pages.values()),
            "status": status["summary"] if status else "not validated (--no-validate)"}


def _write_tree(target: Path, files: dict[str, bytes]) -> None:
    """Write every file into a fresh folder beside `target`, then swap it
    in; the previous site (if any) is removed only after the swap."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    old = None
    try:
        os.chmod(tmp, 0o777 & ~umask)
        for rel, data in sorted(files.items()):
            path = tmp / rel
            if not path.resolve().is_relative_to(tmp.resolve()):  # names are checked; this is the last guard
                raise PackageError(f"refusing to write {visible(rel)} outside the site folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb") as fh:
                fh.write(data)
        if os.path.lexists(target):
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
        os.rename(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def describe(summary: dict) -> str:
    return (f"wrote {summary['out']}: {summary['pages']} pages ({summary['entities']} entity pages), "
            f"{summary['files']} files, {summary['bytes'] / 1024:,.1f} KiB; validation: {summary['status']}\n")
