"""Spreading requests over several servers of one model: which host gets the next request
(`HostPool`, a round-robin with a circuit breaker), what a server's Retry-After asks, and
`PooledTeacher`, the `ask` that every HTTP backend shares (a retry goes to another host)."""

from __future__ import annotations

import email.utils
import itertools
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from alkd_tui.teacher.backends.base import Answer, TransientTeacherError
from alkd_tui.teacher.prompts import Prompt


class HostPool:
    """Which host gets the next request: round-robin over the hosts that are up; a host that
    failed is down for a cool-down (doubling with each failure in a row) and then gets one
    request to show it is back. With every host down, the one back soonest is tried."""

    FIRST_COOLDOWN_S = 5.0
    MAX_COOLDOWN_S = 300.0

    def __init__(self, n: int, clock: Any = time.monotonic) -> None:
        self.n = n
        self.clock = clock
        self._turn = itertools.count()
        self._down_until = [0.0] * n
        self._failures = [0] * n
        self._lock = threading.Lock()

    def pick(self, avoid: int | None = None) -> int:
        """The host for the next request (not `avoid`, the one that just failed, if another
        is up)."""
        with self._lock:
            now = self.clock()
            start = next(self._turn)
            order = [(start + k) % self.n for k in range(self.n)]
            up = [i for i in order if self._down_until[i] <= now]
            preferred = [i for i in up if i != avoid] or up
            if preferred:
                chosen = preferred[0]
                if self._failures[chosen]:  # half-open: one request, until it answers or fails
                    self._down_until[chosen] = now + self._cooldown(chosen)
                return chosen
            return min(range(self.n), key=lambda i: (i == avoid, self._down_until[i]))

    def _cooldown(self, index: int) -> float:
        return min(
            self.FIRST_COOLDOWN_S * 2 ** max(self._failures[index] - 1, 0), self.MAX_COOLDOWN_S
        )

    def failed(self, index: int, retry_after: float | None = None) -> None:
        """Host `index` failed: down for its cool-down, or as long as it asked."""
        with self._lock:
            self._failures[index] += 1
            wait = max(self._cooldown(index), retry_after or 0.0)
            self._down_until[index] = self.clock() + wait

    def answered(self, index: int) -> None:
        """Host `index` answered: up again."""
        with self._lock:
            self._failures[index] = 0
            self._down_until[index] = 0.0

    def down(self) -> list[int]:
        """The hosts now marked down."""
        now = self.clock()
        with self._lock:
            return [i for i in range(self.n) if self._down_until[i] > now]


def retry_after_value(headers: Mapping[str, str] | None) -> float | None:
    """The seconds a Retry-After header asks to wait (a number or an HTTP date), if any."""
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def retry_after_seconds(exc: BaseException) -> float | None:
    """The seconds an HTTP error's Retry-After header asks to wait, if the error carries its
    response (the ollama client raises from the httpx error)."""
    response = getattr(exc, "response", None) or getattr(exc.__context__, "response", None)
    return retry_after_value(response.headers if response is not None else None)


class PooledTeacher:
    """`ask` over a `HostPool`: a host that is up gets the question; a transient failure marks
    it down (as long as its Retry-After asks) and the retry goes to another host. Subclasses
    set `self.pool` and implement `_ask(index, prompt, options)` for one host."""

    pool: HostPool
    _last_failed: dict[int, int]

    def ask(self, prompt: Prompt, options: dict[str, Any], attempt: int = 0) -> Answer:
        """Ask one question of a host that is up (a retry: of another one); mark a failing
        host down."""
        thread = threading.get_ident()
        avoid = self._last_failed.pop(thread, None) if attempt else None
        index = self.pool.pick(avoid)
        try:
            answer = self._ask(index, prompt, options)
        except TransientTeacherError as exc:
            self.pool.failed(index, exc.retry_after)
            self._last_failed[thread] = index
            raise
        self.pool.answered(index)
        return answer

    def _ask(self, index: int, prompt: Prompt, options: dict[str, Any]) -> Answer:
        raise NotImplementedError
