"""Where a job's questions go: `auto` and `local` (a `TeacherChoice`) made concrete.

`auto` asks Ollama at the hosts ($OLLAMA_HOST by default) when it answers with the model,
else the local compatibility server; `local` always the local compatibility server. The local
server is started for the job (and stopped after it). `alkd label`, `alkd teacher hints` and
`alkd run` (once for its hints and labels) all go through here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alkd_tui.errors import BadInputError, TeacherUnavailableError
from alkd_tui.progress import ProgressEvent, Reporter, silent
from alkd_tui.teacher.registry import BACKENDS, LOCAL_MODEL, normalize_host, server_hosts
from alkd_tui.teacher.settings import TeacherChoice

LOCAL_SERVER = "local compatibility server (not Ollama)"


@dataclass(frozen=True)
class Endpoint:
    """A concrete teacher (a backend of the registry) and who it is, in words."""

    choice: TeacherChoice
    description: str


def ollama_has(hosts: list[str], model: str) -> bool:
    """Whether an Ollama server answers at the first host and has `model` (a quick check)."""
    import httpx

    try:
        response = httpx.get(normalize_host(hosts[0]) + "/api/tags", timeout=2.0)
        names = {m.get("model") or m.get("name") for m in response.json().get("models", [])}
    except (httpx.HTTPError, ValueError, AttributeError):
        return False
    return model in names or f"{model}:latest" in names


@contextmanager
def teacher_endpoint(
    choice: TeacherChoice, *, seed: int, report: Reporter = silent, task: str = "label"
) -> Iterator[Endpoint]:
    """The teacher `choice` names, with `auto` and `local` resolved (the local compatibility
    server started for the block, and stopped after it)."""
    if choice.teacher in BACKENDS and choice.teacher != "ollama":
        yield Endpoint(choice, choice.teacher)
        return
    model = choice.model or LOCAL_MODEL
    hosts = server_hosts(choice.hosts)
    if choice.teacher == "ollama" or (choice.teacher == "auto" and ollama_has(hosts, model)):
        concrete = choice.model_copy(update={"teacher": "ollama", "model": model, "hosts": hosts})
        yield Endpoint(concrete, f"Ollama server at {', '.join(hosts)}")
        return
    from alkd_tui.teacher.server.model import INSTALL_HINT, find_model_path, require_llama_cpp

    try:
        require_llama_cpp()
        find_model_path()
    except TeacherUnavailableError:
        where = (
            ""
            if choice.teacher == "local"
            else f"no Ollama answers at {hosts[0]} with {model}, and "
        )
        raise TeacherUnavailableError(
            f"{where}the local compatibility server is not installed: {INSTALL_HINT}; or start Ollama "
            f"(`ollama serve`, `ollama pull {model}`) and set OLLAMA_HOST"
        ) from None
    if model != LOCAL_MODEL:
        raise BadInputError(f"the {LOCAL_SERVER} serves only {LOCAL_MODEL}; choose that model")
    from alkd_tui.teacher.server import serve_in_thread

    with serve_in_thread(seed=seed) as url:
        report(ProgressEvent("log", task, message=f"started the {LOCAL_SERVER} at {url}"))
        concrete = choice.model_copy(update={"teacher": "ollama", "model": model, "hosts": [url]})
        yield Endpoint(concrete, f"{LOCAL_SERVER} at {url}")
    report(ProgressEvent("log", task, message=f"stopped the {LOCAL_SERVER}"))
