"""Where recommenders compute: the CPU or a CUDA GPU, one choice per process.

`--device` (a global option of `alkd`) or `ALKD_DEVICE` names it: `auto` (the default: CUDA
when torch sees a GPU, else the CPU), `cpu` or `cuda`. Training, distillation, evaluation,
difficulty, candidate lists and the TUI's scores all place their models with `place` and
send every batch where its model is (`device_of`). Results, checkpoints and resume states
come back to the CPU, so a checkpoint trained on a GPU loads anywhere. torch is imported only
when a device is resolved: naming one costs nothing until a model needs it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from alkd_tui.errors import BadInputError

if TYPE_CHECKING:
    import torch
    from torch import nn

DEVICES = ("auto", "cpu", "cuda")
DeviceName = Literal["auto", "cpu", "cuda"]
DEVICE_ENV = "ALKD_DEVICE"

_requested: str | None = None  # None: $ALKD_DEVICE, else auto
_resolved: torch.device | None = None


def check_device_name(name: str, where: str = "--device") -> DeviceName:
    """`name` if it names a device, else one line naming `where` it came from."""
    if name not in DEVICES:
        raise BadInputError(f"{where} {name!r}: give auto, cpu or cuda")
    return name  # type: ignore[return-value]


def request_device(name: str | None, where: str = "--device") -> None:
    """Choose this process's device (None: `$ALKD_DEVICE`, else auto); resolved on first use."""
    global _requested, _resolved
    if name is None and os.environ.get(DEVICE_ENV):
        check_device_name(os.environ[DEVICE_ENV], f"${DEVICE_ENV}")
    _requested = None if name is None else check_device_name(name, where)
    _resolved = None


def choose_device(name: str | None) -> None:
    """`request_device(name)`; a named device is also set in `$ALKD_DEVICE`, so the processes
    this one starts (the TUI's jobs, `alkd run`'s local server) compute there too."""
    request_device(name)
    if name is not None:
        os.environ[DEVICE_ENV] = name


def resolve(name: str, where: str = "--device") -> torch.device:
    """The torch device `name` means here: `cuda` without a CUDA GPU is one line."""
    import torch

    check_device_name(name, where)
    if name == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if name == "cuda":
        build = torch.version.cuda
        why = "a CPU-only build" if build is None else f"built for CUDA {build}, no GPU found"
        raise BadInputError(f"{where} cuda: torch {torch.__version__} sees no CUDA GPU ({why}); use --device cpu")
    return torch.device("cpu")


def compute_device() -> torch.device:
    """This process's device (resolved once)."""
    global _resolved
    if _resolved is None:
        if _requested is not None:
            _resolved = resolve(_requested)
        else:
            _resolved = resolve(os.environ.get(DEVICE_ENV) or "auto", f"${DEVICE_ENV}")
    return _resolved


def place(model: nn.Module) -> nn.Module:
    """`model` on this process's device (moved in place; a fitted baseline stays on the CPU:
    its neighbour tables are built there)."""
    from alkd_tui.rec.baselines import FittedRecommender

    if isinstance(model, FittedRecommender):
        return model
    return model.to(compute_device())


def device_of(model: nn.Module) -> torch.device:
    """Where `model`'s weights are (the CPU for a model without any)."""
    import torch

    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def describe_device() -> dict[str, str]:
    """What a run records of its device: its name, and the GPU's where there is one."""
    import torch

    device = compute_device()
    facts = {"device": device.type}
    if device.type == "cuda":
        facts["gpu"] = torch.cuda.get_device_name(device)
    return facts
