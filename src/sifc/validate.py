"""`sifc validate`: the three validators on one package, one merged report.

Data flows one way: descriptor -> tables -> checks -> report. The GX layer
runs in a forked process from the start, because importing
great_expectations alone takes seconds; the other layers run meanwhile."""
from __future__ import annotations

import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .findings import Finding, Report
from .publish.report_html import GX_DOCS
from .files.safeio import UnsafeFile, read_package_file
from .files.package import DESCRIPTOR, DataPackage, DefinitionError, PackageError, is_remote, open_package, read_descriptor

LAYERS = ("frictionless", "pandera", "gx")
#: above this much CSV, frictionless runs in its own process even beside GX
PARALLEL_FRICTIONLESS_BYTES = 2_000_000


def data_bytes(package: DataPackage) -> int:
    return sum(r.file.stat().st_size for r in package.resources.values() if r.file.is_file())


def _left_out_cells(raw) -> set[str]:
    """Every cell of a table's rows of the wrong width (their keys are still
    there to be looked up, though shifted)."""
    return {cell for row in raw.left_out or () for cell in row}


def _frictionless_job(path, allow_remote):
    from .checks import frictionless_layer
    from .files.csvfile import read_raw
    package = open_package(path, allow_remote)
    raws = {}
    for name, resource in package.resources.items():
        raw, problems = read_raw(resource)
        if any(f.rule == "file" for f in problems):
            return []  # a file that cannot be read safely is not handed to frictionless either
        if raw is not None:
            raws[name] = raw
    return frictionless_layer.check(package, raws)


def _gx_job(path, allow_remote, docs_dir):
    # GX reads the cells as written: the raw tables are enough, and typing
    # them (the main process does that) would only delay this, the slowest layer.
    from .checks.arrow_layer import large
    from .files.csvfile import read_raw
    package = open_package(path, allow_remote)
    big = large(data_bytes(package))

    # Each table is read only when GX comes to it, so this worker holds one
    # table at a time rather than the whole package.
    def read(name):
        return read_raw(package.resources[name], columnar=big)[0]

    from .checks import gx_layer
    # On a large package the expectations restating a Table Schema are left
    # to the frictionless and pandera layers, which check the same rules.
    return gx_layer.run(package, read, Path(docs_dir) if docs_dir else None, restated=not big)


def stats_findings(package: DataPackage) -> list[Finding]:
    """Where the descriptor records bytes and hash (a release descriptor;
    the repository's records none), they must match the files: a mismatch
    means a file changed after the descriptor was written."""
    out = []
    for res in package.descriptor["resources"]:
        if not any(key in res for key in ("bytes", "hash")):
            continue
        if is_remote(res.get("path", "")) or not (package.root / res["path"]).is_file():
            continue
        try:
            data = read_package_file(package.root, res["path"])
        except (OSError, UnsafeFile):
            continue  # reported by the reading of the table itself
        size, digest = len(data), "sha256:" + hashlib.sha256(data).hexdigest()
        for key, actual in (("bytes", size), ("hash", digest)):
            if key in res and res[key] != actual:
                out.append(Finding(DESCRIPTOR, None, None, "descriptor-stats",
                                   f"resource {res['name']!r}: the {key} recorded for {res['path']} does not "
                                   "match the file, which changed after this descriptor was written; if the "
                                   "change is intended, run `sifc refresh` to record the new bytes and hash",
                                   str(res[key]), table=res["name"]))
    return out


def _one_table(path) -> tuple[Path, str] | None:
    """(package root, file as the descriptor names it) when `path` is a CSV
    file of a package rather than the package itself."""
    if path is None or is_remote(str(path)):
        return None
    file = Path(path)
    if file.suffix.lower() != ".csv" or file.is_dir():
        return None
    from .files.package import find_root
    root = find_root(file.absolute().parent)
    if root is None:
        raise PackageError(f"{path}: no datapackage.json in its folder or above it; "
                           "validate the package folder instead")
    return root, file.absolute().relative_to(root).as_posix()


def _without_missing_extras(skip) -> tuple[set, list[str]]:
    """A layer whose library is not installed (the library installed without
    its `gx` extra) is skipped, and the report says how to install it."""
    import importlib.util
    skip, notes = set(skip), []
    if "gx" not in skip and importlib.util.find_spec("great_expectations") is None:
        skip.add("gx")
        notes.append("the gx layer did not run: Great Expectations is not installed; "
                     "install it with: pip install 'shanghai-ifc[gx]' (or pass --skip gx)")
    return skip, notes


def _identify(report: Report, path) -> None:
    """Name the package, version and root the report is about."""
    try:
        root, _, descriptor, _ = read_descriptor(path)
    except PackageError:
        return
    report.package = {"name": str(descriptor.get("name", "")), "version": str(descriptor.get("version", "")),
                      "root": str(root.absolute())}


def validate(path=None, skip=(), allow_remote: bool = False, docs_dir: str | Path | None = None) -> Report:
    """Validate a package (default: the nearest datapackage.json at or above
    the current folder), or one of its tables given as a path to its CSV:
    every table is still read, for the foreign keys, but only that table's
    findings are reported."""
    single = _one_table(path)
    if single:
        path = single[0]
    try:
        package = open_package(path, allow_remote)  # raises PackageError before any data is read
    except DefinitionError as exc:
        # The definitions are wrong: report each mistake, check no data.
        report = Report(layers_run=["definitions"])
        _identify(report, path)
        report.add("definitions", exc.findings)
        report.notes.append("the data was not checked: fix the descriptor and schemas first")
        return report
    tables = list(package.resources)
    if single:
        tables = [name for name, res in package.resources.items() if res.path == single[1]]
        if not tables:
            raise PackageError(f"{single[1]}: not a resource of the package at {package.root}")
    skip, missing = _without_missing_extras(skip)
    report = Report(tables=tables, layers_run=[l for l in LAYERS if l not in skip])
    report.notes += missing
    report.package = {"name": str(package.descriptor.get("name", "")),
                      "version": str(package.descriptor.get("version", "")), "root": str(package.root.absolute())}
    gx_docs = Path(docs_dir) / GX_DOCS if docs_dir else None
    left_out: dict[str, set[str]] = {}
    try:
        _run_layers(package, report, skip, allow_remote, gx_docs, left_out)
    finally:
        report.findings = without_cascades(package, report.findings, left_out)
        if single:
            report.findings = [f for f in report.findings if f.file == single[1] or f.table in tables]
            report.notes.append(f"only {single[1]} is reported; the other tables were read for its references")
    if docs_dir:
        write_html_report(report, Path(docs_dir))
    return report


def write_html_report(report: Report, docs_dir: Path) -> Path:
    """The merged report as `index.html` in `docs_dir`, linking the GX Data
    Docs rendered below it (if they were)."""
    from .files.atomic import write_text_atomic
    from .publish.report_html import GX_DOCS, render
    gx_index = docs_dir / GX_DOCS / "index.html"
    page = docs_dir / "index.html"
    write_text_atomic(page, render(report, f"{GX_DOCS}/index.html" if gx_index.is_file() else None))
    report.notes = [n for n in report.notes if "Data Docs" not in n]
    report.notes.append(f"HTML report (all three layers): {page}")
    return page


#: a finding of these makes every other finding of its table an echo
TABLE_BLOCKING = {"file", "header", "csv-syntax"}


def without_cascades(package: DataPackage, findings: list[Finding],
                     left_out: dict[str, set[str]] | None = None) -> list[Finding]:
    """One mistake, one finding: drop what a structural problem causes
    elsewhere. A table whose file, header or CSV syntax is broken keeps only
    those findings (and nothing may point into it through a foreign key); a
    row of the wrong width, or with bytes that are not UTF-8, keeps only that
    finding for its line, and a reference to a value found only in such a
    row (`left_out`: table -> the cells of its left-out rows) is not reported
    as missing."""
    left_out = left_out or {}
    structural = {"file", "header", "csv-syntax", "row-shape", "encoding", "bom", "line-ending", "final-newline",
                  "row-order", "descriptor-stats", "descriptor"}
    blocked = {f.table for f in findings if f.rule in TABLE_BLOCKING or (f.rule == "encoding" and f.line == 1
                                                                         and f.value is None)}
    lines = {(f.file, f.line) for f in findings if f.rule in ("row-shape", "encoding") and f.line is not None}
    targets = {}
    for name, resource in package.resources.items():
        refs = {fk.field: fk.resource for fk in resource.schema.foreign_keys}
        refs.update({f.name: r for f, r, _ in resource.schema.list_references()})
        targets[name] = refs
    # frictionless names an undecodable file once per table that refers to it
    undecodable = any(f.rule == "encoding" and f.line == 1 and f.value is None for f in findings)
    findings = [f for f in findings if not (undecodable and f.rule == "encoding" and f.line is None)]
    # A cell that is not of its type has no value for its constraints to test,
    # nor for a rule across columns that reads it ("start_on is empty" about
    # a date that is there but written wrongly); a broken reference likewise
    # leaves nothing for a rule across columns or tables to judge.
    mistyped = {(f.file, f.line, f.column) for f in findings if f.rule == "type"}
    unusable = mistyped | {(f.file, f.line, f.column) for f in findings if f.rule == "foreign-key"}
    from .checks.rules import columns_read
    reads = {}  # (table, rule) -> the columns that rule reads
    for name, resource in package.resources.items():
        for spec in resource.schema.rules:
            if isinstance(spec, dict) and isinstance(spec.get("rule"), str):
                reads.setdefault((name, spec["rule"]), set()).update(columns_read(spec))
    keep, headers = [], set()
    for f in findings:
        if f.rule not in structural:
            if f.table in blocked or (f.file, f.line) in lines:
                continue
            if f.rule != "type" and (f.file, f.line, f.column) in mistyped:
                continue
            if any((f.file, f.line, c) in unusable for c in reads.get((f.table, f.rule), ())):
                continue
            if f.rule in ("foreign-key", "speaker-attended") and (targets.get(f.table, {}).get(f.column) in blocked
                                                                    or "participants" in blocked):
                continue
            if f.rule == "foreign-key" and f.value and _only_in(f, package, left_out):
                continue
        if f.rule == "header":  # our reader's words first; frictionless says the same in its own
            if f.file in headers:
                continue
            headers.add(f.file)
        keep.append(f)
    return keep


def _only_in(finding: Finding, package: DataPackage, left_out: dict[str, set[str]]) -> bool:
    """Whether every missing item a foreign-key finding names is a cell of
    a row of the referenced table left out for its width."""
    resource = package.resources.get(finding.table or "")
    if not left_out or resource is None or finding.column not in resource.schema.field_names:
        return False
    schema = resource.schema
    target = next((fk.resource for fk in schema.foreign_keys if fk.field == finding.column),
                  next((r for f, r, _ in schema.list_references() if f.name == finding.column), None))
    cells = left_out.get(target)
    if not cells:
        return False
    field = schema.field(finding.column)
    items = [t for t in finding.value.split(field.delimiter) if t] if field.is_list else [finding.value]
    return all(t in cells for t in items)


def _arrow_or_frictionless(package, raws, read_findings) -> list[Finding]:
    """The frictionless layer's findings by the Arrow engine, or by
    frictionless itself for a package only it can judge exactly."""
    from .checks import arrow_layer, frictionless_layer
    try:
        return arrow_layer.check(package, raws, read_findings)
    except arrow_layer.Ineligible:
        return frictionless_layer.check(package, raws)


def _table_by_table(package, skip):
    """The main process's part of validating a large package, one table at a
    time, so the package is never in memory whole: each table is read,
    typed and checked by the Arrow engine and the pandera layer, then only
    the columns later tables look up (rules.context_columns) are kept.
    Needs the tables in an order where each refers only to itself and to
    tables before it (the package's own order does). None when that, or the
    Arrow engine, does not hold: the caller then checks the package whole.

    Returns (file-level findings, Arrow-engine findings or None, pandera
    findings or None, the kept columns of every table, left-out cells)."""
    from .checks import arrow_layer
    from .checks.rules import context_columns, tables_looked_up
    earlier: set[str] = set()
    for name, resource in package.resources.items():
        if not set(tables_looked_up(resource.schema)) <= earlier | {name}:
            return None
        earlier.add(name)
    try:
        checker = arrow_layer.TableByTable(package) if "frictionless" not in skip else None
    except arrow_layer.Ineligible:
        return None
    from .memory import returning_allocator
    with returning_allocator():
        return _each_table(package, skip, checker, context_columns(package))


#: bytes of text from which the memory a table leaves is handed back before the next
LARGE_TABLE = 16 << 20


def _each_table(package, skip, checker, keep: dict):
    """The loop of `_table_by_table`: `keep` names what is kept of each table."""
    from .checks import arrow_layer
    from .memory import give_back
    from .checks.pandera_layer import validate_frame
    from .tabletypes import read_tables
    file_level, arrow_found, pandera_found = [], [] if checker else None, [] if "pandera" not in skip else None
    context: dict = {}
    left_out: dict[str, set[str]] = {}
    for name, resource in package.resources.items():
        raws, frames, found = read_tables(package, [name], columnar=True)
        if any(f.rule not in arrow_layer.HARMLESS | {"type"} for f in found) or name not in frames:
            return None  # a problem with the file itself: judged with the package whole
        raw, frame = raws[name], frames[name]
        if raw.left_out:
            left_out[name] = _left_out_cells(raw)
        file_level += [f for f in found if f.rule != "type"]
        if checker is not None:
            try:
                arrow_found += checker.check(name, raw, [f for f in found if f.rule != "type"])
            except arrow_layer.Ineligible:
                return None
        context[name] = frame
        if pandera_found is not None:
            pandera_found += [f for f in found if f.rule == "type"]
            pandera_found += validate_frame(resource.schema, frame, context, raw)
        wanted = keep.get(name)
        context[name] = frame if wanted is None else frame[[c for c in frame.columns if c in wanted]]
        large = raw.columns is not None and sum(c.nbytes for c in raw.columns.values()) >= LARGE_TABLE
        del raws, frames, raw, frame
        if large:  # a full garbage collection costs more than a small table leaves behind
            give_back()
    return file_level, arrow_found, pandera_found, context, left_out


def _reported_table_by_table(package, report, skip, futures: dict, docs_dir, left_out: dict) -> bool:
    """The report of a large package checked one table at a time, merged
    in the order `_run_layers` merges; False (nothing added) when the
    package must be checked whole."""
    streamed = _table_by_table(package, skip)
    if streamed is None:
        return False
    file_level, arrow_findings, pandera_findings, context, streamed_left_out = streamed
    left_out.update(streamed_left_out)
    report.add("frictionless", file_level + stats_findings(package))
    if arrow_findings is not None:
        report.add("frictionless", arrow_findings)
    if pandera_findings is not None:
        report.add("pandera", pandera_findings)
    _add_gx(report, futures, docs_dir)
    from .checks.hints import add_hints
    add_hints(package, context, report.findings)
    return True


def _add_gx(report, futures: dict, docs_dir) -> None:
    """The GX worker's findings, once it is done, and where its Data Docs are."""
    if "gx" in futures:
        report.add("gx", futures["gx"].result())
        if docs_dir:
            report.notes.append(f"HTML report (Great Expectations Data Docs): {Path(docs_dir) / 'index.html'}")


def _run_layers(package, report, skip, allow_remote, docs_dir, left_out: dict) -> None:
    # GX runs in a forked worker from the start, so its slow import overlaps
    # the other layers. Frictionless gets a worker of its own when GX is
    # skipped, or when the data is large enough for the work to be CPU-bound;
    # on a small package a third process only contends for two cores
    # (measured: benchmarks/RESULTS.md).
    # Above a size threshold the frictionless layer's row checks run on
    # Arrow arrays in this process, on the tables read here (arrow_layer,
    # docs/engines.md); below it frictionless validates every row itself.
    engine, size = None, data_bytes(package)
    if "frictionless" not in skip:
        from .checks.arrow_layer import engine_for
        engine = engine_for(size)
    workers = [] if "gx" in skip else ["gx"]
    if engine == "frictionless" and (not workers or size > PARALLEL_FRICTIONLESS_BYTES):
        workers.append("frictionless")
    pool = ProcessPoolExecutor(max_workers=len(workers), mp_context=multiprocessing.get_context("fork")) \
        if workers else None
    futures = {}
    if "gx" in workers:
        futures["gx"] = pool.submit(_gx_job, str(package.root), allow_remote, str(docs_dir) if docs_dir else None)
    if "frictionless" in workers:
        futures["frictionless"] = pool.submit(_frictionless_job, str(package.root), allow_remote)
    try:
        from .checks.arrow_layer import large
        if engine == "arrow" and "frictionless" not in workers and large(size) \
                and _reported_table_by_table(package, report, skip, futures, docs_dir, left_out):
            return report
        from .tabletypes import read_tables  # after the fork: the GX worker need not wait for pandas
        raws, frames, read_findings = read_tables(package, columnar=large(size))
        left_out.update({name: _left_out_cells(raw) for name, raw in raws.items() if raw is not None and raw.left_out})
        file_level = [f for f in read_findings if f.rule != "type"]
        type_level = [f for f in read_findings if f.rule == "type"]
        report.add("frictionless", file_level + stats_findings(package))
        pandera_findings = None
        if "pandera" not in skip:
            from .checks.pandera_layer import check_tables
            pandera_findings = type_level + check_tables(package, raws, frames)
        # Merge in a fixed order, so the report does not depend on which
        # worker finishes first.
        unreadable = sorted({f.file for f in read_findings if f.rule == "file"})
        if unreadable:  # frictionless would read them anyway, past every limit
            report.notes.append(f"the frictionless layer did not run: {', '.join(unreadable)} cannot be read safely")
            if "frictionless" in futures:
                futures.pop("frictionless").cancel()
        elif "frictionless" in futures:
            report.add("frictionless", futures["frictionless"].result())
        elif engine == "arrow":
            report.add("frictionless", _arrow_or_frictionless(package, raws, read_findings))
        elif "frictionless" not in skip:
            from .checks import frictionless_layer
            report.add("frictionless", frictionless_layer.check(package, raws))
        if pandera_findings is not None:
            report.add("pandera", pandera_findings)
        _add_gx(report, futures, docs_dir)
        from .checks.hints import add_hints
        add_hints(package, frames, report.findings)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report
