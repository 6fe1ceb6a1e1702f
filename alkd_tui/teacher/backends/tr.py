"""The teacher recommender as a teacher (the paper's "TR" baseline): no LLM. Its answer to a
question is its own candidate list, in its own order. Named as what it is, never as an LLM."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from alkd_tui.errors import BadInputError
from alkd_tui.teacher.backends.base import Answer, TeacherInfo
from alkd_tui.teacher.prompts import Prompt

if TYPE_CHECKING:
    from alkd_tui.teacher.settings import LabelSettings, TeacherChoice


class RecommenderTeacher:
    """Answers with the first N of the candidates, which are this recommender's top items."""

    backend = "tr"

    @classmethod
    def create(
        cls, choice: TeacherChoice, settings: LabelSettings, recommender: str | None = None
    ) -> RecommenderTeacher:
        """The teacher recommender the job's candidates come from, answering itself."""
        if recommender is None:
            raise BadInputError(
                "--teacher tr needs --candidates-from MODEL (the teacher recommender)"
            )
        return cls(recommender)

    def __init__(self, model_name: str, digest: str | None = None) -> None:
        self.model = f"tr:{model_name}"
        self.digest = digest

    def describe(self) -> TeacherInfo:
        return TeacherInfo(
            backend=self.backend,
            model=self.model,
            digest=self.digest,
            is_llm=False,
            description=f"the teacher recommender {self.model[3:]} (no LLM)",
        )

    def ask(self, prompt: Prompt, options: dict[str, Any], attempt: int = 0) -> Answer:
        return Answer(content=json.dumps({"ranking": prompt.candidates[: prompt.n]}))
