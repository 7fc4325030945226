#!/usr/bin/env bash
# Install what the tests need into .venv, lint, type-check, and run the whole test suite.
# Arguments go to pytest: ./test.sh -m "not slow" is the fast inner loop. The tests run in
# TEST_WORKERS processes (pytest-xdist). The whole suite mostly waits (end-to-end tests talk to
# loopback servers), so it runs 4 at once; the fast subset is CPU-bound and every worker
# imports and collects everything first, so it runs one per core.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python tools/native.py  # the compiled matcher the tests then run (see run.sh)
workers=4
if [[ " $* " == *"not slow"* ]]; then
    workers="$(nproc)"
fi
.venv/bin/python -m pytest -n "${TEST_WORKERS:-$workers}" "$@"
