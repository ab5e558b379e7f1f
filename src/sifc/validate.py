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
from .package import DESCRIPTOR, DataPackage, is_remote, open_package

LAYERS = ("frictionless", "pandera", "gx")
#: above this much CSV, frictionless runs in its own process even beside GX
PARALLEL_FRICTIONLESS_BYTES = 2_000_000


def data_bytes(package: DataPackage) -> int:
    return sum(r.file.stat().st_size for r in package.resources.values() if r.file.is_file())


def _frictionless_job(path, allow_remote):
    from . import frictionless_layer
    from .csvfile import read_raw
    package = open_package(path, allow_remote)
    raws = {}
    for name, resource in package.resources.items():
        raw, _ = read_raw(resource)
        if raw is not None:
            raws[name] = raw
    return frictionless_layer.check(package, raws)


def _gx_job(path, allow_remote, docs_dir):
    from .tabletypes import read_tables
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
    # GX runs in a forked worker from the start, so its slow import overlaps
    # the other layers. Frictionless gets a worker of its own when GX is
    # skipped, or when the data is large enough for the work to be CPU-bound;
    # on a small package a third process only contends for two cores
    # (measured: benchmarks/RESULTS.md).
    workers = [] if "gx" in skip else ["gx"]
    if "frictionless" not in skip and (not workers or data_bytes(package) > PARALLEL_FRICTIONLESS_BYTES):
        workers.append("frictionless")
    pool = ProcessPoolExecutor(max_workers=len(workers), mp_context=multiprocessing.get_context("fork")) \
        if workers else None
    futures = {}
    if "gx" in workers:
        futures["gx"] = pool.submit(_gx_job, str(package.root), allow_remote, str(docs_dir) if docs_dir else None)
    if "frictionless" in workers:
        futures["frictionless"] = pool.submit(_frictionless_job, str(package.root), allow_remote)
    try:
        from .tabletypes import read_tables  # after the fork: the GX worker need not wait for pandas
        raws, frames, read_findings = read_tables(package)
        file_level = [f for f in read_findings if f.rule != "type"]
        type_level = [f for f in read_findings if f.rule == "type"]
        report.add("frictionless", file_level + stats_findings(package))
        pandera_findings = None
        if "pandera" not in skip:
            from .pandera_layer import check_tables
            pandera_findings = type_level + check_tables(package, raws, frames)
        # Merge in a fixed order, so the report does not depend on which
        # worker finishes first.
        if "frictionless" in futures:
            report.add("frictionless", futures["frictionless"].result())
        elif "frictionless" not in skip:
            from . import frictionless_layer
            report.add("frictionless", frictionless_layer.check(package, raws))
        if pandera_findings is not None:
            report.add("pandera", pandera_findings)
        if "gx" in futures:
            report.add("gx", futures["gx"].result())
            if docs_dir:
                report.notes.append(f"HTML report (Great Expectations Data Docs): {Path(docs_dir) / 'index.html'}")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report
