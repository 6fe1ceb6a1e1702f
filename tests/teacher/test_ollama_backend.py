"""The Ollama backend against the named HTTP fixture: checks, streaming, error mapping, hosts."""

from __future__ import annotations

import re

import pytest

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.teacher.backends.base import PermanentTeacherError, TransientTeacherError
from alkd_tui.teacher.backends.ollama_backend import HostPool, OllamaTeacher, normalize_host
from alkd_tui.teacher.prompts import ItemRef, ranking_prompt

PROMPT = ranking_prompt(
    [ItemRef("a", "Alpha")], [ItemRef("x", "X"), ItemRef("y", "Y"), ItemRef("z", "Z")], 2
)


def teacher(
    fixture, model: str = "fixture:1b", hosts: tuple[str, ...] = ("127.0.0.1:11434",)
) -> OllamaTeacher:  # type: ignore[no-untyped-def]
    return OllamaTeacher(list(hosts), model, timeout=5, transport=fixture.transport)


def test_describe_records_version_and_digest(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    info = teacher(ollama_fixture).describe()
    assert info.server_version == "0.12.11-fixture"
    assert info.digest == "sha256:" + "ab" * 32
    assert info.hosts == ["http://127.0.0.1:11434"]


def test_the_description_names_the_local_compatibility_server_as_what_it_is(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    assert teacher(ollama_fixture).describe().description == (
        "Ollama model fixture:1b at http://127.0.0.1:11434"
    )
    ollama_fixture.version = "0.1.0-alkd-local"
    described = teacher(ollama_fixture).describe().description
    assert described == (
        "fixture:1b via the local compatibility server (not Ollama) at http://127.0.0.1:11434"
    )


def test_a_model_that_is_not_pulled_says_how_to_pull_it(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TeacherUnavailableError, match=r"run `ollama pull llama3:8b`"):
        teacher(ollama_fixture, "llama3:8b").describe()


def test_a_server_that_is_down_is_one_clear_line(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    ollama_fixture.down = True
    with pytest.raises(
        TeacherUnavailableError,
        match=re.escape("no Ollama server answers at http://127.0.0.1:11434"),
    ) as err:
        teacher(ollama_fixture).describe()
    assert err.value.exit_code == 3
    assert "\n" not in str(err.value)


def test_a_streamed_answer_is_assembled_with_its_token_counts(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    answer = teacher(ollama_fixture).ask(PROMPT, {"temperature": 0})
    assert answer.content == '{"ranking": ["z", "y"]}'
    assert answer.prompt_tokens == 120 and answer.output_tokens == 30
    assert answer.host == "http://127.0.0.1:11434"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (500, TransientTeacherError),
        (503, TransientTeacherError),
        (429, TransientTeacherError),
        (400, PermanentTeacherError),
        ("error-mid-stream", TransientTeacherError),
        ("malformed", TransientTeacherError),
        ("garbage-body", TransientTeacherError),
        ("not-an-object", TransientTeacherError),
        ("timeout", TransientTeacherError),
        ("connect", TransientTeacherError),
        ("no-done", TransientTeacherError),
    ],
)
def test_failures_are_transient_or_permanent(
    ollama_fixture, fault: object, error: type[Exception]
) -> None:  # type: ignore[no-untyped-def]
    ollama_fixture.faults = [fault]
    with pytest.raises(error):
        teacher(ollama_fixture).ask(PROMPT, {})


def test_keep_alive_is_sent_with_each_request(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    teacher(ollama_fixture).ask(PROMPT, {})
    OllamaTeacher(
        ["127.0.0.1"], "fixture:1b", keep_alive=-1, transport=ollama_fixture.transport
    ).ask(PROMPT, {})
    assert [b["keep_alive"] for b in ollama_fixture.bodies] == ["10m", -1]


def test_requests_are_spread_over_hosts(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    t = teacher(ollama_fixture, hosts=("http://10.0.0.1:11434", "10.0.0.2"))
    for _ in range(4):
        t.ask(PROMPT, {})
    assert ollama_fixture.hosts_seen == ["10.0.0.1:11434", "10.0.0.2:11434"] * 2


def test_host_forms() -> None:
    assert normalize_host("localhost") == "http://localhost:11434"
    assert normalize_host("http://h:8080/") == "http://h:8080"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_host_is_skipped_for_its_cool_down_then_tried_once() -> None:
    clock = FakeClock()
    pool = HostPool(2, clock=clock)
    assert [pool.pick() for _ in range(4)] == [0, 1, 0, 1]
    pool.failed(0)
    assert [pool.pick() for _ in range(4)] == [1, 1, 1, 1]  # down for 5 s
    clock.now += HostPool.FIRST_COOLDOWN_S
    picks = [pool.pick() for _ in range(4)]
    assert picks.count(0) == 1  # half-open: one request, until it answers or fails
    pool.failed(0)
    clock.now += HostPool.FIRST_COOLDOWN_S
    assert 0 not in [pool.pick() for _ in range(4)]  # twice as long after a second failure
    clock.now += HostPool.FIRST_COOLDOWN_S
    assert 0 in [pool.pick() for _ in range(4)]
    pool.answered(0)
    assert [pool.pick() for _ in range(4)].count(0) == 2  # up again


def test_a_retry_after_is_honoured_and_a_retry_avoids_the_host_that_failed() -> None:
    clock = FakeClock()
    pool = HostPool(2, clock=clock)
    pool.failed(1, retry_after=60)
    clock.now += 30
    assert {pool.pick() for _ in range(6)} == {0}
    clock.now += 31
    assert pool.down() == []
    assert pool.pick(avoid=0) == 1  # a retry goes elsewhere when it can


def test_with_every_host_down_the_one_back_soonest_is_tried() -> None:
    clock = FakeClock()
    pool = HostPool(2, clock=clock)
    pool.failed(0, retry_after=100)
    pool.failed(1)
    assert pool.pick() == 1


def test_a_429_carries_its_retry_after(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    ollama_fixture.faults = [("retry-after", 7)]
    with pytest.raises(TransientTeacherError) as err:
        teacher(ollama_fixture).ask(PROMPT, {})
    assert err.value.retry_after == 7.0


def test_with_one_host_down_every_request_goes_to_the_other(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    t = teacher(ollama_fixture, hosts=("10.0.0.1", "10.0.0.2"))
    ollama_fixture.faults = ["connect"]  # the first request's host (10.0.0.1) is refused
    with pytest.raises(TransientTeacherError):
        t.ask(PROMPT, {})
    t.ask(PROMPT, {}, attempt=1)  # the retry
    for _ in range(6):
        t.ask(PROMPT, {})
    assert ollama_fixture.hosts_seen[1:] == ["10.0.0.2:11434"] * 7


def test_a_dead_host_at_the_start_is_left_out_while_another_answers(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    import httpx

    real = ollama_fixture.handler

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "10.0.0.9":
            raise httpx.ConnectError("refused", request=request)
        return real(request)

    t = OllamaTeacher(
        ["10.0.0.9", "10.0.0.2"], "fixture:1b", transport=httpx.MockTransport(handler)
    )
    info = t.describe()
    assert "not answering at the start: http://10.0.0.9:11434" in info.description
    for _ in range(3):
        t.ask(PROMPT, {})
    assert ollama_fixture.hosts_seen == ["10.0.0.2:11434"] * 3


def test_an_answer_past_the_size_cap_is_cut_and_not_read_to_its_end(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    ollama_fixture.answer = lambda body: "x" * 50_000
    ollama_fixture.chunks = 50
    t = OllamaTeacher(
        ["h"], "fixture:1b", max_answer_chars=4_000, transport=ollama_fixture.transport
    )
    answer = t.ask(PROMPT, {})
    assert answer.cut and 4_000 < len(answer.content) <= 5_000


def test_think_is_sent_off_unless_asked_and_the_thinking_is_kept(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    plain = teacher(ollama_fixture).ask(PROMPT, {"temperature": 0})
    thought = teacher(ollama_fixture).ask(PROMPT, {"temperature": 0, "think": True})
    assert [b["think"] for b in ollama_fixture.bodies] == [False, True]
    assert "think" not in ollama_fixture.bodies[1]["options"]  # a top-level field, not an option
    assert plain.thinking is None and thought.thinking == ollama_fixture.thinking
    assert thought.content == plain.content  # the thinking is not part of the answer


def test_the_model_facts_come_from_api_show(ollama_fixture) -> None:  # type: ignore[no-untyped-def]
    info = teacher(ollama_fixture).describe()
    assert info.model_info == {"context_length": 8192, "capabilities": ["completion", "thinking"],
                               "family": "llama", "parameter_size": "1B",
                               "quantization": "Q4_K_M", "format": "gguf"}  # fmt: skip
    ollama_fixture.show = None  # an older server without /api/show: the job goes on
    assert teacher(ollama_fixture).describe().model_info == {}
