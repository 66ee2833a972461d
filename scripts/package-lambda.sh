#!/usr/bin/env bash
# Build a Lambda deployment package: target/lambda/<bin>-<arch>.zip, a zip
# holding the binary as `bootstrap` for the provided.al2023 runtime.
#
#   scripts/package-lambda.sh [arm64|x86_64] [checkpoint-bootstrap|xapi-bootstrap]
#
# Defaults: arm64, checkpoint-bootstrap (the checkpoint function, lambda/deploy/checkpoint);
# xapi-bootstrap is the xAPI loader (lambda/deploy/xapi).
#
# Uses cargo-lambda (from PyPI, with zig) so the binary links against the
# glibc that Amazon Linux 2023 has, whatever this machine runs, and so
# arm64 can be built on x86_64. Both go into the tools venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH="${1:-arm64}"
case "$ARCH" in
  arm64) FLAG=--arm64 ;;
  x86_64) FLAG=--x86-64 ;;
  *) echo "usage: $0 [arm64|x86_64] [checkpoint-bootstrap|xapi-bootstrap]" >&2; exit 2 ;;
esac
BIN="${2:-checkpoint-bootstrap}"
case "$BIN" in
  checkpoint-bootstrap|xapi-bootstrap) ;;
  *) echo "usage: $0 [arm64|x86_64] [checkpoint-bootstrap|xapi-bootstrap]" >&2; exit 2 ;;
esac

TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
VENV="$TOOLS/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
[ -x "$VENV/bin/cargo-lambda" ] || "$VENV/bin/pip" install -q "cargo-lambda==1.9.2" "ziglang==0.13.0.post1"
export PATH="$VENV/bin:$PATH"

cargo lambda build --release "$FLAG" -p eventlog --bin "$BIN" --output-format zip
OUT="target/lambda/$BIN-$ARCH.zip"
cp "target/lambda/$BIN/bootstrap.zip" "$OUT"
echo "$OUT ($(du -h "$OUT" | cut -f1))"
