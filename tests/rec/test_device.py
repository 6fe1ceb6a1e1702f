"""`--device`: where recommenders compute. The suite runs on the CPU; the GPU itself is checked by
benchmarks/gpu_check.py on a machine that has one. Here: the choice, its one-line refusals, where
models go, and that the code run per batch makes no tensor on the CPU by mistake.

(PyTorch's "meta" device and fake tensors would catch a mix of devices without a GPU, but
neither runs the data-dependent steps of these losses: a masked selection, `.item()`.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from alkd_tui.errors import BadInputError
from alkd_tui.rec.device import device_of, place, resolve
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.rec.trainer import make_recommender
from tests.conftest import successor_dataset

ALKD = [sys.executable, "-m", "alkd_tui.cli.main"]


def test_auto_means_a_gpu_where_torch_sees_one_and_cuda_without_one_is_refused() -> None:
    assert resolve("cpu") == torch.device("cpu")
    if torch.cuda.is_available():
        assert resolve("auto").type == resolve("cuda").type == "cuda"
    else:
        assert resolve("auto") == torch.device("cpu")
        with pytest.raises(BadInputError, match=r"--device cuda: torch .* sees no CUDA GPU"):
            resolve("cuda")
    with pytest.raises(BadInputError, match="--device 'gpu': give auto, cpu or cuda"):
        resolve("gpu")


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["--device", "gpu"], {}, "alkd: error: --device 'gpu': give auto, cpu or cuda"),
        ([], {"ALKD_DEVICE": "GPU"}, "alkd: error: $ALKD_DEVICE 'GPU': give auto, cpu or cuda"),
    ],
)
def test_a_bad_device_is_one_line_and_exit_2(
    args: list[str], env: dict[str, str], line: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    done = subprocess.run(
        [*ALKD, "--db", str(tmp_path / "a.db"), *args, "data", "list"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.strip() == line


#: The modules that run per batch. Each tensor they make is made on a given device, or is one
#: that stays on the CPU by design (its line says "on the CPU"): built once, then moved.
PER_BATCH = [
    "alkd_tui/rec/trainer.py", "alkd_tui/rec/loop.py", "alkd_tui/rec/evaluate.py",
    "alkd_tui/rec/metrics.py", "alkd_tui/rec/batch.py", "alkd_tui/distill/loss.py",
    "alkd_tui/distill/finetune.py", "alkd_tui/active/difficulty.py", "alkd_tui/teacher/candidates.py",
    *[f"alkd_tui/rec/models/{name}.py" for name in ("base", "fpmc", "stamp", "gru4rec", "narm", "sasrec", "srgnn", "attenmixer")],
]  # fmt: skip
FACTORIES = {"arange", "empty", "zeros", "ones", "full", "rand", "randn", "randint", "tensor", "eye", "linspace"}


def _factory_calls_without_a_device(path: Path) -> list[str]:
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
            continue
        if node.func.attr not in FACTORIES or any(k.arg == "device" for k in node.keywords):
            continue
        text = " ".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
        if "on the CPU" not in text and "nn.Parameter(" not in text:
            found.append(f"{path.name}:{node.lineno}: {text.strip()}")
    return found


def test_every_tensor_made_per_batch_is_made_on_a_given_device() -> None:
    """What a GPU would find at its first batch (two devices in one operation), found here on
    the CPU by reading the code: a torch factory call without `device=` in the per-batch
    modules. (Weights made at build time move with the model; those are `nn.Parameter`s.)"""
    root = Path(__file__).resolve().parents[2]
    missing = [call for name in PER_BATCH for call in _factory_calls_without_a_device(root / name)]
    assert missing == []
    seeded = root / "alkd_tui/rec/trainer.py"
    assert "device=batch.targets.device" in seeded.read_text()  # the check sees what it checks


def test_place_moves_a_model_to_the_device_and_leaves_a_fitted_baseline_on_the_cpu() -> None:
    ds = successor_dataset(n_items=12, n_sessions=40)
    model = place(make_recommender(TrainSettings(architecture="gru4rec").resolved("student"), ds.n_items))
    assert device_of(model) == resolve("auto")
    baseline = place(make_recommender(TrainSettings(architecture="pop").resolved("baseline"), ds.n_items))
    assert device_of(baseline) == torch.device("cpu")


def test_a_run_records_the_device_it_computed_on() -> None:
    from alkd_tui.pipeline.run_records import environment

    env = environment()  # torch is loaded here, as in every run that trains or scores
    assert env["device"] == resolve("auto").type
    assert ("gpu" in env) == (env["device"] == "cuda")
