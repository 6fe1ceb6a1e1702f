"""The one sanitiser for text from data on its way to a terminal.

Item titles, dataset, run and model names, notes, LLM answers and file paths come from files
and servers alkd does not control. A title holding `ESC ] 52 ; c ; ...` would write the
user's clipboard when printed; `ESC ] 0 ;` retitles the window; `ESC ] 8 ;` plants a link; a
bidi override reorders what the reader sees. `clean` removes every control character (C0
but tab and newline, DEL, C1) and the bidi overrides and isolates: all are zero-width, so the
layout of what is left does not change. The CLI's consoles clean every segment they print
(`alkd_tui.cli.output`), the TUI every line it draws (`alkd_tui.tui.app`); `--json` escapes
them anyway.
"""

from __future__ import annotations

_REMOVED = [
    *range(0x00, 0x09),  # C0 controls, but tab (0x09) and newline (0x0a)
    *range(0x0B, 0x20),
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1 controls (0x9b is a one-byte CSI)
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2066, 0x206A),  # bidi isolates
]
_TABLE = dict.fromkeys(_REMOVED)


def clean(text: str) -> str:
    """`text` without control characters and bidi overrides (tab and newline kept)."""
    return text.translate(_TABLE)


def is_clean(text: str) -> bool:
    """Whether `clean` would leave `text` as it is."""
    return clean(text) == text


def cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
