"""Load a package from elsewhere: an http(s) URL of datapackage.json, or a
release zip (local path or URL).

Everything here is untrusted input, so everything is bounded and checked
before it is used:

- a release zip's central directory is inspected before any entry is read:
  duplicate or clashing names, absolute or escaping paths, links, encrypted
  entries, unknown compression, too many entries, too many bytes and
  zip-bomb compression ratios are refused; entries are then streamed with a
  byte counter (declared sizes are not trusted) into a private temporary
  folder, and every one is checked against MANIFEST.json;
- a remote descriptor must record `bytes` and `hash` for every resource;
  each download has connect and read timeouts, the whole load a deadline,
  each body a size cap, and redirects to another scheme or host are refused;
- hashes are computed only with md5, sha1, sha256 or sha512.

Nothing outside the archive (or the server) is read or hashed: a path that
would leave it is refused by name. Every failure is a one-line
`PackageError` naming the source and the entry.
"""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import stat
import tempfile
import time
import unicodedata
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from .package import DESCRIPTOR, DataPackage, PackageError, open_package
from .safeio import MAX_JSON_BYTES, UnsafeFile, max_file_bytes, path_problem, read_limited
from ..safetext import escape

#: seconds to establish a connection (SIFC_HTTP_CONNECT_TIMEOUT overrides)
CONNECT_TIMEOUT = 15.0
#: seconds any single read may wait for the server (SIFC_HTTP_READ_TIMEOUT overrides)
READ_TIMEOUT = 30.0
#: seconds a whole remote load (descriptor, schemas, data) may take (SIFC_HTTP_DEADLINE overrides)
DEADLINE = 300.0
#: a remote descriptor or schema is small JSON
MAX_DESCRIPTOR_BYTES = MAX_JSON_BYTES
#: a release zip itself (compressed); SIFC_MAX_ZIP_BYTES overrides
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
#: the declared, and actually read, uncompressed size of all entries together
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
#: entries in one archive
MAX_ENTRIES = 10_000
#: an entry larger than RATIO_MIN_BYTES that expands more than MAX_RATIO times is a zip bomb
MAX_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024
MANIFEST = "MANIFEST.json"
CHUNK = 64 * 1024

#: the only hash algorithms computed; anything else is refused by name
HASHES = {"md5": (hashlib.md5, 32), "sha1": (hashlib.sha1, 40), "sha256": (hashlib.sha256, 64),
          "sha512": (hashlib.sha512, 128)}
#: compression methods read: stored and deflated (what `sifc build` and every common tool write)
COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_DRIVE = re.compile(r"^[A-Za-z]:")

_CACHE: list[tempfile.TemporaryDirectory] = []  # kept alive for the session's frames


def _setting(name: str, env: str) -> float:
    value = os.environ.get(env)
    if value:
        try:
            number = float(value)
            if number > 0:
                return number
        except ValueError:
            pass
    return float(globals()[name])


def _q(text: object) -> str:
    """A value from the archive or the server, quoted and escaped for a message."""
    return "'" + escape(text).replace("'", "\\'") + "'"


# ---------------------------------------------------------------- hashes

def parse_hash(value: object, where: str) -> tuple[str, str]:
    """(algorithm, lower-case hex) from a Data Package `hash`: `algo:hex`
    or bare hex (md5). Unknown algorithms and malformed hex are refused."""
    if not isinstance(value, str) or not value:
        raise PackageError(f"{where}: the hash must be a string like 'sha256:<hex>', not {_q(value)}")
    algo, sep, hexdigest = value.partition(":")
    if not sep:
        algo, hexdigest = "md5", value
    if algo not in HASHES:
        raise PackageError(f"{where}: unknown hash algorithm {_q(algo)}; use one of {', '.join(HASHES)} "
                           "(for example 'sha256:<hex>')")
    length = HASHES[algo][1]
    if len(hexdigest) != length or not _HEX.fullmatch(hexdigest):
        raise PackageError(f"{where}: the {algo} hash {_q(hexdigest)} is not {length} hexadecimal digits")
    return algo, hexdigest.lower()


def _hasher(algo: str):
    constructor = HASHES[algo][0]
    try:
        return constructor(usedforsecurity=False)
    except TypeError:  # pragma: no cover - very old hashlib
        return constructor()


def _size(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PackageError(f"{where}: 'bytes' must be a whole number of bytes, not {_q(value)}")
    return value


def verify(name: str, data: bytes, resource: dict) -> None:
    """`data` against the `bytes` and `hash` `resource` records (each checked when present)."""
    if "bytes" in resource:
        expected = _size(resource["bytes"], name)
        if expected != len(data):
            raise PackageError(f"{name}: size mismatch: the descriptor says {expected} bytes, "
                               f"the file has {len(data)}; the file was altered or the descriptor is stale")
    if "hash" in resource:
        algo, expected = parse_hash(resource["hash"], name)
        hasher = _hasher(algo)
        hasher.update(data)
        _compare_hash(name, algo, expected, hasher.hexdigest(), "the descriptor")


def _compare_hash(name: str, algo: str, expected: str, actual: str, says: str) -> None:
    if actual != expected:
        raise PackageError(f"{name}: {algo} mismatch: {says} says {expected}, the file has {actual}; "
                           "the file was altered or the record is stale")


# ---------------------------------------------------------------- http(s)

def _same_origin(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    default = {"http": 80, "https": 443}
    try:
        px, py = x.port or default.get(x.scheme), y.port or default.get(y.scheme)
    except ValueError:
        return False
    return x.scheme == y.scheme and (x.hostname or "").lower() == (y.hostname or "").lower() and px == py


class _Refused(Exception):
    """A redirect refused inside urllib; turned into a PackageError by the caller."""


class _SameOriginRedirect(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port; any other
    target (another host, https -> http, file:, ftp:) is refused by name."""

    def http_error_302(self, req, fp, code, msg, headers):
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urljoin(req.full_url, location)
            if not _same_origin(req.full_url, target):
                fp.close()
                raise _Refused(f"the server redirects to {_q(target)}, another scheme or host; "
                               "only redirects within the same site are followed")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _timed(http_class, connect_timeout: float):
    """`http_class` whose connect (and TLS handshake) has its own timeout;
    every later socket operation uses the read timeout it was created with."""

    class Timed(http_class):
        def connect(self):
            read_timeout = self.timeout
            self.timeout = connect_timeout
            try:
                super().connect()
            finally:
                self.timeout = read_timeout
            self.sock.settimeout(read_timeout)

    return Timed


class _TimedHTTP(urllib.request.HTTPHandler):
    connect_timeout = CONNECT_TIMEOUT

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_timed(http_class, self.connect_timeout), req, **kwargs)


class _TimedHTTPS(urllib.request.HTTPSHandler):
    connect_timeout = CONNECT_TIMEOUT

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_timed(http_class, self.connect_timeout), req, **kwargs)


class Session:
    """The downloads of one load: one deadline, bounded reads."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + _setting("DEADLINE", "SIFC_HTTP_DEADLINE")
        self.connect_timeout = _setting("CONNECT_TIMEOUT", "SIFC_HTTP_CONNECT_TIMEOUT")
        self.read_timeout = _setting("READ_TIMEOUT", "SIFC_HTTP_READ_TIMEOUT")

    def _left(self, url: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise PackageError(f"{escape(url)}: the download did not finish within the overall deadline of "
                               f"{_setting('DEADLINE', 'SIFC_HTTP_DEADLINE'):g} s (SIFC_HTTP_DEADLINE raises it)")
        return left

    def get(self, url: str, limit: int, what: str = "file") -> tuple[bytes, str]:
        """(body, final URL) of `url`, at most `limit` bytes."""
        shown = escape(url)
        if urlsplit(url).scheme not in ("http", "https"):
            raise PackageError(f"{shown}: only http and https URLs can be fetched")
        http_handler, https_handler = _TimedHTTP(), _TimedHTTPS()
        http_handler.connect_timeout = https_handler.connect_timeout = min(self.connect_timeout, self._left(url))
        opener = urllib.request.build_opener(_SameOriginRedirect, http_handler, https_handler)
        try:
            with opener.open(url, timeout=min(self.read_timeout, self._left(url))) as response:
                final = response.geturl()
                declared = response.headers.get("Content-Length")
                if declared and declared.strip().isdigit() and int(declared) > limit:
                    raise PackageError(f"{shown}: the server announces {int(declared):,} bytes, more than the "
                                       f"{limit:,} expected for this {what}; refused")
                chunks, total = [], 0
                while True:
                    self._left(url)
                    chunk = response.read1(CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        raise PackageError(f"{shown}: the {what} is larger than the {limit:,} bytes expected; "
                                           "download stopped")
                    chunks.append(chunk)
                return b"".join(chunks), final
        except _Refused as exc:
            raise PackageError(f"{shown}: {exc}") from None
        except urllib.error.HTTPError as exc:
            raise PackageError(f"{shown}: the server answered HTTP {exc.code} {escape(exc.reason)}") from None
        except (TimeoutError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
                raise PackageError(f"{shown}: timed out (connect {self.connect_timeout:g} s, read "
                                   f"{self.read_timeout:g} s; SIFC_HTTP_CONNECT_TIMEOUT and "
                                   "SIFC_HTTP_READ_TIMEOUT raise them)") from None
            raise PackageError(f"{shown}: cannot download ({escape(reason)})") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise PackageError(f"{shown}: cannot download ({escape(exc) or type(exc).__name__})") from None


def fetch_bytes(url: str, limit: int | None = None, what: str = "file") -> bytes:
    """The body of an http(s) URL, bounded in time and size."""
    return Session().get(url, max_file_bytes() if limit is None else limit, what)[0]


def _json_object(data: bytes, where: str, what: str, hint: str = "") -> dict:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PackageError(f"{where}: is not a JSON {what} ({escape(exc)}){hint}") from None
    if not isinstance(value, dict):
        raise PackageError(f"{where}: a {what} is a JSON object")
    return value


_NOT_A_PAGE = "; check that the address serves the file itself, not a web page about it"


class _Workdir:
    """A private temporary folder (mode 0700), kept for the session when the
    load succeeds and removed when it fails."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="sifc-")
        self.root = Path(self.tmp.name)

    def path(self, relative: str) -> Path:
        target = self.root / PurePosixPath(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, relative: str, data: bytes) -> None:
        with open(self.path(relative), "xb") as f:
            f.write(data)

    def keep(self) -> Path:
        _CACHE.append(self.tmp)
        return self.root


def _open_built(work: _Workdir, source: str) -> DataPackage:
    """The extracted package, linted like a local one; the folder is kept only when it opens."""
    try:
        package = open_package(work.root)
    except PackageError as exc:
        if hasattr(exc, "findings"):  # DefinitionError: its findings locate each mistake
            raise
        raise PackageError(f"{source}: {exc}") from None
    work.keep()
    return package


def _remote_resources(where: str, descriptor: dict) -> list[dict]:
    """The resources of a remote descriptor, each with a safe relative
    `path` and `schema` and the `bytes` and `hash` that make tampering
    detectable. Checked before anything else is downloaded."""
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        raise PackageError(f"{where}: 'resources' must be a non-empty list")
    if len(resources) > MAX_ENTRIES:
        raise PackageError(f"{where}: {len(resources):,} resources, more than the limit of {MAX_ENTRIES:,}")
    for i, res in enumerate(resources):
        if not isinstance(res, dict):
            raise PackageError(f"{where}: resources[{i}] must be a JSON object")
        name = f"{where}: resource {_q(res.get('name', f'resources[{i}]'))}"
        for key in ("path", "schema"):
            value = res.get(key)
            problem = path_problem(value)
            if problem:
                raise PackageError(f"{name}: {key} {_q(value)} {problem}; a remote package's files must be "
                                   "relative paths next to its descriptor")
        missing = [key for key in ("bytes", "hash") if key not in res]
        if missing:
            raise PackageError(f"{name}: no {' or '.join(repr(k) for k in missing)}; a remote descriptor must "
                               "record bytes and hash for every resource (run `sifc refresh` on the package), "
                               "or the files could be altered unnoticed")
        _size(res["bytes"], f"{name}: {_q(res['path'])}")
        parse_hash(res["hash"], f"{name}: {_q(res['path'])}")
        if res["bytes"] > max_file_bytes():
            raise PackageError(f"{name}: {_q(res['path'])} declares {res['bytes']:,} bytes, more than the limit of "
                               f"{max_file_bytes():,} (SIFC_MAX_FILE_BYTES raises it)")
    return resources


def open_url(url: str) -> DataPackage:
    """A package from the http(s) URL of its datapackage.json (or of the folder holding it)."""
    session = Session()
    base = url if url.endswith(".json") else url.rstrip("/") + "/" + DESCRIPTOR
    raw, final = session.get(base, MAX_DESCRIPTOR_BYTES, "descriptor")
    where = escape(base)
    descriptor = _json_object(raw, where, "data package descriptor", _NOT_A_PAGE)
    resources = _remote_resources(where, descriptor)
    work = _Workdir()
    try:
        work.write(DESCRIPTOR, raw)
        done: dict[str, str] = {}
        for res in resources:
            for key in ("schema", "path"):
                rel = res[key]
                if rel in done:
                    if done[rel] != key or key == "path":
                        raise PackageError(f"{where}: {_q(rel)} is named by two resources (or as both a schema "
                                           "and a data file); each data file belongs to one resource")
                    continue
                target = urljoin(final, rel)
                if not _same_origin(final, target):
                    raise PackageError(f"{where}: {key} {_q(rel)} leaves the descriptor's site; refused")
                if key == "schema":
                    data = session.get(target, MAX_DESCRIPTOR_BYTES, "Table Schema")[0]
                    _json_object(data, escape(target), "Table Schema", _NOT_A_PAGE)
                else:
                    data = session.get(target, res["bytes"], "data file")[0]
                    verify(escape(rel), data, res)
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise PackageError(f"{escape(target)}: is not a UTF-8 CSV file (byte {exc.start}: "
                                           f"{exc.reason}); check that the address serves the CSV itself") from None
                try:
                    work.write(rel, data)
                except OSError as exc:
                    raise PackageError(f"{where}: {key} {_q(rel)} cannot be stored ({escape(exc.strerror or exc)}); "
                                       "two resources' paths clash") from None
                done[rel] = key
        return _open_built(work, where)
    except BaseException:
        work.tmp.cleanup()
        raise


# ---------------------------------------------------------------- release zips

def _name_problem(name: str) -> str | None:
    """Why an entry name must not be extracted, or None."""
    if not name:
        return "has an empty name"
    if "\x00" in name:
        return "contains a NUL byte"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "contains a control character"
    if "\\" in name:
        return "contains a backslash (a Windows path separator)"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    parts = (name[:-1] if name.endswith("/") else name).split("/")
    if ".." in parts:
        return "climbs out of the archive with '..'"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' path component"
    return None


def _key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


def _both(a: str, b: str) -> str:
    """Two clashing names, shown so that the difference is visible."""
    shown = f"{_q(a)} and {_q(b)}"
    if unicodedata.normalize("NFC", a) != a or unicodedata.normalize("NFC", b) != b:
        shown += f" (code points: {ascii(a)} and {ascii(b)})"
    return shown


def _inspect(source: str, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse the archive from its central directory alone, before any entry is read."""
    if len(infos) > MAX_ENTRIES:
        raise PackageError(f"{source}: {len(infos):,} entries, more than the limit of {MAX_ENTRIES:,}")
    seen: set[str] = set()
    files: dict[str, str] = {}    # key -> name, for file entries
    folders: dict[str, str] = {}  # key -> spelling, for every folder an entry lies in or is
    total = 0
    for info in infos:
        name = info.orig_filename
        where = f"{source}: entry {_q(name)}"
        problem = _name_problem(name)
        if problem:
            raise PackageError(f"{where} {problem}; refused")
        if name in seen:
            raise PackageError(f"{where} appears twice in the archive; refused")
        seen.add(name)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if stat.S_ISLNK(mode):
            raise PackageError(f"{where} is a symbolic link; links are not extracted")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise PackageError(f"{where} is a special file (device, FIFO or socket); refused")
        if info.flag_bits & 0x1:
            raise PackageError(f"{where} is encrypted; release zips are not encrypted")
        if info.compress_type not in COMPRESSION:
            raise PackageError(f"{where} uses compression method {info.compress_type}; only "
                               f"{' and '.join(COMPRESSION.values())} entries are read")
        is_dir = name.endswith("/")
        path = name.rstrip("/")
        parts = path.split("/")
        for depth in range(1, len(parts) + (1 if is_dir else 0)):
            folder = "/".join(parts[:depth])
            key = _key(folder)
            if folders.setdefault(key, folder) != folder:
                raise PackageError(f"{where}: its folder {_q(folder)} clashes with {_q(folders[key])} (the same "
                                   "folder once case and Unicode form are ignored); refused")
            if key in files:
                raise PackageError(f"{where} lies in {_q(folder)}, which is also a file entry "
                                   f"{_q(files[key])}; refused")
        if is_dir:
            if info.file_size:
                raise PackageError(f"{where} is a folder but holds {info.file_size:,} bytes; refused")
            continue
        key = _key(path)
        if key in files:
            raise PackageError(f"{source}: entries {_both(name, files[key])} clash: the same path once case and "
                               "Unicode form are ignored; refused")
        if key in folders:
            raise PackageError(f"{where} is a file and also a folder of another entry "
                               f"{_q(folders[key])}; refused")
        files[key] = path
        if info.file_size > max_file_bytes():
            raise PackageError(f"{where} declares {info.file_size:,} bytes, more than the limit of "
                               f"{max_file_bytes():,} for one file (SIFC_MAX_FILE_BYTES raises it)")
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackageError(f"{where} expands {info.compress_size:,} bytes to {info.file_size:,} (more than "
                               f"{MAX_RATIO} times): a zip bomb; refused")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PackageError(f"{where}: the entries up to this one declare {total:,} bytes uncompressed, more "
                               f"than the limit of {MAX_TOTAL_BYTES:,}; refused")


class _Reader:
    """Reads entries with a byte counter: never more than an entry declares,
    never more than MAX_TOTAL_BYTES together, whatever the headers say."""

    def __init__(self, source: str, archive: zipfile.ZipFile):
        self.source, self.archive, self.total = source, archive, 0

    def stream(self, info: zipfile.ZipInfo, sink, hashers=(), limit: int | None = None) -> int:
        where = f"{self.source}: entry {_q(info.orig_filename)}"
        if limit is not None and info.file_size > limit:
            raise PackageError(f"{where} declares {info.file_size:,} bytes, more than the {limit:,} allowed")
        count = 0
        try:
            with self.archive.open(info) as f:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    count += len(chunk)
                    self.total += len(chunk)
                    if count > info.file_size:
                        raise PackageError(f"{where} holds more than the {info.file_size:,} bytes it declares; "
                                           "the archive lies about its sizes")
                    if self.total > MAX_TOTAL_BYTES:
                        raise PackageError(f"{where}: the archive expands to more than {MAX_TOTAL_BYTES:,} bytes; "
                                           "refused")
                    for h in hashers:
                        h.update(chunk)
                    try:
                        sink(chunk)
                    except OSError as exc:
                        raise PackageError(f"{where} cannot be extracted into a temporary folder "
                                           f"({escape(exc.strerror or exc)})") from None
        except PackageError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
                KeyError) as exc:
            text = str(exc)
            why = "bad CRC-32" if "CRC" in text else f"{escape(text) or type(exc).__name__}"
            raise PackageError(f"{where} cannot be read ({why}); the archive is damaged or truncated") from None
        if count != info.file_size:
            raise PackageError(f"{where} holds {count:,} bytes, not the {info.file_size:,} it declares; "
                               "the archive is damaged")
        return count

    def read(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        buf = io.BytesIO()
        self.stream(info, buf.write, limit=limit)
        return buf.getvalue()


def _read_archive(source: str) -> bytes:
    limit = int(_setting("MAX_ARCHIVE_BYTES", "SIFC_MAX_ZIP_BYTES"))
    if source.startswith(("http://", "https://")):
        return Session().get(source, limit, "release zip")[0]
    try:
        return read_limited(Path(source).resolve(), limit, what="release zip")
    except FileNotFoundError:
        raise PackageError(f"{source}: file not found") from None
    except (UnsafeFile, OSError) as exc:
        raise PackageError(f"{source}: cannot be read ({escape(exc)})") from None


def _manifest(source: str, data: bytes) -> dict[str, tuple[int, str, str]]:
    where = f"{source}: {MANIFEST}"
    manifest = _json_object(data, where, "manifest (file -> bytes and hash)")
    checked = {}
    for rel, entry in manifest.items():
        what = f"{where}: {_q(rel)}"
        problem = path_problem(rel) or _name_problem(rel)
        if problem:
            raise PackageError(f"{what} {problem}; refused")
        if rel == MANIFEST:
            raise PackageError(f"{what}: the manifest cannot list itself")
        if not isinstance(entry, dict) or "bytes" not in entry or "hash" not in entry:
            raise PackageError(f"{what}: each file needs {{\"bytes\": …, \"hash\": \"sha256:…\"}}")
        checked[rel] = (_size(entry["bytes"], what), *parse_hash(entry["hash"], what))
    return checked


def open_zip(source: str) -> DataPackage:
    """A package from a release zip (path or http(s) URL) as `sifc build` writes it:
    one folder holding datapackage.json, MANIFEST.json and the files it lists."""
    shown = escape(source)
    data = _read_archive(source)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
            KeyError, UnicodeDecodeError) as exc:
        raise PackageError(f"{shown}: not a readable zip archive ({escape(exc) or type(exc).__name__}); "
                           "it is truncated, damaged or not a zip") from None
    _inspect(shown, infos)

    # The package folder: the shallowest datapackage.json, with MANIFEST.json beside it.
    by_name = {i.orig_filename: i for i in infos if not i.orig_filename.endswith("/")}
    descriptors = sorted((n for n in by_name if PurePosixPath(n).name == DESCRIPTOR), key=lambda n: n.count("/"))
    if not descriptors:
        raise PackageError(f"{shown}: no {DESCRIPTOR} in the archive; is this a release zip from `sifc build`?")
    if len(descriptors) > 1 and descriptors[0].count("/") == descriptors[1].count("/"):
        raise PackageError(f"{shown}: two package folders ({_q(descriptors[0])} and {_q(descriptors[1])}); "
                           "a release zip holds one")
    prefix = descriptors[0][: -len(DESCRIPTOR)]
    if prefix + MANIFEST not in by_name:
        raise PackageError(f"{shown}: no {_q(prefix + MANIFEST)} in the archive; a release zip lists every file "
                           "with its bytes and hash (`sifc build` writes it)")
    for name in by_name:
        if not name.startswith(prefix):
            raise PackageError(f"{shown}: entry {_q(name)} lies outside the package folder {_q(prefix)}; refused")

    reader = _Reader(shown, archive)
    manifest = _manifest(shown, reader.read(by_name[prefix + MANIFEST], MAX_JSON_BYTES))
    members = {name[len(prefix):]: info for name, info in by_name.items() if name != prefix + MANIFEST}
    for rel in members:
        if rel not in manifest:
            raise PackageError(f"{shown}: entry {_q(prefix + rel)} is not listed in {MANIFEST}; refused")
    for rel in manifest:
        if rel not in members:
            raise PackageError(f"{shown}: {MANIFEST} lists {_q(rel)}, which is missing from the archive")

    raw = reader.read(members[DESCRIPTOR], MAX_JSON_BYTES)
    descriptor = _json_object(raw, f"{shown}: {DESCRIPTOR}", "data package descriptor")
    resources = descriptor.get("resources")
    stats: dict[str, dict] = {}
    for i, res in enumerate(resources if isinstance(resources, list) else []):
        if not isinstance(res, dict):
            continue
        name = f"{shown}: {DESCRIPTOR}: resource {_q(res.get('name', f'resources[{i}]'))}"
        for key in ("path", "schema"):
            value = res.get(key)
            if value is None and key == "schema":
                continue
            problem = path_problem(value)
            if problem:
                raise PackageError(f"{name}: {key} {_q(value)} {problem}; a release zip's files are inside it")
            if value not in members:
                raise PackageError(f"{name}: {key} {_q(value)} is missing from the archive")
        stats[res["path"]] = res

    work = _Workdir()
    try:
        for rel, info in members.items():
            size, algo, expected = manifest[rel]
            if info.file_size != size:
                raise PackageError(f"{shown}: {_q(rel)}: size mismatch: {MANIFEST} says {size} bytes, the archive "
                                   f"holds {info.file_size}; the file was altered or the manifest is stale")
            hashers = {algo: _hasher(algo)}
            res = stats.get(rel)
            if res is not None and "hash" in res:
                other, _ = parse_hash(res["hash"], f"{shown}: {DESCRIPTOR}: {_q(rel)}")
                hashers.setdefault(other, _hasher(other))
            if rel == DESCRIPTOR:
                work.write(rel, raw)
                for h in hashers.values():
                    h.update(raw)
            else:
                with open(work.path(rel), "xb") as out:
                    reader.stream(info, out.write, list(hashers.values()))
            _compare_hash(f"{shown}: {_q(rel)}", algo, expected, hashers[algo].hexdigest(), MANIFEST)
            if res is not None:
                if "bytes" in res and _size(res["bytes"], f"{shown}: {DESCRIPTOR}: {_q(rel)}") != info.file_size:
                    raise PackageError(f"{shown}: {_q(rel)}: size mismatch: {DESCRIPTOR} says {res['bytes']} "
                                       f"bytes, the file has {info.file_size}; the file was altered or the "
                                       "descriptor is stale")
                if "hash" in res:
                    other, want = parse_hash(res["hash"], f"{shown}: {DESCRIPTOR}: {_q(rel)}")
                    _compare_hash(f"{shown}: {_q(rel)}", other, want, hashers[other].hexdigest(), DESCRIPTOR)
        return _open_built(work, shown)
    except OSError as exc:
        work.tmp.cleanup()
        raise PackageError(f"{shown}: cannot extract into a temporary folder "
                           f"({escape(exc.strerror or exc)})") from None
    except BaseException:
        work.tmp.cleanup()
        raise


def open_remote(source: str) -> DataPackage:
    """A package from an http(s) URL of datapackage.json or a release zip."""
    if source.endswith(".zip"):
        return open_zip(source)
    return open_url(source)
