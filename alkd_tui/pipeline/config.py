"""`alkd run`'s configuration: one pydantic model per step, read from TOML, overridden with
`--set a.b=c`. Unknown keys and wrong types are one clear line naming the key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alkd_tui.errors import BadInputError, InputFileError


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetStep(_Step):
    """Which dataset: reused when the database has it, else imported (or the bundled example)."""

    name: str = "synthetic-games"
    format: str | None = None
    """Import from `path` in this format when the dataset is missing."""
    path: str | None = None
    preprocess: dict[str, Any] = Field(default_factory=dict)
    reader: dict[str, Any] = Field(default_factory=dict)


class RecommenderStep(_Step):
    """A recommender to train (its seed is the run's)."""

    architecture: str = "fpmc"
    dim: int = 10
    loss: Literal["ce", "bpr"] = "ce"
    negatives: Literal["sampled", "in-batch"] = "sampled"
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    patience: int = 3
    metric: str = "recall@10"
    max_len: int = 10
    hparams: dict[str, Any] = Field(default_factory=dict)


class TeacherRecommenderStep(RecommenderStep):
    """The large recommender that scores difficulty and proposes the candidates (the paper: dim 100)."""

    dim: int = 100


class SelectStep(_Step):
    """Which sessions the teacher is asked about."""

    strategy: str = "alkd"
    budget: int = 20
    ratios: str = "1:5:4"
    mu: float = 10.0
    pool: str | None = None
    """None (every training session) or replay:FILE (only sessions with recorded answers)."""
    from_file: str | None = None
    """Instead of a strategy: the session ids of a file, in order (the paper's lists)."""
    sequential: bool = False


class LabelStep(_Step):
    """Who answers and how it is asked."""

    teacher: Literal["auto", "ollama", "local", "replay", "tr"] = "auto"
    """auto: Ollama at OLLAMA_HOST if it answers with the model, else the local compatibility
    server; local: always the local compatibility server (not Ollama)."""
    model: str = "smollm2:135m"
    hosts: list[str] = Field(default_factory=list)
    file: str | None = None
    kappa: int = 20
    n: int = 10
    soft: bool = False
    hints: bool = False
    """Include hints in the prompts: the run first asks the LLM teacher for them (the `hints`
    step, set up by `[hints]`); needs an LLM teacher (auto, ollama or local)."""
    force_target: bool = False
    temperature: float = 0.0
    num_ctx: int = 4096
    num_predict: int | None = None
    concurrency: int = 1
    max_requests: int | None = None
    max_tokens: int | None = None
    retries: int = 3
    timeout: float = 300.0
    keep_alive: str | int | float | None = "10m"
    """Ollama: how long the server keeps the model loaded after a request."""


class HintsStep(_Step):
    """With `label.hints = true`: before labelling, the LLM teacher (label.model, with label's
    temperature, retries, timeout and keep_alive) reads the teacher recommender's top items for
    a few training sessions, sampled with the run's seed, and writes short hints (the paper's
    Module 1) that every ranking prompt then includes. Asked once: a re-run reuses them."""

    sessions: int = Field(20, ge=1, le=200)
    """Training sessions shown to the LLM."""
    top_k: int = Field(10, ge=1, le=50)
    """The teacher recommender's top items shown for each session."""
    max_hints: int = Field(5, ge=1, le=20)
    """Hints asked for (at most)."""
    num_ctx: int = Field(8192, ge=256)
    """The hints prompt's context window (it shows `sessions` sessions at once)."""
    num_predict: int = Field(512, ge=1)
    """Output token cap of the hints answer."""


class ReviewStep(_Step):
    """auto: accept labels by rule; manual: stop until a person has reviewed them."""

    policy: Literal["auto", "manual"] = "auto"
    rule: Literal["parsed", "ok", "full"] = "parsed"
    """parsed: a non-empty ranking; ok: parsed cleanly; full: parsed cleanly or repaired."""
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """auto: also require the teacher's score for its top choice to be at least this (soft
    labels give a probability); labels without scores are then left pending."""


class DistillStep(_Step):
    """How the student learns from the accepted labels."""

    weighting: Literal["paper", "dllm2rec", "uniform"] = "paper"
    negatives: Literal["in-batch", "sampled"] = "in-batch"
    n_negatives: int = 1
    soft: bool = False
    gt_weight: float = 0.0
    epochs: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    patience: int = 3
    metric: str = "recall@10"


class RunConfig(_Step):
    """The whole pipeline: dataset, teacher recommender, student, select, label, review, distill."""

    name: str = "default"
    seed: int = 0
    dataset: DatasetStep = Field(default_factory=DatasetStep)
    teacher_recommender: TeacherRecommenderStep = Field(default_factory=TeacherRecommenderStep)
    student: RecommenderStep = Field(default_factory=RecommenderStep)
    select: SelectStep = Field(default_factory=SelectStep)
    label: LabelStep = Field(default_factory=LabelStep)
    hints: HintsStep = Field(default_factory=HintsStep)
    review: ReviewStep = Field(default_factory=ReviewStep)
    distill: DistillStep = Field(default_factory=DistillStep)

    @model_validator(mode="after")
    def _hints_need_an_llm(self) -> RunConfig:
        if self.label.hints and self.label.teacher in ("replay", "tr"):
            what = (
                "recorded answers are rankings, not text"
                if self.label.teacher == "replay"
                else "the teacher recommender is not an LLM"
            )
            raise ValueError(
                f"label.hints = true needs an LLM to write the hints, and label.teacher = "
                f"{self.label.teacher!r} cannot ({what}): use label.teacher = 'auto', 'ollama' "
                "or 'local', or set label.hints = false"
            )
        return self


def config_message(exc: ValidationError, where: str) -> str:
    """One line for the first problem of a configuration: the key and what is wrong."""
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        return f"{where}: unknown key {key!r}"
    if not key and err.get("type") == "value_error":  # a rule across settings: its own words
        return f"{where}: {err.get('ctx', {}).get('error', err['msg'])}"
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
