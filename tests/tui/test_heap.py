"""The heap keeper: long-lived objects frozen out of the collector's way, the collector
paused while a worker builds a large result, garbage cycles among frozen objects collected
once the user is idle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from alkd_tui.tui.heap import HeapKeeper


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _thaw() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_settle_freezes_what_survives() -> None:
    keeper = HeapKeeper(idle_full_s=3600)
    kept = [Node() for _ in range(100)]
    keeper.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert keeper.full_collections == 0


def test_frozen_garbage_cycles_wait_for_the_idle_collection() -> None:
    keeper = HeapKeeper(idle_full_s=3600)
    a, b = Node(), Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    keeper.settle()  # the cycle is frozen while it is still in use
    del a, b
    gc.collect()
    assert alive() is not None  # frozen: the collector does not look at it
    keeper.idle_full_s = 0.0  # the user has been away long enough
    keeper.settle()
    assert alive() is None and keeper.full_collections == 1
    keeper.settle()
    assert keeper.full_collections == 1  # once per pause
    keeper.touched()
    keeper.settle()
    assert keeper.full_collections == 2


def test_paused_counts_nested_users_and_freezes_the_result() -> None:
    keeper = HeapKeeper()
    assert gc.isenabled()
    with keeper.paused():
        assert not gc.isenabled()
        with keeper.paused():
            built = [Node() for _ in range(1000)]
        assert not gc.isenabled()  # the outer block still builds
        keeper.settle()  # while paused: only freezes, no collection over the young pile
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)
