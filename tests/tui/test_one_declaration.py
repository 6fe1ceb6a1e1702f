"""Every setting is declared once, in its settings model; the CLI, the TUI's forms and `alkd
run`'s default configuration take type, help and default from there. These checks fail when
a default is written a second time anywhere else."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel

from alkd_tui.cli.main import app
from alkd_tui.pipeline import settings as declared
from alkd_tui.pipeline.config import RunConfig

ROOT = Path(__file__).resolve().parents[1]
MODELS: list[type[BaseModel]] = [
    declared.TrainSettings, declared.SelectSettings, declared.TeacherChoice, declared.LabelSettings,
    declared.GenerationSettings, declared.HintSettings, declared.ReviewSettings,
    declared.DistillSettings, declared.AuditSettings, declared.ServeSettings,
]  # fmt: skip
FIELDS = {name for model in MODELS for name in model.model_fields}
#: The modules that declare settings (their defaults are the declarations).
DECLARING = {
    "alkd_tui/rec/settings.py", "alkd_tui/teacher/settings.py", "alkd_tui/active/settings.py",
    "alkd_tui/distill/settings.py", "alkd_tui/pipeline/review.py", "alkd_tui/pipeline/audit_settings.py",
    "alkd_tui/pipeline/config.py", "alkd_tui/teacher/server/settings.py",
}  # fmt: skip
#: Parameters that share a setting's name but are not that setting (with why).
NOT_SETTINGS: dict[tuple[str, str], str] = {}


def _commands() -> list[tuple[str, Any]]:
    found = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found.append((" ".join(path), cmd))

    walk(typer.main.get_command(app), ())
    return found


def _same(option_default: Any, field_default: Any) -> bool:
    if isinstance(field_default, list | dict) and not field_default:
        return option_default in (None, (), [], {})
    return bool(option_default == field_default)


def test_cli_options_take_their_defaults_from_the_settings_models() -> None:
    checked = 0
    for path, command in _commands():
        made = getattr(command.callback, "alkd_settings", [])
        generated = {name for _, names in made for name in names}
        for model, names in made:
            specs = {s.name: s for s in declared.field_specs(model)}
            for param in command.params:
                if param.name in names:
                    assert _same(param.default, specs[param.name].default), (
                        f"`alkd {path} {param.opts[0]}` defaults to {param.default!r}, "
                        f"{model.__name__}.{param.name} to {specs[param.name].default!r}"
                    )
                    checked += 1
        for param in command.params:  # a setting's name on a hand-written option: no default
            if param.name in FIELDS and param.name not in generated:
                assert param.default is None, (
                    f"`alkd {path} {param.opts[0]}` declares a default ({param.default!r}) "
                    "for what looks like a setting: take it from its settings model"
                )
    assert checked > 60  # train, select, label, teacher hints, distill, review accept, audit...


def literal_defaults(source: str) -> list[tuple[int, str, Any]]:
    """(line, parameter, value) of every function parameter whose default is a literal and
    whose name is a setting's."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = node.args
        positional = args.posonlyargs + args.args
        pairs = list(
            zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        pairs += [
            (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
        ]
        for arg, default in pairs:
            if (
                arg.arg in FIELDS
                and isinstance(default, ast.Constant)
                and default.value is not None
                and not isinstance(default.value, bool)
            ):
                found.append((default.lineno, arg.arg, default.value))
    return found


def test_no_function_of_the_faces_or_the_pipeline_declares_a_setting_default() -> None:
    """`def train(epochs: int = 30)` in the CLI, the TUI or the pipeline is a second
    declaration: such a function takes the settings object (or None, and then the model's
    default)."""
    problems = []
    for folder in ("alkd_tui/cli", "alkd_tui/tui", "alkd_tui/pipeline"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            if where in DECLARING:
                continue
            for line, name, value in literal_defaults(path.read_text()):
                if (where, name) not in NOT_SETTINGS:
                    problems.append(f"{where}:{line}: {name} = {value!r}")
    assert problems == []


def test_the_check_catches_a_second_declaration() -> None:
    source = "def train(dataset, epochs: int = 30, *, kappa=50, seed=None, soft=False):\n    pass\n"
    assert literal_defaults(source) == [(1, "epochs", 30), (1, "kappa", 50)]


def test_the_run_configuration_is_made_of_the_step_models() -> None:
    """`alkd run`'s sections are the steps' own models: no section redeclares a setting."""
    sections = {name: info.annotation for name, info in RunConfig.model_fields.items()}
    assert sections["teacher_recommender"] is declared.TrainSettings
    assert sections["student"] is declared.TrainSettings
    assert sections["select"] is declared.SelectSettings
    assert sections["hints"] is declared.HintSettings
    assert sections["review"] is declared.ReviewSettings
    assert sections["distill"] is declared.DistillSettings
    label = sections["label"]
    assert issubclass(label, declared.LabelSettings) and issubclass(label, declared.TeacherChoice)
    assert set(label.model_fields) == set(declared.LabelSettings.model_fields) | set(
        declared.TeacherChoice.model_fields
    )
    assert not inspect.get_annotations(label)  # declares no field of its own


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_setting_has_help(model: type[BaseModel]) -> None:
    for spec in declared.field_specs(model):
        assert spec.help, f"{model.__name__}.{spec.name} has no help: write its docstring"


async def test_the_tui_forms_start_at_the_models_defaults(store, make_app) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.tui.screens.train import TrainDialog
    from alkd_tui.tui.widgets.runs.dialogs import DistillDialog
    from alkd_tui.tui.widgets.settings_form import SettingsFields

    app = make_app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        for dialog in (TrainDialog(["d"]), DistillDialog(["s"], ["sel"], None)):
            app.push_screen(dialog)
            await pilot.pause()
            (fields,) = dialog.query(SettingsFields)
            for spec in fields.specs:
                shown = fields.values().get(spec.name)
                if spec.default is None:
                    assert shown is None, (type(dialog).__name__, spec.name, shown)
                elif spec.kind in ("int", "float"):
                    assert float(shown) == spec.default, (type(dialog).__name__, spec.name)
                else:
                    assert shown == spec.default, (type(dialog).__name__, spec.name, shown)
            dialog.dismiss(None)
            await pilot.pause()
        for area, prefix in (("3", "lab"), ("2", "sel")):  # Label and Select
            await pilot.press(area)
            await pilot.pause(0.3)
            (fields,) = app.screen.query(SettingsFields)
            assert fields.prefix == prefix
            for spec in fields.specs:
                shown = fields.values().get(spec.name)
                expected = None if spec.default is None else spec.default
                assert (
                    shown if shown is None or spec.kind not in ("int", "float") else float(shown)
                ) == expected


def written_controls(source: str) -> list[tuple[int, str]]:
    """(line, id) of every TUI control for a setting (its id ends with the setting's name)
    that starts at a value written in the code instead of the model's default."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in
                ("FormInput", "Input", "FormSelect", "Select", "Checkbox")):  # fmt: skip
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        ident = keywords.get("id")
        if not (isinstance(ident, ast.Constant) and isinstance(ident.value, str)):
            continue
        setting = ident.value.rsplit("-", 1)[-1]
        value = keywords.get(
            "value", node.args[0] if node.args and node.func.id.endswith("Input") else None
        )  # type: ignore[attr-defined]
        if setting in FIELDS and isinstance(value, ast.Constant) and value.value not in (None, ""):
            found.append((node.lineno, ident.value))
    return found


def test_no_tui_control_of_a_setting_starts_at_a_written_value() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: #{ident}"
        for path in sorted((ROOT / "alkd_tui/tui").rglob("*.py"))
        for line, ident in written_controls(path.read_text())
    ]
    assert problems == [], "make these fields with SettingsFields (the model's defaults)"
    assert written_controls('FormInput("40", type="integer", id="sel-budget")\n') == [
        (1, "sel-budget")
    ]
