"""Auditing stored teacher answers: how good they were against the true next item, how they
compare with a student (effective / similar / incorrect), what failed to parse, what they
cost, and how reviewers judged them; overall, by strategy and by model.

Classes of an answer (as the paper's knowledge-distillation view has them), with `n` the
answer length and `overlap` the share of the teacher's ranking also in the student's top n:
`similar` when the overlap is at least `overlap_threshold` or both find the target;
`effective` when only the teacher finds it; `incorrect` when the teacher misses it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alkd_tui.data import load_dataset
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.agreement import agreement
from alkd_tui.pipeline.audit_settings import AuditSettings
from alkd_tui.pipeline.labels import answer_filter
from alkd_tui.pipeline.models import dataset_name, get_model, load_trained
from alkd_tui.pipeline.review import review_states
from alkd_tui.pipeline.selection import get_selection
from alkd_tui.store import Selection, Store
from alkd_tui.store.answers import audit_rows
from alkd_tui.store.datasets import item_indices
from alkd_tui.teacher.parsing import parse_ranking

HITS = (1, 5, 10, 25)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None, "mean": None, "total": 0}
    a = np.asarray(values, dtype=float)
    return {
        "p50": round(float(np.percentile(a, 50)), 4),
        "p90": round(float(np.percentile(a, 90)), 4),
        "p99": round(float(np.percentile(a, 99)), 4),
        "mean": round(float(a.mean()), 4),
        "total": round(float(a.sum()), 4),
    }


def _requests(
    store: Store,
    selection: str | None,
    teacher: str | None,
    dataset: str | None,
    strategy: str | None = None,
    calibration: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    which = answer_filter(
        store, selection=selection, teacher=teacher, dataset=dataset, strategy=strategy,
        calibration=calibration,
    )  # fmt: skip
    with store.read() as conn:
        rows = audit_rows(conn, which)
        states = review_states(conn, (row["id"] for row in rows))
    for row in rows:
        row["review"] = states[row["id"]].status
        row["verdicts"] = states[row["id"]].verdicts
        row["ranking"] = json.loads(row["ranking"]) if row["ranking"] else []  # decoded once
        row["candidates"] = json.loads(row["candidates"]) if row["candidates"] else None
    datasets = {row["dataset_id"] for row in rows}
    if len(datasets) > 1:
        raise BadInputError(
            "these answers span several datasets: narrow the audit with --dataset or --selection"
        )
    return rows, (datasets.pop() if datasets else 0)


#: Duplicates and unknown ids of raw answers re-read against a dataset's catalogue, kept
#: between audits (the TUI audits again on every filter change and each time the area opens):
#: (store, dataset) -> (the catalogue, {digest of a raw answer: (duplicates, unknown)}), for
#: the last few datasets; dropped when the catalogue differs.
_REREAD: dict[tuple[str, int], tuple[dict[str, int], dict[bytes, tuple[int, int]]]] = {}
_REREAD_LOCK = threading.Lock()
_REREAD_DATASETS, _REREAD_ANSWERS = 4, 1_000_000


def _rereads(
    store: Store, dataset_id: int, catalogue: dict[str, int]
) -> dict[bytes, tuple[int, int]]:
    """The kept re-reads of raw answers against this catalogue (an empty dict to fill, at first)."""
    key = (store.target, dataset_id)
    with _REREAD_LOCK:
        kept = _REREAD.get(key)
        if kept is None or kept[0] != catalogue or len(kept[1]) > _REREAD_ANSWERS:
            while len(_REREAD) >= _REREAD_DATASETS:
                del _REREAD[next(iter(_REREAD))]
            _REREAD.pop(key, None)
            kept = _REREAD[key] = (catalogue, {})
        return kept[1]


def _judge(
    rows: list[dict[str, Any]],
    catalogue: dict[str, int] | None,
    rereads: dict[bytes, tuple[int, int]],
    student_top: dict[int, list[int]] | None,
    overlap_threshold: float,
    n: int,
) -> None:
    """What each answered row says, worked out once for all the groups that count it: where
    its ranking puts the target (`at`, None when it is not there), its duplicates and unknown
    ids against the catalogue (re-read from the raw answer; `rereads` keeps them by the
    answer's digest) and, with a student, its class."""
    for r in rows:
        if r["status"] != "answered":
            continue
        ranking, target = r["ranking"], int(r["target"])
        r["at"] = ranking.index(target) if target in ranking else None
        raw = r["raw_response"]
        if catalogue is not None and raw:
            digest = hashlib.blake2b(raw.encode(), digest_size=16).digest()
            found = rereads.get(digest)
            if found is None:
                again = parse_ranking(raw, catalogue, 10**6)
                found = rereads[digest] = (again.duplicates, again.unknown)
            r["duplicates"], r["unknown"] = found
        if student_top is not None:
            top = student_top[int(r["idx"])][:n]
            teacher = ranking[:n]
            overlap = len(set(teacher) & set(top)) / n
            t_hit, s_hit = target in teacher, target in top
            if overlap >= overlap_threshold or (t_hit and s_hit):
                r["class"] = "similar"
            elif t_hit:
                r["class"] = "effective"
            else:
                r["class"] = "incorrect"


def _figures(
    rows: list[dict[str, Any]], reparse: bool, classes_known: bool, costs: bool = True
) -> dict[str, Any]:
    """The figures of a group of rows `_judge` has seen: duplicates and unknown ids with
    `reparse`, classes with `classes_known`, what the answers cost with `costs`."""
    answered = [r for r in rows if r["status"] == "answered"]
    out: dict[str, Any] = {
        "requests": len(rows),
        "answers": len(answered),
        "failed": sum(r["status"] == "failed" for r in rows),
        "pending": sum(r["status"] in ("pending", "sent") for r in rows),
    }
    parse: dict[str, int] = defaultdict(int)
    hits = dict.fromkeys(HITS, 0)
    duplicates = answers_with_duplicates = unknown_ids = 0
    classes = {"effective": 0, "similar": 0, "incorrect": 0}
    for r in answered:
        parse[r["parse_status"] or "unknown"] += 1
        at = r["at"]
        if at is not None:
            for k in HITS:
                hits[k] += at < k
        if reparse and "duplicates" in r:
            duplicates += r["duplicates"]
            answers_with_duplicates += r["duplicates"] > 0
            unknown_ids += r["unknown"]
        if classes_known:
            classes[r["class"]] += 1
    total = max(len(answered), 1)
    out["parsed"] = sum(v for k, v in parse.items() if k in ("ok", "repaired", "short"))
    out["parse"] = dict(sorted(parse.items()))
    for k in HITS:
        out[f"hit@{k}"] = round(hits[k] / total, 6) if answered else None
    out["duplicates"] = duplicates
    out["answers_with_duplicates"] = answers_with_duplicates
    out["unknown_ids"] = unknown_ids
    if classes_known:
        for name, count in classes.items():
            out[name] = round(count / total, 6) if answered else None
        out["classes"] = classes
        if answered and min(classes.values()) > 0:
            smallest = min(classes.values())
            out["estimated_ratios"] = ":".join(
                f"{classes[c] / smallest:.2g}" for c in ("effective", "similar", "incorrect")
            )
    if costs:
        # What answers cost is counted once per request (sessions with identical questions share one).
        asked = list({r["id"]: r for r in answered}.values())
        out["questions"] = len(asked)
        for key in ("latency_s", "prompt_tokens", "output_tokens"):
            out[key] = _percentiles([float(r[key]) for r in asked if r[key] is not None])
    review: dict[str, int] = defaultdict(int)
    for r in answered:
        review[r["review"]] += 1
    decided = review.get("accepted", 0) + review.get("rejected", 0)
    out["review"] = dict(sorted(review.items()))
    out["acceptance_rate"] = round(review["accepted"] / decided, 6) if decided else None
    return out


def candidate_leak_section(
    store: Store,
    selection: str | None,
    rows: list[dict[str, Any]],
    calibration: list[dict[str, Any]],
    dataset_id: int,
) -> dict[str, Any] | None:
    """How often the candidate lists the questions showed hold the target: on the training
    sessions asked about, against validation sessions (the calibration questions' lists where
    there are some, else the selection's teacher recommender's top on up to 1,000 validation
    sessions), with a warning when the training lists hold it far more often. None when no
    question showed candidates."""
    from alkd_tui.pipeline.candidate_leak import hit_rates, leak_warning, validation_hit_rates

    def lists(group: list[dict[str, Any]]) -> tuple[list[list[int]], list[int]]:
        seen = {(r["id"], r["idx"]): r for r in group if r["candidates"]}
        return [r["candidates"] for r in seen.values()], [int(r["target"]) for r in seen.values()]

    training = lists([r for r in rows if r["split"] == "train"])
    if not training[0]:
        return None
    section: dict[str, Any] = {"training": hit_rates(*training)}
    valid = lists([r for r in calibration if r["split"] == "valid"])
    if valid[0]:
        section["validation"] = hit_rates(*valid)
        section["validation_from"] = "calibration questions"
    elif selection is not None and get_selection(store, selection).teacher_model_id is not None:
        sel = get_selection(store, selection)
        teacher = str(sel.teacher_model_id)
        kappa = max(len(c) for c in training[0])
        ds = load_dataset(store, dataset_name(store, get_model(store, teacher)))
        section["validation"] = validation_hit_rates(store, teacher, ds, kappa)
        section["validation_from"] = f"the teacher recommender's top {kappa} on validation sessions"
    if "validation" in section:
        section["warning"] = leak_warning(section["training"], section["validation"])
    return section


@torch.no_grad()
def _student_tops(
    store: Store, student: str, dataset_id: int, rows: list[dict[str, Any]], n: int
) -> dict[int, list[int]]:
    from alkd_tui.teacher.candidates import top_candidates

    row = get_model(store, student)
    if row.dataset_id != dataset_id:
        raise BadInputError(f"model {row.name!r} was trained on another dataset than these answers")
    model = load_trained(store, row)
    ds = load_dataset(store, dataset_name(store, row))
    idx = np.array(sorted({int(r["idx"]) for r in rows}), dtype=np.int64)
    top, _ = top_candidates(model, ds, idx, n)
    return {int(i): t.tolist() for i, t in zip(idx, top, strict=True)}


def write_session_lists(rows: list[dict[str, Any]], folder: str | Path) -> dict[str, int]:
    """Write the session ids (external, one per line, in answer order) of each group of the
    judged answers to `folder`: `hit@K.txt` for K in HITS (the answer's top K holds the true
    next item), `miss.txt` (it does not hold it) and, where classes are known,
    `effective.txt`, `similar.txt` and `incorrect.txt`. A list is a pool for
    `alkd select --pool ids:FILE`: the oracle selections of docs/results.md. Returns each
    file's name and size."""
    groups: dict[str, list[str]] = {f"hit@{k}": [] for k in HITS}
    groups["miss"] = []
    answered = [r for r in rows if r["status"] == "answered"]
    if answered and "class" in answered[0]:
        groups.update(effective=[], similar=[], incorrect=[])
    for r in answered:
        at = r["at"]
        for k in HITS:
            if at is not None and at < k:
                groups[f"hit@{k}"].append(r["session_id"])
        if at is None:
            groups["miss"].append(r["session_id"])
        if "class" in r:
            groups[r["class"]].append(r["session_id"])
    unique = {name: list(dict.fromkeys(ids)) for name, ids in groups.items()}
    out = Path(folder).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, ids in unique.items():
            (out / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids))
    except OSError as exc:
        raise BadInputError(f"--sessions-dir {out}: {exc.strerror or exc}") from None
    return {f"{name}.txt": len(ids) for name, ids in unique.items()}


#: The strategies whose policy assumes the effective : similar : incorrect ratios.
RATIO_STRATEGIES = ("alkd", "rad-bc")


def assumed_ratios(store: Store, selection: str) -> dict[str, Any] | None:
    """The effective : similar : incorrect ratios a selection's policy assumed (from its
    params), as given and as shares; None for strategies that assume none (random, file, ...).
    `rad-bc` uses only the correct share, effective + similar."""
    sel = get_selection(store, selection)
    ratios = (sel.params or {}).get("ratios")
    if sel.strategy not in RATIO_STRATEGIES or not ratios or len(ratios) != 3:
        return None
    total = float(sum(ratios))
    return {
        "ratios": ":".join(f"{r:g}" for r in ratios),
        **{c: round(r / total, 6) for c, r in zip(("effective", "similar", "incorrect"), ratios, strict=True)},
        "strategy": sel.strategy,
    }  # fmt: skip


def audit(
    store: Store,
    *,
    selection: str | None = None,
    teacher: str | None = None,
    dataset: str | None = None,
    strategy: str | None = None,
    student: str | None = None,
    settings: AuditSettings | None = None,
    n: int | None = None,
    overlap_threshold: float | None = None,
    save_ratios: bool = False,
    sessions_dir: str | Path | None = None,
) -> dict[str, Any]:
    """The audit of the teacher answers that match the filters (all of them by default);
    `strategy` keeps the answers asked for selections of that strategy.

    By selection, `assumed_ratios` holds the ratios the selection's policy assumed (see
    `assumed_ratios`), to set beside the measured shares. With `save_ratios` (and a selection
    and a student), the measured effective : similar : incorrect ratios are kept with the
    selection, for `alkd select --ratios from:SELECTION`. With `sessions_dir`, the session ids
    of each class and hit@K go to files there (`write_session_lists`).
    """
    given = {"n": n, "overlap": overlap_threshold}
    settings = settings or AuditSettings.model_validate(
        {k: v for k, v in given.items() if v is not None}
    )
    n, overlap_threshold = settings.n, settings.overlap
    rows, dataset_id = _requests(store, selection, teacher, dataset, strategy)
    calibration, calibration_dataset = _requests(
        store, selection, teacher, dataset, strategy, calibration=True
    )
    if rows and calibration and calibration_dataset != dataset_id:
        raise BadInputError(
            "these answers span several datasets: narrow the audit with --dataset or --selection"
        )
    dataset_id = dataset_id or calibration_dataset
    catalogue = None
    rereads: dict[bytes, tuple[int, int]] = {}
    student_top = None
    if rows or calibration:
        catalogue = item_indices(store, dataset_id)
        rereads = _rereads(store, dataset_id, catalogue)
        if student is not None:
            answered = [r for r in rows + calibration if r["status"] == "answered"]
            student_top = _student_tops(store, student, dataset_id, answered, n)
    _judge(rows, catalogue, rereads, student_top, overlap_threshold, n)
    _judge(calibration, catalogue, rereads, student_top, overlap_threshold, n)
    result = {
        "filters": {
            "selection": selection,
            "teacher": teacher,
            "dataset": dataset,
            "strategy": strategy,
            "student": student,
        },
        **_figures(rows, catalogue is not None, student_top is not None),
    }
    if calibration:
        result["calibration"] = _figures(calibration, False, student_top is not None, costs=False)
        if student_top is not None and result["calibration"]["answers"]:
            # The classes against the student, from sessions no model memorised.
            for key in ("effective", "similar", "incorrect", "classes", "estimated_ratios"):
                result.pop(key, None)
                if key in result["calibration"]:
                    result[key] = result["calibration"][key]
            result["classes_from"] = "calibration"
    elif student_top is not None:
        result["classes_from"] = "training"
    result["agreement"] = agreement((r["id"], r["verdicts"]) for r in rows)
    leak = candidate_leak_section(store, selection, rows, calibration, dataset_id)
    if leak is not None:
        result["candidate_leak"] = leak
    if selection is not None:
        result["assumed_ratios"] = assumed_ratios(store, selection)
    if sessions_dir is not None:
        result["session_lists"] = {
            "folder": str(Path(sessions_dir).expanduser().resolve()),
            "files": write_session_lists(rows, sessions_dir),
        }
    if save_ratios:
        if selection is None or "estimated_ratios" not in result:
            raise BadInputError(
                "--save-ratios needs --selection and --student, and answers of every class"
            )
        sel = get_selection(store, selection)
        with store.session() as orm:
            row = orm.get(Selection, sel.id)
            assert row is not None
            row.params = {**row.params, "estimated_ratios": result["estimated_ratios"],
                          "estimated_by": {"student": student, "n": n, "answers": result["answers"]}}  # fmt: skip
        result["saved_ratios"] = result["estimated_ratios"]
    for key in ("model_name", "strategy"):
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[str(r[key] or "none")].append(r)
        label = "by_model" if key == "model_name" else "by_strategy"
        result[label] = {
            name: {k: v for k, v in _figures(group, False, student_top is not None, costs=False).items()
                   if k in ("answers", "parsed", "hit@1", "hit@5", "hit@10", "hit@25", "effective", "similar",
                            "incorrect", "acceptance_rate")}
            for name, group in sorted(groups.items())
        }  # fmt: skip
    return result
