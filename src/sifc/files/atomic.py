"""Atomic writes: a temporary file in the same folder, flushed and renamed
over the target, so an interrupted write leaves the original intact.

The temporary file is named `.{name}.XXXXXXXX.tmp` (`TEMP_PATTERN`); a run
killed between creating and renaming it leaves it behind, and
`stale_temporaries` finds exactly those files again (nothing else that
happens to start with a dot).

A new file gets the mode any other program would give it, 0666 less the
umask (0644 under the usual umask 022), not the 0600 of `mkstemp`; a file
that exists keeps its mode."""
from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

#: the random part `tempfile.mkstemp` puts between prefix and suffix
_RANDOM = r"[a-z0-9_]{8}"


def temp_pattern(name: str) -> re.Pattern:
    """The names of the temporary files `write_bytes_atomic` creates for `name`."""
    return re.compile(r"\." + re.escape(name) + r"\." + _RANDOM + r"\.tmp")


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows
    (/proc/self/status); elsewhere set and restored at once, which is
    process-global but the only portable way."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        existing = os.lstat(path)
        mode = stat.S_IMODE(existing.st_mode) if stat.S_ISREG(existing.st_mode) else None
    except FileNotFoundError:
        mode = None
    if mode is None:
        mode = 0o666 & ~current_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file we meant to write, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can
    open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files an interrupted `write_bytes_atomic(path, …)` left
    beside `path`: regular files (never links) named by our own pattern."""
    path = Path(path)
    pattern = temp_pattern(path.name)
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    found = []
    for name in sorted(names):
        if pattern.fullmatch(name):
            candidate = path.parent / name
            try:
                if stat.S_ISREG(os.lstat(candidate).st_mode):
                    found.append(candidate)
            except OSError:
                continue
    return found
