"""Workspaces: the large buffers a compiled function keeps from call to call.

A buffer of a megabyte or more that a function allocates and frees on every
call (a time loop's stacked residuals in a gradient, a loss's temporaries)
comes back from the allocator as fresh pages: the kernel then spends its
first touch of each 4 KiB page in the operating system (a page fault, the
page zeroed), and row blocks running on several threads fault on one shared
address-space lock. For a 32-row LSTM gradient that was a third of the call.

So the generated function takes such buffers as arguments (``ws<k>``, used
when their shape fits, else it allocates them) and returns them after its
results (``codegen.scratch_arg``); the executable keeps them here, one set a
call shape (the input shapes and the row blocks), and hands the set to the
next call of that shape. A set is taken out while a call runs, so two threads
calling one executable never share one (the second allocates its own).

A kept buffer must be the function's own: one that a result views, or that is
an input or a Variable's storage, is dropped, and its slot always gets a
fresh buffer (checked when a set is first made, which is when the function's
code shows how its buffers are used).
"""
from __future__ import annotations

import threading

import numpy as np

KEEP = 2  # call shapes kept an executable (a fit's full batches and its last partial one)


class Workspaces:
    """The workspace sets of one executable (see the module docstring)."""

    def __init__(self, slots):
        self._slots = list(slots)  # (ndim, dtype) of each workspace argument
        self._sets: dict = {}
        self._unsafe: set = set()  # slots whose buffer a result, input or Variable shares
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._slots)

    def blank(self) -> list:
        """Placeholders (empty arrays): the function allocates every buffer."""
        return [np.empty((0,) * ndim, dtype=dtype) for ndim, dtype in self._slots]

    def take(self, key, blocks: int = 1):
        """``(sets, new)``: one buffer list per row block, and whether they are
        placeholders made now (the caller then :meth:`give` s them back with the
        arrays to check against)."""
        with self._lock:
            sets = self._sets.pop(key, None)
        if sets is not None:
            return sets, False
        return [self.blank() for _ in range(blocks)], True

    def give(self, key, sets, new: bool, others=()) -> None:
        """Keep ``sets`` (the buffers the blocks returned) for the next call of
        ``key``; when ``new``, first drop the slots that share memory with
        ``others`` (the results, inputs and Variables of the call)."""
        if new:
            for buffers in sets:
                for k, buf in enumerate(buffers):
                    if k not in self._unsafe and any(
                            isinstance(o, np.ndarray) and np.may_share_memory(buf, o)
                            for o in others):
                        self._unsafe.add(k)
        if self._unsafe:
            blank = self.blank()
            sets = [[blank[k] if k in self._unsafe else b for k, b in enumerate(buffers)]
                    for buffers in sets]
        with self._lock:
            self._sets.pop(key, None)
            while len(self._sets) >= KEEP:
                self._sets.pop(next(iter(self._sets)))
            self._sets[key] = sets

    def clear(self) -> None:
        """Drop every kept buffer."""
        with self._lock:
            self._sets.clear()
