#!/usr/bin/env bash
# Install what the tests need, on a fresh machine or an existing one.
# Idempotent: every step is skipped when the right version is already there.
# Tools outside cargo live under $EVENTLOG_TOOLS (default ~/.cache/eventlog),
# so a clean clone on the same machine reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
mkdir -p "$TOOLS"
log() { printf '\n== setup: %s\n' "$*" >&2; }

log "rust targets (wasm32-unknown-unknown, wasm32v1-none)"
installed=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32v1-none; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt


log "python tools venv ($TOOLS/venv): polars, duckdb, pyarrow"
VENV="$TOOLS/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
want="$(cat scripts/python-requirements.txt)"
if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q -r scripts/python-requirements.txt
  printf '%s' "$want" > "$VENV/.installed"
fi

echo "$TOOLS"
