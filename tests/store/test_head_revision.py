"""The code's fast-path head revision matches the newest migration script."""

from alkd_tui.store.migrate import HEAD_REVISION, head_revision


def test_head_revision_constant_matches_the_scripts() -> None:
    assert head_revision() == HEAD_REVISION, "update HEAD_REVISION in alkd_tui/store/migrate.py"
