"""How a student is distilled from the teacher's rankings: `DistillSettings`, declared once for
`alkd distill`, the TUI's Distil dialog and `alkd run`'s [distill] section. No torch here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alkd_tui.rec.settings import Metric

#: The paper's position weights: (last position, weight) for positions 1-5, 6-15, 16-25.
PAPER_ALPHA = ((5, 3.0), (15, 2.0), (25, 1.0))

LOSS = "Loss"
OPTIMISATION = "Optimisation"


class DistillConfig(BaseModel):
    """How to distil the teacher's rankings into the student (stored with the distilled model)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    weighting: Literal["paper", "dllm2rec", "uniform"] = Field(
        "paper", json_schema_extra={"panel": LOSS}
    )
    """Weights of ranking positions: the paper's alpha bands (3/2/1 for positions 1-5/6-15/
    16-25), DLLM2Rec's exp(-pos/beta), or 1."""
    alpha: list[tuple[int, float]] = Field(
        default_factory=lambda: list(PAPER_ALPHA), json_schema_extra={"panel": LOSS, "cli": False}
    )
    """The paper's bands: (last position, weight)."""
    beta: float = Field(10.0, gt=0, json_schema_extra={"panel": LOSS})
    """DLLM2Rec's position decay."""
    negatives: Literal["in-batch", "sampled"] = Field("in-batch", json_schema_extra={"panel": LOSS})
    """Negatives: other sessions' ranked items in the batch (the authors' code), or uniform."""
    n_negatives: int = Field(1, ge=1, json_schema_extra={"panel": LOSS})
    """Negatives per ranked item."""
    soft: bool = Field(False, json_schema_extra={"panel": LOSS})
    """Use the teacher's probabilities (soft labels, from logprobs) where it gave them."""
    gt_weight: float = Field(0.0, ge=0, json_schema_extra={"panel": LOSS})
    """Mix in the ground-truth cross-entropy on training sessions with this weight."""
    max_positions: int = Field(25, ge=1, json_schema_extra={"panel": LOSS})
    """Use at most this many ranked items per session."""
    keep_student: bool = Field(True, json_schema_extra={"panel": OPTIMISATION})
    """Keep the undistilled student when no validation check beats it (the copy is then the
    student unchanged, best epoch 0); off, the best check is kept even when it is worse."""
    epochs: int = Field(300, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """At most this many epochs (500 labels make a few batches an epoch)."""
    batch_size: int = Field(64, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """Labelled sessions per batch."""
    lr: float = Field(1e-3, gt=0, json_schema_extra={"panel": OPTIMISATION})
    """Adam learning rate."""
    weight_decay: float = Field(0.0, ge=0, json_schema_extra={"panel": OPTIMISATION})
    """Adam weight decay."""
    stop: Literal["checkpoints", "patience"] = Field(
        "checkpoints", json_schema_extra={"panel": OPTIMISATION}
    )
    """checkpoints: check the validation metric at epochs 10, 30, 100, 300... only (one
    epoch's change is smaller than the validation noise); patience: after every epoch. Either
    way the best check's student is kept (or the undistilled one: keep_student)."""
    patience: int = Field(2, ge=1, json_schema_extra={"panel": OPTIMISATION})
    """Checks (checkpoints, or epochs) without a better validation metric before stopping."""
    metric: Metric = Field("recall@10", json_schema_extra={"panel": OPTIMISATION})
    """The validation metric that early stopping follows."""
    seed: int = 0
    """Seed of the batch order and the negatives (in `alkd run`, the run's seed)."""


#: The distillation settings, under the name the other steps' settings have.
DistillSettings = DistillConfig
