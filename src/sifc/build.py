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

Every artifact holds exactly the rows of the CSVs."""
from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import sys
import zipfile
from pathlib import Path

from .atomic import write_bytes_atomic, write_text_atomic
from .package import DataPackage, open_package

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
EXTRA_FILES = ["README.md", "CHANGELOG.md", "CITATION.cff", "LICENSE", "LICENSE-DATA.md",
               "docs/codebook.md", "docs/data-dictionary.md"]
SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT",
             "list": "TEXT"}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def release_zip(package: DataPackage, out: Path) -> Path:
    version = package.descriptor.get("version", "0")
    name = package.descriptor.get("name", "package")
    files = ["datapackage.json"] + sorted({r.schema_path for r in package.resources.values()}) \
        + [r.path for r in package.resources.values()] \
        + [f for f in EXTRA_FILES if (package.root / f).is_file()]
    manifest = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for rel in files:
            data = (package.root / rel).read_bytes()
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

    folder = out / "parquet"
    folder.mkdir(parents=True, exist_ok=True)
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


def sqlite_ddl(package: DataPackage) -> list[str]:
    """CREATE statements derived from the Table Schemas, tables in dependency order."""
    statements = []
    for resource in package.resources.values():
        s = resource.schema
        cols = []
        for f in s.fields:
            col = f'"{f.name}" {SQL_TYPES.get(f.type, "TEXT")}'
            if f.required:
                col += " NOT NULL"
            if f.enum:
                col += " CHECK (\"{0}\" IN ({1}))".format(f.name, ", ".join("'" + v.replace("'", "''") + "'" for v in f.enum))
            cols.append(col)
        cols.append("PRIMARY KEY (" + ", ".join(f'"{k}"' for k in s.primary_key) + ")")
        for fk in s.foreign_keys:
            cols.append(f'FOREIGN KEY ("{fk.field}") REFERENCES "{fk.resource}" ("{fk.ref_field}")')
        statements.append(f'CREATE TABLE "{s.name}" (\n  ' + ",\n  ".join(cols) + "\n)")
        # one link table per list column, so SQL can join list members
        for f, ref, ref_field in s.list_references():
            pk = s.primary_key[0] if len(s.primary_key) == 1 else None
            if pk is None:
                continue
            statements.append(
                f'CREATE TABLE "{s.name}__{f.name}" (\n  "{pk}" TEXT NOT NULL REFERENCES "{s.name}" ("{pk}"),\n'
                f'  "position" INTEGER NOT NULL,\n  "{ref_field}" TEXT NOT NULL REFERENCES "{ref}" ("{ref_field}"),\n'
                f'  PRIMARY KEY ("{pk}", "position")\n)')
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
    path = out / f"{package.descriptor.get('name', 'package')}.sqlite"
    tmp = out / f".{path.name}.building"
    if tmp.exists():
        tmp.unlink()
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
                cols = ", ".join(f'"{f.name}"' for f in s.fields)
                marks = ", ".join("?" for _ in s.fields)
                rows = [tuple(_sql_value(f, v) for f, v in zip(s.fields, row))
                        for row in frame[s.field_names].itertuples(index=False, name=None)]
                db.executemany(f'INSERT INTO "{name}" ({cols}) VALUES ({marks})', rows)
                for f, ref, ref_field in s.list_references():
                    if len(s.primary_key) != 1:
                        continue
                    pk = s.primary_key[0]
                    links = [(key, i, item) for key, items in zip(frame[pk], frame[f.name]) if items is not None
                             for i, item in enumerate(items, 1)]
                    db.executemany(f'INSERT INTO "{name}__{f.name}" VALUES (?, ?, ?)', links)
        for view, sql in VIEWS.items():
            db.execute(f'CREATE VIEW "{view}" AS {sql.strip()}')
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"SQLite foreign_key_check failed: {problems[:5]}")
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    write_bytes_atomic(path, tmp.read_bytes())
    tmp.unlink()
    return path


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
    path = out / f"{d.get('name', 'package')}.xlsx"
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
    folder = out / "csv-excel"
    folder.mkdir(parents=True, exist_ok=True)
    for resource in package.resources.values():
        write_bytes_atomic(folder / Path(resource.path).name, b"\xef\xbb\xbf" + resource.file.read_bytes())
    return folder


def build(path=None, out: Path = Path("dist"), validate_first: bool = True) -> dict:
    from .loader import read_tables

    package = open_package(path)
    out = Path(out)
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
