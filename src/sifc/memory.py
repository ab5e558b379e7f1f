"""Memory between the tables of a large package: what a table left behind
is handed back to the system before the next is read, so the peak is that
of the largest table, not the sum of them (benchmarks/RESULTS.md)."""
from __future__ import annotations

import ctypes
import gc
from contextlib import contextmanager


@contextmanager
def returning_allocator():
    """Arrow allocates from the system allocator meanwhile: its default
    (mimalloc) keeps freed memory for reuse, which a process reading one
    large file after another only accumulates. The default is restored
    after; arrays made meanwhile stay valid. Blocks of 1 MB and more are
    mapped on their own from now on (`_map_large_blocks`)."""
    import pyarrow as pa
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    _map_large_blocks()
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def give_back() -> None:
    """Free what the table just checked left: objects in reference cycles
    (pandas and GX make them) and the freed memory the allocators keep."""
    gc.collect()
    trim()


def trim() -> None:
    """Hand the freed memory the allocators keep back to the system."""
    import pyarrow as pa
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator decides when to give memory back


def _map_large_blocks() -> None:
    """glibc gives a block of a megabyte or more its own mapping, returned
    to the system the moment it is freed. By default that threshold rises
    after such a block is freed (up to 32 MB), so the pieces a table's
    columns are parsed and checked in, a few megabytes each, would be kept
    in the heap after use and pile up until the next `give_back`. The
    setting stays for the rest of the process (glibc cannot switch its
    rising threshold back on); it only makes large blocks cost a mapping."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc
