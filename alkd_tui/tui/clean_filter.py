"""The TUI's side of the one sanitiser: a line filter that removes control characters from
every line the app draws (`alkd_tui.terminal_text.clean`), so a title or an LLM answer holding
terminal escape sequences is shown, never obeyed."""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from alkd_tui.terminal_text import clean, is_clean


class CleanText(LineFilter):
    """Removes control characters (zero-width: the layout does not move) from drawn text."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(segment.control or is_clean(segment.text) for segment in segments):
            return segments
        return [
            segment if segment.control else Segment(clean(segment.text), segment.style)
            for segment in segments
        ]
