"""Open a data package: read its descriptor, refuse unsafe resource paths,
and resolve each resource to a local CSV file and its Table Schema."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..schema import TableSchema, parse_schema

DESCRIPTOR = "datapackage.json"


class PackageError(Exception):
    """The package cannot be read at all (exit code 2), as opposed to data
    that is read and found invalid (exit code 1)."""


@dataclass(frozen=True)
class Resource:
    name: str
    path: str  # as written in the descriptor, relative POSIX path
    schema_path: str
    file: Path
    schema: TableSchema
    #: the package root, for reading `path` safely (None for remote files)
    root: Path | None = None


@dataclass(frozen=True)
class DataPackage:
    root: Path
    descriptor: dict
    resources: dict[str, Resource]

    @property
    def descriptor_path(self) -> Path:
        return self.root / DESCRIPTOR

    def resource(self, name: str) -> Resource:
        try:
            return self.resources[name]
        except KeyError:
            raise PackageError(f"{DESCRIPTOR}: no resource named {name!r} "
                               f"(tables: {', '.join(self.resources)})") from None


def is_remote(path: str) -> bool:
    return "://" in path


def unsafe_reason(path: str, allow_remote: bool = False) -> str | None:
    """Why a path from a descriptor must not be followed, or None if it is safe."""
    if not isinstance(path, str) or not path:
        return "is not a non-empty string"
    if is_remote(path):
        return None if allow_remote else "is remote (pass --allow-remote to follow it)"
    if path.startswith(("/", "\\")) or PurePosixPath(path).is_absolute() or (len(path) > 1 and path[1] == ":"):
        return "is absolute"
    if ".." in PurePosixPath(path.replace("\\", "/")).parts:
        return "climbs out of the package with '..'"
    return None


def bundled_root() -> Path | None:
    """The package data shipped inside an installed wheel, if any."""
    here = Path(__file__).resolve().parents[1] / "_package"  # sifc/_package (see pyproject.toml)
    return here if (here / DESCRIPTOR).is_file() else None


#: the package this library ships and `sifc.load()` reads by default
PACKAGE_NAME = "shanghai-ifc"


def find_root(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the current folder)
    that holds a datapackage.json, as git finds its repository."""
    here = Path(start if start is not None else os.getcwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / DESCRIPTOR).is_file():
            return folder
    return None


def _descriptor_name(root: Path) -> str | None:
    try:
        from .safeio import MAX_JSON_BYTES, read_limited
        return json.loads(read_limited(root / DESCRIPTOR, MAX_JSON_BYTES)).get("name")
    except Exception:  # noqa: BLE001 - unreadable: not ours, and open_package will say why if asked
        return None


def default_root(writing: bool = False, ours_only: bool = False) -> Path:
    """The package a command acts on when given no path: the nearest
    datapackage.json at or above the current folder, then $SIFC_PACKAGE,
    then (for reading only) the copy bundled with the installed library.
    Commands that write never fall back to the bundled copy, so nothing is
    ever written into site-packages. `ours_only` (the library's `load()`)
    skips a nearby package of another name: an analyst's own project."""
    found = find_root()
    if found is not None and not (ours_only and _descriptor_name(found) != PACKAGE_NAME):
        return found
    env = os.environ.get("SIFC_PACKAGE")
    if env:
        return Path(env)
    bundled = bundled_root()
    if bundled and not writing:
        return bundled
    if writing:
        raise PackageError("no datapackage.json in this folder or above it: run the command inside a "
                           "checkout of the package, or pass its folder")
    raise PackageError("no datapackage.json in this folder or above it, and no bundled copy: "
                       "pass a package folder or descriptor path")


class DefinitionError(PackageError):
    """The descriptor or a Table Schema is wrong; `.findings` locates each
    mistake. `sifc validate` reports them as findings (exit 1)."""

    def __init__(self, findings):
        self.findings = findings
        first = findings[0].text() if findings else ""
        more = f" (and {len(findings) - 1} more; `sifc validate` lists them)" if len(findings) > 1 else ""
        super().__init__(f"the package's definitions are invalid: {first}{more}")


def read_descriptor(path: str | os.PathLike | None, writing: bool = False) -> tuple[Path, Path, dict, str]:
    """(root, descriptor path, descriptor, its text); PackageError when it
    cannot be read as a JSON object."""
    from .safeio import MAX_JSON_BYTES, UnsafeFile, read_limited
    root = Path(path) if path is not None else default_root(writing=writing)
    descriptor_path = root if root.name.endswith(".json") else root / DESCRIPTOR
    try:
        text = read_limited(descriptor_path, MAX_JSON_BYTES, what="descriptor").decode("utf-8")
        descriptor = json.loads(text)
    except FileNotFoundError:
        raise PackageError(f"{descriptor_path}: file not found") from None
    except IsADirectoryError:
        raise PackageError(f"{descriptor_path}: is a folder, not a descriptor") from None
    except (UnsafeFile, OSError) as exc:
        raise PackageError(f"{descriptor_path}: cannot be read ({exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PackageError(f"{descriptor_path}: not a readable JSON descriptor ({exc})") from None
    if not isinstance(descriptor, dict):
        raise PackageError(f"{descriptor_path}: a data package descriptor is a JSON object")
    return descriptor_path.parent, descriptor_path, descriptor, text


def open_package(path: str | os.PathLike | None = None, allow_remote: bool = False,
                 writing: bool = False) -> DataPackage:
    """The package at `path` (default: see `default_root`); `writing` for a
    command that will change its files."""
    root, descriptor_path, descriptor, text = read_descriptor(path, writing=writing)
    if not isinstance(descriptor.get("resources"), list):
        raise DefinitionError(check_definitions(root, descriptor, text, allow_remote))

    # Every path is checked before any resource is opened.
    problems = []
    for i, res in enumerate(descriptor["resources"]):
        if not isinstance(res, dict):
            continue
        name = res.get("name", f"resources[{i}]")
        paths = res.get("path")
        for p in paths if isinstance(paths, list) else [paths]:
            reason = unsafe_reason(p, allow_remote)
            if reason:
                problems.append(f"resource {name!r}: path {p!r} {reason}")
        schema = res.get("schema")
        if isinstance(schema, str):
            reason = unsafe_reason(schema, allow_remote=False)
            if reason:
                problems.append(f"resource {name!r}: schema {schema!r} {reason}")
    if problems:
        raise PackageError(f"{descriptor_path.name}: unsafe descriptor refused: " + "; ".join(problems))

    errors = check_definitions(root, descriptor, text, allow_remote)
    if errors:
        raise DefinitionError(errors)
    from .safeio import read_package_file
    resources = {}
    for res in descriptor["resources"]:
        path_ = res["path"]
        file = root / path_ if not is_remote(path_) else Path(path_)
        raw = json.loads(read_package_file(root, res["schema"]).decode("utf-8"))
        resources[res["name"]] = Resource(res["name"], path_, res["schema"], file, parse_schema(res["name"], raw),
                                          None if is_remote(path_) else root)
    return DataPackage(root, descriptor, resources)


def check_definitions(root: Path, descriptor: dict, text: str, allow_remote: bool = False):
    from ..checks.schemacheck import check_descriptor
    return check_descriptor(root, descriptor, text, allow_remote)
