"""Every step's settings, declared once each in the layer that uses them, offered here to the
faces (CLI options, TUI forms), to `alkd run` (its TOML sections) and to the benchmarks.

A setting's type, bounds, help and default live in its model only: a face derives what it
shows from `alkd_tui.config.field_specs`, and a test fails when a default is written twice."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from alkd_tui.active.registry import STRATEGY_ENTRIES
from alkd_tui.active.settings import SelectSettings
from alkd_tui.config import FieldSpec, build, field_specs, settings_argv
from alkd_tui.distill.settings import DistillSettings
from alkd_tui.pipeline.audit_settings import AuditSettings
from alkd_tui.pipeline.curve_settings import CurveSettings
from alkd_tui.pipeline.review import ReviewSettings
from alkd_tui.rec.settings import RECIPES, ROLES, Recipe, TrainSettings, recipe
from alkd_tui.teacher.registry import BACKENDS, llm_backends
from alkd_tui.teacher.server.settings import ServeSettings
from alkd_tui.teacher.settings import (
    GenerationSettings,
    HintSettings,
    LabelSettings,
    TeacherChoice,
    teacher_needs,
    teacher_summary,
)

M = TypeVar("M", bound=BaseModel)


def settings_from_form(model: type[M], values: dict[str, Any]) -> M:
    """The settings a form's values give (one `BadInputError` line naming what is wrong)."""
    return build(model, values)


def recipe_hints(architecture: str, role: str) -> dict[str, str]:
    """What the recipe gives each unset training setting, as text (a form's placeholders)."""
    chosen = recipe(architecture, role).model_dump()
    return {
        name: f"{value:g}" if isinstance(value, float) else str(value)
        for name, value in chosen.items()
    }


__all__ = [
    "BACKENDS",
    "RECIPES",
    "ROLES",
    "STRATEGY_ENTRIES",
    "AuditSettings",
    "CurveSettings",
    "DistillSettings",
    "FieldSpec",
    "GenerationSettings",
    "HintSettings",
    "LabelSettings",
    "Recipe",
    "ReviewSettings",
    "SelectSettings",
    "ServeSettings",
    "TeacherChoice",
    "TrainSettings",
    "field_specs",
    "llm_backends",
    "recipe",
    "recipe_hints",
    "settings_argv",
    "settings_from_form",
    "teacher_needs",
    "teacher_summary",
]
