"""Open a data package: read its descriptor, refuse unsafe resource paths,
and resolve each resource to a local CSV file and its Table Schema."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .schema import TableSchema, read_schema

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
    here = Path(__file__).resolve().parent / "_package"
    return here if (here / DESCRIPTOR).is_file() else None


def default_root() -> Path:
    """The repository checkout this module runs from, else the bundled copy."""
    env = os.environ.get("SIFC_PACKAGE")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / DESCRIPTOR).is_file() and (parent / "schemas").is_dir():
            return parent
    bundled = bundled_root()
    if bundled:
        return bundled
    raise PackageError("no datapackage.json found: pass a package folder or descriptor path")


def open_package(path: str | os.PathLike | None = None, allow_remote: bool = False) -> DataPackage:
    root = Path(path) if path is not None else default_root()
    descriptor_path = root if root.name.endswith(".json") else root / DESCRIPTOR
    root = descriptor_path.parent
    try:
        descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageError(f"{descriptor_path}: file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{descriptor_path}: not a readable JSON descriptor ({exc})") from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise PackageError(f"{descriptor_path}: a data package descriptor needs a 'resources' list")

    # Every path is checked before any resource is opened.
    problems = []
    for i, res in enumerate(descriptor["resources"]):
        if not isinstance(res, dict):
            problems.append(f"resources[{i}] is not an object")
            continue
        name = res.get("name", f"resources[{i}]")
        paths = res.get("path")
        for p in paths if isinstance(paths, list) else [paths]:
            reason = unsafe_reason(p, allow_remote)
            if reason:
                problems.append(f"resource {name!r}: path {p!r} {reason}")
        schema = res.get("schema")
        if not isinstance(schema, str):
            problems.append(f"resource {name!r}: 'schema' must be a path to a Table Schema file")
        else:
            reason = unsafe_reason(schema, allow_remote=False)
            if reason:
                problems.append(f"resource {name!r}: schema {schema!r} {reason}")
    if problems:
        raise PackageError(f"{descriptor_path.name}: unsafe descriptor refused: " + "; ".join(problems))

    resources = {}
    for res in descriptor["resources"]:
        path_ = res["path"]
        if isinstance(path_, list):
            raise PackageError(f"{descriptor_path.name}: resource {res['name']!r}: multi-file resources are not supported")
        file = root / path_ if not is_remote(path_) else Path(path_)
        try:
            schema = read_schema(res["name"], root / res["schema"])
        except FileNotFoundError:
            raise PackageError(f"{res['schema']}: Table Schema file not found") from None
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise PackageError(f"{res['schema']}: not a readable Table Schema ({exc})") from None
        resources[res["name"]] = Resource(res["name"], path_, res["schema"], file, schema)
    return DataPackage(root, descriptor, resources)
