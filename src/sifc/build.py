"""`sifc build`: release artifacts under dist/.

- shanghai-ifc-<version>.zip: descriptor, schemas, CSVs, docs and licences,
  with bytes and sha256 for every file (reproducible: fixed timestamps and order)
- parquet/<table>.parquet: typed as `sifc.load` types them
- shanghai-ifc.sqlite: every table with declared primary and foreign keys,
  link tables for list columns, and the loader's joined views as SQL views
  (reproducible: same inputs, same bytes)
- shanghai-ifc.xlsx: a sheet per table and a README sheet
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

from .atomic import write_bytes_atomic, write_text_atomic
from .package import DESCRIPTOR, DataPackage, PackageError, open_package
from .safeio import UnsafeFile, read_package_file
from .safetext import escape

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
EXTRA_FILES = ["README.md", "CHANGELOG.md", "CITATION.cff", "LICENSE", "LICENSE-DATA.md",
               "docs/codebook.md", "docs/data-dictionary.md"]
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


def release_zip(package: DataPackage, out: Path) -> Path:
    names = artifact_names(package)
    version, name = names["version"], names["name"]
    files = ["datapackage.json"] + sorted({r.schema_path for r in package.resources.values()}) \
        + [r.path for r in package.resources.values()] \
        + [f for f in EXTRA_FILES if os.path.lexists(package.root / f)]
    manifest = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for rel in files:
            data = read_file(package, rel)
            manifest[rel] = {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
            _add(archive, f"{name}-{version}/{rel}", data)
        _add(archive, f"{name}-{version}/MANIFEST.json",
             (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    path = out / f"{name}-{version}.zip"
    write_bytes_atomic(path, buf.getvalue())
    return path


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    archive.writestr(info, data, compresslevel=9)


def parquet_files(package: DataPackage, frames, out: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = subfolder(out, "parquet")
    written = {}
    for name, frame in frames.items():
        schema = package.resource(name).schema
        arrays, fields = [], []
        for f in schema.fields:
            col = frame[f.name]
            if f.is_list:
                arr = pa.array([list(v) if v is not None else None for v in col], type=pa.list_(pa.string()))
            elif f.type == "date":
                arr = pa.array(col.dt.date.where(col.notna(), None), type=pa.date32())
            else:
                arr = pa.array(col.to_numpy(dtype=object, na_value=None),
                               type={"integer": pa.int64(), "boolean": pa.bool_(), "number": pa.float64()}.get(f.type, pa.string()))
            arrays.append(arr)
            fields.append(pa.field(f.name, arr.type, nullable=not f.required,
                                   metadata={"description": f.description}))
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={"table": name}))
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
    return str(value)


def q(identifier: str) -> str:
    """An SQL identifier, quoted so that no name can end the quoting."""
    return '"' + str(identifier).replace('"', '""') + '"'


def sqlite_ddl(package: DataPackage) -> list[str]:
    """CREATE statements derived from the Table Schemas, tables in dependency order."""
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
            cols.append(col)
        cols.append("PRIMARY KEY (" + ", ".join(q(k) for k in s.primary_key) + ")")
        for fk in s.foreign_keys:
            cols.append(f'FOREIGN KEY ({q(fk.field)}) REFERENCES {q(fk.resource)} ({q(fk.ref_field)})')
        statements.append(f'CREATE TABLE {q(s.name)} (\n  ' + ",\n  ".join(cols) + "\n)")
        # one link table per list column, so SQL can join list members
        for f, ref, ref_field in s.list_references():
            pk = s.primary_key[0] if len(s.primary_key) == 1 else None
            if pk is None:
                continue
            statements.append(
                f'CREATE TABLE {q(s.name + "__" + f.name)} (\n  {q(pk)} TEXT NOT NULL REFERENCES {q(s.name)} ({q(pk)}),\n'
                f'  "position" INTEGER NOT NULL,\n  {q(ref_field)} TEXT NOT NULL REFERENCES {q(ref)} ({q(ref_field)}),\n'
                f'  PRIMARY KEY ({q(pk)}, "position")\n)')
    return statements


VIEWS = {
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
          JOIN measures m ON m.measure_id = l.measure_id WHERE l.commitment_id = c.commitment_id ORDER BY l.position)) AS measures
FROM commitments c
LEFT JOIN events e ON e.event_id = c.event_id
LEFT JOIN institutions i ON i.institution_id = c.institution_id
LEFT JOIN people pe ON pe.person_id = c.person_id""",
    "measures_view": """
SELECT m.measure_id, m.document_id, d.title_en AS document_title_en, m.event_id, e.name_en AS event_name_en,
       m.aspect_no, m.aspect_title_en, m.measure_no, m.listed_order, m.title_en, m.summary_en, m.theme_ids,
       (SELECT group_concat(label_en, '; ') FROM (SELECT t.label_en FROM measures__theme_ids l
          JOIN themes t ON t.theme_id = l.theme_id WHERE l.measure_id = m.measure_id ORDER BY l.position)) AS themes,
       m.lead_institution_ids,
       (SELECT group_concat(name_en, '; ') FROM (SELECT i.name_en FROM measures__lead_institution_ids l
          JOIN institutions i ON i.institution_id = l.institution_id WHERE l.measure_id = m.measure_id
          ORDER BY l.position)) AS lead_institutions,
       m.announced_by, pe.name_en AS announced_by_name_en, m.implemented_on
FROM measures m
LEFT JOIN documents d ON d.document_id = m.document_id
LEFT JOIN events e ON e.event_id = m.event_id
LEFT JOIN people pe ON pe.person_id = m.announced_by""",
}


def sqlite_file(package: DataPackage, frames, out: Path) -> Path:
    path = out / f"{artifact_names(package)['name']}.sqlite"
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
        with db:
            for name, frame in frames.items():
                s = package.resource(name).schema
                cols = ", ".join(q(f.name) for f in s.fields)
                marks = ", ".join("?" for _ in s.fields)
                rows = [tuple(_sql_value(f, v) for f, v in zip(s.fields, row))
                        for row in frame[s.field_names].itertuples(index=False, name=None)]
                db.executemany(f'INSERT INTO {q(name)} ({cols}) VALUES ({marks})', rows)
                for f, ref, ref_field in s.list_references():
                    if len(s.primary_key) != 1:
                        continue
                    pk = s.primary_key[0]
                    links = [(key, i, item) for key, items in zip(frame[pk], frame[f.name]) if items is not None
                             for i, item in enumerate(items, 1)]
                    db.executemany(f'INSERT INTO {q(name + "__" + f.name)} VALUES (?, ?, ?)', links)
        for view, sql in VIEWS.items():
            db.execute(f'CREATE VIEW "{view}" AS {sql.strip()}')
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"SQLite foreign_key_check failed: {problems[:5]}")
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def excel_workbook(package: DataPackage, frames, out: Path) -> Path:
    from openpyxl import Workbook

    d = package.descriptor
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    lines = [d.get("title", ""), "", d.get("description", ""), "",
             f"Version: {d.get('version')}",
             "Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); cite as:",
             f"shanghai-ifc contributors. {d.get('title')}, version {d.get('version')} [data set]. CC BY 4.0.",
             "", "Each sheet is one table; column definitions: docs/data-dictionary.md.",
             "List cells hold ';'-separated IDs. Empty cells are missing values."]
    for line in lines:
        readme.append([line])
    for name, frame in frames.items():
        s = package.resource(name).schema
        ws = wb.create_sheet(name)
        ws.append(s.field_names)
        for row in frame[s.field_names].itertuples(index=False, name=None):
            ws.append([_excel(f, v) for f, v in zip(s.fields, row)])
        ws.freeze_panes = "A2"
    path = out / f"{artifact_names(package)['name']}.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes_atomic(path, buf.getvalue())
    return path


def _excel(field, value):
    v = _sql_value(field, value)
    if field.type == "boolean" and v is not None:
        return bool(v)
    return v


def excel_csv_copies(package: DataPackage, out: Path) -> Path:
    folder = subfolder(out, "csv-excel")
    for resource in package.resources.values():
        write_bytes_atomic(folder / Path(resource.path).name, b"\xef\xbb\xbf" + read_file(package, resource.path))
    return folder


def build(path=None, out: Path = Path("dist"), validate_first: bool = True) -> dict:
    from .loader import read_tables

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
    if validate_first:
        say("[1/7] validating (frictionless, pandera, gx)…")
        from .validate import validate
        report = validate(package.root)
        write_text_atomic(out / "validation-report.json", report.to_json())
        write_text_atomic(out / "validation-report.txt", report.to_text())
        if not report.ok:
            raise RuntimeError("the package is invalid; see " + str(out / "validation-report.txt"))
    say("[2/7] reading the tables…")
    raws, frames, found = read_tables(package)
    if [f for f in found if f.severity == "error"]:
        raise RuntimeError("the tables cannot be read cleanly; run sifc validate")
    say("[3/7] release zip…")
    summary["zip"] = release_zip(package, out)
    say("[4/7] Parquet…")
    summary["parquet"] = parquet_files(package, frames, out)
    say("[5/7] SQLite…")
    summary["sqlite"] = sqlite_file(package, frames, out)
    say("[6/7] Excel workbook…")
    summary["xlsx"] = excel_workbook(package, frames, out)
    say("[7/7] UTF-8-with-BOM CSV copies…")
    summary["csv-excel"] = excel_csv_copies(package, out)
    summary["rows"] = {name: len(frame) for name, frame in frames.items()}
    return summary


def describe(summary: dict) -> str:
    def size(p: Path) -> str:
        n = p.stat().st_size if p.is_file() else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return f"{n / 1024:,.1f} KiB"
    lines = ["wrote:"]
    for key in ("zip", "sqlite", "xlsx", "csv-excel"):
        lines.append(f"  {summary[key]}  ({size(summary[key])})")
    lines.append(f"  {len(summary['parquet'])} Parquet files in {next(iter(summary['parquet'].values())).parent}  "
                 f"({sum(p.stat().st_size for p in summary['parquet'].values()) / 1024:,.1f} KiB)")
    lines.append("rows per table (the same in every artifact): "
                 + ", ".join(f"{k} {v}" for k, v in summary["rows"].items()))
    return "\n".join(lines) + "\n"
