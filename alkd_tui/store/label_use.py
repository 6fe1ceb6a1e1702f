"""Which teacher request is a selection's label for a session: the one rule, as SQL.

A session's label from a teacher model is, among the requests linked to it (`request_use`),
the most recently used answered one, else (nothing answered yet) the most recently used one.
A link is used when a labelling job registers it: the job that made it, and every later job
that asked the same question again (answered from the store or not). So the label is the
answer of the latest job that asked about the session with that model and has an answer: run
a job with other settings and its answers become the labels; run the first settings again
(all answered before, nothing is asked) and theirs are the labels again. A job whose question
failed or is still pending does not hide an earlier answer. Ties (one job's links) go to the
later request id.

The rule is per session, not per selection: labels and review decisions belong to requests,
which sessions share, so a session in two selections has the label of the latest job of
either. Only light imports here: review, exports and the TUI use it.
"""

from __future__ import annotations


def _ranked_uses(columns: str) -> str:
    # Every link of a member session with `columns`, ranked within its (session, teacher model)
    # by the rule above: pick 1 is the label. The one place the rule is written.
    return (
        f"SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY su.session_id, sr.model_name "
        "ORDER BY sr.status = 'answered' DESC, su.used_at DESC, sr.id DESC) AS pick "
        "FROM request_use su JOIN teacher_request sr ON sr.id = su.request_id "
        "JOIN selection_member sm ON sm.session_id = su.session_id AND sm.selection_id = ?"
    )


#: The `request_use` ids that hold a selection's labels (one parameter: the selection id), one
#: per member session and teacher model, by the rule above. Audits, exports, label figures,
#: review and distillation all pick labels with it, so they count the same labels, once each.
SELECTION_USES = f"SELECT id FROM ({_ranked_uses('su.id')}) AS ranked WHERE pick = 1"


def selection_labels_sql(columns: str) -> str:
    """The same labels as `SELECTION_USES` (one parameter: the selection id), as rows that
    carry `columns`: a select list over `su` (request_use), `sr` (its teacher_request) and `sm`
    (the selection_member), each expression named (`sr.id AS request_id`), plus `pick` (1).

    For long lists (a review queue of 100,000 labels): what a caller reads from the request and
    the member comes out of the same pass that picks the labels, where `u.id IN (SELECTION_USES)`
    would look each picked link, its request and its member up again. Filter on the named
    columns outside (`WHERE status = 'answered'`): the rule picks among all of a session's
    links first."""
    return f"SELECT * FROM ({_ranked_uses(columns)}) AS ranked WHERE pick = 1"
