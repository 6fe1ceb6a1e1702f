"""How many LLM answers pay off: the label curve of a selection (`alkd curve`).

The accepted labels are put in a random order (one per seed), and the student is distilled,
with the default distillation settings, on nested first fractions of them (25%, 50%, 75%,
100%: each fraction holds the labels of the smaller ones); every distilled copy is evaluated
on the validation split beside the undistilled student. If the last step still improves
the student by more than its spread over the seeds, more labels will probably help (the
question Prodigy's `train-curve` answers for annotations, here for LLM labels, at the price
of a few distillations instead of more LLM calls).

The next step of the budget (the labels doubled) is estimated from each seed's last step,
taken as a slope in log(labels) and extrapolated to twice the labels; its ± is the standard
error over the seeds. (A line through all the points would be dominated by the steep first
steps and promise too much once the curve bends.) It is an extrapolation: a curve that keeps
bending makes it optimistic.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.curve_settings import CurveSettings
from alkd_tui.pipeline.results import CurvePoint, CurveResult
from alkd_tui.progress import ProgressEvent, Reporter, Task, silent


def nested_subsets(n: int, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """For each fraction, the indices of the first round(f·n) labels of one random order
    drawn with `seed`: each subset holds the smaller ones."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(order[: max(1, round(f * n))]) for f in fractions]


def _slope(labels: Sequence[int], values: Sequence[float]) -> float:
    """Least-squares slope of `values` against log(labels)."""
    x = np.log(np.asarray(labels, dtype=float))
    y = np.asarray(values, dtype=float)
    if np.ptp(x) == 0:
        return 0.0
    return float(np.polyfit(x, y, 1)[0])


def summarise(
    labels: Sequence[int], per_seed: list[list[float]], student_value: float
) -> tuple[list[CurvePoint], float, float, dict[str, Any], str]:
    """The points (mean ± std over seeds, gain over the student), the last step's change with
    its standard error, the next step's estimate and the verdict sentence. `per_seed[s][i]`:
    seed s's metric at fraction i."""
    seeds = len(per_seed)
    points = []
    for i, n in enumerate(labels):
        values = [row[i] for row in per_seed]
        gains = [v - student_value for v in values]
        points.append(CurvePoint(
            fraction=0.0, labels=int(n), values=[round(v, 6) for v in values], mean=round(statistics.fmean(values), 6),
            std=round(statistics.stdev(values), 6) if seeds > 1 else 0.0, gain=round(statistics.fmean(gains), 6),
            gain_std=round(statistics.stdev(gains), 6) if seeds > 1 else 0.0,
        ))  # fmt: skip
    steps = [row[-1] - row[-2] for row in per_seed]
    last = statistics.fmean(steps)
    last_se = statistics.stdev(steps) / math.sqrt(seeds) if seeds > 1 else float("nan")
    slopes = [_slope(labels[-2:], row[-2:]) * math.log(2) for row in per_seed]
    gain = statistics.fmean(slopes)
    gain_se = statistics.stdev(slopes) / math.sqrt(seeds) if seeds > 1 else float("nan")
    next_step = {
        "labels": 2 * int(labels[-1]),
        "gain": round(gain, 6),
        "se": None if math.isnan(gain_se) else round(gain_se, 6),
        "how": "each seed's last step, as a slope in log(labels), extrapolated to twice the "
        "labels; ± is the standard error over the seeds",
    }
    z = last / last_se if last_se > 0 else math.copysign(math.inf, last) if last else 0.0
    spread = f"{abs(z):.1f} standard errors" if math.isfinite(z) else "the seeds agree exactly"
    if seeds < 2:
        verdict = "one seed: no spread to judge the last step against (use --seeds 3 or more)"
    elif z > 2:
        verdict = (
            f"the last step still gains {last:+.4f} ({spread}): more labels will probably help; "
            f"doubling them to {2 * labels[-1]} may add about {gain:+.4f} ± {gain_se:.4f}"
        )
    elif z < -2:
        verdict = (
            f"the last step loses {last:+.4f} ({spread}): more labels of this kind are unlikely "
            "to help (check their quality: `alkd audit`)"
        )
    else:
        verdict = (
            f"the last step's change ({last:+.4f} ± {last_se:.4f}) is within the seeds' spread: "
            "the curve has flattened, and more labels are unlikely to help much"
        )
    return points, last, last_se, next_step, verdict


#: Width of the chart's longest bar.
BAR = 20


def curve_rows(result: CurveResult) -> tuple[list[str], list[tuple[str, ...]]]:
    """The curve as a table of text (both faces show it): the column names, then a row for
    the student and for each point, with a bar drawn between the lowest and highest value
    (the last column's name gives that range)."""
    values = [result.student_value] + [p.mean for p in result.points]
    low, high = min(values), max(values)

    def bar(value: float) -> str:
        return "▇" * (1 + round((BAR - 1) * (value - low) / (high - low)) if high > low else BAR)

    columns = ["labels", "fraction", f"valid {result.metric}", "± std", "gain over student",
               f"{low:.4f} … {high:.4f}"]  # fmt: skip
    rows = [("0", "student", f"{result.student_value:.4f}", "", "", bar(result.student_value))]
    for p in result.points:
        rows.append((
            f"{p.labels:,}", f"{p.fraction:g}", f"{p.mean:.4f}", f"{p.std:.4f}",
            f"{p.gain:+.4f} ± {p.gain_std:.4f}", bar(p.mean),
        ))  # fmt: skip
    return columns, rows


def curve_of_run(run: dict[str, Any]) -> CurveResult | None:
    """A stored curve run (`runs show --json` shape: config and metrics) read back as a
    `CurveResult`, with its verdict worked out again; None when it holds no curve."""
    config = run.get("config") or {}
    values = {m["name"]: m["value"] for m in run.get("metrics") or [] if m.get("step") == "curve"}
    fractions = config.get("fractions") or []
    keys = [f"{f:g}" for f in fractions]
    if not keys or "student" not in values or any(f"{k} labels" not in values for k in keys):
        return None
    seeds = int(config.get("seeds") or 1)
    per_seed = [[values[f"{k} seed {s}"] for k in keys] for s in range(seeds)]
    labels = [int(values[f"{k} labels"]) for k in keys]
    points, last, last_se, next_step, verdict = summarise(labels, per_seed, values["student"])
    for point, fraction in zip(points, fractions, strict=True):
        point.fraction = fraction
    return CurveResult(
        selection=str(config.get("selection")), student=str(config.get("student")),
        teacher=str(config.get("teacher")), metric=str(config.get("metric")), split="valid",
        accepted=int(values.get("accepted", labels[-1])), seeds=seeds,
        student_value=values["student"], points=points, last_gain=round(last, 6),
        last_gain_se=0.0 if math.isnan(last_se) else round(last_se, 6), next_step=next_step,
        verdict=verdict, run=run.get("run"),
    )  # fmt: skip


def label_curve(
    store: Any,
    selection: str,
    student: str,
    settings: CurveSettings | None = None,
    *,
    teacher: str | None = None,
    report: Reporter = silent,
) -> CurveResult:
    """Distil `student` on nested fractions of `selection`'s accepted labels over several
    seeds, with the default distillation settings, and evaluate each on validation; stored
    as a run of kind `curve`."""
    import torch

    from alkd_tui.data import load_dataset
    from alkd_tui.distill.finetune import TeacherLabels, distill
    from alkd_tui.distill.settings import DistillSettings
    from alkd_tui.pipeline.distill import accepted_labels
    from alkd_tui.pipeline.models import dataset_name, get_model, load_trained
    from alkd_tui.pipeline.run_records import recorded_run
    from alkd_tui.pipeline.selection import get_selection
    from alkd_tui.rec.evaluate import evaluate
    from alkd_tui.rec.instances import Instances

    cfg = settings or CurveSettings()
    student_row = get_model(store, student)
    if student_row.role not in ("student", "distilled"):
        raise BadInputError(
            f"--student {student_row.name!r} is a {student_row.role}; give a student"
        )
    sel = get_selection(store, selection)
    assert sel.id is not None
    if sel.dataset_id != student_row.dataset_id:
        raise BadInputError(
            f"selection {sel.name!r} and model {student_row.name!r} belong to different datasets"
        )
    teacher_model, labels = accepted_labels(store, sel.id, sel.name, teacher)
    if len(labels) < cfg.minimum():
        raise BadInputError(
            f"selection {sel.name!r} has {len(labels)} accepted labels: fractions "
            f"{','.join(f'{f:g}' for f in cfg.fractions)} need at least {cfg.minimum()} "
            f"({cfg.min_labels} in the smallest); accept more, or use larger fractions"
        )
    ds = load_dataset(store, dataset_name(store, student_row))
    base = load_trained(store, student_row)
    valid = Instances.of_split(ds, "valid", base.max_len)
    student_value = float(evaluate(base, valid)[cfg.metric])
    distill_cfg = DistillSettings()
    sizes = [len(s) for s in nested_subsets(len(labels), cfg.fractions, 0)]
    config = {
        "selection": sel.name, "student": student_row.name, "teacher": teacher_model,
        **cfg.model_dump(mode="json"), "distill": distill_cfg.model_dump(mode="json"),
    }  # fmt: skip
    with recorded_run(
        store, "curve", sel.name, config, 0, what=f"label curve of {sel.name}"
    ) as run:
        task = Task(report, "curve", cfg.seeds * len(cfg.fractions), "distillations")
        per_seed: list[list[float]] = []
        for seed in range(cfg.seeds):
            row: list[float] = []
            for subset in nested_subsets(len(labels), cfg.fractions, seed):
                chosen = [labels[i] for i in subset.tolist()]
                teacher_labels = TeacherLabels.from_lists(
                    [lab.session_index for lab in chosen], [lab.ranking for lab in chosen],
                    [lab.scores for lab in chosen], distill_cfg.max_positions,
                )  # fmt: skip
                copy = load_trained(store, student_row)
                torch.manual_seed(seed)
                fitted = distill(
                    copy, ds, teacher_labels, distill_cfg.model_copy(update={"seed": seed})
                )
                row.append(float(evaluate(fitted.model, valid)[cfg.metric]))
                task.advance(1)
            per_seed.append(row)
            report(ProgressEvent("log", "curve", message=(
                f"seed {seed}: " + ", ".join(f"{n} labels {v:.4f}" for n, v in zip(sizes, row, strict=True)))))  # fmt: skip
        task.end()
        points, last, last_se, next_step, verdict = summarise(sizes, per_seed, student_value)
        for point, fraction in zip(points, cfg.fractions, strict=True):
            point.fraction = fraction
        result = CurveResult(
            selection=sel.name, student=student_row.name, teacher=teacher_model, metric=cfg.metric,
            split="valid", accepted=len(labels), seeds=cfg.seeds, student_value=round(student_value, 6),
            points=points, last_gain=round(last, 6),
            last_gain_se=round(last_se, 6) if not math.isnan(last_se) else 0.0,
            next_step=next_step, verdict=verdict, run=run.id,
        )  # fmt: skip
        figures: dict[str, float] = {"student": student_value, "last_gain": last,
                                     "accepted": len(labels)}  # fmt: skip
        for point in points:
            key = f"{point.fraction:g}"
            figures |= {f"{key} labels": point.labels, f"{key} mean": point.mean,
                        f"{key} std": point.std, f"{key} gain": point.gain}  # fmt: skip
            figures |= {f"{key} seed {s}": v for s, v in enumerate(point.values)}
        run.done(metrics={"valid": figures}, step="curve")
    return result
