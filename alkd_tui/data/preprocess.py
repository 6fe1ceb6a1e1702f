"""From raw clicks to sessions: the SR-GNN preprocessing, as options stored with a dataset.

Steps, in order: order each session's clicks by time (ties keep file order); drop short
sessions and rare items, repeating until nothing changes; split by time (test = the last N
days, or the latest fraction of sessions; validation = the latest fraction of the rest);
keep in validation and test only items seen in training; then one instance per session (the
last click is the target) or, with prefix augmentation, one per prefix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from alkd_tui.data.canonical import TEST, TRAIN, VALID, ClickLog, SessionDataset
from alkd_tui.errors import BadInputError

DAY = 86_400.0


class PreprocessOptions(BaseModel):
    """How raw clicks become sessions and splits (defaults follow SR-GNN)."""

    model_config = ConfigDict(extra="forbid")

    min_session_length: int = Field(2, ge=2)
    """Sessions with fewer clicks are dropped (a session needs an input and a target)."""
    min_item_support: int = Field(5, ge=1)
    """Items clicked fewer times are dropped; repeated with the length filter until stable."""
    test_days: float | None = Field(None, gt=0)
    """Sessions that end in the last N days of the data form the test split."""
    test_fraction: float | None = Field(None, gt=0, lt=1)
    """Alternatively, the latest fraction of sessions (by end time) forms the test split."""
    valid_fraction: float = Field(0.1, ge=0, lt=1)
    """The latest fraction of the remaining (training) sessions is held out for validation."""
    augment_prefixes: bool = False
    """Turn a session of n clicks into n - 1 instances, one per prefix (SR-GNN's augmentation)."""
    max_length: int | None = Field(None, ge=1)
    """Keep only the last N input items of each instance (None: keep all)."""
    session_gap: float | None = Field(None, gt=0)
    """For logs keyed by user: seconds of inactivity that end a session."""

    @model_validator(mode="after")
    def _one_test_rule(self) -> PreprocessOptions:
        if self.test_days is not None and self.test_fraction is not None:
            raise ValueError("give test_days or test_fraction, not both")
        return self


def sessionize_by_gap(user: np.ndarray, time: np.ndarray, gap: float) -> np.ndarray:
    """Session codes for clicks keyed by user: a new session after `gap` seconds of silence.

    Clicks are ordered by (user, time, file order), so tied timestamps keep their file order.
    Returns one session code per click, in the input's row order.
    """
    n = len(user)
    order = np.lexsort((np.arange(n), time, user))
    u, t = user[order], time[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (t[1:] - t[:-1] > gap)
    codes_sorted = np.cumsum(new) - 1
    codes = np.empty(n, dtype=np.int64)
    codes[order] = codes_sorted
    return codes


def _filter(
    session: np.ndarray, item: np.ndarray, keep: np.ndarray, opts: PreprocessOptions
) -> np.ndarray:
    """Drop short sessions and rare items until neither filter changes anything."""
    n_sessions = int(session.max()) + 1 if session.size else 0
    n_items = int(item.max()) + 1 if item.size else 0
    keep = keep.copy()
    while True:
        before = int(keep.sum())
        length = np.bincount(session[keep], minlength=n_sessions)
        keep &= length[session] >= opts.min_session_length
        support = np.bincount(item[keep], minlength=n_items)
        keep &= support[item] >= opts.min_item_support
        length = np.bincount(session[keep], minlength=n_sessions)
        keep &= length[session] >= opts.min_session_length
        if int(keep.sum()) == before:
            return keep


def sessions_from_clicks(log: ClickLog, opts: PreprocessOptions) -> SessionDataset:
    """Preprocess a click log into a `SessionDataset` (see the module docstring)."""
    if log.n_clicks == 0:
        raise BadInputError(f"{log.source}: no clicks")
    if opts.test_days is not None and not log.has_time:
        raise BadInputError(f"{log.source}: --test-days needs a time column; use --test-fraction")
    n = log.n_clicks
    order = np.lexsort((np.arange(n), log.time, log.session))
    session, item, time = log.session[order], log.item[order], log.time[order]
    given = log.split[order] if log.split is not None else None

    keep = _filter(session, item, np.ones(n, dtype=bool), opts)
    if not keep.any():
        raise BadInputError(
            f"{log.source}: no session is left after dropping sessions shorter than "
            f"{opts.min_session_length} and items seen fewer than {opts.min_item_support} times"
        )
    session, item, time = session[keep], item[keep], time[keep]
    given = given[keep] if given is not None else None

    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    end_time = np.maximum.reduceat(time, starts)
    start_time = time[starts]
    n_sess = len(starts)
    seg = np.repeat(np.arange(n_sess), np.diff(np.r_[starts, len(session)]))

    split = np.full(n_sess, TRAIN, dtype=np.int8)
    if given is not None:
        split = np.maximum.reduceat(given, starts).astype(np.int8)
    elif opts.test_days is not None:
        split[end_time > end_time.max() - opts.test_days * DAY] = TEST
    else:
        split[_latest(end_time, np.arange(n_sess), opts.test_fraction or 0.2)] = TEST
    if opts.valid_fraction > 0 and not (split == VALID).any():
        train_idx = np.flatnonzero(split == TRAIN)
        split[_latest(end_time[train_idx], train_idx, opts.valid_fraction)] = VALID
    if not (split == TRAIN).any():
        raise BadInputError(f"{log.source}: the split leaves no training session")

    # Validation and test keep only items seen in training (a model cannot predict the rest).
    click_split = split[seg]
    in_train = np.zeros(int(item.max()) + 1, dtype=bool)
    in_train[item[click_split == TRAIN]] = True
    keep = (click_split == TRAIN) | in_train[item]
    length = np.bincount(seg[keep], minlength=n_sess)
    keep &= length[seg] >= opts.min_session_length
    session_alive = np.bincount(seg[keep], minlength=n_sess) > 0

    # Order sessions by split, then end time, then first appearance; clicks stay in time order.
    sess_order = np.lexsort((np.arange(n_sess), end_time, split))
    sess_order = sess_order[session_alive[sess_order]]
    rank = np.empty(n_sess, dtype=np.int64)
    rank[sess_order] = np.arange(len(sess_order))
    click_order = np.lexsort((np.arange(len(seg)), rank[seg]))
    click_order = click_order[keep[click_order]]
    seq_items = item[click_order]
    seq_seg = rank[seg[click_order]]

    # Items: indexed by first appearance in this order (training sessions come first).
    uniq, first = np.unique(seq_items, return_index=True)
    by_first = uniq[np.argsort(first, kind="stable")]
    remap = np.full(int(item.max()) + 1, -1, dtype=np.int64)
    remap[by_first] = np.arange(len(by_first))
    seq_items = remap[seq_items].astype(np.int32)
    item_ids = [log.item_keys[code] for code in by_first]

    lengths = np.bincount(seq_seg, minlength=len(sess_order))
    keys = [log.session_keys[session[starts[s]]] for s in sess_order]
    times = start_time[sess_order] if log.has_time else None
    ds = _instances(seq_items, lengths, split[sess_order], keys, times, opts)
    ds.item_ids = item_ids
    if log.titles is not None:
        ds.titles = [log.titles.get(key) for key in item_ids]
    if log.attributes is not None:
        ds.attributes = [log.attributes.get(key) for key in item_ids]
    ds.notes["source_sessions"] = len(sess_order)
    ds.notes["dropped_clicks"] = int(n - len(seq_items))
    return ds


def _latest(end_time: np.ndarray, index: np.ndarray, fraction: float) -> np.ndarray:
    """The entries of `index` whose sessions are the latest `fraction` by end time."""
    count = math.floor(len(index) * fraction + 0.5)  # round half up
    if count == 0:
        return index[:0]
    order = np.lexsort((np.arange(len(index)), end_time))
    return index[order[-count:]]


def _instances(
    clicks: np.ndarray,
    lengths: np.ndarray,
    split: np.ndarray,
    keys: list[str],
    times: np.ndarray | None,
    opts: PreprocessOptions,
) -> SessionDataset:
    """Cut ordered sessions into instances (inputs, next item)."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if not opts.augment_prefixes:
        seg = np.repeat(np.arange(len(lengths)), lengths)
        is_last = np.arange(len(clicks)) == offsets[seg + 1] - 1
        ds = SessionDataset(
            item_ids=[],
            session_ids=keys,
            split=split.astype(np.int8),
            offsets=np.r_[0, np.cumsum(lengths - 1)].astype(np.int64),
            items=clicks[~is_last],
            targets=clicks[offsets[1:] - 1].astype(np.int32),
            start_times=times,
        )
        return ds.truncated(opts.max_length) if opts.max_length else ds
    inputs: list[np.ndarray] = []
    targets: list[int] = []
    ids: list[str] = []
    inst_split: list[int] = []
    inst_times: list[float] = []
    cap = opts.max_length or 1 << 30
    for s, key in enumerate(keys):
        seq = clicks[offsets[s] : offsets[s + 1]]
        for k in range(1, len(seq)):
            inputs.append(seq[max(0, k - cap) : k])
            targets.append(int(seq[k]))
            ids.append(f"{key}:{k}")
            inst_split.append(int(split[s]))
            if times is not None:
                inst_times.append(float(times[s]))
    inst_lengths = np.fromiter((len(x) for x in inputs), dtype=np.int64, count=len(inputs))
    return SessionDataset(
        item_ids=[],
        session_ids=ids,
        split=np.asarray(inst_split, dtype=np.int8),
        offsets=np.r_[0, np.cumsum(inst_lengths)].astype(np.int64),
        items=np.concatenate(inputs).astype(np.int32) if inputs else np.zeros(0, np.int32),
        targets=np.asarray(targets, dtype=np.int32),
        start_times=np.asarray(inst_times) if times is not None else None,
    )


def options_summary(opts: PreprocessOptions) -> dict[str, Any]:
    """The options as stored with a dataset (JSON-ready)."""
    return opts.model_dump()
