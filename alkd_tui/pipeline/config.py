"""`alkd run`'s configuration: one pydantic model per step, read from TOML, overridden with
`--set a.b=c`. Unknown keys and wrong types are one clear line naming the key."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alkd_tui.active.settings import SelectSettings
from alkd_tui.distill.settings import DistillSettings
from alkd_tui.errors import BadInputError, InputFileError, shown
from alkd_tui.paths import EXAMPLE_DATASET
from alkd_tui.pipeline.review import ReviewSettings
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.teacher.registry import BACKENDS, llm_backends
from alkd_tui.teacher.settings import HintSettings, LabelSettings, TeacherChoice


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class DatasetStep(_Step):
    """Which dataset: reused when the database has it, else imported (or the bundled example)."""

    name: str = EXAMPLE_DATASET
    """The dataset's name in the database (the bundled example when it is missing)."""
    format: str | None = None
    """Import from `path` in this format when the dataset is missing."""
    path: str | None = None
    """The file or folder to import (relative to the config file)."""
    preprocess: dict[str, Any] = Field(default_factory=dict)
    """Preprocessing options of the import (`alkd data import --help`)."""
    reader: dict[str, Any] = Field(default_factory=dict)
    """Reader options of the import (delimiter, encoding, columns...)."""


class LabelStep(LabelSettings, TeacherChoice):
    """Who answers the run's questions (`TeacherChoice`) and how they are asked (`LabelSettings`)."""


#: The steps whose settings have a seed: the run's seed is theirs.
SEEDED = ("teacher_recommender", "student", "select", "label", "distill")


class RunConfig(_Step):
    """The whole pipeline: dataset, teacher recommender, student, select, (hints,) label,
    review, distill. Every section is a step's own settings model; a setting a section does
    not give takes that model's default (for the recommenders: the recipe for the role)."""

    name: str = "default"
    """The run's name (runs are told apart by id; names need not be unique)."""
    seed: int = 0
    """The seed of every step: recommenders, draws, generation, distillation."""
    dataset: DatasetStep = Field(default_factory=DatasetStep)
    teacher_recommender: TrainSettings = Field(default_factory=TrainSettings)
    """The large recommender that scores difficulty and proposes the candidates (role teacher)."""
    student: TrainSettings = Field(default_factory=TrainSettings)
    """The small recommender that is distilled (role student)."""
    select: SelectSettings = Field(default_factory=SelectSettings)
    label: LabelStep = Field(default_factory=LabelStep)
    hints: HintSettings = Field(default_factory=HintSettings)
    """With label.hints = true: the LLM's hints, asked first (with label's generation settings)."""
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    distill: DistillSettings = Field(default_factory=DistillSettings)

    @model_validator(mode="after")
    def _hints_need_an_llm(self) -> RunConfig:
        teacher = self.label.teacher
        if self.label.hints and teacher in BACKENDS and not BACKENDS[teacher].is_llm:
            raise ValueError(
                f"label.hints = true needs an LLM to write the hints, and label.teacher = "
                f"{teacher!r} cannot (it answers with {BACKENDS[teacher].summary}): use "
                f"label.teacher = 'auto', 'local' or {', '.join(repr(b) for b in llm_backends())}, "
                "or set label.hints = false"
            )
        return self

    @model_validator(mode="after")
    def _one_seed(self) -> RunConfig:
        for section in SEEDED:
            step = getattr(self, section)
            if "seed" in step.model_fields_set and step.seed != self.seed:
                raise ValueError(
                    f"{section}.seed: the run's seed is every step's; set `seed` at the top "
                    "(or --set seed=N)"
                )
        return self

    def dump(self) -> dict[str, Any]:
        """The configuration as a run records it (JSON; the steps' seeds are the run's)."""
        return self.model_dump(mode="json", exclude={section: {"seed"} for section in SEEDED})

    def seeded(self, section: str) -> Any:
        """A section's settings with the run's seed."""
        return getattr(self, section).model_copy(update={"seed": self.seed})


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.\s(?=[A-Z`])", text)
    return text if end is None else text[: end.start() + 1]


def default_toml() -> str:
    """The embedded default of `alkd run` (what runs with no config), written out as TOML from
    the settings models, every setting with the first sentence of its help; a setting whose
    default is "unset" (a recipe's value, or none) is shown commented out."""
    lines = [
        "# The embedded default of `alkd run` (what runs with no config), written out.",
        "# Generated from the settings models: `alkd run --print-config > configs/default.toml`.",
        "# Paths in a config file are relative to the file's folder.",
    ]
    defaults = RunConfig()
    for name, info in RunConfig.model_fields.items():
        value = getattr(defaults, name)
        if not isinstance(value, BaseModel):
            lines.append(
                f"{name} = {_toml_value(value)}  # {_first_sentence(info.description or '')}"
            )
    for name, info in RunConfig.model_fields.items():
        section = getattr(defaults, name)
        if not isinstance(section, BaseModel):
            continue
        lines += [
            "",
            f"[{name}]" + (f"  # {_first_sentence(info.description)}" if info.description else ""),
        ]
        notes = getattr(type(section), "default_note", None)
        for key, field in type(section).model_fields.items():
            if key == "seed" and name in SEEDED:
                continue
            value = getattr(section, key)
            help_text = _first_sentence(field.description or "")
            if value is None:
                note = notes(key) if notes else None
                lines.append(f"# {key} =   # {note or 'unset'}: {help_text}")
            else:
                lines.append(f"{key} = {_toml_value(value)}  # {help_text}")
    return "\n".join(lines) + "\n"


def config_message(exc: ValidationError, where: str) -> str:
    """One line for the first problem of a configuration: the key and what is wrong."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        return f"{where}: unknown key {key!r}"
    if not key and err.get("type") == "value_error":  # a rule across settings: its own words
        return f"{where}: {err.get('ctx', {}).get('error', err['msg'])}"
    if err.get("type") == "literal_error":
        return f"{where}: {key} {shown(err.get('input'))}: use {err.get('ctx', {}).get('expected', '')}"
    return f"{where}: {key}: {err['msg']}"


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `a.b=c` to nested `data` (the value read as TOML: 3, 0.5, true, "x", [1, 2])."""
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip():
        raise BadInputError(f"--set {assignment!r}: expected KEY=VALUE, e.g. select.budget=100")
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BadInputError(f"--set {assignment!r}: {part} is not a section")
        node = child
    node[parts[-1]] = _parse_value(value.strip())


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """The run configuration from a TOML file (or the embedded default) and `--set` overrides."""
    data: dict[str, Any] = {}
    where = "the default configuration"
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise InputFileError(file, "no such file")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            at = re.search(r"at line (\d+)", str(exc))
            line = int(at.group(1)) if at else None
            raise InputFileError(
                file, f"not valid TOML ({str(exc).split(' (at')[0]})", line
            ) from None
        except UnicodeDecodeError:
            raise InputFileError(file, "not valid UTF-8 text") from None
        where = str(file)
    for assignment in overrides or []:
        apply_override(data, assignment)
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(config_message(exc, where)) from None
    if path is not None:
        _resolve_paths(cfg, Path(path).expanduser().resolve().parent)
    return cfg


def _resolve_paths(cfg: RunConfig, base: Path) -> None:
    """Relative file paths in a config file are relative to the file's own folder."""

    def resolve(value: str | None) -> str | None:
        if value is None or Path(value).is_absolute():
            return value
        return str((base / value).resolve())

    cfg.dataset.path = resolve(cfg.dataset.path)
    cfg.label.file = resolve(cfg.label.file)
    cfg.select.from_file = resolve(cfg.select.from_file)
    if cfg.select.pool and ":" in cfg.select.pool:
        kind, _, rest = cfg.select.pool.partition(":")
        cfg.select.pool = f"{kind}:{resolve(rest)}"
