"""Reading an LLM's ranking out of its answer. Never raises: every odd answer gets a parse
status and notes, and the raw answer is kept beside the result.

Statuses: `ok` (exactly N known ids, nothing to repair), `repaired` (N ids after dropping
duplicates or unknown ids), `short` (fewer than N, at least one), `empty` (none), `not_json`
(no JSON could be read; ids were looked for in the text), `truncated` (JSON cut off; ids
were salvaged from the part that arrived). Hints answers (`parse_hints`) get the same
statuses where they apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alkd_tui.teacher.prompts import HINT_MAX_CHARS

#: How an answer parsed, best first; `too_long`: longer than the size cap, cut and not read.
PARSE_STATUSES = ("ok", "repaired", "short", "empty", "not_json", "truncated", "too_long")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_TOKEN = re.compile(r"[A-Za-z0-9_\-]+")
_ID_PREFIX = re.compile(r"^<?\s*(?:ID[_\s:]*)?", re.IGNORECASE)


@dataclass
class ParsedRanking:
    """What could be read from an answer: item indices best first, a status, and notes."""

    ranking: list[int]
    status: str
    notes: list[str] = field(default_factory=list)
    duplicates: int = 0
    unknown: int = 0


def normalize_id(value: Any) -> str:
    """An answered id as text: `<ID_316: Toy Story>` and `ID_316` become `316`."""
    if isinstance(value, Mapping):
        for key in ("id", "item_id", "item", "ID"):
            if key in value:
                return normalize_id(value[key])
        return ""
    text = str(value).strip()
    text = _ID_PREFIX.sub("", text)
    text = text.split(":", 1)[0] if ":" in text else text
    return text.strip().strip(">").strip().strip("\"'")


def _extract_list(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        for key in ("ranking", "items", "recommendations", "ids", "ranked_items"):
            if isinstance(data.get(key), list):
                return data[key]
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    return None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    fenced = _FENCE.search(text)
    if fenced:
        try:
            return json.loads(fenced.group(1))
        except ValueError:
            pass
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    end = max(text.rfind("}"), text.rfind("]"))
    if start >= 0 and end > start:
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            pass
    raise ValueError


def _looks_truncated(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return False
    return stripped.count("[") > stripped.count("]") or stripped.count("{") > stripped.count("}")


def parse_ranking(raw: str | None, known: Mapping[str, int], n: int) -> ParsedRanking:
    """The first `n` distinct ids of `raw` that are in `known` (answered id -> item index)."""
    notes: list[str] = []
    text = raw or ""
    status: str | None = None
    try:
        values = _extract_list(_loads(text))
        if values is None:
            status = "empty"
            notes.append("JSON without a list of ids")
            values = []
    except ValueError:
        if _looks_truncated(text):
            status = "truncated"
            notes.append("the JSON answer was cut off; ids salvaged from what arrived")
            # Only complete values: a quoted id whose quote closed, a number followed by , or ].
            values = re.findall(r'"([^"]*)"|(-?\d+)(?=\s*[,\]])', text)
            values = [a or b for a, b in values]
        else:
            status = "not_json" if text.strip() else None
            if status:
                notes.append("not JSON; ids looked for in the text")
            values = _TOKEN.findall(text) if text.strip() else []
    ranking: list[int] = []
    seen: set[int] = set()
    duplicates = unknown = 0
    from_json = status is None  # words salvaged from free text are not counted as unknown ids
    for value in values:
        index = known.get(normalize_id(value))
        if index is None:
            unknown += from_json
            continue
        if index in seen:
            duplicates += 1
            continue
        seen.add(index)
        ranking.append(index)
    extra = max(0, len(ranking) - n)
    ranking = ranking[:n]
    if duplicates:
        notes.append(f"{duplicates} duplicate ids dropped")
    if unknown:
        notes.append(f"{unknown} ids that are not candidates dropped")
    if extra:
        notes.append(f"{extra} ids beyond the first {n} dropped")
    if status is None:
        if not ranking:
            status = "empty"
        elif len(ranking) < n:
            status = "short"
        elif duplicates or unknown:
            status = "repaired"
        else:
            status = "ok"
    if 0 < len(ranking) < n:
        notes.append(f"{len(ranking)} of {n} ids")
    return ParsedRanking(ranking, status, notes, duplicates, unknown)


@dataclass
class ParsedHints:
    """The hints read from an answer, a status (as for rankings) and notes."""

    hints: list[str]
    status: str
    notes: list[str] = field(default_factory=list)


_BULLET = re.compile(r"^\s*(?:[-*•]+|\d+[.)]|hint\s*\d*\s*:)\s*", re.IGNORECASE)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _hint_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("hint", "text", "content", "description"):
            if isinstance(value.get(key), str):
                return value[key]
    return None


def parse_hints(raw: str | None, max_hints: int) -> ParsedHints:
    """At most `max_hints` short, distinct hints from an answer `{"hints": [strings]}`; never
    raises. Free text gives one hint per line (bullets and numbers stripped), a cut-off JSON
    answer the strings that arrived whole."""
    text = raw or ""
    notes: list[str] = []
    status: str | None = None
    values: list[Any]
    try:
        data = _loads(text)
        found = data.get("hints") if isinstance(data, Mapping) else None
        values = found if isinstance(found, list) else (_extract_list(data) or [])
        if not values:
            status = "empty"
            notes.append("JSON without a list of hints")
    except ValueError:
        if _looks_truncated(text):
            status = "truncated"
            notes.append("the JSON answer was cut off; hints salvaged from what arrived")
            body = text.split("[", 1)[1] if "[" in text else ""
            values = []
            for match in _QUOTED.finditer(body):  # whole strings only, keys left out
                if not body[match.end() :].lstrip().startswith(":"):
                    try:
                        values.append(json.loads(f'"{match.group(1)}"'))
                    except ValueError:
                        values.append(match.group(1))
        else:
            status = "not_json" if text.strip() else "empty"
            if text.strip():
                notes.append("not JSON; one hint per line of text")
            lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
            values = [line for line in lines if not line.endswith(":")]  # no headings
    hints: list[str] = []
    seen: set[str] = set()
    dropped = shortened = 0
    for value in values:
        hint = _hint_text(value)
        hint = " ".join(hint.split()) if hint is not None else ""
        if not hint or hint.casefold() in seen:
            dropped += 1
            continue
        if len(hint) > HINT_MAX_CHARS:
            hint = hint[: HINT_MAX_CHARS - 1].rstrip() + "…"
            shortened += 1
        seen.add(hint.casefold())
        hints.append(hint)
    extra = max(0, len(hints) - max_hints)
    hints = hints[:max_hints]
    if dropped and status is None:
        notes.append(f"{dropped} empty, duplicate or non-text hints dropped")
    if shortened:
        notes.append(f"{shortened} hints shortened to {HINT_MAX_CHARS} characters")
    if extra:
        notes.append(f"{extra} hints beyond the first {max_hints} dropped")
    if status is None:
        status = "empty" if not hints else ("repaired" if dropped or shortened or extra else "ok")
    elif status == "not_json" and not hints:
        status = "empty"
    return ParsedHints(hints, status, notes)
