"""Every architecture trains and evaluates from the CLI on the real alkdrec-ml dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

ARCHITECTURES = ["fpmc", "stamp", "gru4rec", "narm", "sasrec", "srgnn", "attenmixer", "pop", "sknn"]


@pytest.fixture
def ml(alkd, shared_data: Path) -> str:  # type: ignore[no-untyped-def]
    assert alkd("data", "import", "alkdrec", shared_data / "alkdrec-ml", "--name", "ml").code == 0
    return "ml"


def test_every_architecture_trains_and_evaluates_on_alkdrec_ml(alkd, ml: str) -> None:  # type: ignore[no-untyped-def]
    chance_at_20 = 20 / 8475
    for arch in ARCHITECTURES:
        result = alkd(
            "train",
            "--dataset",
            ml,
            "--model",
            arch,
            "--dim",
            "32",
            "--epochs",
            "1",
            "--batch-size",
            "256",
            "--loss",  # one epoch of full softmax beats chance for every architecture
            "ce",
            "--lr",
            "1e-3",
            "--json",
        )
        assert result.code == 0, (arch, result.err)
        trained = json.loads(result.out)
        test = trained["metrics"]["test"]
        assert test["sessions"] == 2465
        assert test["recall@20"] > 2 * chance_at_20, (arch, test)
        evaluated = json.loads(alkd("eval", trained["name"], "--exclude-own", "--json").out)
        assert evaluated["sessions"] == 2465
        assert evaluated["recall@20"] == trained["metrics"]["test_excluding_own"]["recall@20"]
