"""Selection steps over the store: create, import, preview, list, show."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alkd_tui.active.policy import policy_by_rank
from alkd_tui.errors import BadInputError, InputFileError, NotFoundError
from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.models import train_recommender
from alkd_tui.pipeline.selection import (
    create_selection,
    import_selection,
    list_selections,
    preview_selection,
    show_selection,
)
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql

FAST = {"architecture": "fpmc", "epochs": 1, "batch_size": 64, "lr": 0.01}


@pytest.fixture
def toy(store: Store, tmp_path: Path) -> str:
    """300 sessions walking 20 items in order (external ids "0".."299")."""
    lines = ["session_id,item_id,timestamp"]
    for s in range(300):
        start = (s * 7) % 20
        lines += [f"{s},item{(start + k) % 20},{s * 100 + k}" for k in range(2 + s % 4)]
    path = tmp_path / "walk.csv"
    path.write_text("\n".join(lines) + "\n")
    import_dataset(store, "csv", path, "walk", preprocess={"min_item_support": 1})
    return "walk"


@pytest.fixture
def models(store: Store, toy: str) -> tuple[str, str]:
    teacher = train_recommender(store, toy, "teacher", {**FAST, "dim": 16})
    student = train_recommender(store, toy, "student", {**FAST, "dim": 4})
    return teacher.name, student.name


def train_ids(store: Store, name: str) -> list[str]:
    with store.engine.connect() as conn:
        rows = run_sql(conn, "SELECT s.external_id FROM session s JOIN dataset d ON d.id = s.dataset_id "
            "WHERE d.name = ? AND s.split = 'train' ORDER BY s.idx",
            (name,),
        ).all()
    return [r[0] for r in rows]


def split_of(store: Store, name: str) -> dict[str, str]:
    with store.engine.connect() as conn:
        rows = run_sql(conn, "SELECT s.external_id, s.split FROM session s JOIN dataset d ON d.id = s.dataset_id WHERE d.name = ?",
            (name,),
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_an_alkd_selection_is_stored_with_its_policy_and_run(
    store: Store, toy: str, models: tuple[str, str]
) -> None:
    teacher, _ = models
    pool = len(train_ids(store, toy))
    result = create_selection(store, toy, "alkd", 30, teacher_model=teacher, seed=1)
    assert {"selection", "name", "size", "pool_size", "k_star", "gamma", "budget", "params"} <= set(
        result.as_json()
    )
    assert result.size == 30 and result.pool_size == pool
    expected = policy_by_rank(pool)
    assert result.k_star == expected.k_star and result.gamma == pytest.approx(expected.gamma)
    assert result.name == f"{toy}-alkd-b30-s1" and result.teacher_model == teacher
    assert result.params["ratios"] == [1.0, 5.0, 4.0] and result.params["seed"] == 1

    shown = show_selection(store, result.name)
    members = shown.members
    assert [m["order"] for m in members] == list(range(1, 31))
    assert len({m["session"] for m in members}) == 30
    assert all(m["split"] == "train" for m in members)
    assert all(m["probability"] > 0 and m["gain"] > 0 and m["difficulty"] < 0 for m in members)

    again = create_selection(store, toy, "alkd", 30, teacher_model=teacher, seed=1)
    assert again.name == f"{toy}-alkd-b30-s1-2"
    assert [m["session"] for m in show_selection(store, again.name).members] == [
        m["session"] for m in members
    ]
    other = create_selection(store, toy, "alkd", 30, teacher_model=teacher, seed=2)
    assert [m["session"] for m in show_selection(store, other.name).members] != [
        m["session"] for m in members
    ]
    with store.engine.connect() as conn:
        run = run_sql(conn, "SELECT kind, status, seed, config FROM run WHERE id = ?", (result.run,)
        ).one()
    assert run[0] == "select" and run[1] == "done" and run[2] == 1
    assert json.loads(run[3])["strategy"] == "alkd"
    assert [s.name for s in list_selections(store, toy)] == [
        result.name, again.name, other.name,
    ]  # fmt: skip


def test_every_strategy_runs_through_the_store(
    store: Store, toy: str, models: tuple[str, str]
) -> None:
    teacher, student = models
    for strategy in ("random", "easiest", "hardest", "rad-bc", "uncertainty", "tr",
                     "disagreement", "popularity"):  # fmt: skip
        result = create_selection(
            store, toy, strategy, 12, teacher_model=teacher, student_model=student
        )
        members = show_selection(store, result.name).members
        assert len(members) == 12, strategy
        difficulty = [m["difficulty"] for m in members]
        if strategy == "hardest":
            assert difficulty == sorted(difficulty, reverse=True)
        if strategy == "easiest":
            assert difficulty == sorted(difficulty)
        if strategy in ("disagreement", "popularity"):
            gains = [m["gain"] for m in members]
            assert gains == sorted(gains, reverse=True), strategy
        if strategy == "disagreement":
            assert all(0 <= g <= 1 for g in gains)
    student_based = create_selection(
        store, toy, "hardest", 5, student_model=student, difficulty_from="student"
    )
    assert student_based.params["difficulty_from"] == "student"


def test_random_needs_no_model(store: Store, toy: str) -> None:
    result = create_selection(store, toy, "random", 10, seed=3)
    members = show_selection(store, result.name).members
    assert all(m["difficulty"] is None and m["gain"] is None for m in members)
    assert result.k_star is None and result.gamma is None
    rare = create_selection(store, toy, "popularity", 10, seed=3)  # no model either
    assert len(show_selection(store, rare.name).members) == 10


def test_a_replay_pool_keeps_only_answered_training_sessions(
    store: Store, toy: str, tmp_path: Path
) -> None:
    ids = train_ids(store, toy)
    splits = split_of(store, toy)
    test_id = next(k for k, v in splits.items() if v == "test")
    answers = tmp_path / "answers.jsonl"
    answered = ids[:40]
    answers.write_text(
        "\n".join(
            json.dumps({"session_id": int(s), "ranking": ["item1"]}) for s in [*answered, test_id]
        )
        + "\n"
    )
    result = create_selection(store, toy, "random", 40, pool=f"replay:{answers}")
    assert result.pool_size == 40 and result.params["pool_not_train"] == 1
    members = show_selection(store, result.name).members
    assert {m["session"] for m in members} == set(answered)
    with pytest.raises(BadInputError, match="more than the pool's 40"):
        create_selection(store, toy, "random", 41, pool=f"replay:{answers}")

    answers.write_text(
        json.dumps({"session_id": "0", "ranking": []})
        + "\n"
        + json.dumps({"session_id": "nope", "ranking": ["item1"]})
        + "\n"
    )
    with pytest.raises(
        InputFileError, match=r"answers.jsonl: session 'nope' is not in dataset walk"
    ):
        create_selection(store, toy, "random", 1, pool=f"replay:{answers}")
    # what the replay teacher refuses, the pool refuses too, with the same line
    answers.write_text(json.dumps({"session_id": "0"}) + "\n")
    with pytest.raises(
        InputFileError,
        match=r"answers.jsonl line 1: expected an object with session_id and ranking",
    ):
        create_selection(store, toy, "random", 1, pool=f"replay:{answers}")
    given = create_selection(store, toy, "random", 3, pool=ids[5:8], name="given")
    assert {m["session"] for m in show_selection(store, "given").members} == set(ids[5:8])
    assert given.pool_size == 3


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_replay_pool_reads_every_format_the_replay_teacher_reads(
    store: Store, toy: str, tmp_path: Path, fmt: str
) -> None:
    """alkd's own label exports (CSV with lists joined by spaces, Parquet) are pools too: the
    pool is the file's sessions, as the replay backend reads them, in training."""
    from alkd_tui.pipeline.export import write_rows
    from alkd_tui.teacher.backends.replay import ReplayTeacher

    ids = train_ids(store, toy)
    test_id = next(k for k, v in split_of(store, toy).items() if v == "test")
    answered = [*ids[10:35], test_id]
    rows = [
        {"session_id": key, "model": "m", "ranking": ["item1", "item2"], "scores": [0.7, None]}
        for key in answered
    ]
    path = tmp_path / f"labels.{fmt}"
    write_rows(rows, path, fmt)
    result = create_selection(store, toy, "random", 25, pool=f"replay:{path}", name=f"from-{fmt}")
    assert result.pool_size == 25 and result.params["pool_entries"] == 26
    assert result.params["pool_not_train"] == 1
    members = {m["session"] for m in show_selection(store, f"from-{fmt}").members}
    assert members == set(ids[10:35])
    teacher = ReplayTeacher(path)  # the labelling job can answer every member
    assert all(teacher.has(key) for key in members)
    preview = preview_selection(store, toy, "random", budget=5, pool=f"replay:{path}")
    assert preview["pool_size"] == 25


def test_import_from_file_keeps_the_order_and_names_bad_lines(
    store: Store, toy: str, tmp_path: Path
) -> None:
    ids = train_ids(store, toy)
    chosen = [ids[17], ids[3], ids[101], ids[0], ids[55]]
    path = tmp_path / "order.txt"
    path.write_text("\n".join(chosen) + "\n\n")
    result = import_selection(store, toy, path, "recorded")
    assert result.strategy == "file" and result.size == 5
    assert [m["session"] for m in show_selection(store, "recorded").members] == chosen
    limited = import_selection(store, toy, path, "first-three", limit=3)
    assert [m["session"] for m in show_selection(store, "first-three").members] == chosen[:3]
    assert limited.params["limit"] == 3

    path.write_text(f"{ids[1]}\n{ids[2]}\nno-such-session\n")
    with pytest.raises(InputFileError) as info:
        import_selection(store, toy, path, "bad")
    assert str(info.value) == f"{path} line 3: session 'no-such-session' is not in dataset walk"
    test_id = next(k for k, v in split_of(store, toy).items() if v == "test")
    path.write_text(f"{test_id}\n")
    with pytest.raises(InputFileError, match=r"line 1: .* is not a training session"):
        import_selection(store, toy, path, "bad")
    path.write_text(f"{ids[1]}\n{ids[1]}\n")
    with pytest.raises(InputFileError, match=r"line 2: .* listed twice"):
        import_selection(store, toy, path, "bad")
    with pytest.raises(BadInputError, match="already exists"):
        import_selection(store, toy, path, "recorded")
    assert [s.name for s in list_selections(store)] == ["recorded", "first-three"]


def test_preview_computes_the_policy_without_storing(store: Store, toy: str) -> None:
    pool = len(train_ids(store, toy))
    data = preview_selection(store, toy, "alkd", budget=20)
    expected = policy_by_rank(pool)
    assert data["k_star"] == expected.k_star and data["gamma"] == pytest.approx(expected.gamma)
    ranks = [c["rank"] for c in data["curve"]]
    assert ranks[0] == 1 and ranks[-1] == pool and expected.k_star in ranks
    assert len(ranks) <= 204 and ranks == sorted(set(ranks))
    at_k = next(c for c in data["curve"] if c["rank"] == expected.k_star)
    assert at_k["probability"] == pytest.approx(expected.probability[expected.k_star - 1])
    assert data["curve"][-1]["cumulative"] == pytest.approx(1.0)
    assert sum(data["class_counts"].values()) == pytest.approx(pool)
    assert sum(data["budget_by_worst_case_class"].values()) == pytest.approx(20)
    assert preview_selection(store, toy, "rad-bc")["form"] == "two-class"
    assert preview_selection(store, toy, "hardest")["curve"] is None
    assert list_selections(store) == []


def test_bad_inputs_are_one_line_errors(store: Store, toy: str, models: tuple[str, str]) -> None:
    teacher, student = models
    cases = [
        (dict(strategy="smart", budget=5), "--strategy 'smart'"),
        (dict(strategy="alkd", budget=5), "needs --teacher"),
        (dict(strategy="uncertainty", budget=5), "needs --student"),
        (dict(strategy="disagreement", budget=5, student_model=student), "needs --teacher"),
        (dict(strategy="disagreement", budget=5, teacher_model=teacher), "needs --student"),
        (dict(strategy="random", budget=10_000), "more than the pool's"),
        (dict(strategy="random", budget=0), "--budget 0"),
        (
            dict(strategy="alkd", budget=5, teacher_model=teacher, ratios="1:x:4"),
            "--ratios '1:x:4'",
        ),
        (dict(strategy="alkd", budget=5, teacher_model=teacher, ratios="0:0:0"), "--ratios"),
        (dict(strategy="alkd", budget=5, teacher_model=student), "is a student model"),
        (dict(strategy="random", budget=5, pool="answers.jsonl"), "--pool 'answers.jsonl'"),
        (dict(strategy="random", budget=5, name="bad name"), "--name 'bad name'"),
    ]
    for kwargs, message in cases:
        strategy = kwargs.pop("strategy")
        budget = kwargs.pop("budget")
        with pytest.raises(BadInputError) as info:
            create_selection(store, toy, strategy, budget, **kwargs)  # type: ignore[arg-type]
        assert message in str(info.value), (kwargs, str(info.value))
        assert "\n" not in str(info.value)
    with pytest.raises(NotFoundError, match="no model 'nope'"):
        create_selection(store, toy, "alkd", 5, teacher_model="nope")
    with pytest.raises(NotFoundError, match="no selection 'nope'"):
        show_selection(store, "nope")
    assert list_selections(store) == []


@pytest.mark.shared_data
def test_the_papers_alkdrec_selection_imports_in_order(store: Store, shared_data: Path) -> None:
    import_dataset(store, "alkdrec", shared_data / "alkdrec-ml", "ml")
    path = shared_data / "alkdrec-ml" / "selections" / "alkdrec.txt"
    result = import_selection(store, "ml", path, "paper-alkdrec", limit=500)
    assert result.size == 500
    members = show_selection(store, "paper-alkdrec").members
    expected = [line.strip() for line in path.read_text().splitlines() if line.strip()][:500]
    assert [m["session"] for m in members] == expected
    assert [m["order"] for m in members] == list(range(1, 501))
    assert all(m["split"] == "train" for m in members)
    # The paper's answered sessions as a pool: the recorded GPT-4 answers (all training).
    answers = shared_data / "alkdrec-ml" / "teacher_gpt-4-turbo.jsonl"
    preview = preview_selection(store, "ml", "alkd", pool=f"replay:{answers}")
    assert preview["pool_size"] == 4992 and preview["pool_not_train"] == 0
    assert preview["k_star"] / 4992 == pytest.approx(0.937, abs=0.001)
    np.testing.assert_allclose(preview["curve"][-1]["cumulative"], 1.0)
