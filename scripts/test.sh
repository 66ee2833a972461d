#!/usr/bin/env bash
# The test command: installs what is missing, starts what the tests need on
# 127.0.0.1, runs every check, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts (seconds since the command began), so a
# slow run shows where its minutes went.
start=$(date +%s)
# The venv, wasm-bindgen-cli and the fuzz tools install in the background
# meanwhile (scripts/await.sh waits for each where it is first needed).
scripts/setup.sh --background >/dev/null
step() { printf '\n== test: %s (at %ss)\n' "$*" "$(( $(date +%s) - start ))" >&2; }

step "format"
cargo fmt --all -- --check

# The binaries the tests run carry crash points and injected panics; a
# release build never has them.
FEATURES=(--features eventlog/fault-injection)

step "clippy"
cargo clippy --workspace --all-targets "${FEATURES[@]}" -q -- -D warnings

step "no function over 80 lines outside tests; no module import circles; one HTTP and TLS stack"
scripts/check-function-length.py
scripts/check-module-cycles.py
dupes=$(cargo tree -d -e normal --workspace 2>/dev/null | grep -E '^(hyper|hyper-rustls|rustls|tokio-rustls|h2|http|reqwest|ring|aws-lc-rs) v' || true)
if [ -n "$dupes" ]; then
  echo "a second HTTP/TLS stack in the dependency tree:" >&2
  echo "$dupes" >&2
  exit 1
fi

step "core builds without std for a no_std target, and for wasm32-unknown-unknown"
cargo build -q -p eventlog-core --no-default-features --target wasm32v1-none
cargo build -q -p eventlog-core --target wasm32-unknown-unknown

step "terraform fmt; checkov (offline), where every skip carries its reason"
scripts/await.sh python_tools
terraform -chdir=lambda/deploy fmt -check -diff -recursive
bare=$(grep -rnE '#checkov:skip=[A-Z_0-9]+ *$' lambda/deploy || true)
if [ -n "$bare" ]; then
  echo "a checkov skip without a reason:" >&2
  echo "$bare" >&2
  exit 1
fi
"${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}/venv/bin/checkov" -d lambda --framework terraform \
  --skip-download --compact --quiet >&2

step "start the local S3 server and ClickHouse; build the binaries"
# shellcheck source=scripts/servers.sh
. scripts/servers.sh
start_s3
start_clickhouse
export EVENTLOG_PYTHON="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}/venv/bin/python"
cargo build -q --workspace --bins "${FEATURES[@]}"

step "WebAssembly: build the web, nodejs and raw modules; wasm-bindgen tests in Node"
scripts/await.sh wasm_tools
scripts/build-wasm.sh
PATH="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}/cargo/bin:$PATH" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p eventlog-wasm --target wasm32-unknown-unknown 2>&1 | grep -E "^test |test result" >&2

step "workspace tests (native, S3, Lambda runtime, wasm differential, browser, fuzz regressions)"
# The fuzz targets build meanwhile, at the lowest priority (the tests
# mostly wait on servers); two test binaries at a time, then the doctests.
nice -n 19 scripts/fuzz.sh --build-only --sanitizer none > target/fuzz-build.log 2>&1 &
fuzz_build=$!
scripts/run-tests.py -- --workspace "${FEATURES[@]}"

step "fuzz: every target for a bounded time (scripts/fuzz.sh runs them long)"
if ! wait "$fuzz_build"; then
  cat target/fuzz-build.log >&2
  exit 1
fi
scripts/fuzz.sh --seconds "${EVENTLOG_FUZZ_SECONDS:-10}" --sanitizer none

step "all checks passed"
