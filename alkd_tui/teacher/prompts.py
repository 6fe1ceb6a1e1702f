"""Prompts, versioned: what the teacher is asked, rendered the same way every time, and the
hash that identifies an identical question (so it is never asked of the same model twice).

Items appear as `<ID_x: title>` with their external ids; the LLM answers with those ids.
Templates:

- `rank-v1`: the paper's ranking prompt: the session's items in their real order, a
  candidate list (the teacher recommender's top kappa), optional hints; the answer is JSON
  `{"ranking": [ids]}` with exactly N candidate ids, constrained by a JSON schema.
- `soft-v1`: one choice among at most 20 lettered candidates; the answer token's
  `top_logprobs` give a distribution over the letters (soft labels).
- `hints-v1`: the paper's Module 1: the LLM reads the teacher recommender's rankings of a few
  sessions and writes short hints, later included in ranking prompts.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

RANK_TEMPLATE = "rank-v1"
SOFT_TEMPLATE = "soft-v1"
HINTS_TEMPLATE = "hints-v1"
LETTERS = string.ascii_uppercase[:20]
HINT_MAX_CHARS = 200  # a hint is one sentence

SYSTEM = (
    "You are a recommender system. You predict which item a user will interact with next, "
    "from the items of their current session. Answer only in the requested format."
)


@dataclass(frozen=True)
class ItemRef:
    """An item as the teacher sees it: its external id and title."""

    external_id: str
    title: str | None = None

    def render(self) -> str:
        return (
            f"<ID_{self.external_id}: {self.title}>" if self.title else f"<ID_{self.external_id}>"
        )


@dataclass
class Prompt:
    """One question to a teacher: chat messages, an output format, and what to read back."""

    template: str
    messages: list[dict[str, str]]
    format: dict[str, Any] | str | None
    n: int
    candidates: list[str] = field(default_factory=list)  # external ids the answer may use
    session_key: str = ""  # the session's external id (what recorded answers are keyed by)

    def text(self) -> str:
        """The messages as one readable text (stored with the request)."""
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages)

    def hash(self, options: dict[str, Any] | None = None) -> str:
        """Identifies the question: template, messages, format and generation options."""
        blob = json.dumps(
            {
                "template": self.template,
                "messages": self.messages,
                "format": self.format,
                "options": options or {},
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def _session_block(session: Sequence[ItemRef]) -> str:
    lines = [f"{k}. {item.render()}" for k, item in enumerate(session, start=1)]
    return "The user's session so far, oldest first:\n" + "\n".join(lines)


def _hints_block(hints: Sequence[str]) -> str:
    if not hints:
        return ""
    return "Hints about users of this catalogue:\n" + "\n".join(f"- {h}" for h in hints) + "\n\n"


def ranking_schema(candidates: Sequence[str], n: int) -> dict[str, Any]:
    """JSON schema of `{"ranking": [...]}`: exactly `n` ids from `candidates`."""
    return {
        "type": "object",
        "properties": {
            "ranking": {
                "type": "array",
                "items": {"type": "string", "enum": list(candidates)},
                "minItems": n,
                "maxItems": n,
            }
        },
        "required": ["ranking"],
    }


def ranking_prompt(
    session: Sequence[ItemRef], candidates: Sequence[ItemRef], n: int, hints: Sequence[str] = ()
) -> Prompt:
    """The paper's ranking question (`rank-v1`)."""
    n = min(n, len(candidates))
    listing = "\n".join(item.render() for item in candidates)
    user = (
        f"{_hints_block(hints)}{_session_block(session)}\n\n"
        f"Candidate items:\n{listing}\n\n"
        f"Rank the {n} candidate items the user is most likely to interact with next, most likely "
        f'first. Answer with JSON {{"ranking": [ids]}}: exactly {n} distinct ids taken from the '
        f"candidates (the part after ID_, without the title)."
    )
    ids = [c.external_id for c in candidates]
    return Prompt(
        RANK_TEMPLATE,
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        ranking_schema(ids, n),
        n,
        ids,
    )


def soft_label_prompt(
    session: Sequence[ItemRef], candidates: Sequence[ItemRef], hints: Sequence[str] = ()
) -> Prompt:
    """One choice among at most 20 lettered candidates (`soft-v1`), for reading logprobs."""
    if not 1 <= len(candidates) <= len(LETTERS):
        raise ValueError(f"soft labels take 1 to {len(LETTERS)} candidates, got {len(candidates)}")
    listing = "\n".join(
        f"{letter}. {item.render()}" for letter, item in zip(LETTERS, candidates, strict=False)
    )
    user = (
        f"{_hints_block(hints)}{_session_block(session)}\n\n"
        f"Candidate items:\n{listing}\n\n"
        "Which one candidate will the user interact with next? Answer with its letter only."
    )
    # No output format: the first answer token must be the letter itself, so that its
    # top_logprobs are a distribution over the letters.
    return Prompt(
        SOFT_TEMPLATE,
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        None,
        1,
        [c.external_id for c in candidates],
    )


def hints_prompt(
    examples: Sequence[tuple[Sequence[ItemRef], Sequence[ItemRef]]], max_hints: int = 5
) -> Prompt:
    """Module 1 (`hints-v1`): sessions with a conventional recommender's top items -> hints."""
    blocks = []
    for k, (session, top) in enumerate(examples, start=1):
        items = ", ".join(item.render() for item in session)
        ranked = ", ".join(item.render() for item in top)
        blocks.append(f"Session {k}: {items}\nRecommender's top items: {ranked}")
    user = (
        "A conventional recommender ranked the next items for these sessions:\n\n"
        + "\n\n".join(blocks)
        + f"\n\nWrite at most {max_hints} short hints (one sentence each) about patterns that help "
        'predict what a user picks next in this catalogue. Answer with JSON {"hints": [strings]}.'
    )
    schema = {
        "type": "object",
        "properties": {
            "hints": {
                "type": "array",
                "items": {"type": "string", "minLength": 8, "maxLength": HINT_MAX_CHARS},
                "minItems": 1,
                "maxItems": max_hints,
            }
        },
        "required": ["hints"],
    }
    return Prompt(
        HINTS_TEMPLATE,
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        schema,
        max_hints,
    )
