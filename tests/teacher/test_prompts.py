"""Prompt rendering (rank-v1, soft-v1, hints-v1), what a job stores of it, the candidates (the
true target only where `--force-target` asks), and reading soft labels out of logprobs."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import torch

from alkd_tui.data import load_dataset
from alkd_tui.pipeline import labels
from alkd_tui.pipeline.models import get_model, load_trained
from alkd_tui.rec.instances import Instances
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql
from alkd_tui.teacher.asking import LabelOptions, Question, parse_soft
from alkd_tui.teacher.backends.base import Answer
from alkd_tui.teacher.candidates import top_candidates
from alkd_tui.teacher.prompts import (
    HINTS_TEMPLATE,
    RANK_TEMPLATE,
    SOFT_TEMPLATE,
    ItemRef,
    hints_prompt,
    ranking_prompt,
    soft_label_prompt,
)

SESSION = [ItemRef("316", "Toy Story"), ItemRef("7", "Heat"), ItemRef("42", None)]
CANDIDATES = [ItemRef("9", "Alien"), ItemRef("11", "Brazil"), ItemRef("3", "Casino")]


def user(prompt: Any) -> str:
    return prompt.messages[-1]["content"]


def test_ranking_prompt_shows_the_session_in_order_and_the_candidates() -> None:
    prompt = ranking_prompt(SESSION, CANDIDATES, 2)
    text = user(prompt)
    assert prompt.template == RANK_TEMPLATE and prompt.n == 2
    assert prompt.messages[0]["role"] == "system" and prompt.messages[-1]["role"] == "user"
    assert (
        "The user's session so far, oldest first:\n"
        "1. <ID_316: Toy Story>\n2. <ID_7: Heat>\n3. <ID_42>\n\n"
    ) in text
    assert "Candidate items:\n<ID_9: Alien>\n<ID_11: Brazil>\n<ID_3: Casino>\n\n" in text
    assert "exactly 2 distinct ids" in text
    assert prompt.candidates == ["9", "11", "3"]
    assert prompt.format == {
        "type": "object",
        "properties": {
            "ranking": {
                "type": "array",
                "items": {"type": "string", "enum": ["9", "11", "3"]},
                "minItems": 2,
                "maxItems": 2,
            }
        },
        "required": ["ranking"],
    }
    assert "Hints" not in text
    assert prompt.text() == f"[system]\n{prompt.messages[0]['content']}\n\n[user]\n{text}"


def test_n_is_at_most_the_number_of_candidates() -> None:
    prompt = ranking_prompt(SESSION, CANDIDATES, 25)
    assert prompt.n == 3 and prompt.format["properties"]["ranking"]["maxItems"] == 3  # type: ignore[index]


def test_the_order_of_the_session_matters() -> None:
    shuffled = ranking_prompt(SESSION[::-1], CANDIDATES, 2)
    assert "1. <ID_42>\n2. <ID_7: Heat>\n3. <ID_316: Toy Story>" in user(shuffled)
    assert shuffled.hash() != ranking_prompt(SESSION, CANDIDATES, 2).hash()


def test_hints_are_included_when_given_and_change_the_hash() -> None:
    hints = ["Fans of Heat watch crime films.", "Sequels follow."]
    plain = ranking_prompt(SESSION, CANDIDATES, 2)
    hinted = ranking_prompt(SESSION, CANDIDATES, 2, hints)
    assert user(hinted).startswith(
        "Hints about users of this catalogue:\n- Fans of Heat watch crime films.\n- Sequels follow.\n\n"
        "The user's session so far"
    )
    assert hinted.hash() != plain.hash()
    soft = soft_label_prompt(SESSION, CANDIDATES, hints)
    assert "- Sequels follow.\n" in user(soft)


def test_the_hash_covers_options_and_is_stable() -> None:
    prompt = ranking_prompt(SESSION, CANDIDATES, 2)
    assert prompt.hash({"seed": 1}) == ranking_prompt(SESSION, CANDIDATES, 2).hash({"seed": 1})
    assert prompt.hash({"seed": 1}) != prompt.hash({"seed": 2})
    assert len(prompt.hash()) == 64


def test_soft_label_prompt_letters_the_candidates() -> None:
    prompt = soft_label_prompt(SESSION, CANDIDATES)
    assert prompt.template == SOFT_TEMPLATE and prompt.format is None and prompt.n == 1
    assert "A. <ID_9: Alien>\nB. <ID_11: Brazil>\nC. <ID_3: Casino>\n" in user(prompt)
    assert "letter only" in user(prompt)
    with pytest.raises(ValueError, match="1 to 20 candidates"):
        soft_label_prompt(SESSION, [ItemRef(str(k)) for k in range(21)])
    with pytest.raises(ValueError):
        soft_label_prompt(SESSION, [])


def test_hints_prompt_shows_each_session_with_the_recommenders_top_items() -> None:
    prompt = hints_prompt([(SESSION, CANDIDATES[:2]), (SESSION[:1], CANDIDATES[2:])], max_hints=3)
    text = user(prompt)
    assert prompt.template == HINTS_TEMPLATE and prompt.n == 3
    assert (
        "Session 1: <ID_316: Toy Story>, <ID_7: Heat>, <ID_42>\n"
        "Recommender's top items: <ID_9: Alien>, <ID_11: Brazil>"
    ) in text
    assert "Session 2: <ID_316: Toy Story>\nRecommender's top items: <ID_3: Casino>" in text
    assert "at most 3 short hints" in text
    schema = prompt.format["properties"]["hints"]  # type: ignore[index]
    assert schema["maxItems"] == 3 and schema["minItems"] == 1
    assert schema["items"]["type"] == "string"


# -- what a job stores ------------------------------------------------------------------


def test_a_job_stores_the_rendered_prompt_its_template_and_hash(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    opts = {"n": 4, "kappa": 6, "backoff": 0.0}
    labels.label_selection(labelling_store, "sel", "ollama", model="fixture:1b",
                           candidates_from="teacher-rec", options=opts)  # fmt: skip
    ds = load_dataset(labelling_store, "games")
    rec = load_trained(labelling_store, get_model(labelling_store, "teacher-rec"))
    generation = LabelOptions(**opts).generation()
    with labelling_store.engine.connect() as conn:
        stored = run_sql(conn, "SELECT s.idx, r.template_version, r.prompt_hash, r.prompt, r.candidates, r.options "
            "FROM teacher_request r JOIN session s ON s.id = r.session_id ORDER BY r.id"
        ).all()
    assert len(stored) == 12
    assert ds.titles is not None
    for (idx, template, prompt_hash, text, candidates, options), body in zip(
        stored, use_fixture.bodies, strict=True
    ):
        cands = json.loads(candidates)
        session = [ItemRef(ds.item_ids[i], ds.titles[i]) for i in ds.inputs(idx)[-rec.max_len :]]
        expected = ranking_prompt(
            session, [ItemRef(ds.item_ids[i], ds.titles[i]) for i in cands], 4
        )
        assert template == "rank-v1" and text == expected.text()
        assert prompt_hash == expected.hash({**generation, "model_digest": "sha256:" + "ab" * 32})
        assert json.loads(options) == generation
        assert body["messages"] == expected.messages and body["format"] == expected.format
        assert body["options"] == generation


# -- candidates -------------------------------------------------------------------------


def _setup(store: Store) -> tuple[Any, Any, np.ndarray]:
    ds = load_dataset(store, "games")
    rec = load_trained(store, get_model(store, "teacher-rec"))
    rows = np.flatnonzero(ds.split == 0)[:60]
    return ds, rec, rows


def test_candidates_are_the_recommenders_top_items_without_the_target_or_own_items(
    labelling_store: Store,
) -> None:
    ds, rec, rows = _setup(labelling_store)
    top, scores = top_candidates(rec, ds, rows, 3)
    batch = next(iter(Instances.of_rows(ds, rows, rec.max_len).batches(len(rows))))
    with torch.no_grad():
        every = rec.score_all(batch).float().numpy()
    for k, row in enumerate(rows.tolist()):
        own = set(ds.inputs(row)[-rec.max_len :].tolist())
        assert not own & set(top[k].tolist())  # the session's own items are not candidates
        allowed = [i for i in np.argsort(-every[k], kind="stable").tolist() if i not in own]
        assert sorted(every[k][top[k]].tolist(), reverse=True) == pytest.approx(
            every[k][allowed[:3]].tolist()
        )  # exactly the top 3 by score
        assert np.allclose(scores[k], every[k][top[k]])
    missing = [k for k, row in enumerate(rows.tolist()) if ds.targets[row] not in top[k]]
    assert missing  # the target is not forced in: a weak recommender misses some
    forced, _ = top_candidates(rec, ds, rows, 3, force_target=True)
    for k, row in enumerate(rows.tolist()):
        assert ds.targets[row] in forced[k]
        if k in missing:  # the paper's behaviour: the target replaces the last candidate
            assert forced[k][:2].tolist() == top[k][:2].tolist() and forced[k][2] == ds.targets[row]
        else:
            assert forced[k].tolist() == top[k].tolist()


def test_force_target_reaches_the_stored_candidates_only_when_asked(
    labelling_store: Store, use_fixture
) -> None:  # type: ignore[no-untyped-def]
    def job(**extra: Any) -> list[tuple[int, list[int]]]:
        """Each session's target and the candidates of its latest question."""
        labels.label_selection(labelling_store, "sel", "ollama", model="fixture:1b",
                               candidates_from="teacher-rec",
                               options={"n": 2, "kappa": 2, "backoff": 0.0, **extra})  # fmt: skip
        with labelling_store.engine.connect() as conn:
            got = run_sql(conn, "SELECT s.target, r.candidates FROM session s JOIN teacher_request r ON r.id = "
                "(SELECT MAX(u.request_id) FROM request_use u WHERE u.session_id = s.id) ORDER BY s.id"
            ).all()
        return [(int(t), json.loads(c)) for t, c in got]

    plain = job()
    assert len(plain) == 12 and any(target not in cands for target, cands in plain)
    forced = job(force_target=True)
    assert len(forced) == 12 and all(target in cands for target, cands in forced)


# -- soft labels ------------------------------------------------------------------------


def soft_question() -> Question:
    prompt = soft_label_prompt(SESSION, CANDIDATES)
    known = {"9": 90, "11": 110, "3": 30}
    return Question(1, "s", prompt, prompt.hash(), known, [90, 110, 30])


def entry(token: str, p: float, top: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"token": token, "logprob": math.log(p)}
    if top is not None:
        out["top_logprobs"] = top
    return out


def test_soft_labels_read_the_first_tokens_logprobs_into_a_distribution() -> None:
    top = [entry("B", 0.5), entry("A", 0.3), entry(" C.", 0.1), entry("Z", 0.05), entry("hi", 0.05)]
    answer = Answer("B", logprobs=[entry("B", 0.5, top), entry(".", 0.9)])
    parsed, scores = parse_soft(answer, soft_question())
    assert parsed.ranking == [110, 90, 30] and parsed.status == "ok" and parsed.notes == []
    assert scores == pytest.approx([0.5 / 0.9, 0.3 / 0.9, 0.1 / 0.9])  # over the letters only
    assert sum(scores) == pytest.approx(1.0)  # type: ignore[arg-type]


def test_soft_labels_without_logprobs_fall_back_to_the_answered_letter() -> None:
    for content, item in [("C", 30), ("A. <ID_9: Alien>", 90), ("I think B", 110), ("b", 110)]:
        parsed, scores = parse_soft(Answer(content), soft_question())
        assert parsed.ranking == [item] and scores == [1.0], content
        assert parsed.status == "short" and "no logprobs" in parsed.notes[0]
    parsed, scores = parse_soft(Answer("no idea"), soft_question())
    assert parsed.ranking == [] and scores is None and parsed.status == "empty"
    assert "no candidate letter in the answer" in parsed.notes
    # logprobs whose first token is no letter: the answered letter, said so
    odd = Answer("The answer is C", logprobs=[entry("The", 0.9, [entry("The", 0.9)])])
    parsed, scores = parse_soft(odd, soft_question())
    assert parsed.ranking == [30] and parsed.status == "short"
    assert "not a letter" in parsed.notes[0]
