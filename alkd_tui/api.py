"""The Python API: the pipeline's steps as the CLI and the TUI run them, for notebooks and
scripts. Each function takes the store first and returns a typed result (pydantic models
with `.as_json()`), and each settings model is the one the CLI builds its options from, so a
notebook run is the same run as `alkd ...` with the same settings. See docs/api.md.

    from alkd_tui import api

    store = api.open_store("alkd.db")         # or a PostgreSQL URL
    api.use_device("cuda")                     # optional: "auto" (the default), "cpu", "cuda"
    teacher = api.train_recommender(store, "games", "teacher", api.TrainSettings(architecture="fpmc"))
"""

from __future__ import annotations

from alkd_tui.active.settings import SelectSettings
from alkd_tui.distill.settings import DistillSettings
from alkd_tui.errors import AlkdError, BadInputError, NotFoundError
from alkd_tui.pipeline.audit import audit
from alkd_tui.pipeline.audit_settings import AuditSettings
from alkd_tui.pipeline.curve import label_curve
from alkd_tui.pipeline.curve_settings import CurveSettings
from alkd_tui.pipeline.dataset_export import export_dataset
from alkd_tui.pipeline.datasets import delete_dataset, import_dataset, list_datasets, show_dataset
from alkd_tui.pipeline.distill import distill_student
from alkd_tui.pipeline.history import diff_runs, list_runs, show_run
from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.models import evaluate_model, list_models, show_model, train_recommender
from alkd_tui.pipeline.results import (
    CurveResult,
    DatasetSummary,
    DistilledModel,
    LabelResult,
    ModelSummary,
    RunSummary,
    SelectionSummary,
)
from alkd_tui.pipeline.review import (
    accept_by_rule,
    record_review,
    require_reviews,
    selection_labels,
)
from alkd_tui.pipeline.selection import (
    create_selection,
    import_selection,
    list_selections,
    preview_selection,
    show_selection,
)
from alkd_tui.rec.device import request_device as use_device
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.store import Store, open_store
from alkd_tui.teacher.settings import LabelSettings

__all__ = [
    "AlkdError", "AuditSettings", "BadInputError", "CurveResult", "CurveSettings", "DatasetSummary",
    "DistillSettings", "DistilledModel", "LabelResult", "LabelSettings", "ModelSummary",
    "NotFoundError", "RunSummary", "SelectSettings", "SelectionSummary", "Store", "TrainSettings",
    "accept_by_rule", "audit", "create_selection", "delete_dataset", "diff_runs", "distill_student",
    "evaluate_model", "export_dataset", "import_dataset", "import_selection", "label_curve", "label_selection",
    "list_datasets", "list_models", "list_runs", "list_selections", "open_store", "preview_selection",
    "record_review", "require_reviews", "selection_labels", "show_dataset", "show_model", "show_run", "show_selection",
    "train_recommender", "use_device",
]  # fmt: skip
