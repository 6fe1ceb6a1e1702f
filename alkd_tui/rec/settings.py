"""How to train a recommender: `TrainSettings`, the one declaration of every training setting
(its type, bounds, help and default), and the recipes that fill the defaults.

The best settings differ between a large teacher recommender and a small student, and
between architectures, so the optimisation settings default to `None`: the recipe's value
for the architecture and role (`RECIPES`, with the figures that chose each in
docs/recommenders.md). `TrainSettings.resolved(role)` fills them in; what is stored with a
model, and hashed to identify it, is the resolved settings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from alkd_tui.rec.registry import RECOMMENDERS, canonical

ROLES = ("teacher", "student", "baseline")
Role = Literal["teacher", "student", "baseline"]
Metric = Literal[
    "recall@5", "recall@10", "recall@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@5", "mrr@10", "mrr@20"
]  # fmt: skip
#: A recommender of the registry, named as users like ("SR-GNN", "GRU4Rec").
Architecture = Annotated[
    Literal[tuple(RECOMMENDERS)],  # type: ignore[valid-type]
    BeforeValidator(lambda v: canonical(v) if isinstance(v, str) else v),
]

OPTIMISATION = "Optimisation (default: the recipe for the architecture and role)"


class Recipe(BaseModel):
    """The optimisation settings that train an architecture best in a role (measured)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dim: int
    loss: Literal["ce", "bpr"]
    negatives: Literal["sampled", "in-batch"]
    n_negatives: int = 1
    batch_size: int
    epochs: int
    lr: float
    weight_decay: float = 0.0
    patience: int
    metric: Metric


#: The recipes, by (architecture, role); "*" is any architecture. The figures behind each:
#: docs/recommenders.md ("Recipes"), measured with benchmarks/recipes.py.
_BPR_TEACHER = Recipe(dim=100, loss="bpr", negatives="in-batch", batch_size=1024, epochs=100,
                      lr=1e-2, patience=5, metric="recall@20")
_BPR_STUDENT = _BPR_TEACHER.model_copy(update={"dim": 10, "lr": 3e-3})
# Full-softmax cross-entropy, Adam at 1e-3: converges in a few epochs (patience 10 found no
# later best epoch on validation for these students).
_CE_STUDENT = Recipe(dim=10, loss="ce", negatives="in-batch", batch_size=512, epochs=30,
                     lr=1e-3, patience=3, metric="recall@10")
_CE_TEACHER = Recipe(dim=100, loss="ce", negatives="in-batch", batch_size=1024, epochs=100,
                     lr=3e-3, patience=10, metric="recall@20")

#: The recipes, by (architecture, role); "*" is any architecture: BPR with in-batch negatives
#: (the reproduction's, as the authors' code), replaced where another candidate's mean
#: validation Recall@10 over five seeds was higher by more than .001. The figures behind each:
#: docs/recommenders.md ("Recipes"), measured with benchmarks/recipes.py.
RECIPES: dict[tuple[str, str], Recipe] = {
    ("*", "teacher"): _BPR_TEACHER,
    ("*", "student"): _BPR_STUDENT,
    ("stamp", "student"): _CE_STUDENT,
    ("gru4rec", "teacher"): _CE_TEACHER,
    ("gru4rec", "student"): _CE_STUDENT,
    ("sasrec", "teacher"): _CE_TEACHER,
    ("sasrec", "student"): _CE_STUDENT,
}  # fmt: skip


def recipe(architecture: str, role: str) -> Recipe:
    """The recipe for `architecture` in `role` (a baseline takes the student's)."""
    role = "student" if role == "baseline" else role
    return RECIPES.get((canonical(architecture), role)) or RECIPES[("*", role)]


class TrainSettings(BaseModel):
    """How to train one recommender. Settings left unset take the recipe's value for the
    architecture and role (`recipe`); the resolved settings are stored with the model, and
    their hash identifies it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    architecture: Architecture = Field("fpmc", json_schema_extra={"flag": "--model"})  # type: ignore[assignment]
    """The recommender (`alkd_tui.rec.registry`; the baselines are fitted, not trained)."""
    dim: int | None = Field(None, ge=1)
    """Embedding size (the paper: 100 for the teacher recommender, 10 for the student)."""
    max_len: int = Field(10, ge=1)
    """Only the last N input items of each session are used (the paper: 10)."""
    loss: Literal["ce", "bpr"] | None = Field(None, json_schema_extra={"panel": OPTIMISATION})
    """ce: full-softmax cross-entropy; bpr: BPR (the paper's) with sampled or in-batch negatives."""
    negatives: Literal["sampled", "in-batch"] | None = Field(
        None, json_schema_extra={"panel": OPTIMISATION}
    )
    """BPR only: uniformly sampled negatives, or the other targets of the batch."""
    n_negatives: int | None = Field(None, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """BPR with sampled negatives: negatives per instance."""
    batch_size: int | None = Field(None, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """Sessions per batch."""
    epochs: int | None = Field(None, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """At most this many epochs."""
    lr: float | None = Field(None, gt=0, json_schema_extra={"panel": OPTIMISATION})
    """Adam learning rate."""
    weight_decay: float | None = Field(None, ge=0, json_schema_extra={"panel": OPTIMISATION})
    """Adam weight decay."""
    patience: int | None = Field(None, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """Early stopping: stop after this many epochs without a better validation metric."""
    metric: Metric | None = Field(None, json_schema_extra={"panel": OPTIMISATION})
    """The validation metric that early stopping follows."""
    precision: Literal["fp32", "bf16"] = Field("fp32", json_schema_extra={"panel": OPTIMISATION})
    """fp32, or bf16: the training step's matrix products in bfloat16 (torch autocast; the
    weights, the optimiser and evaluation stay fp32). docs/benchmarks.md has its speed and
    quality."""
    seed: int = 0
    """Seed of the initialisation, the shuffles and the sampled negatives."""
    hparams: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"flag": "--hparam"})
    """Architecture hyper-parameters (e.g. layers=2; on the command line KEY=VALUE, repeatable)."""

    @classmethod
    def default_note(cls, name: str) -> str | None:
        """Where an unset setting's value comes from, for help texts: the recipes' values."""
        if name not in Recipe.model_fields:
            return None
        values = {role: getattr(RECIPES[("*", role)], name) for role in ("teacher", "student")}
        note = (
            f"the recipe: {values['teacher']:g} for a teacher, {values['student']:g} for a student"
            if all(isinstance(v, int | float) for v in values.values())
            else f"the recipe: {values['teacher']} for a teacher, {values['student']} for a student"
        )
        if values["teacher"] == values["student"]:
            note = f"the recipe: {values['teacher']}"
        others = sorted(
            {
                arch
                for arch, _ in RECIPES
                if arch != "*"
                and any(getattr(recipe(arch, role), name) != values[role] for role in values)
            }
        )
        return note + (f"; other for {', '.join(others)}" if others else "")

    def canonical_architecture(self) -> str:
        return canonical(self.architecture)

    def resolved(self, role: str) -> TrainSettings:
        """These settings with every unset one taken from the recipe for the role."""
        chosen = recipe(self.architecture, role).model_dump()
        given = self.model_dump(exclude_none=True)
        return TrainSettings.model_validate(
            {**chosen, **given, "architecture": canonical(self.architecture)}
        )

    def is_resolved(self) -> bool:
        """Whether every setting has a value (what training needs)."""
        return all(value is not None for value in self.model_dump().values())


#: What a trained model's stored config is read back as (the resolved settings).
TrainConfig = TrainSettings
