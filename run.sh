#!/usr/bin/env bash
# Run Rasd. With TELEGRAM_BOT_TOKEN set (environment or .env) it runs the real bot;
# without one it runs the offline demo over the bundled sample feeds.
# Extra arguments go to bot.py (e.g. ./run.sh --demo --once).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The matcher compiled by mypyc where a C compiler is (about 15 s, once per change of core/);
# without one, or if anything of it fails, it runs as Python: same results, slower routing.
if .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -r requirements-native.txt; then
    .venv/bin/python tools/native.py || true
else
    echo "native matcher: requirements-native.txt did not install; core.matcher runs as Python"
fi
if [ "$#" -gt 0 ]; then
    exec .venv/bin/python bot.py "$@"
fi
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ] || grep -qs '^TELEGRAM_BOT_TOKEN=.' .env; then
    exec .venv/bin/python bot.py
fi
echo "No TELEGRAM_BOT_TOKEN: running the offline demo (python bot.py --demo). Ctrl-C to stop."
exec .venv/bin/python bot.py --demo
