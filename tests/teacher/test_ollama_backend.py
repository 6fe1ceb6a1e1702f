"""The Ollama backend against the named HTTP fixture: checks, streaming, error mapping, hosts."""

from __future__ import annotations

import re

import pytest

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.teacher.backends.base import PermanentTeacherError, TransientTeacherError
from alkd_tui.teacher.backends.ollama_backend import OllamaTeacher, normalize_host
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
