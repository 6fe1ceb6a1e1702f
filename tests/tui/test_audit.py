"""The audit area: the `alkd audit` figures as tables and bars, filtered by selection,
strategy and teacher model, with classes once a student is chosen."""

from __future__ import annotations

from textual.widgets import Static

from alkd_tui.store import Store
from alkd_tui.tui.screens.audit import AuditReady, class_bars
from alkd_tui.tui.widgets.charts import BarChart
from alkd_tui.tui.widgets.form import FormSelect


async def test_audit_with_filters(
    labelled_store: Store, make_app, settled, waiter, text_of
) -> None:  # type: ignore[no-untyped-def]
    messages: list[object] = []
    app = make_app(labelled_store)
    async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
        await pilot.press("6")
        first = await waiter(
            pilot,
            lambda: next((m for m in messages if isinstance(m, AuditReady)), None),
            what="audit",
        )
        await settled(app, pilot)
        screen = app.screen
        assert first.result["answers"] == 12 and first.result["by_model"].keys() == {"recorded-llm"}
        hits = screen.query_one("#aud-hits", BarChart).data
        assert [label for label, _ in hits] == ["hit@1", "hit@5", "hit@10", "hit@25"]
        assert dict(screen.query_one("#aud-parse", BarChart).data)["ok"] == 12
        assert "by strategy" in text_of(screen.query_one("#aud-by-strategy", Static))
        assert "p50" in text_of(screen.query_one("#aud-costs", Static))

        messages.clear()
        screen.query_one("#aud-strategy", FormSelect).value = "random"
        nothing = await waiter(
            pilot, lambda: next((m for m in messages if isinstance(m, AuditReady)), None)
        )
        assert nothing.result["answers"] == 0 and nothing.result["filters"]["strategy"] == "random"
        messages.clear()
        screen.query_one("#aud-strategy", FormSelect).value = "test"
        screen.query_one("#aud-teacher", FormSelect).value = "recorded-llm"
        screen.query_one("#aud-selection", FormSelect).value = "sel"
        screen.query_one("#aud-student", FormSelect).value = "student"
        await waiter(
            pilot,
            lambda: any(
                isinstance(m, AuditReady) and m.result["filters"]["student"] for m in messages
            ),
            timeout=30,
        )
        await settled(app, pilot)
        result = [m for m in messages if isinstance(m, AuditReady)][-1].result
        assert result["answers"] == 12 and result["filters"]["teacher"] == "recorded-llm"
        assert sum(result["classes"].values()) == 12
        assert [label for label, _ in screen.query_one("#aud-classes", BarChart).data] == [
            "effective",
            "similar",
            "incorrect",
        ]


def test_the_classes_chart_sets_the_assumed_shares_beside_the_measured_ones() -> None:
    measured = {"effective": 0.3, "similar": 0.5, "incorrect": 0.2}
    assumed = {"ratios": "1:5:4", "effective": 0.1, "similar": 0.5, "incorrect": 0.4,
               "strategy": "alkd"}  # fmt: skip
    bars, title = class_bars({**measured, "assumed_ratios": assumed})
    assert bars == [("effective", 0.3), ("  assumed", 0.1), ("similar", 0.5), ("  assumed", 0.5),
                    ("incorrect", 0.2), ("  assumed", 0.4)]  # fmt: skip
    assert "alkd selection assumed" in title and "1:5:4" in title
    assert class_bars({**measured, "assumed_ratios": None}) == (
        list(measured.items()),
        "classes against the student",
    )
    assert class_bars({"answers": 3}) == ([], "classes: choose a student")


def test_the_honesty_table_sets_calibration_and_the_candidate_leak_beside_the_labels() -> None:
    from rich.console import Console
    from rich.table import Table

    from alkd_tui.tui.screens.audit import honesty

    assert not isinstance(honesty({"hit@1": 0.5}), Table)  # nothing to set beside: no table
    leak = {"training": {"hit@1": 0.97, "hit@10": 0.99, "hit@25": 1.0},
            "validation": {"hit@1": 0.01, "hit@10": 0.02, "hit@25": 0.04},
            "warning": "candidate leak: the training sessions' lists hold the target"}  # fmt: skip
    table = honesty({"hit@1": 0.8, "hit@10": 0.9, "hit@25": 0.95,
                     "calibration": {"hit@1": 0.0, "hit@10": 0.2, "hit@25": 0.4},
                     "candidate_leak": leak})  # fmt: skip
    assert isinstance(table, Table) and table.row_count == 4
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "LLM, calibration (accuracy)" in text and "candidates, validation" in text
    assert "candidate leak: the training sessions' lists hold the" in " ".join(text.split())


def test_the_agreement_table_shows_each_pair_and_lights_kappa() -> None:
    from rich.console import Console
    from rich.table import Table

    from alkd_tui.pipeline.agreement import agreement
    from alkd_tui.tui.screens.audit import reviewers

    assert not isinstance(reviewers({"agreement": agreement([])}), Table)  # one reviewer: nothing
    found = agreement([(1, (("ann", "accepted"), ("bob", "accepted"), ("cy", "rejected"))),
                       (2, (("ann", "rejected"), ("bob", "rejected"), ("cy", "rejected")))])  # fmt: skip
    table = reviewers({"agreement": found})
    assert isinstance(table, Table) and table.row_count == 3
    console = Console(width=120, record=True)
    console.print(table)
    text = " ".join(console.export_text().split())
    assert "ann & bob 2 100 1" in text and "ann & cy 2 50 0" in text and "kappa 0.3333" in text
    assert "1 labels with differing verdicts" in text
