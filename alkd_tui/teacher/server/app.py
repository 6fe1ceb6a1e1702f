"""The HTTP side: the subset of Ollama's API that the official `ollama` client uses.

Standard library only (`ThreadingHTTPServer`): each connection gets a thread, generations
queue on the model's lock. Streams are NDJSON in chunked transfer encoding; an error after
the stream has begun is sent as an `{"error": ...}` line, as Ollama does.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alkd_tui import __version__
from alkd_tui.errors import BadInputError, TeacherUnavailableError
from alkd_tui.teacher.registry import LOCAL_VERSION_SUFFIX
from alkd_tui.teacher.server.model import (
    MAX_TOP_LOGPROBS,
    MODEL_PACKAGE,
    BadRequest,
    Chunk,
    Done,
    GenerationError,
    LocalModel,
    require_llama_cpp,
)
from alkd_tui.teacher.server.settings import ServeSettings

log = logging.getLogger("alkd_tui.teacher.server")

SERVER_VERSION = f"{__version__}{LOCAL_VERSION_SUFFIX}"
SERVER_NAME = "alkd local compatibility server (not Ollama)"
MAX_BODY = 32 * 1024 * 1024
# Test hook: fail after N generated tokens; honoured only by a server made with test_hooks=True.
TEST_HOOK_FIELD = "_alkd_test_fail_after"
_UNSUPPORTED = {
    "/api/embed", "/api/embeddings", "/api/create", "/api/copy", "/api/push", "/api/delete",
}  # fmt: skip
_SMOLLM2_LICENSE = (
    "SmolLM2-135M-Instruct (Hugging Face, HuggingFaceTB) is released under the Apache License "
    "2.0: https://www.apache.org/licenses/LICENSE-2.0 (model card: "
    "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct). The GGUF file comes from the "
    f"{MODEL_PACKAGE} package (Apache-2.0)."
)


class ApiError(Exception):
    """An error answered as `{"error": message}` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


def _host_name(value: str) -> str:
    """The host of a Host header or an origin's authority ("[::1]:11434" -> "::1")."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback_name(host: str) -> bool:
    """Whether a name seen in a request is loopback, without resolving it (a name that
    resolves to 127.0.0.1 is how DNS rebinding reaches a local server): `localhost` or a
    loopback address literal."""
    if host.rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(host_header: str | None, origin: str | None, allow_remote: bool) -> str:
    """Why a request is refused (empty when it is not): the server has no authentication,
    so it answers only requests addressed to a loopback name (a web page using DNS
    rebinding is not) and no request that a web page on another origin sends from a
    browser (a text/plain POST needs no preflight). With `allow_remote`, any Host."""
    if (
        not allow_remote
        and host_header is not None
        and not is_loopback_name(_host_name(host_header))
    ):
        return f"Host {host_header[:80]!r} is not a loopback name: this server answers local clients only"
    if origin is not None and origin != "null":
        scheme, _, authority = origin.partition("://")
        if scheme not in ("http", "https") or not is_loopback_name(_host_name(authority)):
            return f"requests from the web page {origin[:80]!r} are refused (Origin not local)"
    elif origin == "null":
        return "requests from a sandboxed or local-file web page are refused (Origin null)"
    return ""


class CompatServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` serving one `LocalModel` with Ollama's API."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        model: LocalModel,
        *,
        family: socket.AddressFamily = socket.AF_INET,
        test_hooks: bool = False,
        allow_remote: bool = False,
    ) -> None:
        self.address_family = family
        self.model = model
        self.test_hooks = test_hooks
        self.allow_remote = allow_remote
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. `http://127.0.0.1:11434`."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def create_server(
    settings: ServeSettings | None = None,
    *,
    model: LocalModel | None = None,
    test_hooks: bool = False,
    **given: Any,
) -> CompatServer:
    """Bind a server (not yet serving) as `settings` (or `given` fields of them) say. Raises
    `BadInputError` for a non-loopback host without `allow_remote`, `TeacherUnavailableError`
    when llama-cpp-python or the model is missing or the port cannot be bound."""
    s = settings or ServeSettings.model_validate(given)
    host, port = s.host, s.port
    if not s.allow_remote and not is_loopback(host):
        raise BadInputError(
            f"refusing to listen on {host}: not a loopback address and the server has no "
            "authentication; pass --allow-remote to serve other machines"
        )
    require_llama_cpp()
    if model is None:
        model = LocalModel(s.model_path, n_ctx=s.num_ctx, n_threads=s.threads, seed=s.seed)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise BadInputError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    family, _, _, _, sockaddr = infos[0]
    try:
        return CompatServer(
            sockaddr[:2], model, family=family, test_hooks=test_hooks, allow_remote=s.allow_remote
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise TeacherUnavailableError(
                f"cannot listen on {host}:{port}: the port is in use (Ollama or another "
                "server?); choose another with --port"
            ) from None
        raise TeacherUnavailableError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None


@contextmanager
def serve_in_thread(
    settings: ServeSettings | None = None,
    *,
    model: LocalModel | None = None,
    test_hooks: bool = False,
    preload: bool = False,
    **given: Any,
) -> Iterator[str]:
    """Serve in a background thread; yields the base URL and stops the server (and frees a
    model it created) on exit. Without a port given, any free one."""
    own_model = model is None
    server = create_server(
        settings or ServeSettings.model_validate({"port": 0, **given}),
        model=model,
        test_hooks=test_hooks,
    )
    if preload:
        server.model.load()
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"alkd-local-server-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        if own_model:
            server.model.close()


def serve_forever(
    settings: ServeSettings, *, on_ready: Callable[[CompatServer], None] | None = None
) -> None:
    """Serve until interrupted (KeyboardInterrupt propagates after a clean shutdown)."""
    server = create_server(settings)
    try:
        if on_ready is not None:
            on_ready(server)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.model.close()


# -- request parsing ----------------------------------------------------------------------


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(400, f"{key} must be a boolean")
    return value


def _keep_alive_zero(body: dict[str, Any]) -> bool:
    value = body.get("keep_alive")
    if value is None:
        return False
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ApiError(400, "keep_alive must be a number of seconds or a duration string")
    if isinstance(value, str):
        return value.strip() in ("0", "0s", "0m", "0h")
    return value == 0


def _top_logprobs(body: dict[str, Any]) -> int | None:
    """None when logprobs are not asked for, else the number of alternatives (0-20)."""
    wanted = _flag(body, "logprobs", False)
    n = body.get("top_logprobs", 0)
    if n is None:
        n = 0
    if isinstance(n, bool) or not isinstance(n, int):
        raise ApiError(400, "top_logprobs must be an integer")
    if not 0 <= n <= MAX_TOP_LOGPROBS:
        raise ApiError(400, f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}")
    return n if wanted else None


def _format(body: dict[str, Any]) -> Any:
    fmt = body.get("format")
    if fmt in (None, "") or fmt == "json" or isinstance(fmt, dict):
        return fmt or None
    raise ApiError(400, 'invalid format: expected "json" or a valid JSON schema')


def _model_details(model: LocalModel) -> dict[str, Any]:
    g = model.gguf
    return {
        "parent_model": "",
        "format": "gguf",
        "family": g.architecture,
        "families": [g.architecture],
        "parameter_size": g.parameter_size,
        "quantization_level": g.quantization_level,
    }


# -- the handler --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: CompatServer
    protocol_version = "HTTP/1.1"
    # Small writes (headers, then streamed lines) must not wait for the peer's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "alkd-local/" + __version__
    sys_version = ""
    timeout = 300

    # plumbing

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _send_line(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _read_body(self) -> dict[str, Any]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raw = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
                if len(raw) > MAX_BODY:
                    self.close_connection = True
                    raise ApiError(413, "request body too large")
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise ApiError(400, "invalid Content-Length") from None
            if length > MAX_BODY:
                self.close_connection = True
                raise ApiError(413, "request body too large")
            raw = bytearray(self.rfile.read(length)) if length > 0 else bytearray()
        if not raw.strip():
            raise ApiError(400, "missing request body")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"invalid JSON in the request body: {exc}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return body

    def _model_for(self, body: dict[str, Any]) -> LocalModel:
        name = body.get("model") or body.get("name")
        if not name:
            raise ApiError(400, "model is required")
        if not isinstance(name, str):
            raise ApiError(400, "model must be a string")
        model = self.server.model
        wanted = name.strip().lower()
        if ":" not in wanted.rsplit("/", 1)[-1]:
            wanted += ":latest"
        if wanted.removeprefix("registry.ollama.ai/library/") != model.name.lower():
            raise ApiError(404, f'model "{name}" not found, try pulling it first')
        return model

    def _dispatch(self, routes: dict[str, Callable[[], None]]) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        refused = refusal(
            self.headers.get("Host"), self.headers.get("Origin"), self.server.allow_remote
        )
        if refused:
            self._drain()
            self.close_connection = True
            self._send_json(403, {"error": refused})
            return
        try:
            route = routes.get(path)
            if route is not None:
                route()
            elif path in _UNSUPPORTED:
                self._drain()
                raise ApiError(
                    501,
                    f"{path} is not supported by the {SERVER_NAME}; it serves one built-in model",
                )
            else:
                self._drain()
                raise ApiError(404, f"{self.command} {path}: not found")
        except ApiError as exc:
            self._send_json(exc.status, {"error": exc.message})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug: answer 500, keep serving
            log.exception("unexpected error on %s %s", self.command, path)
            self._send_json(500, {"error": f"internal error: {type(exc).__name__}: {exc}"})

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    # methods

    def do_HEAD(self) -> None:
        self._dispatch({"/": self._root, "/api/version": self._version, "/api/tags": self._tags})

    def do_GET(self) -> None:
        self._dispatch(
            {
                "/": self._root,
                "/api/version": self._version,
                "/api/tags": self._tags,
                "/api/ps": self._ps,
            }
        )

    def do_POST(self) -> None:
        self._dispatch(
            {
                "/api/chat": self._chat,
                "/api/generate": self._generate,
                "/api/show": self._show,
                "/api/pull": self._pull,
            }
        )

    def do_DELETE(self) -> None:
        self._dispatch({})

    # endpoints

    def _root(self) -> None:
        self._send_text(200, f"{SERVER_NAME} is running")

    def _version(self) -> None:
        # The pid lets another alkd-tui (on another database) say which process serves here.
        self._send_json(200, {"version": SERVER_VERSION, "pid": os.getpid()})

    def _listing(self) -> dict[str, Any]:
        model = self.server.model
        return {
            "name": model.name,
            "model": model.name,
            "modified_at": _iso(model.path.stat().st_mtime),
            "size": model.gguf.size,
            "digest": model.gguf.sha256(),
            "details": _model_details(model),
        }

    def _tags(self) -> None:
        self._send_json(200, {"models": [self._listing()]})

    def _ps(self) -> None:
        model = self.server.model
        models = []
        if model.loaded:
            entry = self._listing()
            del entry["modified_at"]
            entry.update(
                expires_at="2999-12-31T23:59:59Z",
                size_vram=0,
                context_length=model.loaded_context or model.n_ctx,
            )
            models.append(entry)
        self._send_json(200, {"models": models})

    def _show(self) -> None:
        body = self._read_body()
        model = self._model_for(body)
        g = model.gguf
        info = g.scalar_metadata()
        info.setdefault("general.parameter_count", g.parameter_count)
        info.pop("tokenizer.chat_template", None)
        if g.metadata.get("general.basename") == "smollm2":
            license_text = _SMOLLM2_LICENSE
        else:
            declared = g.metadata.get("general.license")
            license_text = f"{declared} (as declared in the GGUF metadata)" if declared else ""
        parameters = "\n".join(
            [
                f"num_ctx {model.n_ctx}",
                "temperature 0.8",
                "top_k 40",
                "top_p 0.9",
                "repeat_penalty 1.1",
            ]
        )
        modelfile = (
            f"# Modelfile of the {SERVER_NAME}\n"
            f"# (the chat template is the GGUF's Jinja template, not an Ollama Go template)\n"
            f"FROM {model.path.name}\n"  # the file's name: a local path is no client's business
            + "".join(f"PARAMETER {line}\n" for line in parameters.splitlines())
        )
        self._send_json(
            200,
            {
                "license": license_text,
                "modelfile": modelfile,
                "parameters": parameters,
                "template": model.chat_template(),
                "details": _model_details(model),
                "model_info": info,
                "capabilities": ["completion"],
                "modified_at": _iso(model.path.stat().st_mtime),
            },
        )

    def _pull(self) -> None:
        body = self._read_body()
        stream = _flag(body, "stream", True)
        try:
            self._model_for(body)
        except ApiError as exc:
            if exc.status == 404:
                raise ApiError(404, "pull model manifest: file does not exist") from None
            raise
        if not stream:
            self._send_json(200, {"status": "success"})
            return
        self._start_stream()
        self._send_line({"status": "success"})
        self._end_stream()

    def _chat(self) -> None:
        body = self._read_body()
        model = self._model_for(body)
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            raise ApiError(400, "messages must be an array")
        self._refuse_features(body, model)

        def frame(chunk: Chunk) -> dict[str, Any]:
            return {"message": {"role": "assistant", "content": chunk.text}}

        def final(text: str) -> dict[str, Any]:
            return {"message": {"role": "assistant", "content": text}}

        self._complete(
            body,
            model,
            lambda **kw: model.stream_chat(messages, **kw),
            empty=not messages,
            frame=frame,
            final=final,
        )

    def _generate(self) -> None:
        body = self._read_body()
        model = self._model_for(body)
        prompt = body.get("prompt") or ""
        system = body.get("system")
        context = body.get("context")
        if not isinstance(prompt, str):
            raise ApiError(400, "prompt must be a string")
        if system is not None and not isinstance(system, str):
            raise ApiError(400, "system must be a string")
        if context is not None and not (
            isinstance(context, list) and all(isinstance(t, int) for t in context)
        ):
            raise ApiError(400, "context must be an array of integers")
        if body.get("template"):
            raise ApiError(400, f"custom templates are not supported by the {SERVER_NAME}")
        if body.get("suffix"):
            raise ApiError(400, f'"{model.name}" does not support insert')
        if body.get("images"):
            raise ApiError(400, f'"{model.name}" does not support images')
        raw = _flag(body, "raw", False)
        self._refuse_features(body, model)
        result: dict[str, Any] = {}

        def frame(chunk: Chunk) -> dict[str, Any]:
            return {"response": chunk.text}

        def final(text: str) -> dict[str, Any]:
            return {"response": text, "context": result.get("context", [])}

        def start(**kw: Any) -> Iterator[Chunk | Done]:
            inner = model.stream_generate(prompt, system=system, raw=raw, context=context, **kw)
            try:
                for item in inner:
                    if isinstance(item, Done):
                        result["context"] = item.context
                    yield item
            finally:
                inner.close()

        self._complete(body, model, start, empty=not prompt, frame=frame, final=final)

    def _refuse_features(self, body: dict[str, Any], model: LocalModel) -> None:
        if body.get("tools"):
            raise ApiError(400, f'"{model.name}" does not support tools')
        think = body.get("think")
        if think not in (None, False, "", "none"):
            raise ApiError(400, f'"{model.name}" does not support thinking')

    def _complete(
        self,
        body: dict[str, Any],
        model: LocalModel,
        start: Callable[..., Iterator[Chunk | Done]],
        *,
        empty: bool,
        frame: Callable[[Chunk], dict[str, Any]],
        final: Callable[[str], dict[str, Any]],
    ) -> None:
        stream = _flag(body, "stream", True)
        fmt = _format(body)
        n_top = _top_logprobs(body)
        unload = _keep_alive_zero(body)
        options = body.get("options")
        if options is not None and not isinstance(options, dict):
            raise ApiError(400, "options must be an object")
        fail_after = None
        if self.server.test_hooks:  # in the body or in options (which the ollama client passes)
            for source in (body, options or {}):
                if isinstance(source.get(TEST_HOOK_FIELD), int):
                    fail_after = source[TEST_HOOK_FIELD]
        head = {"model": model.name}

        if empty:  # Ollama: load (or, with keep_alive 0, unload) the model and say so
            try:
                if unload:
                    model.close()
                else:
                    model.load()
            except GenerationError as exc:
                raise ApiError(500, str(exc)) from None
            done = {**final(""), "done": True, "done_reason": "unload" if unload else "load"}
            payload = {**head, "created_at": _now(), **done}
            if stream:
                self._start_stream()
                self._send_line(payload)
                self._end_stream()
            else:
                self._send_json(200, payload)
            return

        items = start(options=options, format=fmt, top_logprobs=n_top, fail_after=fail_after)
        try:
            try:
                first = next(items)
            except BadRequest as exc:
                raise ApiError(400, str(exc)) from None
            except GenerationError as exc:
                raise ApiError(500, str(exc)) from None
            except StopIteration:
                raise ApiError(500, "the generation ended without a result") from None
            if stream:
                self._stream_items(first, items, head, frame, final, n_top)
            else:
                self._collect_items(first, items, head, final, n_top)
        finally:
            items.close()
            if unload:
                model.close()

    def _stream_items(
        self,
        first: Chunk | Done,
        items: Iterator[Chunk | Done],
        head: dict[str, Any],
        frame: Callable[[Chunk], dict[str, Any]],
        final: Callable[[str], dict[str, Any]],
        n_top: int | None,
    ) -> None:
        self._start_stream()
        item: Chunk | Done | None = first
        try:
            while item is not None:
                if isinstance(item, Done):
                    self._send_line(
                        {**head, "created_at": _now(), **final(""), "done": True, **item.metrics()}
                    )
                    break
                line = {**head, "created_at": _now(), **frame(item), "done": False}
                if n_top is not None:
                    line["logprobs"] = item.logprobs
                self._send_line(line)
                item = next(items, None)
        except (BrokenPipeError, ConnectionResetError):
            raise
        except (BadRequest, GenerationError) as exc:
            self._send_line({"error": str(exc)})
        except Exception as exc:
            log.exception("generation failed mid-stream")
            self._send_line({"error": f"internal error: {type(exc).__name__}: {exc}"})
        self._end_stream()

    def _collect_items(
        self,
        first: Chunk | Done,
        items: Iterator[Chunk | Done],
        head: dict[str, Any],
        final: Callable[[str], dict[str, Any]],
        n_top: int | None,
    ) -> None:
        parts: list[str] = []
        logprobs: list[dict[str, Any]] = []
        item: Chunk | Done | None = first
        try:
            while not isinstance(item, Done):
                if item is None:
                    raise ApiError(500, "the generation ended without a result")
                parts.append(item.text)
                logprobs.extend(item.logprobs)
                item = next(items, None)
        except (BadRequest, GenerationError) as exc:
            raise ApiError(500, str(exc)) from None
        payload = {
            **head,
            "created_at": _now(),
            **final("".join(parts)),
            "done": True,
            **item.metrics(),
        }
        if n_top is not None:
            payload["logprobs"] = logprobs
        self._send_json(200, payload)
