"""Heap handed back to the operating system after a burst of streams.

A worker holding a thousand streams allocates tens of megabytes (each stream's greenlets save
their stacks on the heap, buffers, request state); freed afterwards, most of it stays in the C
allocator's free lists and the worker's resident size stays at its peak. When the last stream
of a burst ends, ``malloc_trim`` returns those free pages (glibc; elsewhere nothing happens).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BURST = 50  # streams at once since the last trim that make the next quiet moment trim


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None


class _Streams:
    def __init__(self):
        self.live = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.trim = _malloc_trim()
        self.trims = 0


_streams = _Streams()


@contextmanager
def stream() -> Iterator[None]:
    """Count one stream while it runs; the last of a burst trims the heap as it ends."""
    state = _streams
    with state.lock:
        state.live += 1
        state.peak = max(state.peak, state.live)
    try:
        yield
    finally:
        with state.lock:
            state.live -= 1
            quiet_after_burst = state.live == 0 and state.peak >= BURST
            if quiet_after_burst:
                state.peak = 0
        if quiet_after_burst:
            trim()


def trim() -> None:
    _streams.trims += 1
    if _streams.trim is not None:
        _streams.trim(0)


def trims() -> int:
    """How many times this process asked for its heap to be trimmed."""
    return _streams.trims
