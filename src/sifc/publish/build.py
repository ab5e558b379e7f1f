"""`sifc build`: release artifacts under dist/, named with the version.

- <name>-<version>.zip: a Frictionless zipped data package (datapackage.json
  at the top, so `frictionless.Package("…zip")` reads it) holding the
  release descriptor (the descriptor with `bytes` and sha256 `hash` for every
  resource), schemas, CSVs, docs, licences and MANIFEST.json (bytes and
  sha256 of every file); reproducible: fixed timestamps and order
- parquet/<table>.parquet: typed for every reader (nullable 64-bit integers,
  booleans, strings, dates as Parquet DATE, list columns as lists of
  strings), with pandas metadata so plain `pd.read_parquet` gives the
  loader's dtypes (Int64, boolean, string), and each column's description
- <name>-<version>.sqlite: every table with declared primary and foreign
  keys, link tables for list columns, the loader's joined views as SQL views,
  descriptions as SQL comments and in the `_tables` and `_columns` tables
  (reproducible: same inputs, same bytes)
- metadata.json: Datasette metadata (title, licence, source, table and
  column descriptions) for `datasette <name>-<version>.sqlite --metadata metadata.json`
- <name>-<version>.xlsx: README and data-dictionary sheets, a sheet per table
  and per joined view; bold headers, widths, filters, frozen header row and
  real Excel dates
- <name>-<version>.json: every table as an array of objects (ISO dates, lists
  as arrays, null for missing)
- csv-excel/: UTF-8-with-BOM copies for spreadsheet users
- validation-report.json / .txt: the merged report of `sifc validate`

Every artifact holds exactly the rows of the CSVs.

Nothing is written outside --out: the folder must not be the package root
nor lie inside its data/, schemas/, validation/ or docs/ (links resolved);
every file name taken from the descriptor (package name, version, resource
names, file names) is checked before anything is written and refused
(PackageError), never silently rewritten; subfolders that are links are
refused. Files are read from the package the safe way (`safeio`)."""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

from ..files.atomic import write_bytes_atomic, write_text_atomic
from ..files.package import DESCRIPTOR, DataPackage, PackageError, open_package
from ..files.safeio import UnsafeFile, read_package_file
from ..safetext import escape

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
EXTRA_FILES = ["README.md", "CHANGELOG.md", "CITATION.cff", "LICENSE", "LICENSE-DATA.md",
               "docs/codebook.md", "docs/data-dictionary.md"]
#: dates are YYYY-MM-DD text, booleans 0/1, lists ';'-separated text
SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT",
             "list": "TEXT"}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: folders of the package that --out must stay out of
PROTECTED = ("data", "schemas", "validation", "docs")
#: characters no artifact name may hold: separators, and what Windows or SQL quoting cannot take
FORBIDDEN_CHARS = set('/\\<>:"|?*')
MAX_NAME_BYTES = 200


def check_out_dir(package: DataPackage, out: Path) -> Path:
    """`out`, refused (PackageError) when it is the package root or inside
    one of its PROTECTED folders (links resolved, for folders not yet
    created too)."""
    root = Path(package.root).resolve()
    target = Path(out).resolve()
    if target == root:
        raise PackageError(f"--out {escape(out)} is the package folder itself; choose a folder for the artifacts, "
                           "for example dist/")
    for folder in PROTECTED:
        inside = root / folder
        if target == inside or target.is_relative_to(inside):
            raise PackageError(f"--out {escape(out)} is inside the package's {folder}/ folder; choose a folder "
                               f"outside {', '.join(f + '/' for f in PROTECTED)}, for example dist/")
    return Path(out)


def name_problem(value) -> str | None:
    """Why a value from the descriptor cannot be (part of) a file name, or None."""
    if not isinstance(value, str) or not value:
        return "is not a non-empty string"
    if "\x00" in value:
        return "contains a NUL byte"
    if value in (".", "..") or ".." in value:
        return "contains '..'"
    if value.startswith("."):
        return "starts with a dot (a hidden file)"
    bad = sorted({ch for ch in value if ch in FORBIDDEN_CHARS})
    if bad:
        return f"contains {' '.join(repr(ch) for ch in bad)} (a path separator or a character file systems refuse)"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") for ch in value):
        return "contains a control, format or unassigned character"
    if value != value.strip():
        return "starts or ends with white space"
    if len(value.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def artifact_names(package: DataPackage) -> dict:
    """Every name an artifact takes from the descriptor, checked before
    anything is written: PackageError naming the key and value otherwise."""
    d = package.descriptor
    problems = []

    def check(key: str, value) -> None:
        problem = name_problem(value)
        if problem:
            problems.append(f"{key} {escape(repr(value))} {problem}")

    check("name", d.get("name", "package"))
    check("version", d.get("version", "0"))
    files = {}
    for name, resource in package.resources.items():
        check("resource name", name)
        base = Path(resource.path).name
        check(f"resource {escape(repr(name))} file name", base)
        files.setdefault(base.casefold(), []).append(name)
    for base, names in sorted(files.items()):
        if len(names) > 1:
            problems.append(f"resources {', '.join(escape(repr(n)) for n in names)} share the file name "
                            f"{escape(repr(base))}; their csv-excel copies would overwrite each other")
    folded = {}
    for name in package.resources:
        folded.setdefault(name.casefold(), []).append(name)
    for names in folded.values():
        if len(names) > 1:
            problems.append(f"resources {', '.join(escape(repr(n)) for n in names)} differ only in case; "
                            "their artifacts would overwrite each other")
    if problems:
        raise PackageError(f"{DESCRIPTOR}: cannot name the artifacts: " + "; ".join(problems)
                           + "; rename them in the descriptor")
    return {"name": d.get("name", "package"), "version": d.get("version", "0")}


def subfolder(out: Path, name: str) -> Path:
    """out/name as a real folder: a link there (which could lead anywhere) is refused."""
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    if not stat.S_ISDIR(os.lstat(folder).st_mode):
        raise PackageError(f"{escape(folder)} is a link, not a folder; remove it so that nothing is written "
                           "outside --out")
    return folder


def read_file(package: DataPackage, rel: str) -> bytes:
    try:
        return read_package_file(package.root, rel)
    except FileNotFoundError:
        raise PackageError(f"{escape(rel)}: file not found") from None
    except (UnsafeFile, OSError) as exc:
        raise PackageError(f"{escape(rel)}: cannot be read safely ({escape(exc)})") from None


def release_descriptor(package: DataPackage, data: dict[str, bytes]) -> bytes:
    """The descriptor as released: the package's own, with `bytes` and a
    sha256 `hash` for every resource (`data`: file bytes by resource path),
    so that remote and zip loads can verify each file."""
    descriptor = json.loads(read_file(package, DESCRIPTOR).decode("utf-8"))
    for resource in descriptor.get("resources", []):
        path = package.resource(resource["name"]).path
        resource["bytes"] = len(data[path])
        resource["hash"] = "sha256:" + hashlib.sha256(data[path]).hexdigest()
    return (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def release_zip(package: DataPackage, out: Path) -> Path:
    """A Frictionless zipped package: datapackage.json (the release
    descriptor) at the top of the archive beside the files it names, and
    MANIFEST.json with the bytes and sha256 of every file."""
    names = artifact_names(package)
    version, name = names["version"], names["name"]
    files = sorted({r.schema_path for r in package.resources.values()}) \
        + [r.path for r in package.resources.values()] \
        + [f for f in EXTRA_FILES if os.path.lexists(package.root / f)]
    contents = {rel: read_file(package, rel) for rel in files}
    contents = {DESCRIPTOR: release_descriptor(package, contents), **contents}
    manifest = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for rel, data in contents.items():
            manifest[rel] = {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
            _add(archive, rel, data)
        _add(archive, "MANIFEST.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    path = out / f"{name}-{version}.zip"
    write_bytes_atomic(path, buf.getvalue())
    return path


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    archive.writestr(info, data, compresslevel=9)


#: Parquet (Arrow) type of each Table Schema type
def _arrow_type(field):
    import pyarrow as pa
    if field.is_list:
        return pa.list_(pa.string())
    return {"integer": pa.int64(), "boolean": pa.bool_(), "number": pa.float64(),
            "date": pa.date32()}.get(field.type, pa.string())


def parquet_files(package: DataPackage, frames, out: Path) -> dict[str, Path]:
    """One Parquet file per table. Arrow types: int64, bool, double, string,
    date32 and list<string>, each nullable unless required, with the column's
    description as field metadata; pandas metadata records the loader's
    dtypes (Int64, boolean, Float64, string) so plain `pd.read_parquet`
    restores them (dates come back as datetime.date objects)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = subfolder(out, "parquet")
    version = str(package.descriptor.get("version", ""))
    written = {}
    for name, frame in frames.items():
        schema = package.resource(name).schema
        columns = {}
        for f in schema.fields:
            col = frame[f.name]
            if f.is_list:
                col = pd.Series([list(v) if v is not None else None for v in col], dtype=object, index=frame.index)
            elif f.type == "date":
                col = pd.Series([v.date() if pd.notna(v) else None for v in col], dtype=object, index=frame.index)
            columns[f.name] = col
        # required columns are non-nullable (a build with --no-validate of a
        # table with a missing required value still writes it, as nullable)
        arrow_schema = pa.schema(
            [pa.field(f.name, _arrow_type(f), nullable=not f.required or bool(columns[f.name].isna().any()),
                      metadata={"title": f.title, "description": f.description}) for f in schema.fields],
            metadata={"table": name, "title": schema.title, "description": schema.description,
                      "package_version": version})
        table = pa.Table.from_pandas(pd.DataFrame(columns, index=frame.index), schema=arrow_schema,
                                     preserve_index=False)
        sink = io.BytesIO()
        pq.write_table(table, sink)
        path = folder / f"{name}.parquet"
        write_bytes_atomic(path, sink.getvalue())
        written[name] = path
    return written


def _sql_value(field, value):
    if value is None:
        return None
    if field.is_list:
        return field.delimiter.join(value)
    try:
        import pandas as pd
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if field.type == "date":
        return value.strftime("%Y-%m-%d")
    if field.type == "boolean":
        return int(bool(value))
    if field.type == "integer":
        return int(value)
    if field.type == "number":
        return float(value)
    return str(value)


def q(identifier: str) -> str:
    """An SQL identifier, quoted so that no name can end the quoting."""
    return '"' + str(identifier).replace('"', '""') + '"'


def _one_line(text) -> str:
    """Text for an SQL `--` comment or a spreadsheet cell: one line, no
    control or format characters."""
    return " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(text or "")).split())


def sqlite_ddl(package: DataPackage) -> list[str]:
    """CREATE statements derived from the Table Schemas, tables in dependency
    order, every table and column described in an SQL comment (SQLite keeps
    them in sqlite_master, so `.schema` shows them)."""
    statements = []
    for resource in package.resources.values():
        s = resource.schema
        cols = []
        for f in s.fields:
            col = f'{q(f.name)} {SQL_TYPES.get(f.type, "TEXT")}'
            if f.required:
                col += " NOT NULL"
            if f.enum:
                col += " CHECK ({0} IN ({1}))".format(q(f.name), ", ".join("'" + str(v).replace("'", "''") + "'"
                                                                          for v in f.enum))
            cols.append((col, f"{f.title}: {f.description}" if f.title else f.description))
        cols.append(("PRIMARY KEY (" + ", ".join(q(k) for k in s.primary_key) + ")", ""))
        for fk in s.foreign_keys:
            cols.append((f'FOREIGN KEY ({q(fk.field)}) REFERENCES {q(fk.resource)} ({q(fk.ref_field)})', ""))
        statements.append(_create(s.name, f"{s.title}: {s.description}", cols))
        # one link table per list column, so SQL can join list members
        for f, ref, ref_field in s.list_references():
            pk = s.primary_key[0] if len(s.primary_key) == 1 else None
            if pk is None:
                continue
            link = _link_table(s, f, ref, ref_field)
            statements.append(_create(link["name"], link["description"], [
                (f'{q(pk)} TEXT NOT NULL REFERENCES {q(s.name)} ({q(pk)})', link["columns"][pk]),
                ('"position" INTEGER NOT NULL', link["columns"]["position"]),
                (f'{q(ref_field)} TEXT NOT NULL REFERENCES {q(ref)} ({q(ref_field)})', link["columns"][ref_field]),
                (f'PRIMARY KEY ({q(pk)}, "position")', "")]))
    return statements


def _create(name: str, description: str, cols: list[tuple[str, str]]) -> str:
    lines = []
    for i, (sql, comment) in enumerate(cols):
        line = "  " + sql + ("," if i < len(cols) - 1 else "")
        if comment:
            line += "  -- " + _one_line(comment)
        lines.append(line)
    return f"CREATE TABLE {q(name)} (  -- {_one_line(description)}\n" + "\n".join(lines) + "\n)"


def _link_table(s, f, ref: str, ref_field: str) -> dict:
    pk = s.primary_key[0]
    return {"name": f"{s.name}__{f.name}",
            "description": f"One row per item of {s.name}.{f.name} (a list column), so SQL can join its items "
                           f"to {ref}: the item at `position` (1 = first) of the row {pk}.",
            "columns": {pk: f"The {s.name} row ({s.name}.{pk}).",
                        "position": f"Position of the item in {s.name}.{f.name}, from 1.",
                        ref_field: f"The item: a {ref}.{ref_field}."}}


#: the current status of every measure and commitment: the status of its
#: latest progress row (date = observed_on, else searched_on; undated rows
#: before dated ones; on a tie the greater progress_id), as in
#: sifc.views.current_status(); "no-evidence-recorded" without any row
CURRENT_STATUS = """
SELECT s.subject, s.subject_id, COALESCE(p.status, 'no-evidence-recorded') AS status, p.status_on,
       p.progress_id AS status_progress_id
FROM (SELECT 'measure' AS subject, measure_id AS subject_id, 1 AS part, rowid AS position FROM measures
      UNION ALL SELECT 'commitment', commitment_id, 2, rowid FROM commitments) s
LEFT JOIN (SELECT coalesce(measure_id, commitment_id) AS subject_id,
                  CASE WHEN measure_id IS NULL THEN 'commitment' ELSE 'measure' END AS subject, status,
                  coalesce(observed_on, searched_on) AS status_on, progress_id,
                  row_number() OVER (PARTITION BY measure_id, commitment_id
                                     ORDER BY coalesce(observed_on, searched_on) IS NULL,
                                              coalesce(observed_on, searched_on) DESC, progress_id DESC) AS latest
           FROM progress) p ON p.subject = s.subject AND p.subject_id = s.subject_id AND p.latest = 1
ORDER BY s.part, s.position"""

VIEWS = {
    "current_status": CURRENT_STATUS,
    "participants_view": """
SELECT p.event_id, e.name_en AS event_name_en, e.start_on AS event_start_on, p.person_id,
       pe.name_en AS person_name_en, pe.name_zh AS person_name_zh, p.title_en, p.title_zh, p.role,
       p.delivered_speech, p.listed_order, p.institution_id, i.name_en AS institution_name_en,
       i.name_zh AS institution_name_zh, i.abbreviation AS institution_abbreviation
FROM participants p
LEFT JOIN events e ON e.event_id = p.event_id
LEFT JOIN people pe ON pe.person_id = p.person_id
LEFT JOIN institutions i ON i.institution_id = p.institution_id""",
    "commitments_view": """
SELECT c.commitment_id, c.event_id, e.name_en AS event_name_en, c.institution_id,
       i.name_en AS institution_name_en, i.abbreviation AS institution_abbreviation, c.person_id,
       pe.name_en AS speaker_name_en, pe.name_zh AS speaker_name_zh, c.listed_order, c.statement_en, c.kind,
       c.theme_ids,
       (SELECT group_concat(label_en, '; ') FROM (SELECT t.label_en FROM commitments__theme_ids l
          JOIN themes t ON t.theme_id = l.theme_id WHERE l.commitment_id = c.commitment_id ORDER BY l.position)) AS themes,
       c.measure_ids,
       (SELECT group_concat(title_en, '; ') FROM (SELECT m.title_en FROM commitments__measure_ids l
          JOIN measures m ON m.measure_id = l.measure_id WHERE l.commitment_id = c.commitment_id ORDER BY l.position)) AS measures,
       cs.status, cs.status_on, cs.status_progress_id
FROM commitments c
LEFT JOIN events e ON e.event_id = c.event_id
LEFT JOIN institutions i ON i.institution_id = c.institution_id
LEFT JOIN people pe ON pe.person_id = c.person_id
LEFT JOIN current_status cs ON cs.subject = 'commitment' AND cs.subject_id = c.commitment_id""",
    "measures_view": """
SELECT m.measure_id, m.document_id, d.title_en AS document_title_en, m.event_id, e.name_en AS event_name_en,
       m.aspect_no, m.aspect_title_en, m.measure_no, m.listed_order, m.title_en, m.summary_en, m.theme_ids,
       (SELECT group_concat(label_en, '; ') FROM (SELECT t.label_en FROM measures__theme_ids l
          JOIN themes t ON t.theme_id = l.theme_id WHERE l.measure_id = m.measure_id ORDER BY l.position)) AS themes,
       m.lead_institution_ids,
       (SELECT group_concat(name_en, '; ') FROM (SELECT i.name_en FROM measures__lead_institution_ids l
          JOIN institutions i ON i.institution_id = l.institution_id WHERE l.measure_id = m.measure_id
          ORDER BY l.position)) AS lead_institutions,
       m.announced_by, pe.name_en AS announced_by_name_en, m.implemented_on, cs.status, cs.status_on,
       cs.status_progress_id
FROM measures m
LEFT JOIN documents d ON d.document_id = m.document_id
LEFT JOIN events e ON e.event_id = m.event_id
LEFT JOIN people pe ON pe.person_id = m.announced_by
LEFT JOIN current_status cs ON cs.subject = 'measure' AND cs.subject_id = m.measure_id""",
}

#: what each joined view shows, its base table, and where its joined columns
#: come from: (table, field) for a looked-up column, text for a derived one
STATUS_DOCS = {
    "status": "Current status (docs/codebook.md, Progress): the status of the latest progress row about it (date = "
              "observed_on, else searched_on; undated rows count as older than dated ones; on the same date the "
              "greater progress_id decides); no-evidence-recorded when no progress row is about it.",
    "status_on": {"type": "date", "description": "Date of the progress row that decides the status (its observed_on, "
                                                 "else its searched_on); empty when that row is undated or there is "
                                                 "none."},
    "status_progress_id": {"type": "string", "description": "The progress row that decides the status "
                                                            "(progress.progress_id); empty when there is none."},
}
VIEW_DOCS = {
    "current_status": ("progress", "Every measure and commitment with its current status, derived from the "
                       "progress table: the status of its latest progress row, or no-evidence-recorded "
                       "(sifc.views.current_status()).", {
        "subject": "measure or commitment: which table subject_id is a key of.",
        "subject_id": "The measure_id or commitment_id.", **STATUS_DOCS}),
    "participants_view": ("participants", "Who took part in which event, as participants, with the event's, "
                          "person's and institution's names next to their IDs (sifc.views.participants()).", {
        "event_name_en": ("events", "name_en"), "event_start_on": ("events", "start_on"),
        "person_name_en": ("people", "name_en"), "person_name_zh": ("people", "name_zh"),
        "institution_name_en": ("institutions", "name_en"), "institution_name_zh": ("institutions", "name_zh"),
        "institution_abbreviation": ("institutions", "abbreviation")}),
    "commitments_view": ("commitments", "Commitments with the event, institution and speaker names and the "
                         "labels of their themes and measures (sifc.views.commitments()).", {
        "event_name_en": ("events", "name_en"), "institution_name_en": ("institutions", "name_en"),
        "institution_abbreviation": ("institutions", "abbreviation"),
        "speaker_name_en": ("people", "name_en"), "speaker_name_zh": ("people", "name_zh"),
        "themes": "English labels of theme_ids (themes.label_en), '; '-separated, in the order of the IDs.",
        "measures": "Titles of measure_ids (measures.title_en), '; '-separated, in the order of the IDs.",
        **STATUS_DOCS}),
    "measures_view": ("measures", "Measures with the document title, event name, theme labels, lead "
                      "institutions and announcer's name (sifc.views.measures()).", {
        "document_title_en": ("documents", "title_en"), "event_name_en": ("events", "name_en"),
        "themes": "English labels of theme_ids (themes.label_en), '; '-separated, in the order of the IDs.",
        "lead_institutions": "English names of lead_institution_ids (institutions.name_en), '; '-separated, "
                             "in the order of the IDs.",
        "announced_by_name_en": ("people", "name_en"), **STATUS_DOCS}),
}


def view_columns(package: DataPackage, view: str, columns: list[str]) -> dict[str, tuple[str, str]]:
    """For each column of a joined view: its Table Schema type and description."""
    base, _, joined = VIEW_DOCS[view]
    out = {}
    for column in columns:
        source = joined.get(column, (base, column))
        if isinstance(source, str):
            out[column] = ("string", source)
            continue
        if isinstance(source, dict):  # a derived column of another type
            out[column] = (source["type"], source["description"])
            continue
        table, name = source
        field = package.resource(table).schema.field(name)
        out[column] = (field.type, f"{table}.{name}: {field.description}" if table != base else field.description)
    return out


def _view_column_names(view: str) -> list[str]:
    """The output columns of a view's SELECT (its `AS` names or column names)."""
    body = VIEWS[view].strip()[len("SELECT"):].split("\nFROM ", 1)[0]
    names, depth, current = [], 0, ""
    for ch in body:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += ch
    names.append(current)
    return [n.split(" AS ")[-1].strip().split(".")[-1] for n in names]


def describe_database(package: DataPackage) -> dict:
    """Every SQLite table and view with its kind, title, description and
    columns (name, type, title, description, constraints): what goes into
    `_tables`, `_columns` and Datasette's metadata.json."""
    from .docs import _constraints

    out = {}
    for resource in package.resources.values():
        s = resource.schema
        out[s.name] = {"kind": "table", "title": s.title, "description": s.description,
                       "primary_key": ", ".join(s.primary_key),
                       "columns": [{"name": f.name, "type": SQL_TYPES.get(f.type, "TEXT"), "schema_type": f.type,
                                    "title": f.title, "description": f.description,
                                    "constraints": _constraints(f).replace("`", "")} for f in s.fields]}
        for f, ref, ref_field in s.list_references():
            if len(s.primary_key) != 1:
                continue
            link = _link_table(s, f, ref, ref_field)
            pk = s.primary_key[0]
            out[link["name"]] = {"kind": "link table", "title": f"{s.title}: items of {f.name}",
                                 "description": link["description"], "primary_key": f"{pk}, position",
                                 "columns": [{"name": c, "type": "INTEGER" if c == "position" else "TEXT",
                                              "schema_type": "integer" if c == "position" else "string",
                                              "title": "", "description": d, "constraints": "required"}
                                             for c, d in link["columns"].items()]}
    for view, (base, description, _) in VIEW_DOCS.items():
        names = _view_column_names(view)
        descriptions = view_columns(package, view, names)
        out[view] = {"kind": "view", "title": view.replace("_", " "), "description": description,
                     "primary_key": "", "columns": [{"name": c, "type": SQL_TYPES.get(descriptions[c][0], "TEXT"),
                                                     "schema_type": descriptions[c][0], "title": "",
                                                     "description": descriptions[c][1], "constraints": ""}
                                                    for c in names]}
    out["_tables"] = {"kind": "metadata", "title": "Tables", "primary_key": "name",
                      "description": "Every table and view of this database: its kind, title and description.",
                      "columns": [{"name": c, "type": "TEXT", "schema_type": "string", "title": "", "description": d,
                                   "constraints": ""} for c, d in META_TABLES["_tables"]]}
    out["_columns"] = {"kind": "metadata", "title": "Columns", "primary_key": "table_name, position",
                       "description": "Every column of every table and view: its type, title, description and "
                                      "constraints (from the Table Schemas).",
                       "columns": [{"name": c, "type": "TEXT", "schema_type": "string", "title": "", "description": d,
                                    "constraints": ""} for c, d in META_TABLES["_columns"]]}
    return out


META_TABLES = {
    "_tables": [("name", "Table or view name."), ("kind", "table, link table, view or metadata."),
                ("title", "Human-readable title."), ("description", "What one row is."),
                ("primary_key", "The columns that identify a row.")],
    "_columns": [("table_name", "The table or view (_tables.name)."), ("position", "Column position, from 1."),
                 ("column_name", "Column name."), ("type", "SQLite type."),
                 ("schema_type", "Table Schema type: string, integer, number, boolean, date or list "
                                 "(dates are YYYY-MM-DD text, booleans 0/1, lists ';'-separated text)."),
                 ("title", "Human-readable title."), ("description", "What the column holds."),
                 ("constraints", "The schema's constraints, in words.")],
}


def sqlite_file(package: DataPackage, frames, out: Path) -> Path:
    names = artifact_names(package)
    path = out / f"{names['name']}-{names['version']}.sqlite"
    # built in a private folder of our own (mkdtemp: new, mode 0700), so no
    # link planted in --out can redirect SQLite's writes
    work = Path(tempfile.mkdtemp(prefix=".sqlite-", suffix=".building", dir=out))
    try:
        tmp = work / path.name
        _write_sqlite(package, frames, tmp)
        write_bytes_atomic(path, tmp.read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def _write_sqlite(package: DataPackage, frames, tmp: Path) -> None:
    db = sqlite3.connect(tmp)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = OFF")
        for statement in sqlite_ddl(package):
            db.execute(statement)
        # parents before children: insert with checks deferred to the end
        db.execute("PRAGMA defer_foreign_keys = ON")
        try:
            _insert_rows(db, package, frames)
        except sqlite3.IntegrityError as exc:  # deferred checks fail at the commit, after every table
            raise RuntimeError(f"SQLite: {escape(exc)}: the data breaks the schema; run sifc validate") from None
        for view, sql in VIEWS.items():
            db.execute(f'CREATE VIEW {q(view)} AS  -- {_one_line(VIEW_DOCS[view][1])}\n{sql.strip()}')
        _write_descriptions(db, describe_database(package))
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"SQLite foreign_key_check failed: {problems[:5]}")
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def _insert_rows(db: sqlite3.Connection, package: DataPackage, frames) -> None:
    with db:
        for name, frame in frames.items():
            s = package.resource(name).schema
            cols = ", ".join(q(f.name) for f in s.fields)
            marks = ", ".join("?" for _ in s.fields)
            rows = [tuple(_sql_value(f, v) for f, v in zip(s.fields, row))
                    for row in frame[s.field_names].itertuples(index=False, name=None)]
            try:
                db.executemany(f'INSERT INTO {q(name)} ({cols}) VALUES ({marks})', rows)
            except sqlite3.IntegrityError as exc:
                raise RuntimeError(f"{name}: {escape(exc)}: the data breaks the schema; run sifc validate") \
                    from None
            for f, ref, ref_field in s.list_references():
                if len(s.primary_key) != 1:
                    continue
                pk = s.primary_key[0]
                links = [(key, i, item) for key, items in zip(frame[pk], frame[f.name]) if items is not None
                         for i, item in enumerate(items, 1)]
                db.executemany(f'INSERT INTO {q(name + "__" + f.name)} VALUES (?, ?, ?)', links)
        # checked before the commit, so the message can name the row (reached
        # only under --no-validate: validate refuses a broken reference)
        broken = db.execute("PRAGMA foreign_key_check").fetchmany(3)
        if broken:
            where = "; ".join(f"{escape(t)} row {rowid} refers to a missing {escape(parent)} row"
                              for t, rowid, parent, _ in broken)
            raise RuntimeError(f"SQLite: {where}: the data breaks the schema; run sifc validate")


def _write_descriptions(db: sqlite3.Connection, described: dict) -> None:
    db.execute(_create("_tables", described["_tables"]["description"],
                       [(f"{q(c)} TEXT" + (" NOT NULL" if c == "name" else ""), d) for c, d in META_TABLES["_tables"]]
                       + [("PRIMARY KEY (name)", "")]))
    db.execute(_create("_columns", described["_columns"]["description"],
                       [(f"{q(c)} {'INTEGER' if c == 'position' else 'TEXT'}"
                         + (" NOT NULL" if c in ("table_name", "position", "column_name") else ""), d)
                        for c, d in META_TABLES["_columns"]]
                       + [("PRIMARY KEY (table_name, position)", "")]))
    with db:
        db.executemany("INSERT INTO _tables VALUES (?, ?, ?, ?, ?)",
                       [(name, t["kind"], t["title"], t["description"], t["primary_key"])
                        for name, t in described.items()])
        db.executemany("INSERT INTO _columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [(name, i, c["name"], c["type"], c["schema_type"], c["title"], c["description"],
                         c["constraints"])
                        for name, t in described.items() for i, c in enumerate(t["columns"], 1)])


def datasette_metadata(package: DataPackage, sqlite_path: Path) -> dict:
    """Datasette's metadata.json for the SQLite file: title, description,
    licence, source, and every table's and column's description."""
    d = package.descriptor
    licenses = d.get("licenses")  # unchecked under --no-validate: anything but a list means none
    licence = next((x for x in (licenses if isinstance(licenses, list) else []) if isinstance(x, dict)), {})
    tables = {}
    for name, t in describe_database(package).items():
        tables[name] = {"title": t["title"], "description": t["description"],
                        "columns": {c["name"]: c["description"] for c in t["columns"]}}
    return {
        "title": f"{d.get('title', d.get('name'))} (version {d.get('version')})",
        "description": d.get("description", ""),
        "license": licence.get("title") or licence.get("name", ""),
        "license_url": licence.get("path", ""),
        "source": f"{d.get('name')} data package, version {d.get('version')}",
        "source_url": d.get("homepage", ""),
        "databases": {sqlite_path.stem: {
            "title": d.get("title", ""), "description": d.get("description", ""), "tables": tables}},
    }


def metadata_file(package: DataPackage, sqlite_path: Path, out: Path) -> Path:
    path = out / "metadata.json"
    write_text_atomic(path, json.dumps(datasette_metadata(package, sqlite_path), indent=2, ensure_ascii=False) + "\n")
    return path


def _plain(value):
    """A frame cell as a plain Python value: None for missing, date for a
    timestamp, ';'-joined text for a list, int/bool/str otherwise."""
    import datetime

    import numpy as np
    import pandas as pd
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return ";".join(str(v) for v in value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime().date()
    if isinstance(value, (datetime.date, str)):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (float, np.floating)):
        return float(value)
    return str(value)


HEADER_FILL = "DDEBF7"


def _sheet(wb, title: str, header: list[str], rows: list[list]) -> None:
    """A sheet with a bold, filled, frozen header row, an autofilter over the
    data, widths fitted to the contents and dates shown as YYYY-MM-DD."""
    import datetime

    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
        cell.alignment = Alignment(vertical="top")
    from openpyxl.utils.exceptions import IllegalCharacterError

    for r, row in enumerate(rows, 2):
        for c, value in enumerate(row, 1):
            cell = ws.cell(row=r, column=c)
            try:
                cell.value = value
            except IllegalCharacterError:  # reached only under --no-validate: validate refuses control characters
                bad = next(ch for ch in str(value) if ord(ch) < 32 and ch not in "\t\n\r")
                raise RuntimeError(f"sheet {escape(title)}, row {r}, column {escape(header[c - 1])}: "
                                   f"a control character (U+{ord(bad):04X}) cannot be stored in an Excel "
                                   "workbook; run sifc validate") from None
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    for c, name in enumerate(header, 1):
        lengths = sorted(_width(v) for v in [row[c - 1] for row in rows])
        typical = lengths[int(len(lengths) * 0.9)] if lengths else 0
        ws.column_dimensions[get_column_letter(c)].width = max(8, min(60, max(_width(name), typical) + 2))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{max(1, len(rows) + 1)}"


def _width(value) -> int:
    import datetime
    if value is None:
        return 0
    if isinstance(value, datetime.date):
        return 10
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def excel_workbook(package: DataPackage, frames, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .. import views
    from ..loader import annotated

    d = package.descriptor
    names = artifact_names(package)
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    view_names = {"participants_view": views.participants, "commitments_view": views.commitments,
                  "measures_view": views.measures}
    lines = [d.get("title", ""), "", d.get("description", ""), "",
             f"Version: {d.get('version')}",
             "Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); cite as:",
             f"shanghai-ifc contributors. {d.get('title')}, version {d.get('version')} [data set]. CC BY 4.0.",
             "",
             "Sheets: 'dictionary' describes every column (type, description, constraints); then one sheet per "
             "table (" + ", ".join(frames) + "); then the joined views with names next to IDs ("
             + ", ".join(view_names) + ").",
             "List cells hold ';'-separated IDs. Empty cells are missing values. Dates are real dates.",
             "Every header has a filter; the header row stays in view when scrolling."]
    for line in lines:
        readme.append([line])
    readme["A1"].font = Font(bold=True, size=14)
    readme.column_dimensions["A"].width = 120

    from .docs import _constraints
    dictionary = []
    for name in frames:
        s = package.resource(name).schema
        for f in s.fields:
            dictionary.append([name, f.name, f.title, f.type, f.description, _constraints(f).replace("`", "")])
    described = describe_database(package)
    for view in view_names:
        for c in described[view]["columns"]:
            dictionary.append([view, c["name"], "", "view column", c["description"], ""])
    _sheet(wb, "dictionary", ["table", "field", "title", "type", "description", "constraints"], dictionary)

    for name, frame in frames.items():
        s = package.resource(name).schema
        _sheet(wb, name, s.field_names, [[_plain(v) for v in row]
                                         for row in frame[s.field_names].itertuples(index=False, name=None)])
    tables = {name: annotated(frame, package.resource(name)) for name, frame in frames.items()}
    for view, make in view_names.items():
        frame = make(tables)
        _sheet(wb, view, list(frame.columns), [[_plain(v) for v in row]
                                               for row in frame.itertuples(index=False, name=None)])
    path = out / f"{names['name']}-{names['version']}.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes_atomic(path, buf.getvalue())
    return path


def json_export(package: DataPackage, frames, out: Path) -> Path:
    """<name>-<version>.json: the package's name, version, title, licences and
    every table as an array of objects, typed: integers and booleans as
    JSON numbers and booleans, dates as "YYYY-MM-DD", list columns as arrays
    of strings, null for a missing value."""
    d = package.descriptor
    names = artifact_names(package)
    tables = {}
    for name, frame in frames.items():
        s = package.resource(name).schema
        rows = []
        for row in frame[s.field_names].itertuples(index=False, name=None):
            record = {}
            for f, v in zip(s.fields, row):
                if f.is_list:
                    record[f.name] = list(v) if v is not None else None
                else:
                    value = _sql_value(f, v)
                    record[f.name] = bool(value) if f.type == "boolean" and value is not None else value
            rows.append(record)
        tables[name] = rows
    body = {"name": d.get("name"), "version": d.get("version"), "title": d.get("title"),
            "licenses": d.get("licenses", []), "homepage": d.get("homepage"), "tables": tables}
    path = out / f"{names['name']}-{names['version']}.json"
    write_text_atomic(path, json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return path


def excel_csv_copies(package: DataPackage, out: Path) -> Path:
    folder = subfolder(out, "csv-excel")
    for resource in package.resources.values():
        write_bytes_atomic(folder / Path(resource.path).name, b"\xef\xbb\xbf" + read_file(package, resource.path))
    return folder


def build(path=None, out: Path = Path("dist"), validate_first: bool = True) -> dict:
    from ..loader import read_tables

    missing = [extra for module, extra in (("openpyxl", "build"), ("great_expectations", "gx"))
               if importlib.util.find_spec(module) is None and (module == "openpyxl" or validate_first)]
    if missing:  # a release is built complete or not at all
        raise PackageError(f"building a release needs the {' and '.join(missing)} extra"
                           f"{'s' * (len(missing) > 1)}: pip install 'shanghai-ifc[{','.join(missing)}]'")
    package = open_package(path)
    out = check_out_dir(package, Path(out))
    artifact_names(package)  # every name checked before anything is written
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    steps = 8
    if validate_first:
        say(f"[1/{steps}] validating (frictionless, pandera, gx)…")
        from ..validate import validate
        report = validate(package.root)
        write_text_atomic(out / "validation-report.json", report.to_json())
        write_text_atomic(out / "validation-report.txt", report.to_text())
        if not report.ok:
            raise RuntimeError("the package is invalid; see " + str(out / "validation-report.txt"))
    say(f"[2/{steps}] reading the tables…")
    raws, frames, found = read_tables(package)
    if [f for f in found if f.severity == "error"]:
        raise RuntimeError("the tables cannot be read cleanly; run sifc validate")
    say(f"[3/{steps}] release zip…")
    summary["zip"] = release_zip(package, out)
    say(f"[4/{steps}] Parquet…")
    summary["parquet"] = parquet_files(package, frames, out)
    say(f"[5/{steps}] SQLite and Datasette metadata…")
    summary["sqlite"] = sqlite_file(package, frames, out)
    summary["metadata"] = metadata_file(package, summary["sqlite"], out)
    say(f"[6/{steps}] Excel workbook…")
    summary["xlsx"] = excel_workbook(package, frames, out)
    say(f"[7/{steps}] JSON…")
    summary["json"] = json_export(package, frames, out)
    say(f"[8/{steps}] UTF-8-with-BOM CSV copies…")
    summary["csv-excel"] = excel_csv_copies(package, out)
    summary["rows"] = {name: len(frame) for name, frame in frames.items()}
    return summary


def describe(summary: dict) -> str:
    def size(p: Path) -> str:
        n = p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return f"{n / 1024:,.1f} KiB"
    lines = ["wrote:"]
    for key in ("zip", "sqlite", "metadata", "xlsx", "json", "csv-excel"):
        lines.append(f"  {escape(summary[key])}  ({size(summary[key])})")
    lines.append(f"  {len(summary['parquet'])} Parquet files in {escape(next(iter(summary['parquet'].values())).parent)}  "
                 f"({sum(p.stat().st_size for p in summary['parquet'].values()) / 1024:,.1f} KiB)")
    lines.append("rows per table (the same in every artifact): "
                 + ", ".join(f"{k} {v}" for k, v in summary["rows"].items()))
    return "\n".join(lines) + "\n"
