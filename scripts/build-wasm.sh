#!/usr/bin/env bash
# Build the WebAssembly validator:
#   target/wasm/pkg-web    wasm-bindgen --target web     (browsers; also copied to web-demo/pkg)
#   target/wasm/pkg-node   wasm-bindgen --target nodejs  (an npm package: package.json, .d.ts)
#   target/wasm/raw/eventlog_validator.wasm           the raw ABI (wasmtime and other hosts)
#   target/wasm/python/eventlog_validator-*.whl       the Python package (scripts/build-python-wheel.py)
# The two npm packages are finished by wasm/npm/finish.mjs (names
# eventlog-validator and eventlog-validator-web, entry points, READMEs).
#   target/wasm/pkg-web-faults  a debug web build with injected panics (browser test)
# Needs wasm-bindgen-cli (scripts/setup.sh installs it) and uses wasm-opt
# from npm's binaryen (Debian's is too old to work). wasm-pack would run
# the same three steps (cargo build, wasm-bindgen, wasm-opt) and write a
# package.json that finish.mjs replaces anyway; building wasm-pack itself
# took three of a cold CI run's minutes, so the steps are called directly.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
export PATH="$TOOLS/cargo/bin:$PWD/tests/web/node_modules/.bin:$PATH"
FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue)

WASM=target/wasm32-unknown-unknown
mkdir -p target/wasm
cargo metadata -q --no-deps --format-version 1 > target/wasm-metadata.json
cargo build -q --release -p eventlog-wasm --target wasm32-unknown-unknown
for target in web nodejs; do
  out=web; [ "$target" = nodejs ] && out=node
  rm -rf "target/wasm/pkg-$out"
  wasm-bindgen --target "$target" --out-dir "target/wasm/pkg-$out" --out-name eventlog_wasm \
    "$WASM/release/eventlog_wasm.wasm"
  wasm-opt -Oz "${FEATURES[@]}" "target/wasm/pkg-$out/eventlog_wasm_bg.wasm" \
    -o "target/wasm/pkg-$out/eventlog_wasm_bg.wasm"
  node wasm/npm/finish.mjs "target/wasm/pkg-$out" "$out" target/wasm-metadata.json
done

# For the browser test only: a debug build that panics on a marker name.
cargo build -q -p eventlog-wasm --target wasm32-unknown-unknown --features fault-injection
rm -rf target/wasm/pkg-web-faults
wasm-bindgen --target web --debug --out-dir target/wasm/pkg-web-faults --out-name eventlog_wasm \
  "$WASM/debug/eventlog_wasm.wasm"

cargo build -q --release -p eventlog-wasm --target wasm32-unknown-unknown --no-default-features --features raw
mkdir -p target/wasm/raw
wasm-opt -Oz "${FEATURES[@]}" "$WASM/release/eventlog_wasm.wasm" -o target/wasm/raw/eventlog_validator.wasm

rm -rf web-demo/pkg
mkdir -p web-demo/pkg
cp target/wasm/pkg-web/eventlog_wasm.js target/wasm/pkg-web/eventlog_wasm_bg.wasm web-demo/pkg/

web=target/wasm/pkg-web/eventlog_wasm_bg.wasm
printf 'wasm: web %s bytes (%s gzipped), raw %s bytes\n' \
  "$(stat -c %s "$web")" "$(gzip -9 -c "$web" | wc -c)" "$(stat -c %s target/wasm/raw/eventlog_validator.wasm)" >&2
python3 scripts/build-python-wheel.py >/dev/null
