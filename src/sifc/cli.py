"""The `sifc` command."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def cmd_validate(args) -> int:
    from .package import PackageError
    from .validate import LAYERS, validate

    skip = set()
    for item in args.skip or []:
        skip.update(s.strip() for s in item.split(",") if s.strip())
    unknown = skip - set(LAYERS)
    if unknown:
        print(f"sifc validate: --skip takes {', '.join(LAYERS)}; not {', '.join(sorted(unknown))}", file=sys.stderr)
        return EXIT_USAGE
    docs = None if args.no_docs else args.docs_dir
    try:
        report = validate(args.path, skip=skip, allow_remote=args.allow_remote, docs_dir=docs)
    except PackageError as exc:
        print(f"sifc validate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(report.to_json())
    elif args.format == "github":
        sys.stdout.write(report.to_github())
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(report.to_markdown())
    else:
        sys.stdout.write(report.to_text())
    if args.output:
        from .atomic import write_text_atomic
        write_text_atomic(Path(args.output), report.to_json())
    return EXIT_OK if report.ok else EXIT_INVALID


def cmd_refresh(args) -> int:
    """Recompute everything derived from the schemas and data."""
    from .descriptor import refresh
    from .package import PackageError, open_package
    from .suites import stale_suites, write_suites

    try:
        package = open_package(args.path)
    except PackageError as exc:
        print(f"sifc refresh: {exc}", file=sys.stderr)
        return EXIT_USAGE
    schemas = [r.schema for r in package.resources.values()]
    stale = []
    if not refresh(package.root, check=True):
        stale.append("datapackage.json (bytes, hash)")
    stale += [f"validation/{name}.json" for name in stale_suites(package.root, schemas)]
    from . import docs
    stale += docs.stale(package)
    if args.check:
        for s in stale:
            print(f"stale: {s}")
        if stale:
            print("run `sifc refresh` to regenerate", file=sys.stderr)
        return EXIT_INVALID if stale else EXIT_OK
    write_suites(package.root, schemas)
    docs.write(package)
    refresh(package.root)
    for s in stale:
        print(f"updated: {s}")
    return EXIT_OK


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="sifc", description="Shanghai IFC data package tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="validate the package with frictionless, pandera and Great Expectations")
    v.add_argument("path", nargs="?", help="package folder or datapackage.json (default: this package)")
    v.add_argument("--format", choices=["text", "json", "github"], default="text")
    v.add_argument("--skip", action="append", metavar="LAYER", help="skip a layer: frictionless, pandera or gx")
    v.add_argument("--allow-remote", action="store_true", help="follow resource paths that are URLs")
    v.add_argument("--docs-dir", help="also render the HTML report (GX Data Docs) into this folder; "
                                      "`make validate` uses build/data-docs")
    v.add_argument("--no-docs", action="store_true", help="do not write the HTML report even if --docs-dir is given")
    v.add_argument("--output", help="also write the JSON report to this file")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("refresh", help="regenerate the descriptor's bytes/hash, GX suites and generated docs")
    r.add_argument("path", nargs="?")
    r.add_argument("--check", action="store_true", help="only report what is stale (exit 1 if anything is)")
    r.set_defaults(func=cmd_refresh)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
