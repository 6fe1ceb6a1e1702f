"""Learning curves in the Runs area: a model's training loss and validation figure by epoch,
and a label curve's figure by labels, drawn with textual-plotext (axes, ticks, a legend).

textual-plotext loads on the first curve shown, not with the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.containers import Container


@dataclass
class Series:
    """What one chart shows: x, one or two y series (left and right axis), labels."""

    title: str
    xlabel: str
    x_left: list[float]
    left: list[float]
    left_label: str
    x_right: list[float]
    right: list[float]
    right_label: str


def preferred_metric(figures: dict[str, Any]) -> str | None:
    """The validation figure to draw: recall@10 if there, else the first recall, else any."""
    names = [k for k, v in figures.items() if isinstance(v, int | float)]
    for name in ("recall@10", *sorted(n for n in names if n.startswith("recall")), *names):
        if name in names:
            return name
    return None


def learning_series(name: str, history: list[dict[str, Any]]) -> Series | None:
    """Loss (left axis) and the validation figure (right axis) by epoch; None without epochs."""
    if not history:
        return None
    losses = [(float(h["epoch"]), float(h["loss"])) for h in history if h.get("loss") is not None]
    checked = [h for h in history if h.get("valid")]
    metric = preferred_metric(checked[-1]["valid"]) if checked else None
    valid = [(float(h["epoch"]), float(h["valid"][metric])) for h in checked
             if metric and h["valid"].get(metric) is not None]  # fmt: skip
    if not losses and not valid:
        return None
    return Series(
        title=f"learning curve: {name}", xlabel="epoch",
        x_left=[x for x, _ in losses], left=[y for _, y in losses], left_label="training loss",
        x_right=[x for x, _ in valid], right=[y for _, y in valid],
        right_label=f"valid {metric}" if metric else "",
    )  # fmt: skip


def label_curve_series(run: dict[str, Any]) -> Series | None:
    """A curve run's figure by labels (the mean over seeds), the student at 0 labels."""
    figures = {m["name"]: m["value"] for m in run.get("metrics", []) if m.get("split") == "valid"}
    fractions = run.get("config", {}).get("fractions") or []
    points = []
    for fraction in fractions:
        key = f"{fraction:g}"
        labels = figures.get(f"{key} labels")
        seeds = [v for n, v in figures.items() if n.startswith(f"{key} seed ")]
        if labels is not None and seeds:
            points.append((float(labels), sum(seeds) / len(seeds)))
    if not points:
        return None
    if figures.get("student") is not None:
        points.insert(0, (0.0, float(figures["student"])))
    metric = run.get("config", {}).get("metric", "recall@10")
    return Series(
        title=f"label curve: {run.get('name', '')}", xlabel="accepted labels",
        x_left=[x for x, _ in points], left=[y for _, y in points], left_label=f"valid {metric}",
        x_right=[], right=[], right_label="",
    )  # fmt: skip


def draw(box: Container, series: Series | None) -> None:
    """Show `series` in `box` (a PlotextPlot mounted there on first use); hide it for None."""
    box.display = series is not None
    if series is None:
        return
    from textual_plotext import PlotextPlot

    found = box.query(PlotextPlot)
    plot = found.first() if found else PlotextPlot()
    if not found:
        box.mount(plot)
    plt = plot.plt
    plt.clear_figure()
    plt.title(series.title)
    plt.xlabel(series.xlabel)
    if series.left:
        plt.plot(series.x_left, series.left, label=series.left_label, marker="braille")
    if series.right:
        plt.plot(series.x_right, series.right, label=series.right_label, yside="right",
                 marker="braille")  # fmt: skip
    plot.refresh()
