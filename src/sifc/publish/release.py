"""`sifc release`: the steps of a release, run by .github/workflows/release.yml
on a tag `vX.Y.Z` and by tests/test_release.py on a temporary clone, so the
workflow cannot rot unseen.

    sifc release check-versions --tag v1.1.0           # datapackage.json, pyproject.toml, CITATION.cff,
                                                       # sifc.__version__ and the tag agree (exit 1 if not)
    sifc build --out dist                              # validate and build (not part of this module)
    sifc release assets --dist dist --out release      # one flat folder of assets + SHA256SUMS
    sifc release notes --output build/release-notes.md # CHANGELOG section + `sifc diff PREVIOUS HEAD`

The assets are flat (a GitHub release has no folders) and every name
carries the version. The nine Parquet files and the nine UTF-8-with-BOM CSV
copies are zipped, one archive each, so the release page lists ten files
rather than twenty-six; each archive holds one folder of the same name.
`SHA256SUMS` lists every other asset in the format `sha256sum -c` reads.

Exit codes: 0 done; 1 a release problem (versions disagree, a build output
or the CHANGELOG section is missing, the build's validation report is not
valid); 2 the step cannot run (no package, no git, an unknown revision, an
output folder that is not empty).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from ..files.package import DESCRIPTOR, PackageError, read_descriptor
from ..safetext import escape, markdown_cell

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2

SUMS = "SHA256SUMS"
VERSION = re.compile(r"\d+\.\d+\.\d+")
TAG = re.compile(r"v(\d+\.\d+\.\d+)")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: the files that state the version, beside datapackage.json (relative to the repository root)
PYPROJECT, CITATION, INIT = "pyproject.toml", "CITATION.cff", "src/sifc/__init__.py"
CHANGELOG = "CHANGELOG.md"


class ReleaseProblem(Exception):
    """Something the release needs is missing or wrong (exit 1)."""


# ---------------------------------------------------------------- versions

def _text(root: Path, relative: str) -> str | None:
    path = root / relative
    if path.is_symlink() or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def stated_versions(root) -> tuple[dict[str, str | None], list[str]]:
    """{file: the version it states (None: states none)} and the problems
    met reading them. datapackage.json is read the package's way (a
    PackageError when it cannot be read at all)."""
    root = Path(root)
    _, _, descriptor, _ = read_descriptor(root)
    found: dict[str, str | None] = {}
    problems: list[str] = []
    version = descriptor.get("version")
    found[DESCRIPTOR] = version if isinstance(version, str) else None

    text = _text(root, PYPROJECT)
    if text is None:
        problems.append(f"{PYPROJECT}: not found")
    else:
        try:
            project = tomllib.loads(text).get("project", {})
            version = project.get("version") if isinstance(project, dict) else None
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{PYPROJECT}: not readable TOML ({escape(exc)})")
            version = None
        found[PYPROJECT] = version if isinstance(version, str) else None

    text = _text(root, CITATION)
    if text is None:
        problems.append(f"{CITATION}: not found")
    else:
        m = re.search(r"^version:[ \t]*(['\"]?)([^'\"\n#]*?)\1[ \t]*(?:#.*)?$", text, re.M)
        found[CITATION] = m.group(2) if m else None

    text = _text(root, INIT)
    if text is not None:  # the tool's own version, when the package is its repository
        m = re.search(r"^__version__\s*=\s*(['\"])([^'\"\n]*)\1", text, re.M)
        found[INIT] = m.group(2) if m else None
    return found, problems


def changelog_section(text: str, version: str) -> tuple[str, str | None] | None:
    """(body, date) of the section `## X.Y.Z — YYYY-MM-DD` (or `## [X.Y.Z]`,
    any dash), or None when CHANGELOG.md has no section for the version."""
    heading = re.compile(rf"^##[ \t]+\[?{re.escape(version)}\]?(?![\w.-])(.*)$", re.M)
    m = heading.search(text)
    if not m:
        return None
    date = re.search(r"\d{4}-\d{2}-\d{2}", m.group(1))
    rest = text[m.end():]
    following = re.search(r"^##[ \t]", rest, re.M)
    body = rest[:following.start()] if following else rest
    return body.strip("\n"), date.group(0) if date else None


def check_versions(root=None, tag: str | None = None) -> list[str]:
    """Every disagreement between the versions stated by datapackage.json,
    pyproject.toml, CITATION.cff, sifc's __version__ and (if given) the tag
    `vX.Y.Z`; empty when they agree. With a tag, CHANGELOG.md must also have
    the version's section, and its date must be CITATION.cff's
    date-released."""
    root = Path(root) if root is not None else read_descriptor(None)[0]
    found, problems = stated_versions(root)
    reference = found[DESCRIPTOR]
    if reference is None:
        problems.append(f"{DESCRIPTOR}: states no version")
    elif not VERSION.fullmatch(reference):
        problems.append(f"{DESCRIPTOR}: version {escape(reference)!r} is not of the form X.Y.Z")
    for file, version in found.items():
        if file == DESCRIPTOR:
            continue
        if version is None:
            what = {PYPROJECT: "[project] version", CITATION: "version: line", INIT: "__version__"}[file]
            problems.append(f"{file}: states no version (no {what})")
        elif reference is not None and version != reference:
            problems.append(f"{file}: version {escape(version)}, but {DESCRIPTOR} says {escape(reference)}")
    if tag is not None:
        m = TAG.fullmatch(tag)
        if not m:
            problems.append(f"tag {escape(tag)!r} is not of the form vX.Y.Z")
        elif reference is not None and m.group(1) != reference:
            problems.append(f"tag {escape(tag)} names version {m.group(1)}, but {DESCRIPTOR} says {escape(reference)}")
        if reference is not None and VERSION.fullmatch(reference):
            text = _text(root, CHANGELOG)
            section = changelog_section(text, reference) if text is not None else None
            if section is None:
                problems.append(f"{CHANGELOG}: no section `## {reference} — YYYY-MM-DD` (the release notes quote it)")
            else:
                released = _citation_date(root)
                if section[1] and released and section[1] != released:
                    problems.append(f"{CITATION}: date-released {released}, but the {CHANGELOG} section of "
                                    f"{reference} is dated {section[1]}")
    return problems


def _citation_date(root: Path) -> str | None:
    text = _text(root, CITATION) or ""
    m = re.search(r"^date-released:[ \t]*['\"]?(\d{4}-\d{2}-\d{2})", text, re.M)
    return m.group(1) if m else None


# ---------------------------------------------------------------- assets

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder) -> str:
    """SHA256SUMS for every file in `folder` (its subfolders too, names
    relative with '/'), sorted by name, in the format `sha256sum -c` checks;
    a SHA256SUMS already there is left out. Links and special files are
    refused (PackageError)."""
    folder = Path(folder)
    names = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            raise PackageError(f"{escape(path)}: not a regular file (a link or a special file); "
                               "release assets are plain files")
        if "\n" in rel or "\r" in rel or "\\" in rel:
            raise PackageError(f"{escape(rel)}: a release asset's name may not hold a line break or a backslash")
        if rel != SUMS:
            names.append(rel)
    return "".join(f"{_sha256(folder / rel)}  {rel}\n" for rel in sorted(names))


def asset_names(stem: str) -> dict[str, str]:
    """Every release asset's name, with what it is."""
    return {
        f"{stem}.zip": "the Frictionless data package (release descriptor with bytes and sha256 per table, "
                       "schemas, CSVs, docs, licences, MANIFEST.json)",
        f"{stem}.xlsx": "Excel workbook: README and data-dictionary sheets, a sheet per table and per joined view",
        f"{stem}.sqlite": "SQLite database with keys, link tables, joined views and descriptions",
        f"{stem}-datasette-metadata.json": f"Datasette metadata for the SQLite file "
                                           f"(`datasette {stem}.sqlite --metadata {stem}-datasette-metadata.json`)",
        f"{stem}-parquet.zip": f"one typed Parquet file per table, in the folder {stem}-parquet/",
        f"{stem}.json": "every table as an array of records",
        f"{stem}-csv-excel.zip": f"UTF-8-with-BOM CSV copies for Excel, in the folder {stem}-csv-excel/",
        f"{stem}-validation-report.json": "the report of `sifc validate` (all three layers) on the released files",
        f"{stem}-validation-report.txt": "the same report as text",
        SUMS: "the sha256 of every other file (`sha256sum -c SHA256SUMS`)",
    }


def _zip_folder(files: list[Path], folder: str) -> bytes:
    """A reproducible zip holding `files` in one folder (fixed times, sorted)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(files, key=lambda p: p.name):
            info = zipfile.ZipInfo(f"{folder}/{path.name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buf.getvalue()


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def collect_assets(dist, out, root=None) -> list[Path]:
    """Gather what `sifc build --out DIST` wrote for the package at `root`
    (default: this package) into the flat folder `out` (new or empty), named
    with the version, and write SHA256SUMS over them. ReleaseProblem when a
    build output is missing or the build's validation report is not valid."""
    from ..files.atomic import write_bytes_atomic, write_text_atomic
    from .build import artifact_names, check_out_dir
    from ..files.package import open_package

    package = open_package(root)
    names = artifact_names(package)
    stem = f"{names['name']}-{names['version']}"
    dist, out = Path(dist), Path(out)
    if not dist.is_dir():
        raise PackageError(f"--dist {escape(dist)}: no such folder; run `sifc build --out {escape(dist)}` first")
    check_out_dir(package, out)
    d, o = dist.resolve(), out.resolve()
    if o == d or o.is_relative_to(d) or d.is_relative_to(o):
        raise PackageError(f"--out {escape(out)} and --dist {escape(dist)} overlap; choose a separate folder")
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise PackageError(f"--out {escape(out)} exists and is not an empty folder; remove it or choose another")

    copies = {f"{stem}.zip": f"{stem}.zip", f"{stem}.xlsx": f"{stem}.xlsx", f"{stem}.sqlite": f"{stem}.sqlite",
              f"{stem}.json": f"{stem}.json", "metadata.json": f"{stem}-datasette-metadata.json",
              "validation-report.json": f"{stem}-validation-report.json",
              "validation-report.txt": f"{stem}-validation-report.txt"}
    parquet = [dist / "parquet" / f"{name}.parquet" for name in package.resources]
    csv_excel = [dist / "csv-excel" / Path(r.path).name for r in package.resources.values()]
    missing = [k for k in copies if not _regular(dist / k)]
    missing += [p.relative_to(dist).as_posix() for p in parquet + csv_excel if not _regular(p)]
    if missing:
        raise ReleaseProblem(f"{escape(dist)} lacks {', '.join(escape(m) for m in missing)}; "
                             f"`sifc build --out {escape(dist)}` (with validation) writes every one")
    try:
        report = json.loads((dist / "validation-report.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseProblem(f"{escape(dist)}/validation-report.json: not readable JSON ({escape(exc)})") from None
    if not isinstance(report, dict) or report.get("valid") is not True:
        raise ReleaseProblem(f"{escape(dist)}/validation-report.json does not say the package is valid; "
                             "a release is built from a valid package only")

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source, target in copies.items():
        write_bytes_atomic(out / target, (dist / source).read_bytes())
        written.append(out / target)
    for files, kind in ((parquet, "parquet"), (csv_excel, "csv-excel")):
        target = out / f"{stem}-{kind}.zip"
        write_bytes_atomic(target, _zip_folder(files, f"{stem}-{kind}"))
        written.append(target)
    write_text_atomic(out / SUMS, checksums(out))
    written.append(out / SUMS)
    return written


# ---------------------------------------------------------------- notes

def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except FileNotFoundError:
        raise PackageError("git is not installed; give --previous and run inside a git checkout") from None


def find_previous_tag(root, version: str) -> str | None:
    """The highest tag `vX.Y.Z` of the repository at `root` below `version`
    (None: this is the first release)."""
    listing = _git(Path(root), "tag", "--list", "v*.*.*")
    if listing.returncode != 0:
        raise PackageError(f"{escape(root)}: cannot list git tags ({escape(listing.stderr.strip())}); "
                           "release notes compare with the previous tag")
    current = tuple(int(x) for x in version.split("."))
    older = []
    for tag in listing.stdout.split():
        m = TAG.fullmatch(tag)
        if m and tuple(int(x) for x in m.group(1).split(".")) < current:
            older.append((tuple(int(x) for x in m.group(1).split(".")), tag))
    return max(older)[1] if older else None


def release_notes(root, version: str | None = None, previous_tag: str | None = "auto", head: str = "HEAD") -> str:
    """The release notes: the CHANGELOG.md section of `version` (default:
    the descriptor's), then what `sifc diff PREVIOUS HEAD` counts per table
    and lists as schema changes. `previous_tag` "auto" takes the highest
    vX.Y.Z tag below the version; None compares with nothing (a first
    release). ReleaseProblem when the CHANGELOG has no such section."""
    from ..diff import EMPTY_TREE, compare, describe, to_markdown

    root = Path(root) if root is not None else read_descriptor(None)[0]
    if version is None:
        version = read_descriptor(root)[2].get("version")
        if not isinstance(version, str) or not VERSION.fullmatch(version):
            raise ReleaseProblem(f"{DESCRIPTOR}: version {escape(version)!r} is not of the form X.Y.Z")
    text = _text(root, CHANGELOG)
    section = changelog_section(text, version) if text is not None else None
    if section is None:
        raise ReleaseProblem(f"{CHANGELOG} has no section `## {escape(version)} — YYYY-MM-DD`; "
                             "write what the release changes there first")
    body, date = section
    if previous_tag == "auto":
        previous_tag = find_previous_tag(root, version)
    report = compare(previous_tag or EMPTY_TREE, head, repo=root)
    since = f"`{previous_tag}`" if previous_tag else "nothing (the first release)"
    command = f"sifc diff {previous_tag or EMPTY_TREE} {head}"
    schema = [c for c in report.changes if c.schema]
    kinds: dict[str, int] = {}
    for c in schema:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    weak = report.weakenings
    lines = [f"Released {date}." if date else "", "", body, "",
             f"## Changes since {since}", "",
             f"Rows added, modified and deleted per table, by primary key (`{command}`):", "",
             to_markdown(report.tables, details=False).rstrip("\n"), "",
             f"Schema changes: {len(schema)}"
             + (f" ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})" if schema else "")
             + f". Weakenings (a constraint loosened or removed, a row deleted): {len(weak)}"
             + (f", {len(report.unrecorded)} not recorded in {CHANGELOG}" if report.unrecorded else "") + "."]
    if schema:
        lines += ["", "<details><summary>Every schema change</summary>", "", "| change | kind |", "|---|---|"]
        lines += [f"| {describe(c, name=markdown_cell, value=lambda v: markdown_cell(_plain(v)), kind=False)} "
                  f"| {c.kind} |" for c in schema]
        lines += ["", "</details>"]
    stem = f"{read_descriptor(root)[2].get('name', 'package')}-{version}"
    lines += ["", "## Files", ""]
    lines += [f"- `{name}`: {what}" for name, what in asset_names(stem).items()]
    lines += ["", "Check the downloads in the folder that holds them (files you did not download are "
                  "reported as missing): `sha256sum -c --ignore-missing SHA256SUMS`."]
    return "\n".join(lines).lstrip("\n") + "\n"


def _plain(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------- the command

def add_arguments(parser) -> None:
    """The `sifc release` subcommands (called by cli.main)."""
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    c = steps.add_parser("check-versions", help="datapackage.json, pyproject.toml, CITATION.cff, sifc.__version__ "
                                                "and the tag state one version (exit 1 if not)")
    c.add_argument("path", nargs="?", help="the repository's package folder (default: this package)")
    c.add_argument("--tag", help="the tag being released, vX.Y.Z; also requires its CHANGELOG.md section")
    c.set_defaults(step_func=_cmd_check_versions)
    a = steps.add_parser("assets", help="gather `sifc build`'s output into one flat folder named with the "
                                        "version, with SHA256SUMS")
    a.add_argument("path", nargs="?")
    a.add_argument("--dist", default="dist", help="what `sifc build --out` wrote (default: dist/)")
    a.add_argument("--out", default="release", help="a new or empty folder for the assets (default: release/)")
    a.set_defaults(step_func=_cmd_assets)
    n = steps.add_parser("notes", help="release notes: the CHANGELOG.md section and `sifc diff PREVIOUS HEAD`")
    n.add_argument("path", nargs="?")
    n.add_argument("--version", dest="release_version", metavar="X.Y.Z",
                   help="default: the version in datapackage.json")
    n.add_argument("--previous", help="the tag to compare with (default: the highest vX.Y.Z tag below the "
                                      "version; none: compare with nothing)")
    n.add_argument("--head", default="HEAD", help="the revision released (default: HEAD)")
    n.add_argument("--output", help="write the notes to this file instead of printing them")
    n.set_defaults(step_func=_cmd_notes)


def run(args) -> int:
    try:
        return args.step_func(args)
    except ReleaseProblem as exc:
        print(f"sifc release {args.step}: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except PackageError as exc:
        print(f"sifc release {args.step}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f" {escape(exc.filename)}" if exc.filename else ""
        print(f"sifc release {args.step}:{where}: {escape(exc.strerror or exc)}", file=sys.stderr)
        return EXIT_USAGE


def _root(path) -> Path:
    return read_descriptor(path)[0]


def _cmd_check_versions(args) -> int:
    root = _root(args.path)
    problems = check_versions(root, args.tag)
    if problems:
        for p in problems:
            print(p)
        print(f"sifc release check-versions: {len(problems)} disagreement{'s' * (len(problems) != 1)}; "
              f"set one version X.Y.Z in {DESCRIPTOR}, {PYPROJECT}, {CITATION}, {INIT} and tag vX.Y.Z",
              file=sys.stderr)
        return EXIT_PROBLEM
    found, _ = stated_versions(root)
    print(f"versions agree: {found[DESCRIPTOR]} ({', '.join(found)}"
          + (f", tag {escape(args.tag)}" if args.tag else "") + ")")
    return EXIT_OK


def _cmd_assets(args) -> int:
    written = collect_assets(args.dist, args.out, _root(args.path))
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} release assets to {escape(args.out)} ({total / 1024:,.1f} KiB):")
    for p in written:
        print(f"  {escape(p.name)}")
    return EXIT_OK


def _cmd_notes(args) -> int:
    previous = args.previous
    if previous is None:
        previous = "auto"
    elif previous == "none":
        previous = None
    notes = release_notes(_root(args.path), args.release_version, previous, args.head)
    if args.output:
        from ..files.atomic import write_text_atomic
        write_text_atomic(Path(args.output), notes)
        print(f"wrote {escape(args.output)}")
    else:
        sys.stdout.write(notes)
    return EXIT_OK
