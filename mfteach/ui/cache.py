"""A panel's result cache, bounded by count and by bytes, that gives freed memory back.

A long classroom session moves controls hundreds of times; each result holds a trained model and
copies of its tables. Without a byte bound a 100,000-row capstone table fills a kernel in a few
dozen moves, and without ``malloc_trim`` glibc keeps the freed buffers (RSS stays high).
"""
from __future__ import annotations

import ctypes
import sys
from collections import OrderedDict

import numpy as np

__all__ = ["ResultCache", "nbytes", "give_memory_back"]


def nbytes(obj, _seen=None) -> int:
    """Bytes of the arrays and tensors reachable from ``obj`` (each counted once). Data splits are
    shared between results, so they are not counted here."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(obj, torch.Tensor):
            return int(obj.element_size() * obj.nelement())
        if isinstance(obj, torch.nn.Module):
            return sum(nbytes(t, seen) for t in (*obj.parameters(), *obj.buffers()))
    if type(obj).__name__ in ("Split", "Ratings"):
        return 0
    if isinstance(obj, dict):
        return sum(nbytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sum(nbytes(v, seen) for v in obj)
    if hasattr(obj, "__dict__"):
        return nbytes(vars(obj), seen)
    return 0


def give_memory_back():
    """Ask glibc to return freed heap pages to the system (no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


class ResultCache:
    """Least-recently-used results, at most ``max_items`` of them and ``max_bytes`` in all."""

    def __init__(self, max_items=64, max_bytes=256 * 2**20):
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict = OrderedDict()   # key → (result, its bytes)
        self.bytes = 0

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def __getitem__(self, key):
        self._items.move_to_end(key)
        return self._items[key][0]

    def put(self, key, result):
        size = nbytes(result)
        if key in self._items:
            self.bytes -= self._items.pop(key)[1]
        self._items[key] = (result, size)
        self.bytes += size
        evicted = False
        while len(self._items) > 1 and (len(self._items) > self.max_items
                                        or self.bytes > self.max_bytes):
            _, (_, s) = self._items.popitem(last=False)
            self.bytes -= s
            evicted = True
        if evicted:
            give_memory_back()

    def values(self):
        return [r for r, _ in self._items.values()]
