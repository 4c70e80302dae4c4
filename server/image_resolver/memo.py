"""A thread-safe LRU memo bounded by the bytes it holds, not by its number of entries.

`functools.lru_cache(maxsize=N)` bounds entries; with refs up to 4 KB that let 16,384
entries hold hundreds of megabytes (the pod limit is 256 Mi). Here every entry is
charged its size and the oldest go once the budget is spent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

A = TypeVar("A")
B = TypeVar("B")
V = TypeVar("V")


class ByteBoundedMemo(Generic[A, B, V]):
    """Memoise `fn(a, b)`; exceptions are not cached. `size_of` charges one entry."""

    def __init__(
        self, fn: Callable[[A, B], V], max_bytes: int, size_of: Callable[[A, B, V], int]
    ) -> None:
        self._fn = fn
        self._size_of = size_of
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[A, B], tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, a: A, b: B) -> V:
        args = (a, b)
        hit = self._entries.get(args)  # lock-free: one C-level dict lookup under the GIL
        if hit is not None:
            try:  # noqa: SIM105 - contextlib.suppress costs more on this hot path
                self._entries.move_to_end(args)
            except KeyError:  # evicted by another thread meanwhile; still a valid answer
                pass
            return hit[0]
        value = self._fn(a, b)
        size = self._size_of(a, b, value)
        if size > self.max_bytes:
            return value
        with self._lock:
            if args not in self._entries:
                self._entries[args] = (value, size)
                self.bytes += size
                while self.bytes > self.max_bytes:
                    self.bytes -= self._entries.popitem(last=False)[1][1]
        return value

    def __len__(self) -> int:
        return len(self._entries)
