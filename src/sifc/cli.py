"""The `sifc` command."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def cmd_validate(args) -> int:
    from .validate import LAYERS, validate

    skip = set()
    for item in args.skip or []:
        skip.update(s.strip() for s in item.split(",") if s.strip())
    unknown = skip - set(LAYERS)
    if unknown:
        print(f"sifc validate: --skip takes {', '.join(LAYERS)}; not {', '.join(sorted(unknown))}", file=sys.stderr)
        return EXIT_USAGE
    docs = None if args.no_docs else args.docs_dir
    report = validate(args.path, skip=skip, allow_remote=args.allow_remote, docs_dir=docs)
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
        from .files.atomic import write_text_atomic
        write_text_atomic(Path(args.output), report.to_json())
    return EXIT_OK if report.ok else EXIT_INVALID


def cmd_refresh(args) -> int:
    """Regenerate what is derived from the schemas (GX suites, the data
    dictionary) and, only in a descriptor that records them (a release
    descriptor; the repository's records none), bytes and hash. Bytes and
    hash are never added to a descriptor without them. A package that fails
    validation is not refreshed (re-hashing it would bless the mistake)
    unless --force is given; --check writes nothing."""
    from .files.descriptor import UnhashableFiles, refresh
    from .findings import Finding
    from .files.package import DESCRIPTOR, DefinitionError, open_package
    from .checks.suites import stale_suites, write_suites

    try:
        package = open_package(args.path, writing=not args.check)  # never the bundled copy in site-packages
    except DefinitionError as exc:
        missing_stats = all("bytes/hash" in f.message for f in exc.findings)
        if missing_stats and args.force and not args.check:
            from .files.package import read_descriptor
            try:
                refresh(read_descriptor(args.path, writing=True)[0])  # adds them; the rest follows as usual
            except OSError as err:
                return _cannot_write("refresh", err)
            print(f"updated: {DESCRIPTOR} (bytes, hash recorded for every resource)")
            package = open_package(args.path, writing=True)
        else:
            for f in exc.findings:
                print(f.text())
            hint = (" (`sifc refresh --force` records bytes/hash for every resource, or delete them from "
                    "every resource)") if missing_stats else ""
            print(f"sifc refresh: the package's definitions are invalid ({len(exc.findings)} "
                  f"finding{'s' if len(exc.findings) != 1 else ''}); nothing was changed. Fix them first"
                  f"{hint}; `sifc validate` lists them", file=sys.stderr)
            return EXIT_INVALID
    if not args.check and not args.force:
        from .validate import validate
        report = validate(package.root, skip={"gx"})
        # stale bytes/hash (in a descriptor that records them) are what refresh is for; anything else blocks it
        blocking = [f for f in report.errors if f.rule != "descriptor-stats"]
        if blocking:
            for f in sorted(blocking, key=lambda f: (f.file, f.line or 0))[:10]:
                print(f.text())
            if len(blocking) > 10:
                print(f"… and {len(blocking) - 10} more")
            print(f"sifc refresh: the package fails validation ({len(blocking)} "
                  f"finding{'s' if len(blocking) != 1 else ''}); nothing was changed. Run `sifc validate` "
                  "and fix them first (or `sifc refresh --force` to refresh anyway)", file=sys.stderr)
            return EXIT_INVALID
    schemas = [r.schema for r in package.resources.values()]
    stale = []
    try:
        if not refresh(package.root, check=True):
            stale.append(f"{DESCRIPTOR} (bytes, hash)")
    except UnhashableFiles as exc:
        for file, reason in exc.problems:
            print(Finding(file, None, None, "file", reason).text())
        print(f"sifc refresh: {len(exc.problems)} resource file{'s' if len(exc.problems) != 1 else ''} cannot be "
              f"hashed; nothing was changed", file=sys.stderr)
        return EXIT_INVALID
    stale += [f"validation/{name}.json" for name in stale_suites(package.root, schemas)]
    from .publish import docs
    stale += docs.stale(package)
    if args.check:
        for s in stale:
            print(f"stale: {s}")
        if stale:
            print("run `sifc refresh` to regenerate them, and commit the result", file=sys.stderr)
        return EXIT_INVALID if stale else EXIT_OK
    try:
        write_suites(package.root, schemas)
        docs.write(package)
        refresh(package.root)
    except OSError as exc:
        return _cannot_write("refresh", exc)
    for s in stale:
        print(f"updated: {s}")
    return EXIT_OK


def _cannot_write(command: str, exc: OSError) -> int:
    from .safetext import escape
    where = f" {escape(str(exc.filename))}" if exc.filename else ""
    print(f"sifc {command}: cannot write{where}: {exc.strerror or exc}; check the folder's permissions "
          "(files written so far are complete, none is half-written)", file=sys.stderr)
    return EXIT_USAGE


def cmd_fmt(args) -> int:
    from .fmt import format_package
    from .files.package import open_package

    package = open_package(args.path, writing=not args.check)  # never the bundled copy in site-packages
    try:
        outcomes = format_package(package, check=args.check, convert_encoding=args.convert_encoding)
    except OSError as exc:
        return _cannot_write("fmt", exc)
    for o in outcomes:
        if o.error:
            print(f"{o.file}: cannot format: {o.error}", file=sys.stderr)
        elif o.note and o.changed:
            print(f"{o.file}: {'would be reformatted' if args.check else 'reformatted'}, {o.note}")
        elif o.note:
            print(f"{o.file}: {o.note}")
        elif o.changed:
            print(f"{o.file}: {'would be reformatted' if args.check else 'reformatted'}")
    if any(o.error for o in outcomes):
        return EXIT_INVALID
    if args.check and any(o.changed for o in outcomes):
        print("run `sifc fmt` to write the canonical form", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def cmd_diff(args) -> int:
    from .diff import run

    return run(args.old, args.new, args.repo, fmt=args.format, summary=args.summary, check=args.check_weakening)


def _write_artifacts(command: str, make, describe, args) -> int:
    """Run a tool that writes into --out: exit 1 when the package is invalid,
    2 when the folder cannot be written, with one line either way."""
    try:
        summary = make(args.path, Path(args.out), validate_first=not args.no_validate)
    except RuntimeError as exc:
        print(f"sifc {command}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        return _cannot_write(command, exc)
    sys.stdout.write(describe(summary))
    return EXIT_OK


def cmd_build(args) -> int:
    from .publish.build import build, describe
    return _write_artifacts("build", build, describe, args)


def cmd_site(args) -> int:
    from .publish.site.build import build_site, describe
    return _write_artifacts("site", build_site, describe, args)


def cmd_release(args) -> int:
    from .publish.release import run

    return run(args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="sifc", description="Shanghai IFC data package tools.")
    parser.add_argument("--version", action=VersionAction,
                        help="print the version of sifc and of the package it would act on, then exit")
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

    r = sub.add_parser("refresh", help="regenerate the GX suites and the data dictionary from the schemas; "
                                       "where a descriptor records bytes/hash (a release descriptor), bring them "
                                       "up to date (never adds them: the repository's descriptor has none)")
    r.add_argument("path", nargs="?")
    r.add_argument("--check", action="store_true", help="only report what is stale (exit 1 if anything is)")
    r.add_argument("--force", action="store_true", help="refresh even if the package fails validation")
    r.set_defaults(func=cmd_refresh)

    f = sub.add_parser("fmt", help="rewrite every CSV in canonical form (sorted, schema column order, LF, no BOM)")
    f.add_argument("path", nargs="?")
    f.add_argument("--check", action="store_true", help="change nothing; list files that would change (exit 1)")
    f.add_argument("--convert-encoding", action="store_true",
                   help="convert a CSV saved as UTF-16 or GBK/GB18030 (Chinese Excel) to UTF-8; only when the "
                        "conversion is exact")
    f.set_defaults(func=cmd_fmt)

    d = sub.add_parser("diff", help="schema changes, weakenings, duplicate rows and rows added, removed and "
                                    "changed between two package folders or git revisions")
    d.add_argument("old", help="a package folder or a git revision (e.g. main, v1.0.0)")
    d.add_argument("new", nargs="?", help="a package folder or a git revision (default: the working tree)")
    d.add_argument("--format", choices=["text", "markdown"], default="text")
    d.add_argument("--summary", action="store_true", help="markdown: only the per-table counts")
    d.add_argument("--check-weakening", action="store_true",
                   help="exit 1 if a constraint was loosened or removed, a row deleted or a released count "
                        "lowered without a line in CHANGELOG.md saying so")
    d.add_argument("--repo", help="the git repository for revisions (default: this package's checkout)")
    d.set_defaults(func=cmd_diff)

    b = sub.add_parser("build", help="write the release artifacts (zip, Parquet, SQLite, Excel, BOM CSVs, report)")
    b.add_argument("path", nargs="?")
    b.add_argument("--out", default="dist", help="output folder (default: dist/)")
    b.add_argument("--no-validate", action="store_true", help="skip the validation step (not for releases)")
    b.set_defaults(func=cmd_build)

    s = sub.add_parser("site", help="write the static website (a page per table and per entity, network, timeline)")
    s.add_argument("path", nargs="?")
    s.add_argument("--out", default="build/site", help="output folder, replaced as a whole (default: build/site)")
    s.add_argument("--no-validate", action="store_true", help="skip the validation step")
    s.set_defaults(func=cmd_site)

    rel = sub.add_parser("release", help="the release steps: check-versions, assets (flat folder with SHA256SUMS), "
                                         "notes (CHANGELOG section and diff against the previous tag)")
    from .publish.release import add_arguments as release_arguments
    release_arguments(rel)
    rel.set_defaults(func=cmd_release)

    # Everything printed passes through the escaper: a value quoted in a
    # message can never start a fake line, a workflow command or an ANSI escape.
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        args = parser.parse_args(argv)
        from .files.package import PackageError
        try:
            return args.func(args)
        except PackageError as exc:  # the package cannot be read at all: a usage error, exit 2
            print(f"sifc {args.command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            return 130
        except Exception as exc:  # a bug of ours: one line, never a traceback, unless asked for
            if os.environ.get("SIFC_DEBUG"):
                raise
            print(f"sifc {args.command}: internal error, please report it with the command you ran: "
                  f"{type(exc).__name__}: {exc} (SIFC_DEBUG=1 shows the traceback)", file=sys.stderr)
            return EXIT_USAGE
    finally:
        sys.stdout, sys.stderr = sys.stdout.stream, sys.stderr.stream


def version_text() -> str:
    """`sifc <version>`, then the name, version and folder of the package a
    command given no path would act on, if there is one."""
    from . import __version__
    lines = [f"sifc {__version__}"]
    try:
        from .files.package import read_descriptor
        root, _, descriptor, _ = read_descriptor(None)
    except Exception:  # noqa: BLE001 - no package here, or an unreadable one: only the tool's version
        lines.append("package: none found (no datapackage.json in this folder or above it)")
    else:
        name, version = descriptor.get("name"), descriptor.get("version")
        name = name if isinstance(name, str) else "(unnamed)"
        version = version if isinstance(version, str) else "(no version)"
        lines.append(f"package: {name} {version} at {root}")
    return "\n".join(lines) + "\n"


class VersionAction(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(version_text())
        parser.exit(EXIT_OK)


class SafeStream:
    """A text stream whose every write has its hidden characters escaped
    (line breaks we write ourselves are kept)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        from .safetext import escape_lines
        self.stream.write(escape_lines(text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


if __name__ == "__main__":
    sys.exit(main())
