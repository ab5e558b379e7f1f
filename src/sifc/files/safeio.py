"""Reading files named by a package, without leaving the package.

A descriptor, a schema reference or a suite name is contributed text: it may
name a symlink to /etc/passwd, a FIFO that blocks forever, /dev/zero, or a
file of many gigabytes. Every file the tools read on a package's behalf goes
through `package_file` (where it may be) and `read_limited` (what it may be):
a regular file inside the package root, reached without following any
symbolic link, read up to a size limit.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

#: one data file may hold this much; SIFC_MAX_FILE_BYTES raises it for very large packages
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
#: a descriptor, Table Schema or expectation suite is small JSON
MAX_JSON_BYTES = 16 * 1024 * 1024


class UnsafeFile(ValueError):
    """A file the package names but that must not be read: outside the
    package, a link, not a regular file, or too large."""


def max_file_bytes() -> int:
    try:
        return int(os.environ.get("SIFC_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))
    except ValueError:
        return DEFAULT_MAX_FILE_BYTES


def path_problem(relative: object) -> str | None:
    """Why a relative path written in a package must not be followed, or None."""
    if not isinstance(relative, str) or not relative:
        return "is not a non-empty string"
    if "\x00" in relative:
        return "contains a NUL byte"
    if "://" in relative:
        return "is remote"
    posix = relative.replace("\\", "/")
    if posix.startswith("/") or PurePosixPath(posix).is_absolute() or (len(posix) > 1 and posix[1] == ":"):
        return "is absolute"
    if ".." in PurePosixPath(posix).parts:
        return "climbs out of the package with '..'"
    return None


def package_file(root: Path, relative: str) -> Path:
    """The file `relative` names inside `root`, refused (UnsafeFile) if the
    path is absolute or climbs out, if any part of it below the root is a
    symbolic link, or if it resolves outside the root."""
    problem = path_problem(relative)
    if problem:
        raise UnsafeFile(f"{relative!r} {problem}")
    root = Path(root)
    current = root
    for part in PurePosixPath(relative.replace("\\", "/")).parts:
        if part in ("", "."):
            continue
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            raise FileNotFoundError(2, "file not found", str(relative)) from None
        if stat.S_ISLNK(mode):
            raise UnsafeFile(f"{relative!r} is (or passes through) a symbolic link; links are not followed")
    try:
        real_root = root.resolve(strict=True)
        if not current.resolve(strict=True).is_relative_to(real_root):
            raise UnsafeFile(f"{relative!r} resolves outside the package")
    except OSError as exc:
        raise UnsafeFile(f"{relative!r} cannot be resolved ({exc.strerror or exc})") from None
    return current


def read_limited(path: Path, limit: int | None = None, what: str = "file") -> bytes:
    """The bytes of a regular file, opened without following a final link
    and without blocking (a FIFO or device is refused, never read), at most
    `limit` bytes (UnsafeFile past that)."""
    limit = max_file_bytes() if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", -1), getattr(os, "EMLINK", -1)):
            raise UnsafeFile("is a symbolic link; links are not followed") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile("is not a regular file (a device, FIFO, socket or folder); refused")
        if info.st_size > limit:
            raise UnsafeFile(f"the {what} has {info.st_size:,} bytes, more than the limit of {limit:,} "
                             "(SIFC_MAX_FILE_BYTES raises it)")
        # One read of the size the file has, so its bytes are not held twice
        # (as pieces and joined); a file that grows meanwhile is read on.
        chunks = [os.read(fd, min(info.st_size, limit) + 1)]
        total = len(chunks[0])
        while chunks[-1] and total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # the file grew while we read it
            raise UnsafeFile(f"the {what} is larger than the limit of {limit:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_package_file(root: Path, relative: str, limit: int | None = None, what: str = "file") -> bytes:
    return read_limited(package_file(root, relative), limit, what)


def allow_long_cells(text_length: int) -> None:
    """Let Python's csv module read a cell as long as the whole text (its
    default stops at 128 KiB with an error that reads like broken quoting);
    the file's size is already bounded when it is read, and an over-long
    cell is then reported by its field's maxLength."""
    import csv
    if csv.field_size_limit() < text_length + 1:
        csv.field_size_limit(text_length + 1)
