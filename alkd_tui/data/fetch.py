"""`alkd data fetch movielens-100k`: MovieLens-100K with titles, taken from the recbole 1.2.1
wheel on PyPI (downloaded with pip, checked against a pinned sha256, read with zipfile;
nothing of recbole is installed)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from alkd_tui.errors import AlkdError, ExitCode, StepFailedError
from alkd_tui.progress import Reporter, Task, silent

WHEEL = "recbole-1.2.1-py3-none-any.whl"
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
MEMBERS = {
    "recbole/dataset_example/ml-100k/ml-100k.inter": "ml-100k.inter",
    "recbole/dataset_example/ml-100k/ml-100k.item": "ml-100k.item",
}

GROUPLENS_TERMS = """\
MovieLens 100K is provided by GroupLens Research (University of Minnesota) under these terms:
- use it for research only; any commercial use needs GroupLens's permission;
- do not redistribute it (or data derived from it) without separate permission;
- do not imply that GroupLens or the University of Minnesota endorses your work;
- cite: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and
  Context. ACM Transactions on Interactive Intelligent Systems 5(4): 19.
The data comes without warranty. Full terms: https://grouplens.org/datasets/movielens/100k/"""


class DownloadError(AlkdError):
    """The package registry could not be reached or answered with something unexpected."""

    exit_code = ExitCode.UNREACHABLE


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download_wheel(cache: Path, report: Reporter) -> Path:
    wheel = cache / WHEEL
    if wheel.is_file() and _sha256(wheel) == WHEEL_SHA256:
        return wheel
    task = Task(report, "download recbole 1.2.1 wheel from PyPI", None)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--disable-pip-version-check", "recbole==1.2.1", "-d", tmp],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        got = Path(tmp) / WHEEL
        if proc.returncode != 0 or not got.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise DownloadError(f"could not download recbole==1.2.1 from PyPI: {last}")
        digest = _sha256(got)
        if digest != WHEEL_SHA256:
            raise DownloadError(
                f"{WHEEL} from PyPI has sha256 {digest}, expected {WHEEL_SHA256}; refusing it"
            )
        cache.mkdir(parents=True, exist_ok=True)
        shutil.move(str(got), wheel)
    task.end()
    return wheel


def fetch_movielens_100k(cache: Path, report: Reporter = silent) -> Path:
    """A folder with `ml-100k.inter` and `ml-100k.item` (RecBole atomic files), cached."""
    folder = cache / "ml-100k"
    if all((folder / name).is_file() for name in MEMBERS.values()):
        return folder
    wheel = _download_wheel(cache, report)
    try:
        with zipfile.ZipFile(wheel) as zf:
            folder.mkdir(parents=True, exist_ok=True)
            for member, name in MEMBERS.items():
                (folder / f"{name}.part").write_bytes(zf.read(member))
                (folder / f"{name}.part").replace(folder / name)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise StepFailedError(f"{wheel}: not the expected recbole wheel ({exc})") from exc
    return folder
