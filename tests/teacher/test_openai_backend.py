"""The OpenAI-compatible backend against the named HTTP fixture (`OpenAIFixture`): the model
list, the request it sends, streaming, soft labels, failures, the key, the schema forms."""

from __future__ import annotations

import pytest

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.teacher.backends.base import PermanentTeacherError, TransientTeacherError
from alkd_tui.teacher.backends.openai_backend import OpenAITeacher, response_format
from alkd_tui.teacher.prompts import ItemRef, ranking_prompt, soft_label_prompt
from alkd_tui.teacher.registry import openai_base_urls

PROMPT = ranking_prompt(
    [ItemRef("a", "Alpha")], [ItemRef("x", "X"), ItemRef("y", "Y"), ItemRef("z", "Z")], 2
)
SOFT = soft_label_prompt([ItemRef("a", "Alpha")], [ItemRef("x", "X"), ItemRef("y", "Y")])
URL = "http://127.0.0.1:8000/v1"


def teacher(fixture, model: str | None = "fixture-4o", **kw) -> OpenAITeacher:  # type: ignore[no-untyped-def]
    return OpenAITeacher(kw.pop("urls", [URL]), model, timeout=5, transport=fixture.transport, **kw)


def test_the_model_list_is_checked(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    info = teacher(openai_fixture).describe()
    assert (info.backend, info.model, info.hosts) == ("openai", "fixture-4o", [URL])
    assert info.model_info == {"owned_by": "fixture"}
    with pytest.raises(
        TeacherUnavailableError, match=r"'gpt-9' is not listed .*it lists: fixture-4o"
    ):
        teacher(openai_fixture, "gpt-9").describe()


def test_with_no_model_named_the_only_one_listed_is_asked(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    assert teacher(openai_fixture, None).describe().model == "fixture-4o"
    openai_fixture.models = ["a", "b"]
    with pytest.raises(TeacherUnavailableError, match=r"--model: name the model .*lists: a, b"):
        teacher(openai_fixture, None).describe()


def test_a_streamed_answer_with_its_usage_and_the_request_it_sent(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    answer = teacher(openai_fixture).ask(PROMPT, {"temperature": 0.0, "seed": 7, "num_predict": 64})
    assert answer.content == '{"ranking": ["z", "y"]}'
    assert (answer.prompt_tokens, answer.output_tokens) == (90, 12)
    (body,) = openai_fixture.bodies
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.0, 7, 64)
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["properties"]["ranking"]["items"]["enum"] == ["x", "y", "z"]
    assert schema["additionalProperties"] is False  # strict mode wants closed objects


def test_soft_labels_come_from_the_answer_tokens_logprobs(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    answer = teacher(openai_fixture).ask(SOFT, {"logprobs": True, "top_logprobs": 20})
    (body,) = openai_fixture.bodies
    assert body["logprobs"] is True and body["top_logprobs"] == 20
    assert "response_format" not in body  # the first token must be the letter itself
    assert answer.logprobs is not None
    assert [e["token"] for e in answer.logprobs[0]["top_logprobs"]] == ["B", "A", "The"]


def test_a_server_without_json_schema_is_asked_with_json_object_from_then_on(
    openai_fixture,
) -> None:  # type: ignore[no-untyped-def]
    openai_fixture.schema_forms = ("json_object",)
    t = teacher(openai_fixture)
    assert t.ask(PROMPT, {}).content == '{"ranking": ["z", "y"]}'
    t.ask(PROMPT, {})
    forms = [b["response_format"]["type"] for b in openai_fixture.bodies]
    assert forms == ["json_schema", "json_object", "json_object"]
    assert openai_fixture.bodies[1]["response_format"]["schema"]["required"] == ["ranking"]
    openai_fixture.schema_forms = ()
    with pytest.raises(PermanentTeacherError, match="not supported"):
        teacher(openai_fixture).ask(PROMPT, {})


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (500, TransientTeacherError),
        (503, TransientTeacherError),
        (429, TransientTeacherError),
        (408, TransientTeacherError),
        (400, PermanentTeacherError),
        (404, PermanentTeacherError),
        ("error-mid-stream", TransientTeacherError),
        ("malformed", TransientTeacherError),
        ("no-done", TransientTeacherError),
        ("timeout", TransientTeacherError),
        ("connect", TransientTeacherError),
    ],
)
def test_failures_are_transient_or_permanent(openai_fixture, fault: object, error: type) -> None:  # type: ignore[no-untyped-def]
    openai_fixture.faults = [fault]
    with pytest.raises(error):
        teacher(openai_fixture).ask(PROMPT, {})


def test_a_429_carries_its_retry_after(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    openai_fixture.faults = [("retry-after", 7)]
    with pytest.raises(TransientTeacherError) as err:
        teacher(openai_fixture).ask(PROMPT, {})
    assert err.value.retry_after == 7.0


def test_a_reply_that_is_not_streamed_is_read_whole(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    openai_fixture.faults = ["whole"]
    answer = teacher(openai_fixture).ask(PROMPT, {})
    assert answer.content == '{"ranking": ["z", "y"]}' and answer.output_tokens == 12


def test_reasoning_is_kept_apart_from_the_answer(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    openai_fixture.reasoning = "fixture: thinking about y and z"
    answer = teacher(openai_fixture).ask(PROMPT, {})
    assert answer.thinking == "fixture: thinking about y and z"
    assert answer.content == '{"ranking": ["z", "y"]}'


def test_an_answer_past_the_size_cap_is_cut(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    answer = teacher(openai_fixture, max_answer_chars=5).ask(PROMPT, {})
    assert answer.cut and len(answer.content) < len('{"ranking": ["z", "y"]}')


def test_the_key_is_sent_as_a_header_and_a_refused_key_names_the_variable(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    openai_fixture.key = "sk-fixture"
    teacher(openai_fixture, api_key="sk-fixture").describe()
    assert openai_fixture.auth[-1] == "Bearer sk-fixture"
    with pytest.raises(TeacherUnavailableError, match=r"refused .*401.*\$MY_KEY is not set") as err:
        teacher(openai_fixture, api_key_env="MY_KEY").describe()
    assert "sk-fixture" not in str(err.value)


def test_requests_are_spread_over_base_urls_and_a_dead_one_is_skipped(openai_fixture) -> None:  # type: ignore[no-untyped-def]
    t = teacher(openai_fixture, urls=["10.0.0.1:8000/v1", "10.0.0.2:8000/v1"])
    hosts = [t.ask(PROMPT, {}).host for _ in range(4)]
    assert sorted(set(hosts)) == ["http://10.0.0.1:8000/v1", "http://10.0.0.2:8000/v1"]
    openai_fixture.faults = [503]
    with pytest.raises(TransientTeacherError):
        t.ask(PROMPT, {})
    after = {t.ask(PROMPT, {}, attempt=1).host for _ in range(3)}
    assert len(after) == 1  # the failed one is down for its cool-down


def test_base_urls() -> None:
    assert openai_base_urls(["127.0.0.1:8000/v1/"]) == ["http://127.0.0.1:8000/v1"]
    assert openai_base_urls(["https://api.example.com/v1"]) == ["https://api.example.com/v1"]


def test_base_urls_default_to_the_environment_then_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert openai_base_urls() == ["https://api.openai.com/v1"]
    monkeypatch.setenv("OPENAI_BASE_URL", "http://gpu-box:8000/v1")
    assert openai_base_urls() == ["http://gpu-box:8000/v1"]


def test_response_formats() -> None:
    schema = {"type": "object", "properties": {}, "required": []}
    assert response_format(None, "json_schema") is None
    assert response_format("json", "json_schema") == {"type": "json_object"}
    assert response_format(schema, "json_object") == {"type": "json_object", "schema": schema}
    strict = response_format(schema, "json_schema")
    assert strict is not None and strict["json_schema"]["strict"] is True
