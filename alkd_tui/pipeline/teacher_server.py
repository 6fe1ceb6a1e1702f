"""Where the LLM teacher lives and whether it answers: the Ollama host (`OLLAMA_HOST`, else
127.0.0.1:11434), a quick probe of `GET /api/version`, and the models of `GET /api/tags`.

The local compatibility server (`alkd teacher serve`) speaks the same API; its version ends
in `-alkd-local`, which is how a probe tells it from Ollama.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from alkd_tui.teacher.registry import (
    LOCAL_VERSION_SUFFIX,
    normalize_base_url,
    normalize_host,
    server_hosts,
)

__all__ = ["ServerStatus", "normalize_host", "probe_server", "server_models", "teacher_host"]


def teacher_host() -> str:
    """The Ollama host the teacher is asked at: `$OLLAMA_HOST`, else 127.0.0.1:11434."""
    return server_hosts()[0]


@dataclass(frozen=True)
class ServerStatus:
    """What a probe of an Ollama-compatible server found."""

    host: str
    reachable: bool
    version: str | None = None
    error: str | None = None
    pid: int | None = None
    """The serving process (alkd's local compatibility server says it)."""

    @property
    def local(self) -> bool:
        """Whether it is alkd's local compatibility server rather than Ollama."""
        return bool(self.version and self.version.endswith(LOCAL_VERSION_SUFFIX))

    @property
    def kind(self) -> str:
        """`Ollama`, `local compatibility server`, or `server` when unreachable."""
        if not self.reachable:
            return "server"
        return "local compatibility server" if self.local else "Ollama"


#: How long a probe of the server waits (seconds): it must not hold up a screen.
PROBE_WAIT_S = 2.0
LIST_WAIT_S = 5.0


def probe_server(host: str, wait_s: float = PROBE_WAIT_S) -> ServerStatus:
    """`GET {host}/api/version`: reachable or not, and the version it reports."""
    url = normalize_host(host)
    try:
        response = httpx.get(f"{url}/api/version", timeout=wait_s)
        response.raise_for_status()
        body = response.json()
        version = str(body.get("version", "?"))
        pid = body.get("pid")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return ServerStatus(url, False, error=f"{type(exc).__name__}: {exc}".strip(": "))
    return ServerStatus(url, True, version=version, pid=pid if isinstance(pid, int) else None)


def server_models(host: str, wait_s: float = LIST_WAIT_S) -> list[str]:
    """The model names `GET {host}/api/tags` lists; for a server that speaks the OpenAI API
    instead, those `GET {host}/v1/models` lists (empty when the server does not answer)."""
    try:
        response = httpx.get(f"{normalize_host(host)}/api/tags", timeout=wait_s)
        response.raise_for_status()
        listed = response.json().get("models", [])
        return sorted({str(m.get("model") or m.get("name")) for m in listed if isinstance(m, dict)})
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    try:
        response = httpx.get(f"{openai_base_url(host)}/models", timeout=wait_s)
        response.raise_for_status()
        entries = response.json().get("data", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return sorted({str(e.get("id")) for e in entries if isinstance(e, dict) and e.get("id")})


def openai_base_url(host: str) -> str:
    """The OpenAI-compatible base URL of a server given by its root (`/v1` added) or its
    base URL (kept)."""
    url = normalize_base_url(host)
    return url if url.rstrip("/").endswith("/v1") else f"{normalize_host(url)}/v1"
