"""Property: whatever damage a file of any format carries, `alkd data import` refuses it with
one line naming the file (exit 2, the database unchanged) or accepts plausible data; never an
internal error, a traceback, or garbage accepted (tests/data/fuzzing.py says what each means).
Bounded: 25 damaged files per format; benchmarks/fuzz_import.py runs 1,000 per format."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.fuzzing import FILE_DAMAGE, FORMATS, MUTATIONS, judge, make_damaged

DAMAGE = st.lists(st.sampled_from([*sorted(MUTATIONS), *FILE_DAMAGE]), min_size=1, max_size=3)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same 25 files every run: a failure is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=DAMAGE, seed=st.integers(0, 2**32 - 1))
def test_a_damaged_file_is_refused_in_one_line_or_accepted_as_plausible_data(
    fmt: str, names: list[str], seed: int, tmp_path: Path
) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    damaged = make_damaged(fmt, folder / "input", random.Random(seed), names)
    verdict = judge(damaged, folder / "alkd.db", "fuzzed")
    assert verdict.outcome in ("refused", "accepted"), (damaged.what, verdict)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_undamaged_samples_are_accepted(fmt: str, tmp_path: Path) -> None:
    """The fuzz starts from valid files (else every refusal would be the sample's fault)."""
    from tests.data.fuzzing import Damaged, write_sample

    path = write_sample(fmt, tmp_path / "input", random.Random(0))
    verdict = judge(Damaged(fmt, path, []), tmp_path / "alkd.db", "clean")
    assert verdict.outcome == "accepted", verdict
