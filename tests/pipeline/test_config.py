"""`alkd run` configuration: TOML, --set overrides, and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from alkd_tui.errors import BadInputError, InputFileError
from alkd_tui.pipeline.config import RunConfig, load_config


def test_the_embedded_default() -> None:
    cfg = load_config()
    assert cfg == RunConfig()
    assert cfg.dataset.name == "synthetic-games"
    assert cfg.teacher_recommender.resolved("teacher").dim == 100
    assert cfg.student.resolved("student").dim == 10
    assert cfg.label.teacher == "auto" and cfg.review.policy == "auto"


def test_toml_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        'name = "mine"\nseed = 3\n[select]\nstrategy = "random"\nbudget = 25\n[teacher_recommender]\nepochs = 2\n'
    )
    cfg = load_config(
        path,
        [
            "select.budget=50",
            'label.teacher="tr"',
            'label.hosts=["a:1", "b:2"]',
            "distill.soft=true",
        ],
    )
    assert cfg.name == "mine" and cfg.seed == 3
    assert cfg.select.strategy == "random" and cfg.select.budget == 50
    assert (
        cfg.teacher_recommender.epochs == 2
        and cfg.teacher_recommender.resolved("teacher").dim == 100
    )  # a partial section keeps its defaults
    assert (
        cfg.label.teacher == "tr" and cfg.label.hosts == ["a:1", "b:2"] and cfg.distill.soft is True
    )
    assert (
        load_config(None, ["label.teacher=replay"]).label.teacher == "replay"
    )  # a bare word is a string


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("[label]\nmodle = 'x'\n", [], "unknown key 'label.modle'"),
        ("[select]\nbudget = 'many'\n", [], "select.budget: Input should be a valid integer"),
        ("", ["nonsense"], "--set 'nonsense': expected KEY=VALUE"),
        ("", ["review.policy=sometimes"], "review.policy 'sometimes': use 'auto' or 'manual'"),
        ("", ["frobnicate=1"], "unknown key 'frobnicate'"),
    ],
)
def test_mistakes_are_one_line(
    tmp_path: Path, text: str, overrides: list[str], message: str
) -> None:
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(BadInputError) as err:
        load_config(path, overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_broken_toml_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('name = "ok"\n[select\nbudget = 3\n')
    with pytest.raises(InputFileError, match=r"run.toml line 2: not valid TOML"):
        load_config(path)
    with pytest.raises(InputFileError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_the_example_configs_load() -> None:
    root = Path(__file__).resolve().parents[2] / "configs"
    assert load_config(root / "default.toml").dump() == RunConfig().dump()
    for path in sorted(root.glob("*.toml")):
        cfg = load_config(path)
        if cfg.label.file:
            assert Path(cfg.label.file).is_absolute()  # resolved against the config's folder


def test_default_toml_is_written_from_the_settings_models() -> None:
    """configs/default.toml is `alkd run --print-config`: no default is written there by hand."""
    from alkd_tui.pipeline.config import default_toml

    root = Path(__file__).resolve().parents[2] / "configs"
    assert (root / "default.toml").read_text() == default_toml(), (
        "regenerate it: alkd run --print-config > configs/default.toml"
    )
