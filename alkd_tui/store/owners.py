"""Which process owns a run or a claim, and whether that process still lives.

An owner is `HOST:PID:START`, START being when the process started (Linux: clock ticks since
boot, from /proc), so a process id reused by a later process is not mistaken for the first.
On the same host a dead owner is recognised at once; an owner on another host is alive
until its lease runs out (claims carry one).
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path


def _stat(pid: int) -> list[str]:
    """Process `pid`'s /proc stat fields from the state on (empty where /proc cannot tell)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    return stat[stat.rfind(")") + 2 :].split()


def _start_ticks(pid: int) -> str:
    """When process `pid` started (clock ticks since boot), or "" where /proc cannot tell."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


@functools.cache
def _host() -> str:
    return socket.gethostname().replace(":", "_")


def this_process() -> str:
    """The owner token of the running process."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_ticks(pid)}"


def is_alive(owner: str | None) -> bool | None:
    """Whether the owning process lives: True, False, or None when it cannot be told (another
    host, or an owner from before owners were recorded)."""
    if not owner:
        return None
    host, pid_text, start, *_ = [*owner.split(":"), "", ""]  # a job's token adds a number
    if host != _host() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return False
    now = fields[19] if len(fields) > 19 else ""
    return not (start and now and now != start)
