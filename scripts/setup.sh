#!/usr/bin/env bash
# Install what the tests need, on a fresh machine or an existing one.
# Idempotent: every step is skipped when the right version is already there.
# Tools outside cargo live under $EVENTLOG_TOOLS (default ~/.cache/eventlog),
# so a clean clone on the same machine reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."

# --background: leave the long installs (the Python venv, wasm-bindgen-cli,
# the fuzz tools) running and return; scripts/await.sh NAME waits for
# one where it is first needed. scripts/test.sh does this, so a cold run
# lints and builds while they install.
background=0
[ "${1:-}" = --background ] && background=1

TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
mkdir -p "$TOOLS"
began=$(date +%s)
log() { printf '\n== setup: %s (at %ss)\n' "$*" "$(( $(date +%s) - began ))" >&2; }

log "rust targets (wasm32-unknown-unknown, wasm32v1-none)"
installed=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32v1-none; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt


export PATH="$TOOLS/cargo/bin:$PATH"
# wasm-bindgen-cli compiles for several minutes on a fresh machine: start
# it now and do the rest meanwhile. (No wasm-pack: scripts/build-wasm.sh
# runs the steps it would, and building it took three more minutes.)
WBG=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' wasm/Cargo.toml)
wasm_tools() {
  local t0
  t0=$(date +%s)
  if ! wasm-bindgen --version 2>/dev/null | grep -qF "$WBG"; then
    cargo install -q wasm-bindgen-cli --version "$WBG" --root "$TOOLS/cargo"
  fi
  echo "wasm-bindgen-cli ready after $(( $(date +%s) - t0 ))s"
}

python_tools() {
  local t0 VENV want wasmtime
  t0=$(date +%s)
  VENV="$TOOLS/venv"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  want="$(cat scripts/python-requirements.txt)"
  if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -r scripts/python-requirements.txt
    printf '%s' "$want" > "$VENV/.installed"
  fi
  # The wheel test installs eventlog-validator into fresh venvs offline:
  # keep its one dependency's wheel at hand.
  wasmtime="$(grep '^wasmtime==' scripts/python-requirements.txt)"
  if ! ls "$TOOLS/wheels/wasmtime-${wasmtime#wasmtime==}-"*.whl >/dev/null 2>&1; then
    "$VENV/bin/pip" download -q --no-deps -d "$TOOLS/wheels" "$wasmtime"
  fi
  echo "python tools ready after $(( $(date +%s) - t0 ))s"
}

# The fuzz job's tools: nightly (for the fuzz job alone) and cargo-fuzz,
# installed as scripts/fuzz.sh installs them.
fuzz_tools() {
  local t0
  t0=$(date +%s)
  scripts/fuzz.sh --install-only
  echo "fuzz tools ready after $(( $(date +%s) - t0 ))s"
}

# Each long install runs in the background and leaves NAME.status (its
# exit code) and NAME.log; scripts/await.sh NAME waits for the status.
start_job() {
  local name=$1
  rm -f "$TOOLS/$name.status"
  ( "$name" > "$TOOLS/$name.log" 2>&1; echo $? > "$TOOLS/$name.status" ) > /dev/null 2>&1 &
}
log "wasm-bindgen-cli $WBG, the python tools venv ($TOOLS/venv), nightly and cargo-fuzz, in the background"
start_job wasm_tools
start_job python_tools
start_job fuzz_tools

log "chromium (Debian) for the browser tests"
if ! command -v chromium >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

log "npm tools (playwright-core, ajv, binaryen's wasm-opt) in tests/web"
lock_sum=$(sha256sum tests/web/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/web/node_modules/.installed 2>/dev/null)" != "$lock_sum" ]; then
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > tests/web/node_modules/.installed
fi

if [ "$background" = 0 ]; then
  log "waiting for the background installs"
  scripts/await.sh python_tools
  scripts/await.sh wasm_tools
  scripts/await.sh fuzz_tools
fi
log "ready"

echo "$TOOLS"
