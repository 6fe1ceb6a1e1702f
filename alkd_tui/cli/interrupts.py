"""Ctrl-C that is never lost. Python may raise KeyboardInterrupt inside a garbage-collector
callback, where it is printed and ignored; so the signal also sets a flag, and the next progress
event raises it again at a safe point. Every long step reports progress often."""

from __future__ import annotations

import signal
import sys
from types import FrameType

_pending = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _pending
    _pending = True
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT and SIGTERM through the flag (call once, in the console script), and keep a
    Ctrl-C that lands in a garbage-collector callback from printing a traceback there."""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    default = sys.unraisablehook

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            default(unraisable)

    sys.unraisablehook = quiet


def reset() -> None:
    global _pending
    _pending = False


def check() -> None:
    """Raise KeyboardInterrupt if a signal arrived whose first raise may have been swallowed."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt
