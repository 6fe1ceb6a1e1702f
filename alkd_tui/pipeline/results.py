"""What the pipeline's steps return: typed results.

The faces read attributes; `--json` prints `as_json()`, whose keys are an API (README,
"JSON results"): a field that a step leaves unset (e.g. `history` of a reused model) is left
out of the JSON, as before these types. A face that gets a result as JSON (the TUI, from a
job's last line) reads it back with `model_validate`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Result(BaseModel):
    """A step's result."""

    model_config = ConfigDict(extra="forbid")

    def as_json(self) -> dict[str, Any]:
        """The result as `--json` prints it: every field the step set, JSON types only."""
        return self.model_dump(mode="json", exclude_unset=True)


class ModelSummary(Result):
    """A trained (or distilled, or fitted) recommender."""

    model: int
    name: str
    dataset_id: int
    architecture: str
    role: str
    dim: int
    status: str
    metrics: dict[str, Any]
    """split -> metric -> value (valid, test, test_excluding_own), and `training` figures."""
    config: dict[str, Any]
    """The resolved training settings."""
    checkpoint: str | None
    parent: int | None
    run: int | None
    created_at: str
    reused: bool = False
    """An identical finished model was reused: nothing was trained."""
    history: list[dict[str, Any]] | None = None
    """Per epoch: loss, validation metrics, seconds (when trained now, and in `show_model`)."""

    def figure(self, split: str = "test_excluding_own", metric: str = "recall@10") -> float | None:
        """One stored metric, or None."""
        value = self.metrics.get(split, {}).get(metric)
        return None if value is None else float(value)


class DistilledModel(ModelSummary):
    """A student distilled from a selection's accepted labels."""

    labels: int
    teacher: str
    student: str
    student_metrics: dict[str, Any]

    def below_student(self, metric: str = "recall@10") -> bool:
        """Whether the distilled copy is below the undistilled student on validation (the
        default distillation keeps its best check, which can still be below it)."""
        before = (self.student_metrics.get("valid") or {}).get(metric)
        after = (self.metrics.get("valid") or {}).get(metric)
        return before is not None and after is not None and after < before

    def kept_student(self) -> bool:
        """Whether no validation check beat the undistilled student, so the copy is the
        student unchanged (best epoch 0; the `keep_student` setting)."""
        return (self.metrics.get("training") or {}).get("best_epoch") == 0

    def caution(self) -> str | None:
        """What a user should know about this copy against the undistilled student, in one
        line (the CLI and the TUI show it): kept unchanged, or below it; None otherwise."""
        if self.kept_student():
            return (
                "no validation check beat the undistilled student: the distilled model is the "
                "student unchanged"
            )
        if self.below_student():
            return (
                "the distilled student is below the undistilled one on validation (recall@10): "
                "keep the student, or distil with other settings"
            )
        return None


class DatasetSummary(Result):
    """A stored dataset: counts always; source, options and statistics when shown in full."""

    id: int
    name: str
    format: str
    sessions: dict[str, int]
    items: int
    clicks: int
    items_with_titles: int
    description: str
    created_at: str
    source: str | None = None
    alkd_version: str | None = None
    session_length: dict[str, Any] | None = None
    top_items: list[Any] | None = None
    options: dict[str, Any] | None = None
    source_sessions: int | None = None
    dropped_clicks: int | None = None
    licence: str | None = None
    """Fetched datasets: the terms of use, printed before the import."""
    reused: bool = False
    """`alkd run` found the dataset stored: nothing was imported."""


class SelectionSummary(Result):
    """A stored selection of sessions to ask the teacher about."""

    selection: int
    name: str
    dataset: str
    strategy: str
    budget: int
    size: int
    pool_size: int
    k_star: int | None
    gamma: float | None
    log10_gamma: float | None
    teacher_model: str | None
    params: dict[str, Any]
    run: int | None
    created_at: str
    members: list[dict[str, Any]] | None = None
    """In order (shown selections only): order, session, idx, split, probability, gain, difficulty."""
    reused: bool = False
    """`alkd run` found this selection made by an identical earlier step."""


class LabelResult(Result):
    """A labelling job: what it asked, and the selection's labels from that teacher model."""

    selection: int
    name: str
    teacher: dict[str, Any]
    requests: int
    cached: int
    sent: int
    answered_now: int
    failed_now: int
    elsewhere: dict[str, int]
    """Requests another job answered or failed meanwhile (claimed there): answered, failed."""
    unanswerable: int
    budget_exhausted: bool
    run: int
    answered: int
    failed: int
    pending: int
    parse: dict[str, int]
    latency_s: dict[str, float | None]
    tokens: dict[str, int]
    cost: float | None = None
    """What the selection's answers from this model cost at the job's prices (none given: unset)."""
    calibration: dict[str, Any] | None = None
    """With --calibration: the validation sessions asked about and the answers' hit@k there
    (the LLM's accuracy on sessions no model memorised)."""


class RunSummary(Result):
    """A pipeline run (`alkd run`) as stored."""

    run: int
    name: str
    kind: str
    status: str
    error: str | None
    seed: int | None
    started_at: str
    finished_at: str | None
    config: dict[str, Any]
    env: dict[str, Any]
    steps: dict[str, dict[str, Any]]
    teacher: dict[str, Any] | None
    selection: str | None
    labels: dict[str, Any] | None
    hints: list[dict[str, Any]] | None
    review: dict[str, Any] | None
    results: dict[str, Any] | None
    """Per model (teacher_recommender, student, distilled): its name and metrics."""
    distillation: dict[str, Any] | None = None
    """Distilled minus student on the test split (R@10, own items excluded): difference,
    standard_error (over the test sessions), sessions."""

    def figure(self, model: str, split: str = "test_excluding_own", metric: str = "recall@10") -> float | None:
        """One model's stored metric, or None."""
        value = ((self.results or {}).get(model) or {}).get(split, {}).get(metric)
        return None if value is None else float(value)


class ItemView(Result):
    """One item as a reviewer sees it: index, external id, title; whether it is the session's
    true next item; the teacher's (or the student's) score where there is one."""

    idx: int
    item: str
    title: str | None
    is_target: bool = False
    score: float | None = None

    @property
    def label(self) -> str:
        """The title, else the external id."""
        return self.title or self.item


class LabelDetail(Result):
    """One teacher request in full, as the answer for one session (`views.label_detail`)."""

    request: int
    session_id: int
    session_key: str
    session_index: int
    dataset_id: int
    split: str
    status: str
    """The review status (pending, accepted, rejected, skipped, flagged)."""
    edited: bool
    verdicts: dict[str, str] = {}
    """Each reviewer's standing verdict (reviewer -> status)."""
    reviews_required: int = 1
    """Reviewers who must decide before the decision stands (the selection's)."""
    session: list[ItemView]
    """The session's items, oldest first."""
    target: ItemView
    ranking: list[ItemView]
    """As it stands: the latest edit, else the answer (with its scores)."""
    answered_ranking: list[ItemView]
    candidates: list[ItemView]
    prompt: str
    raw_response: str
    parse_status: str | None
    parse_notes: list[str]
    request_status: str
    error: str | None
    provenance: dict[str, Any]
    """backend, model, digest, server_version, template_version, prompt_hash, options,
    latency_s, prompt_tokens, output_tokens, attempts, run."""
    member: dict[str, Any] | None
    """The session's order, probability, gain and difficulty in the selection."""
    history: list[dict[str, Any]]
    """The review events, oldest first: id, action, after, note, reviewer."""


def distillation_note(found: dict[str, Any] | None) -> str | None:
    """What distillation did (a run's `distillation`), against the noise of the test split,
    in one sentence; None without the figures."""
    if not found or not found.get("sessions"):
        return None
    diff, se, n = found["difference"], found["standard_error"], found["sessions"]
    what = f"distillation: {diff:+.4f} Recall@10 (own items excluded) over the student on {n:,} test sessions"
    if abs(diff) >= 2 * se:
        return f"{what}, more than twice its standard error (± {se:.4f}): beyond the noise of the test split"
    return (
        f"{what}, within twice its standard error (± {se:.4f}): on this test split a difference "
        "this size can be chance, and other seeds move it too; compare runs of other seeds "
        "(--set seed=N, then `alkd runs diff A B`) before reading a gain into it"
    )


class CurvePoint(BaseModel):
    """One fraction of the curve: its labels and the metric over the seeds."""

    fraction: float
    labels: int
    values: list[float]
    """The metric for each seed."""
    mean: float
    std: float
    gain: float
    """Mean over seeds of (distilled − student)."""
    gain_std: float


class CurveResult(Result):
    """A label curve (`alkd curve`): the student, the points, and what they say."""

    selection: str
    student: str
    teacher: str
    metric: str
    split: str
    accepted: int
    seeds: int
    student_value: float
    points: list[CurvePoint]
    last_gain: float
    """Mean over seeds of the last step's change (last point minus the one before)."""
    last_gain_se: float
    next_step: dict[str, Any]
    """What doubling the labels would buy: {"labels", "gain", "se", "how"}."""
    verdict: str
    run: int | None = None
