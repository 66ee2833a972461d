#!/usr/bin/env bash
# Wait for a background install that scripts/setup.sh started (NAME is
# wasm_tools, python_tools or fuzz_tools); fail with its log if it failed.
set -euo pipefail
TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
name=$1
while [ ! -s "$TOOLS/$name.status" ]; do
  [ -f "$TOOLS/$name.log" ] || { echo "await: $name was never started (run scripts/setup.sh)" >&2; exit 1; }
  sleep 1
done
if [ "$(cat "$TOOLS/$name.status")" != 0 ]; then
  echo "await: $name failed:" >&2
  cat "$TOOLS/$name.log" >&2
  exit 1
fi
cat "$TOOLS/$name.log" >&2
