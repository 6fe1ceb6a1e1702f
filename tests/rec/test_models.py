"""The seven session recommenders: interface, padding, gradients, seeding, and learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alkd_tui.errors import BadInputError
from alkd_tui.rec.batch import SessionBatch, make_batch
from alkd_tui.rec.models import ARCHITECTURES, build_model
from alkd_tui.rec.models.base import SessionRecommender
from alkd_tui.rec.models.srgnn import session_graphs

ALL = sorted(ARCHITECTURES)
N_ITEMS = 50
MAX_LEN = 10


def _sessions(seed: int, count: int, n_items: int = N_ITEMS) -> list[list[int]]:
    """Random sessions of every length 1..MAX_LEN (and longer ones, to be truncated), with
    repeated items."""
    rng = np.random.default_rng(seed)
    lengths = [1 + i % (MAX_LEN + 2) for i in range(count)]
    return [rng.integers(0, n_items, size=n).tolist() for n in lengths]


def _batch(sessions: list[list[int]], n_items: int = N_ITEMS) -> SessionBatch:
    """A padded batch from whole sessions (all of each as input, the last MAX_LEN kept)."""
    flat = np.array([i for s in sessions for i in s], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sessions])]).astype(np.int64)
    return make_batch(flat, offsets, np.arange(len(sessions)), n_items, MAX_LEN)


def _model(arch: str, dim: int, seed: int = 0, n_items: int = N_ITEMS) -> SessionRecommender:
    torch.manual_seed(seed)
    return build_model(arch, n_items, dim, MAX_LEN)


def test_registry_names_match_classes() -> None:
    assert set(ALL) == {"fpmc", "stamp", "gru4rec", "narm", "sasrec", "srgnn", "attenmixer"}
    for name, cls in ARCHITECTURES.items():
        assert cls.architecture == name
        assert issubclass(cls, SessionRecommender)
        assert cls.__module__ == f"alkd_tui.rec.models.{name}"


def test_build_model_accepts_spelling_variants() -> None:
    assert isinstance(build_model("SR-GNN", 5, 4), ARCHITECTURES["srgnn"])
    assert isinstance(build_model("Atten_Mixer", 5, 4), ARCHITECTURES["attenmixer"])


def test_unknown_architecture_is_bad_input_listing_known_names() -> None:
    with pytest.raises(BadInputError) as info:
        build_model("transformer4rec", 10, 8)
    message = str(info.value)
    assert "\n" not in message
    assert "transformer4rec" in message
    for name in ALL:
        assert name in message


@pytest.mark.parametrize(
    ("arch", "hparams"),
    [
        ("gru4rec", {"layerz": 2}),
        ("sasrec", {"heads": 3}),  # 3 does not divide 16
        ("attenmixer", {"levels": 0}),
        ("fpmc", {"dropout": 0.1}),
    ],
)
def test_bad_hparams_are_bad_input(arch: str, hparams: dict[str, object]) -> None:
    with pytest.raises(BadInputError, match=arch):
        build_model(arch, 10, 16, **hparams)


def test_bad_sizes_are_bad_input() -> None:
    with pytest.raises(BadInputError):
        build_model("narm", 0, 16)


@pytest.mark.parametrize("dim", [10, 100])
def test_sasrec_heads_divide_dim(dim: int) -> None:
    model = build_model("sasrec", N_ITEMS, dim)
    assert dim % model.heads == 0
    assert model.heads == (1 if dim == 10 else 2)


@pytest.mark.parametrize("dim", [10, 100])
@pytest.mark.parametrize("arch", ALL)
def test_shapes_and_score_items_match_score_all(arch: str, dim: int) -> None:
    model = _model(arch, dim).eval()
    batch = _batch(_sessions(1, 24))
    assert batch.items.shape == (24, MAX_LEN)
    assert batch.lengths.min() == 1 and (batch.items == N_ITEMS).any()
    candidates = torch.randint(0, N_ITEMS, (24, 7), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        session = model.encode(batch)
        items = model.item_vectors()
        scores = model.score_all(batch)
        picked = model.score_items(batch, candidates)
    assert session.shape == (24, dim)
    assert items.shape == (N_ITEMS, dim)
    assert scores.shape == (24, N_ITEMS)
    assert picked.shape == (24, 7)
    assert torch.isfinite(scores).all()
    assert scores.std() > 0  # not a constant
    torch.testing.assert_close(picked, scores.gather(1, candidates), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dim", [10, 100])
@pytest.mark.parametrize("arch", ALL)
def test_padding_does_not_change_scores(arch: str, dim: int) -> None:
    model = _model(arch, dim).eval()
    sessions = _sessions(2, 12)
    mixed = _batch(sessions)
    with torch.no_grad():
        together = model.score_all(mixed)
        for b, session in enumerate(sessions):
            alone = model.score_all(_batch([session]))
            assert alone.shape == (1, N_ITEMS)
            torch.testing.assert_close(alone[0], together[b], rtol=0, atol=1e-5)
        # Wider padding than any session needs changes nothing either.
        wide = SessionBatch(
            F.pad(mixed.items, (0, 5), value=N_ITEMS), mixed.lengths, mixed.pad, None
        )
        torch.testing.assert_close(model.score_all(wide), together, rtol=0, atol=1e-5)


@pytest.mark.parametrize("arch", ALL)
def test_scores_depend_on_the_session(arch: str) -> None:
    """Different sessions get different scores (the encoder is not ignoring its input)."""
    model = _model(arch, 16).eval()
    with torch.no_grad():
        scores = model.score_all(_batch([[1, 2, 3], [4, 5, 6], [7]]))
    scale = scores.abs().max()  # STAMP starts with tiny scores (its init is N(0, 0.002))
    assert scale > 0
    assert (scores[0] - scores[1]).abs().max() > 1e-3 * scale
    assert (scores[0] - scores[2]).abs().max() > 1e-3 * scale


@pytest.mark.parametrize("arch", ALL)
def test_gradients_reach_the_item_embedding(arch: str) -> None:
    model = _model(arch, 16).train()
    batch = _batch(_sessions(4, 16))
    targets = torch.randint(0, N_ITEMS, (16,), generator=torch.Generator().manual_seed(5))
    F.cross_entropy(model.score_all(batch), targets).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(param.grad).all(), f"{name} has a non-finite gradient"
    tables = [
        m for m in model.modules() if isinstance(m, nn.Embedding) and m.padding_idx == N_ITEMS
    ]
    assert tables, "no item embedding with padding_idx = n_items"
    seen = batch.items[batch.mask].unique()
    reached = False
    for table in tables:
        grad = table.weight.grad
        assert table.weight.shape[0] == N_ITEMS + 1
        assert grad[N_ITEMS].abs().max() == 0  # padding row stays untouched
        assert torch.equal(table.weight[N_ITEMS].detach(), torch.zeros(16))
        reached |= bool((grad[seen].abs().sum(1) > 0).all())
    assert reached, "the session items' embeddings got no gradient"
    # The output side: every real item's vector gets a gradient from the full softmax.
    out = model.item_vectors()
    assert out.requires_grad


@pytest.mark.parametrize("arch", ALL)
def test_same_seed_same_initial_scores(arch: str) -> None:
    batch = _batch(_sessions(6, 8))
    with torch.no_grad():
        first = _model(arch, 10, seed=7).eval().score_all(batch)
        again = _model(arch, 10, seed=7).eval().score_all(batch)
        other = _model(arch, 10, seed=8).eval().score_all(batch)
    assert torch.equal(first, again)
    assert (first - other).abs().max() > 1e-2 * first.abs().max()


def test_srgnn_session_graph() -> None:
    pad = 20
    items = torch.tensor([[5, 7, 5, 9], [3, pad, pad, pad]])
    nodes, alias, a_in, a_out = session_graphs(items, items != pad, pad)
    assert nodes.tolist() == [[5, 7, 9, pad], [3, pad, pad, pad]]
    assert alias.tolist() == [[0, 1, 0, 2], [0, 0, 0, 0]]
    # Edges 5->7, 7->5, 5->9: node 0 has out-degree 2, every node in-degree 1.
    expected_out = torch.zeros(4, 4)
    expected_out[0, 1] = expected_out[0, 2] = 0.5
    expected_out[1, 0] = 1.0
    expected_in = torch.zeros(4, 4)
    expected_in[1, 0] = expected_in[0, 1] = expected_in[2, 0] = 1.0
    torch.testing.assert_close(a_out[0], expected_out)
    torch.testing.assert_close(a_in[0], expected_in)
    assert a_out[1].abs().sum() == 0 and a_in[1].abs().sum() == 0
    # A repeated transition counts once; a repeated click is a self-loop.
    items = torch.tensor([[1, 2, 1, 2, 2]])
    _, alias, a_in, a_out = session_graphs(items, items != pad, pad)
    assert alias.tolist() == [[0, 1, 0, 1, 1]]
    torch.testing.assert_close(a_out[0, :2, :2], torch.tensor([[0.0, 1.0], [0.5, 0.5]]))
    torch.testing.assert_close(a_in[0, :2, :2], torch.tensor([[0.0, 1.0], [0.5, 0.5]]))


def _successor_task(n_items: int = 30) -> SessionBatch:
    """Every session runs a, a+1, ... (mod n_items); the next item is the last one plus 1."""
    sessions, targets = [], []
    for start in range(n_items):
        for length in range(1, MAX_LEN + 1):
            sessions.append([(start + i) % n_items for i in range(length)])
            targets.append((start + length) % n_items)
    batch = _batch(sessions, n_items)
    batch.targets = torch.tensor(targets)
    return batch


@pytest.mark.parametrize("arch", ALL)
def test_model_learns_the_successor_task(arch: str) -> None:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    n_items = 30
    batch = _successor_task(n_items)
    assert batch.targets is not None
    model = _model(arch, 16, seed=0, n_items=n_items)

    def accuracy() -> float:
        model.eval()
        with torch.no_grad():
            hits = model.score_all(batch).argmax(1) == batch.targets
        return hits.float().mean().item()

    before = accuracy()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(120):
        optimiser.zero_grad()
        F.cross_entropy(model.score_all(batch), batch.targets).backward()
        optimiser.step()
    after = accuracy()
    assert before < 0.2  # chance is 1/30
    assert after > 0.5, f"{arch}: training accuracy {after:.2f} (before {before:.2f})"
