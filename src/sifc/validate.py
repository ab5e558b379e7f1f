"""`sifc validate`: the three validators on one package, one merged report.

Data flows one way: descriptor -> tables -> checks -> report. The GX layer
runs in a forked process from the start, because importing
great_expectations alone takes seconds; the other layers run meanwhile."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .descriptor import file_stats
from .findings import Finding, Report
from .load import read_tables
from .package import DESCRIPTOR, DataPackage, is_remote, open_package

LAYERS = ("frictionless", "pandera", "gx")


def _gx_job(path, allow_remote, docs_dir):
    package = open_package(path, allow_remote)
    raws, _, _ = read_tables(package)
    from . import gx_layer
    return gx_layer.run(package, raws, Path(docs_dir) if docs_dir else None)


def stats_findings(package: DataPackage) -> list[Finding]:
    """bytes and hash in the descriptor must match the files."""
    out = []
    for res in package.descriptor["resources"]:
        if is_remote(res.get("path", "")) or not (package.root / res["path"]).is_file():
            continue
        size, digest = file_stats(package.root / res["path"])
        for key, actual in (("bytes", size), ("hash", digest)):
            if key in res and res[key] != actual:
                out.append(Finding(DESCRIPTOR, None, None, "descriptor-stats",
                                   f"resource {res['name']!r}: {key} is stale; run `sifc refresh`",
                                   str(res[key]), table=res["name"]))
    return out


def validate(path=None, skip=(), allow_remote: bool = False, docs_dir: str | Path | None = None) -> Report:
    package = open_package(path, allow_remote)  # raises PackageError before any data is read
    report = Report(tables=list(package.resources), layers_run=[l for l in LAYERS if l not in skip])
    pool = future = None
    if "gx" not in skip:
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(_gx_job, str(package.root), allow_remote, str(docs_dir) if docs_dir else None)
    try:
        raws, frames, read_findings = read_tables(package)
        file_level = [f for f in read_findings if f.rule != "type"]
        type_level = [f for f in read_findings if f.rule == "type"]
        report.add("frictionless", file_level + stats_findings(package))
        if "frictionless" not in skip:
            from . import frictionless_layer
            report.add("frictionless", frictionless_layer.check(package, raws))
        if "pandera" not in skip:
            from .pandera_layer import check_tables
            report.add("pandera", type_level + check_tables(package, raws, frames))
        if future is not None:
            report.add("gx", future.result())
            if docs_dir:
                report.notes.append(f"HTML report (Great Expectations Data Docs): {Path(docs_dir) / 'index.html'}")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report
