#!/usr/bin/env bash
# Run the coverage-guided fuzz targets (cargo-fuzz, libFuzzer).
#
#   scripts/fuzz.sh --seconds 20            # every target 20 s (what CI runs)
#   scripts/fuzz.sh --runs 10000000         # every target 10 million inputs
#   scripts/fuzz.sh --seconds 600 key_name  # one target
#   --runs and --seconds together: whichever comes first
#   --sanitizer none|address (default address; CI uses none: faster to
#   build and to run, and our own code has no unsafe)
#   A target sent SIGINT stops early with its row kept ("0 (stopped)").
#   --build-only: build the targets and stop (test.sh builds them while
#   the workspace tests run); --install-only: install nightly and
#   cargo-fuzz and stop (setup.sh's background job)
#
# Installs the nightly toolchain and cargo-fuzz when missing (nightly is used
# for this job alone). Each target starts from fuzz/seeds/<target> and keeps
# what it learns in fuzz/corpus/<target> (not committed). A crash is copied
# to fuzz/regressions/<target>/, where `cargo test -p eventlog-fuzz-harness`
# replays it from then on, and the script fails. Prints a table of inputs
# run per target.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
export PATH="$TOOLS/cargo/bin:$PATH"

limit=()
sanitizer=address
targets=()
build_only=0
install_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) build_only=1; shift ;;
    --install-only) install_only=1; shift ;;
    --seconds) limit+=(-max_total_time="$2"); shift 2 ;;
    --runs) limit+=(-runs="$2"); shift 2 ;;
    --sanitizer) sanitizer="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#limit[@]} -gt 0 ] || limit=(-max_total_time=20)
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi

install_tools() {
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal >&2
  command -v cargo-fuzz >/dev/null || cargo install -q cargo-fuzz --version 0.13.1 --locked --root "$TOOLS/cargo" >&2
}
# scripts/setup.sh installs them in the background with --install-only;
# any other call waits for that job when there is one.
if [ "$install_only" = 1 ]; then
  install_tools
  exit 0
fi
if [ -f "$TOOLS/fuzz_tools.log" ]; then
  scripts/await.sh fuzz_tools
fi
install_tools

cargo +nightly fuzz build --fuzz-dir fuzz -O --sanitizer "$sanitizer" >&2
[ "$build_only" = 0 ] || exit 0
bin=fuzz/target/x86_64-unknown-linux-gnu/release
printf '| target | inputs run | seconds | crashes |\n|---|---:|---:|---:|\n'
failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log=$(mktemp)
  # The saved crash inputs, through this release build first: the tests
  # replay them in a debug build, and the parquet crate checks less in
  # release (a string page that is not UTF-8 got through only there).
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    if ! "$bin/$t" fuzz/regressions/"$t"/* >"$log" 2>&1; then
      echo "fuzz: $t: a saved regression input fails in the release build" >&2
      tail -40 "$log" >&2
      failed=1
    fi
  fi
  start=$(date +%s)
  set +e
  # The old writers' files are seeds too (testdata/formats).
  extra=()
  max_len=65536
  case "$t" in
    checkpoint_decode) extra=(testdata/formats/checkpoints) ;;
    ledger_decode) extra=(testdata/formats/ledger) ;;
    # An S3 key is at most 1 024 bytes and a local path at most 4 096
    # (PATH_MAX), so no store holds a longer name; the corpus drifting to
    # 60 KB names cut the rate sixfold. (Time on long keys is checked by
    # a unit test of reference_matches on an 80 KB key.)
    key_name) max_len=4096 ;;
  esac
  "$bin/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" "${extra[@]}" "${limit[@]}" -max_len="$max_len" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
  [ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$log" | tail -1)
  crashes=0
  # 72 is libFuzzer's exit code when stopped by a signal (SIGINT to the
  # target ends a long campaign early and keeps its row): not a crash.
  if [ $rc -eq 72 ]; then
    crashes="0 (stopped)"
  elif [ $rc -ne 0 ]; then
    crashes=1
    failed=1
    mkdir -p "fuzz/regressions/$t"
    for a in fuzz/artifacts/"$t"/*; do
      [ -f "$a" ] && cp "$a" "fuzz/regressions/$t/" && echo "fuzz: $t: saved $a as a regression input" >&2
    done
    tail -40 "$log" >&2
  fi
  printf '| %s | %s | %s | %s |\n' "$t" "${runs:-?}" "$secs" "$crashes"
  rm -f "$log"
done
exit $failed
