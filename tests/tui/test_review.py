"""Reviewing from the TUI: the queue (lowest confidence first), the focus card with the
student's top-k and the marked target, the keys (accept, reject, skip, flag, edit, undo)
written as append-only review events in the order pressed, filters, and accept by rule."""

from __future__ import annotations

from textual.widgets import Static

from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.review import selection_labels
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql
from alkd_tui.tui.screens.review import ReviewScreen
from alkd_tui.tui.widgets.form import FormSelect
from alkd_tui.tui.widgets.review.messages import (
    BulkAccepted,
    Decided,
    QueueLoaded,
    StudentTop,
    ViewReady,
)
from alkd_tui.tui.widgets.review.ranking_editor import RankingEditor
from alkd_tui.tui.widgets.review.rule_dialog import RuleDialog
from alkd_tui.tui.widgets.windowed_table import WindowedTable


def _events(store: Store) -> list[tuple[int, str, object]]:
    with store.engine.connect() as conn:
        return [
            (int(r), a, after)
            for r, a, after in run_sql(conn, "SELECT request_id, action, after FROM review_event ORDER BY id"
            )
        ]


async def test_review_with_the_keys(
    labelled_store: Store, make_app, settled, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("4")
        loaded = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, QueueLoaded)), None),
            what="queue",
        )
        await waiter(
            pilot, lambda: any(isinstance(m, StudentTop) for m in messages), what="student top-k"
        )
        await settled(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        entries = loaded.data["entries"]
        assert len(entries) == 12 and loaded.data["models"] == ["recorded-llm"]
        table = screen.query_one("#queue", WindowedTable)
        queue = [e.request_id for e in table.source]
        # lowest confidence first: all parsed ok, so by the top score (rising with the order)
        assert [e.top_score for e in table.source] == sorted(e.top_score for e in entries)
        card = text_of(screen.query_one("#card-main", Static))
        assert "◆ true next item" in card and "student top-k" in card and "student: student" in card
        assert "provenance" in card and "recorded-llm (replay)" in card
        assert "Game " in card  # titles, not only ids
        await pilot.press("r")
        assert "raw answer" in text_of(screen.query_one("#card-raw", Static))
        await pilot.press("r")

        for key in ("a", "x", "space", "f"):
            await pilot.press(key)
        await waiter(
            pilot,
            lambda: len({id(m) for m in messages if isinstance(m, Decided)}) == 4,
            what="four decisions",
        )
        assert table.index == 4
        await settled(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, RankingEditor)
        first, second = editor.items[0].idx, editor.items[1].idx
        await pilot.press("ctrl+down")  # the first item moves to second place
        await pilot.press("down", "d")  # ... and the one after it goes
        await pilot.press("ctrl+s")
        await waiter(
            pilot,
            lambda: len({id(m) for m in messages if isinstance(m, Decided)}) == 5,
            what="the edit",
        )
        await pilot.press("u")
        await waiter(
            pilot,
            lambda: len({id(m) for m in messages if isinstance(m, Decided)}) == 6,
            what="the undo",
        )
        await settled(app, pilot)

        events = _events(labelled_store)
        assert [(r, a) for r, a, _ in events] == [
            (queue[0], "accept"), (queue[1], "reject"), (queue[2], "skip"), (queue[3], "flag"),
            (queue[4], "edit"), (queue[4], "undo"),
        ]  # fmt: skip
        edited = events[4][2]
        ranking = (edited if isinstance(edited, dict) else __import__("json").loads(edited))[
            "ranking"
        ]
        assert ranking[:2] == [second, first] and len(ranking) == 4
        statuses = {
            lb.request_id: lb.status
            for lb in selection_labels(labelled_store, loaded.data["selection"])
        }
        assert [statuses[r] for r in queue[:5]] == [
            "accepted",
            "rejected",
            "skipped",
            "flagged",
            "pending",
        ]
        counts = str(screen.query_one("#rev-counts", Static).render())
        assert "2/12 decided" in counts and "1 accepted" in counts and "8 pending" in counts

        messages.clear()
        screen.query_one("#rev-filter", FormSelect).value = "rejected"
        view = await waiter(
            pilot, lambda: next((m for m in messages if isinstance(m, ViewReady)), None)
        )
        assert [e.request_id for e in view.rows] == [queue[1]]
        screen.query_one("#rev-filter", FormSelect).value = "all"
        screen.query_one("#rev-sort", FormSelect).value = "order"
        await waiter(pilot, lambda: len([m for m in messages if isinstance(m, ViewReady)]) >= 3)
        await settled(app, pilot)
        assert [e.order for e in table.source] == sorted(e.order for e in entries)

        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, RuleDialog)
        await pilot.press("ctrl+s")
        bulk = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, BulkAccepted)), None),
            what="bulk accept",
        )
        assert bulk.rule == "parsed" and bulk.result == {"accepted": 8, "not_matching": 0}
        await settled(app, pilot)
        counts = str(screen.query_one("#rev-counts", Static).render())
        assert "9 accepted" in counts and "0 pending" in counts
    assert sum(a == "accept" for _, a, _ in _events(labelled_store)) == 9


async def test_a_selection_without_answers_says_what_to_do(
    labelling_store: Store, make_app, settled, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(labelling_store)
    async with app.run_test(size=(140, 40), message_hook=messages.append) as pilot:
        await pilot.press("4")
        await waiter(pilot, lambda: any(isinstance(m, ViewReady) for m in messages))
        await settled(app, pilot)
        assert "no answered labels yet" in text_of(app.screen.query_one("#card-main", Static))
        await pilot.press("a", "u")  # nothing to decide, nothing to undo: no error
        await settled(app, pilot)
        assert app.last_error is None


async def test_the_ranking_editor_adds_a_candidate_from_its_list(
    labelling_store: Store, make_app, settled, waiter
) -> None:  # type: ignore[no-untyped-def]
    """The candidates the ranking lacks are listed beside it; enter on one puts it below the
    ranking's cursor, and it leaves the list."""
    labelled_store = labelling_store  # labelled by the teacher recommender: 5 of 10 candidates
    label_selection(labelled_store, "sel", "tr", candidates_from="teacher-rec",
                    options={"n": 5, "kappa": 10})  # fmt: skip
    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("4")
        await waiter(pilot, lambda: any(isinstance(m, QueueLoaded) for m in messages))
        await settled(app, pilot)
        screen = app.screen
        request = screen.query_one("#queue", WindowedTable).source[0].request_id
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, RankingEditor)
        before = [i.idx for i in editor.items]
        unused = editor.unused_candidates()
        assert unused and not {c.idx for c in unused} & set(before)
        await pilot.press("tab")  # to the candidates
        assert app.focused is not None and app.focused.id == "edit-candidates"
        await pilot.press("down", "enter")  # the second candidate
        picked = unused[1].idx
        assert [i.idx for i in editor.items] == [before[0], picked, *before[1:]]
        assert picked not in {c.idx for c in editor.unused_candidates()}
        await pilot.press("ctrl+s")
        await waiter(pilot, lambda: any(isinstance(m, Decided) for m in messages), what="edit")
        (action, after) = next((a, x) for r, a, x in _events(labelled_store) if r == request)
        stored = after if isinstance(after, dict) else __import__("json").loads(after)
        assert action == "edit" and stored["ranking"] == [before[0], picked, *before[1:]]


async def test_the_queue_is_read_again_on_entry_and_when_a_label_job_ends(
    labelling_store: Store, make_app, settled, waiter, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Answers stored by another process show when the area is entered again, and answers of
    a label job show when it ends (the Label area counts `labels_changed`)."""
    import subprocess
    import sys

    from tests.tui.conftest import answers_file

    first = answers_file(labelling_store, tmp_path / "five.jsonl", limit=5)
    label_selection(labelling_store, "sel", "replay", file=first, options={"n": 5})
    messages: list[object] = []
    app = make_app(labelling_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("4")
        await waiter(pilot, lambda: any(isinstance(m, QueueLoaded) for m in messages))
        await settled(app, pilot)
        table = app.screen.query_one("#queue", WindowedTable)
        assert len(table.source) == 5
        # Another process answers the rest while the Review area is open, then we leave and
        # come back.
        rest = answers_file(labelling_store, tmp_path / "all.jsonl", model="other-llm", limit=9)
        done = subprocess.run(
            [sys.executable, "-m", "alkd_tui.cli.main", "--db", str(labelling_store.target), "label",
             "sel", "--teacher", "replay", "--file", str(rest), "--n", "5"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        await pilot.press("3")
        await pilot.pause()
        messages.clear()
        await pilot.press("4")
        await waiter(pilot, lambda: any(isinstance(m, QueueLoaded) for m in messages))
        await settled(app, pilot)
        table = app.screen.query_one("#queue", WindowedTable)
        assert len(table.source) == 5 + 9
        # A label job ends (here: in this process) while the area is shown.
        label_selection(labelling_store, "sel", "replay", options={"n": 5},
                        file=answers_file(labelling_store, tmp_path / "third.jsonl", model="third-llm", limit=2))  # fmt: skip
        messages.clear()
        app.labels_changed += 1
        await waiter(pilot, lambda: any(isinstance(m, QueueLoaded) for m in messages))
        await settled(app, pilot)
        assert len(app.screen.query_one("#queue", WindowedTable).source) == 5 + 9 + 2


async def test_the_student_picker_follows_the_selections_dataset(
    labelled_store: Store, make_app, settled, waiter, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Select

    from alkd_tui.pipeline.datasets import import_dataset
    from alkd_tui.pipeline.models import train_recommender
    from alkd_tui.pipeline.selection import create_selection

    clicks = tmp_path / "movies.csv"
    clicks.write_text("session_id,item_id,timestamp\n" + "".join(
        f"m{s},f{(s + j) % 20},{s * 10 + j}\n" for s in range(150) for j in range(2 + s % 3)))  # fmt: skip
    import_dataset(labelled_store, "csv", clicks, "movies", preprocess={"min_item_support": 1})
    train_recommender(labelled_store, "movies", "student", {"architecture": "fpmc", "dim": 4, "epochs": 1},
                      name="movie-student")  # fmt: skip
    create_selection(labelled_store, "movies", "random", 5, name="msel")
    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("4")
        await waiter(pilot, lambda: any(isinstance(m, QueueLoaded) for m in messages))
        await settled(app, pilot)
        screen = app.screen
        selection = screen.query_one("#rev-selection", FormSelect)
        student = screen.query_one("#rev-student", FormSelect)

        def offered() -> list[str]:
            return [str(value) for _label, value in student._options if value not in (Select.BLANK, Select.NULL)]

        selection.value = "sel"
        await settled(app, pilot)
        assert offered() == ["student"] and student.value == "student"
        selection.value = "msel"
        await settled(app, pilot)
        assert offered() == ["movie-student"] and student.value == "movie-student"
        selection.value = "sel"
        await settled(app, pilot)
        assert offered() == ["student"] and student.value == "student"


async def test_two_reviewers_the_card_names_them_and_my_queue_leaves_out_my_decisions(
    labelled_store: Store, make_app, settled, waiter, text_of, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from alkd_tui.pipeline.review import record_review, require_reviews

    monkeypatch.setenv("ALKD_REVIEWER", "cy")
    labels = selection_labels(labelled_store, 1)
    require_reviews(labelled_store, "sel", 2)
    record_review(labelled_store, labels[0].request_id, "accept", reviewer="ann")
    record_review(labelled_store, labels[0].request_id, "reject", reviewer="bob")
    record_review(labelled_store, labels[1].request_id, "accept", reviewer="cy")
    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("4")
        await waiter(pilot, lambda: any(isinstance(m, QueueLoaded) for m in messages))
        await settled(app, pilot)
        screen = app.screen
        table = screen.query_one("#queue", WindowedTable)
        table.go_to(next(i for i, e in enumerate(table.source) if e.request_id == labels[0].request_id))
        await waiter(
            pilot,
            lambda: "decided by" in text_of(screen.query_one("#card-main", Static)),
            what="the reviewers on the card",
        )
        card = text_of(screen.query_one("#card-main", Static))
        assert "ann accepted" in card and "bob rejected" in card
        assert "(2 decisions needed)" in card and "status flagged" in card
        screen.query_one("#rev-filter", FormSelect).value = "mine"
        await waiter(pilot, lambda: len(table.source) == 11, what="my queue")
        assert labels[1].request_id not in {e.request_id for e in table.source}
        screen.query_one("#rev-filter", FormSelect).value = "disagreements"
        await waiter(pilot, lambda: len(table.source) == 1, what="the disagreements")
        await pilot.press("a")  # cy settles it: accepted by 2 of 3
        await waiter(pilot, lambda: any(isinstance(m, Decided) for m in messages), what="decision")
    assert selection_labels(labelled_store, 1)[0].status == "accepted"
