"""The command palette's own commands: go to an area, and whatever the current screen offers
from its state (a dataset to show, a selection to review, a run to compare...)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from alkd_tui.tui.widgets.header import AREAS


class AlkdCommands(Provider):
    """Areas first, then the current screen's commands (`palette_commands()`)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            (
                f"Go to {title}",
                f"Switch to the {title} area (key {n})",
                partial(app.action_area, area),
            )
            for n, (area, title) in enumerate(AREAS, start=1)
        ]
        screen = self.screen
        offered = getattr(screen, "palette_commands", None)
        if offered is not None:
            commands.extend(offered())
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
