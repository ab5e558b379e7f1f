"""Load a package from elsewhere: an http(s) URL of datapackage.json, or a
release zip (local path or URL). Every data file is checked against the
`bytes` and `hash` its descriptor records before anything is parsed."""
from __future__ import annotations

import hashlib
import io
import json
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

from .package import DESCRIPTOR, DataPackage, PackageError, open_package, unsafe_reason

TIMEOUT = 30
_CACHE: list[tempfile.TemporaryDirectory] = []  # kept alive for the session's frames


def fetch_bytes(url: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise PackageError(f"{url}: only http and https URLs can be fetched")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.read()
    except OSError as exc:
        raise PackageError(f"{url}: cannot download ({exc})") from None


def verify(name: str, data: bytes, resource: dict) -> None:
    if "bytes" in resource and resource["bytes"] != len(data):
        raise PackageError(f"{name}: size mismatch: the descriptor says {resource['bytes']} bytes, "
                           f"the file has {len(data)}; the file was altered or the descriptor is stale")
    if "hash" in resource:
        algo, _, expected = resource["hash"].partition(":") if ":" in resource["hash"] else ("md5", "", resource["hash"])
        actual = hashlib.new(algo, data).hexdigest()
        if actual != expected:
            raise PackageError(f"{name}: {algo} mismatch: the descriptor says {expected}, the file has {actual}; "
                               "the file was altered or the descriptor is stale")


def _workdir() -> Path:
    tmp = tempfile.TemporaryDirectory(prefix="sifc-")
    _CACHE.append(tmp)
    return Path(tmp.name)


def _write(root: Path, relative: str, data: bytes) -> None:
    reason = unsafe_reason(relative)
    if reason:
        raise PackageError(f"{DESCRIPTOR}: path {relative!r} {reason}")
    target = root / PurePosixPath(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def open_url(url: str) -> DataPackage:
    base = url if url.endswith(".json") else url.rstrip("/") + "/" + DESCRIPTOR
    descriptor = json.loads(fetch_bytes(base))
    root = _workdir()
    (root / DESCRIPTOR).write_bytes(json.dumps(descriptor).encode("utf-8"))
    for res in descriptor.get("resources", []):
        for key in ("schema", "path"):
            rel = res.get(key)
            if not isinstance(rel, str):
                continue
            data = fetch_bytes(urljoin(base, rel))
            if key == "path":
                verify(rel, data, res)
            _write(root, rel, data)
    return open_package(root)


def open_zip(source: str) -> DataPackage:
    data = fetch_bytes(source) if source.startswith(("http://", "https://")) else Path(source).read_bytes()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PackageError(f"{source}: not a zip file") from None
    names = archive.namelist()
    descriptors = sorted((n for n in names if PurePosixPath(n).name == DESCRIPTOR), key=len)
    if not descriptors:
        raise PackageError(f"{source}: no {DESCRIPTOR} in the archive")
    prefix = str(PurePosixPath(descriptors[0]).parent)
    prefix = "" if prefix == "." else prefix + "/"
    root = _workdir()
    for name in names:
        if name.endswith("/") or not name.startswith(prefix):
            continue
        _write(root, name[len(prefix):], archive.read(name))
    descriptor = json.loads((root / DESCRIPTOR).read_text(encoding="utf-8"))
    for res in descriptor.get("resources", []):
        path = root / res["path"]
        if not path.is_file():
            raise PackageError(f"{source}: {res['path']} is missing from the archive")
        verify(res["path"], path.read_bytes(), res)
    return open_package(root)


def open_remote(source: str) -> DataPackage:
    """A package from an http(s) URL of datapackage.json or a release zip."""
    if source.endswith(".zip"):
        return open_zip(source)
    return open_url(source)
