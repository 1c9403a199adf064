"""One object per process, built on first use: a forked worker builds its own (the threads an
object starts do not survive a fork)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProcessLocal(Generic[T]):
    """Call it for this process's object, made by ``factory`` the first time."""

    def __init__(self, factory: Callable[[], T]):
        self._factory = factory
        self._objects: dict[int, T] = {}
        self._lock = threading.Lock()

    def __call__(self) -> T:
        pid = os.getpid()
        made = self._objects.get(pid)
        if made is None:
            with self._lock:
                made = self._objects.get(pid)
                if made is None:
                    made = self._objects[pid] = self._factory()
        return made
