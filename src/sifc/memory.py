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
    after; arrays made meanwhile stay valid."""
    import pyarrow as pa
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def give_back() -> None:
    """Free what the table just checked left: objects in reference cycles
    (pandas and GX make them) and the freed memory the allocators keep."""
    gc.collect()
    import pyarrow as pa
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator decides when to give memory back
