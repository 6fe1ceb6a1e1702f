"""Keeping Python's cyclic garbage collector from freezing the UI.

A full collection walks every tracked object while holding the GIL, whichever thread starts
it: with the app's screens, the store's caches and a 100,000-label review queue that is some
hundreds of thousands of objects, and the UI stood still for 100-300 ms each time (the
largest stalls measured when opening an area). So the long-lived objects go to the
collector's permanent generation: every second, the young generations are collected (a few
milliseconds) and what survives is frozen, so a full collection only walks what is new.

A worker that reads a large result (the review queue, the audit) pauses the collector
meanwhile (`paused()`): its hundreds of thousands of new objects would otherwise be walked
again and again as they pile up; they are frozen as they are when it ends.

Frozen objects are still freed by reference counting; only garbage *cycles* among them wait.
Those are collected once the user has left the keyboard alone for a while (a full pass over
everything, then everything is frozen again), so memory does not creep up over a long
session.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Seconds between two freezes of the surviving objects.
SETTLE_S = 1.0
#: Seconds without input after which a full collection runs (once per pause).
IDLE_FULL_S = 30.0


class HeapKeeper:
    """Freezes the long-lived objects now and then; collects everything when idle."""

    def __init__(self, idle_full_s: float = IDLE_FULL_S) -> None:
        self.idle_full_s = idle_full_s
        self.last_input = time.monotonic()
        self.full_done = False
        self.full_collections = 0
        self._pausers = 0
        self._lock = threading.Lock()

    def touched(self) -> None:
        """The user did something (a key, a click): a full collection would be in the way."""
        self.last_input = time.monotonic()
        self.full_done = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No automatic collection while the block runs (any thread; nested and concurrent
        uses count): for a worker that builds a large result."""
        with self._lock:
            self._pausers += 1
            gc.disable()
        try:
            yield
        finally:
            with self._lock:
                self._pausers -= 1
                if self._pausers == 0:
                    gc.freeze()  # the result, rather than one long young collection of it
                    gc.enable()

    def release(self) -> None:
        """Thaw everything (the app is closing: what it made may be collected again)."""
        gc.unfreeze()

    def settle(self) -> None:
        """Collect the young generations, then freeze what survived; when the user has been
        away for `idle_full_s`, first collect everything (once per pause). While a worker
        holds the collector paused, only freeze (the young generations are its result)."""
        if not self._pausers:
            if not self.full_done and time.monotonic() - self.last_input >= self.idle_full_s:
                gc.unfreeze()
                gc.collect()
                self.full_done = True
                self.full_collections += 1
            else:
                gc.collect(1)
        gc.freeze()
