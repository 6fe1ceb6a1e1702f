"""Per-session scores from a trained recommender: difficulty (the paper) and predictive entropy.

Difficulty (ALKDRec, larger = harder)::

    df_s = -(1/|s|) * sum_{v in s} sigmoid(enc(s) . e_v)

with the recommender's session encoder `enc` and output item vectors `e`, over the session's
input items as the model sees them (its last `max_len`, repeats counted once per position).
A session whose own items score high under its own representation is easy to fit.

The paper computes it with the *teacher* recommender (the default here). The authors' code
(github.com/kk97111/ALKDRec, `teacher_and_student_prediction.ipynb`, `FPMC.py`, `STAMP.py`)
computes the same quantity with the *student*, as `student_model.user_out_of_distribution_loss`
(mean over the masked input positions of `sigmoid(user_eb . item_emb(v))`, output item
embeddings), stores it as `difference` and sorts ascending (smallest = hardest). In the
published notebook that call is commented out and `difference` is all zeros, so the
published pipeline ranks sessions in an arbitrary order; the recorded selections in
`shared/data/alkdrec-*/selections` (easiest and hardest differ) must come from a run with it
enabled. `source="student"` reproduces that variant; the authors call the model in training
mode (dropout on, where the architecture has dropout); here every model runs in eval mode.

Predictive entropy (the `uncertainty` baseline): `H_s = -sum_i q_i log q_i` with
`q = softmax(score_all(s))` over every item.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from alkd_tui.data.canonical import SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.rec.batch import SessionBatch, mask_own_items
from alkd_tui.rec.device import device_of
from alkd_tui.rec.instances import Instances
from alkd_tui.rec.models.base import SessionRecommender

Scorer = Callable[[np.ndarray], np.ndarray]
"""Maps dataset rows to one float64 score per row."""


def _item_vectors(model: SessionRecommender) -> torch.Tensor:
    try:
        return model.item_vectors()
    except NotImplementedError:
        raise BadInputError(
            f"a {model.architecture} model has no session encoder and item embeddings; "
            "difficulty needs an embedding recommender (fpmc, stamp, gru4rec, narm, sasrec, srgnn, attenmixer)"
        ) from None


@torch.no_grad()
def session_difficulty(
    model: SessionRecommender,
    ds: SessionDataset,
    rows: np.ndarray,
    *,
    batch_size: int = 1024,
    report: Reporter = silent,
    task: str = "difficulty",
) -> np.ndarray:
    """`df_s` (module doc) of dataset rows `rows`, float64, aligned with `rows`."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty(len(rows), dtype=np.float64)
    if not len(rows):
        return out
    model.eval()
    vectors = _item_vectors(model).double()
    instances = Instances.of_rows(ds, rows, model.max_len)
    progress = Task(report, task, len(rows), "sessions")
    start = 0
    for batch in instances.batches(batch_size, device=device_of(model)):
        session = model.encode(batch).double()  # [B, D]
        mask = batch.mask
        items = torch.where(mask, batch.items, torch.zeros_like(batch.items))
        dots = torch.einsum("bd,bld->bl", session, vectors[items])
        mean = (torch.sigmoid(dots) * mask).sum(1) / batch.lengths.double()
        stop = start + len(mean)
        out[start:stop] = -mean.cpu().numpy()
        progress.advance(len(mean))
        start = stop
    progress.end()
    return out


@torch.no_grad()
def predictive_entropy(
    model: SessionRecommender,
    ds: SessionDataset,
    rows: np.ndarray,
    *,
    batch_size: int = 256,
    report: Reporter = silent,
    task: str = "entropy",
) -> np.ndarray:
    """Entropy (nats) of the softmax over all items' scores, per row, float64."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty(len(rows), dtype=np.float64)
    if not len(rows):
        return out
    model.eval()
    instances = Instances.of_rows(ds, rows, model.max_len)
    progress = Task(report, task, len(rows), "sessions")
    start = 0
    for batch in instances.batches(batch_size, device=device_of(model)):
        log_q = torch.log_softmax(model.score_all(batch).double(), dim=1)
        entropy = -(log_q.exp() * log_q).sum(1)
        stop = start + len(entropy)
        out[start:stop] = entropy.cpu().numpy()
        progress.advance(len(entropy))
        start = stop
    progress.end()
    return out


def difficulty_scorer(
    model: SessionRecommender,
    ds: SessionDataset,
    *,
    batch_size: int = 1024,
    report: Reporter = silent,
    task: str = "difficulty",
) -> Scorer:
    """`rows -> df` with this model and dataset (what the strategies take)."""
    return lambda rows: session_difficulty(
        model, ds, rows, batch_size=batch_size, report=report, task=task
    )


def entropy_scorer(
    model: SessionRecommender,
    ds: SessionDataset,
    *,
    batch_size: int = 256,
    report: Reporter = silent,
) -> Scorer:
    """`rows -> predictive entropy` with this model and dataset."""
    return lambda rows: predictive_entropy(model, ds, rows, batch_size=batch_size, report=report)


#: Items compared by the disagreement signal (the audit's answer length).
DISAGREEMENT_N = 25


@torch.no_grad()
def top_items(model: SessionRecommender, batch: SessionBatch, n: int) -> torch.Tensor:
    """The model's top `n` items per instance of `batch`, the session's own items excluded."""
    scores = mask_own_items(model.score_all(batch).float(), batch)
    return scores.topk(min(n, scores.shape[1]), dim=1).indices


@torch.no_grad()
def session_disagreement(
    teacher: SessionRecommender,
    student: SessionRecommender,
    ds: SessionDataset,
    rows: np.ndarray,
    *,
    n: int = DISAGREEMENT_N,
    batch_size: int = 512,
    report: Reporter = silent,
) -> np.ndarray:
    """`1 - |top n of the teacher ∩ top n of the student| / n` per row, float64, the session's
    own items excluded from both lists (as from the candidates the LLM is shown)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty(len(rows), dtype=np.float64)
    if not len(rows):
        return out
    teacher.eval()
    student.eval()
    progress = Task(report, "disagreement", len(rows), "sessions")
    t_batches = Instances.of_rows(ds, rows, teacher.max_len).batches(batch_size, device=device_of(teacher))
    s_batches = Instances.of_rows(ds, rows, student.max_len).batches(batch_size, device=device_of(student))
    start = 0
    for t_batch, s_batch in zip(t_batches, s_batches, strict=True):
        t_top, s_top = top_items(teacher, t_batch, n), top_items(student, s_batch, n)
        width = t_top.shape[1]
        common = (t_top.unsqueeze(2) == s_top.unsqueeze(1)).any(2).sum(1).double()
        stop = start + len(common)
        out[start:stop] = (1.0 - common / width).cpu().numpy()
        progress.advance(len(common))
        start = stop
    progress.end()
    return out


def disagreement_scorer(
    teacher: SessionRecommender,
    student: SessionRecommender,
    ds: SessionDataset,
    *,
    n: int = DISAGREEMENT_N,
    report: Reporter = silent,
) -> Scorer:
    """`rows -> disagreement` (`session_disagreement`) of these two models on this dataset."""
    return lambda rows: session_disagreement(teacher, student, ds, rows, n=n, report=report)
