"""How the teacher is asked, declared once: `GenerationSettings` (any question to an LLM),
`LabelSettings` (the ranking questions of a labelling job) and `HintSettings` (the one hints
question), and `TeacherChoice` (who answers). `alkd label`, `alkd teacher hints`, the TUI's
Label area and `alkd run`'s [label] and [hints] sections all derive from these."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alkd_tui.teacher.prompts import LETTERS
from alkd_tui.teacher.registry import BACKENDS

#: A Go duration as Ollama reads `keep_alive`: 10m, 1h30m, 300s, -1m.
_DURATION = re.compile(r"-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")

ASK = "Asking"
BUDGET = "Budget and robustness"

#: Who may answer: a backend of the registry, or `auto` / `local` (an Ollama-style server that
#: alkd finds or starts: `alkd_tui.pipeline.endpoint`).
Teacher = Literal[("auto", "local", *BACKENDS)]  # type: ignore[valid-type]
#: What `auto` and `local` are (the backends say what they are in the registry).
FOUND_TEACHERS = {
    "auto": "Ollama at the host if it has the model, else the local compatibility server",
    "local": "the local compatibility server (not Ollama), started for the job",
}


def teacher_summary(teacher: str) -> str:
    """What a `TeacherChoice.teacher` value is, in a few words."""
    return FOUND_TEACHERS.get(teacher) or BACKENDS[teacher].summary


def teacher_needs(teacher: str) -> str:
    """What a teacher needs named: model (auto, local, an LLM backend), file or recommender."""
    return "model" if teacher in FOUND_TEACHERS else BACKENDS[teacher].needs


class TeacherChoice(BaseModel):
    """Who answers: a backend (`alkd_tui.teacher.registry`) and what it needs."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    teacher: Teacher = "auto"  # type: ignore[assignment]
    """auto: Ollama at --host/$OLLAMA_HOST if it answers with the model, else the local
    compatibility server (started for the job); local: always the local compatibility server;
    ollama: an Ollama-style server that must answer; openai: an OpenAI-compatible server (vLLM,
    llama-server, LM Studio, the OpenAI API); replay: recorded answers; tr: the teacher
    recommender's own top items (no LLM)."""
    model: str | None = None
    """The LLM, e.g. llama3.1:8b (default: smollm2:135m, the local compatibility server's;
    openai: the one model the server lists)."""
    hosts: list[str] = Field(default_factory=list, json_schema_extra={"flag": "--host"})
    """Server URLs, requests spread over them (repeatable on the command line). ollama: default
    $OLLAMA_HOST, else 127.0.0.1:11434; openai: base URLs ending in /v1, default
    $OPENAI_BASE_URL, else https://api.openai.com/v1."""
    api_key_env: str = Field("OPENAI_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """openai: the environment variable that holds the API key (read when the job starts, never
    stored or printed; a local server needs none)."""
    file: str | None = None
    """replay: the recorded answers (session_id, ranking; JSONL, CSV or Parquet)."""


class GenerationSettings(BaseModel):
    """How any question is sent to an LLM and waited for."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    temperature: float = Field(0.0, ge=0, json_schema_extra={"panel": ASK})
    """Sampling temperature (0: the most likely answer)."""
    seed: int = Field(0, json_schema_extra={"panel": ASK})
    """Generation seed (in `alkd run`, the run's seed)."""
    think: bool = Field(False, json_schema_extra={"panel": ASK})
    """Let a thinking model think before it answers (Ollama's `think`; off: `think: false` is
    sent, so the output tokens go to the answer). The thinking is kept, never parsed."""
    keep_alive: str | int | float | None = Field("10m", json_schema_extra={"panel": ASK})
    """Ollama: how long the model stays loaded after a request (10m, 1h30m, 300; 0 unloads it
    at once, -1 keeps it). Not part of a question's hash: it does not change answers."""
    retries: int = Field(3, ge=0, json_schema_extra={"panel": BUDGET})
    """Retries of a transient failure (refused, timed out, 5xx, 429)."""
    backoff: float = Field(1.0, ge=0, json_schema_extra={"panel": BUDGET})
    """Seconds before the first retry; doubled each time, with jitter (a server's Retry-After
    is waited for when longer)."""
    timeout: float = Field(300.0, gt=0, json_schema_extra={"panel": BUDGET})
    """Seconds one request may take (the whole streamed answer)."""
    max_answer_chars: int = Field(65_536, ge=256, json_schema_extra={"panel": BUDGET})
    """An answer (with its thinking) longer than this is cut there and not read (parse status
    too_long). Not part of a question's hash."""
    input_price: float | None = Field(None, ge=0, json_schema_extra={"panel": BUDGET})
    """Price of 1,000,000 prompt tokens (any currency): the job's cost is reported with its
    tokens (tokens are recorded either way)."""
    output_price: float | None = Field(None, ge=0, json_schema_extra={"panel": BUDGET})
    """Price of 1,000,000 output tokens (same currency as --input-price)."""

    def cost(self, prompt_tokens: int, output_tokens: int) -> float | None:
        """What these tokens cost at the prices given (None without a price)."""
        if self.input_price is None and self.output_price is None:
            return None
        return (
            prompt_tokens * (self.input_price or 0.0) + output_tokens * (self.output_price or 0.0)
        ) / 1e6

    @field_validator("keep_alive")
    @classmethod
    def _keep_alive(cls, value: str | int | float | None) -> str | int | float | None:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if _NUMBER.fullmatch(text):
            number = float(text)
            return int(number) if number.is_integer() else number
        if not _DURATION.fullmatch(text):
            raise ValueError(
                f"{value!r} is not a duration (e.g. 10m, 1h30m, 300s) or a number of seconds"
            )
        return text


class LabelSettings(GenerationSettings):
    """How a labelling job asks: candidates, answer length, context, concurrency, budget."""

    kappa: int = Field(20, ge=1, json_schema_extra={"panel": ASK})
    """Candidates shown: the teacher recommender's top kappa (soft labels: at most 20; the
    paper: 50)."""
    n: int = Field(10, ge=1, json_schema_extra={"panel": ASK})
    """Items the teacher is asked to rank (the paper: 25)."""
    soft: bool = Field(False, json_schema_extra={"panel": ASK})
    """Soft labels: ask for one lettered choice and read the answer token's logprobs."""
    hints: bool = Field(False, json_schema_extra={"panel": ASK})
    """Include the hints the model wrote for the dataset (`alkd teacher hints`) in the prompts."""
    candidates: Literal["cross-fit", "full"] = Field("cross-fit", json_schema_extra={"panel": ASK})
    """Where an LLM's candidates come from. cross-fit: for a training session, a copy of the
    teacher recommender trained without that session (K folds, trained once and kept), so the
    list does not hold the target just because the teacher memorised it; full: the teacher
    itself (the paper; tr always ranks with the teacher itself)."""
    folds: int = Field(5, ge=2, le=20, json_schema_extra={"panel": ASK})
    """cross-fit: the number of folds (each fold's model trains on the other folds)."""
    calibration: int = Field(0, ge=0, le=10_000, json_schema_extra={"panel": ASK})
    """Also ask about this many validation sessions (drawn with the seed; their candidates from
    the teacher recommender, which never saw them): audited apart as the LLM's accuracy, never
    a label, never distilled."""
    force_target: bool = Field(False, json_schema_extra={"panel": ASK})
    """The paper's defect, for reproducing it: put the true target among the candidates."""
    num_ctx: int = Field(4096, ge=256, json_schema_extra={"panel": ASK})
    """Context window (tokens)."""
    num_predict: int | None = Field(None, ge=1, json_schema_extra={"panel": ASK})
    """Output token cap (default: enough for N ids)."""
    concurrency: int = Field(1, ge=1, le=64, json_schema_extra={"panel": BUDGET})
    """Requests in flight at once."""
    max_requests: int | None = Field(None, ge=0, json_schema_extra={"panel": BUDGET})
    """Send at most this many requests in this job (retries included); the rest stay pending."""
    max_tokens: int | None = Field(None, ge=0, json_schema_extra={"panel": BUDGET})
    """Stop sending once this job's prompt and output tokens reach this."""

    def generation(self) -> dict[str, Any]:
        """The options sent with every request (part of the question's hash)."""
        options: dict[str, Any] = {
            "temperature": self.temperature,
            "seed": self.seed,
            "num_ctx": self.num_ctx,
            "num_predict": self.num_predict or (4 if self.soft else 16 * self.n + 32),
        }
        if self.soft:
            options.update(logprobs=True, top_logprobs=len(LETTERS))
        if self.think:  # only when on, so that questions asked before keep their hash
            options["think"] = True
        return options


class HintSettings(BaseModel):
    """What the hints question shows (the paper's Module 1): sampled training sessions with the
    teacher recommender's top items; the LLM answers with a few short hints."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    sessions: int = Field(20, ge=1, le=200, json_schema_extra={"panel": ASK})
    """Training sessions shown to the LLM (sampled with the seed)."""
    top_k: int = Field(10, ge=1, le=50, json_schema_extra={"panel": ASK})
    """The teacher recommender's top items shown for each session."""
    max_hints: int = Field(5, ge=1, le=20, json_schema_extra={"panel": ASK})
    """Hints asked for (at most)."""
    num_ctx: int = Field(8192, ge=256, json_schema_extra={"panel": ASK})
    """The hints prompt's context window (it shows all the sessions at once)."""
    num_predict: int = Field(512, ge=1, json_schema_extra={"panel": ASK})
    """Output token cap of the hints answer."""

    def label_settings(self, generation: GenerationSettings) -> LabelSettings:
        """The labelling job's settings for the one hints request."""
        values = {**generation.model_dump(), "n": self.max_hints}
        values.update(num_ctx=self.num_ctx, num_predict=self.num_predict)
        return LabelSettings.model_validate(values)
