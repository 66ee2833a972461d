#!/usr/bin/env bash
# Build the WebAssembly validator:
#   target/wasm/pkg-web    wasm-pack --target web     (browsers; also copied to web-demo/pkg)
#   target/wasm/pkg-node   wasm-pack --target nodejs  (an npm package: package.json, .d.ts)
#   target/wasm/raw/eventlog_validator.wasm           the raw ABI (wasmtime and other hosts)
#   target/wasm/python/eventlog_validator-*.whl       the Python package (scripts/build-python-wheel.py)
# The two npm packages are finished by wasm/npm/finish.mjs (names
# eventlog-validator and eventlog-validator-web, entry points, READMEs).
#   target/wasm/pkg-web-faults  a debug web build with injected panics (browser test)
# Needs wasm-pack and wasm-bindgen-cli (scripts/setup.sh installs them) and
# uses wasm-opt from npm's binaryen (Debian's is too old to work).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
export PATH="$TOOLS/cargo/bin:$PWD/tests/web/node_modules/.bin:$PATH"
FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue)

for target in web nodejs; do
  out=web; [ "$target" = nodejs ] && out=node
  wasm-pack --quiet build wasm --release --target "$target" --mode no-install \
    --out-dir "../target/wasm/pkg-$out" --out-name eventlog_wasm >/dev/null
  node wasm/npm/finish.mjs "target/wasm/pkg-$out" "$out"
done

# For the browser test only: a debug build that panics on a marker name.
wasm-pack --quiet build wasm --dev --target web --mode no-install \
  --out-dir ../target/wasm/pkg-web-faults --out-name eventlog_wasm -- --features fault-injection >/dev/null

cargo build -q --release -p eventlog-wasm --target wasm32-unknown-unknown --no-default-features --features raw
mkdir -p target/wasm/raw
wasm-opt -Oz "${FEATURES[@]}" target/wasm32-unknown-unknown/release/eventlog_wasm.wasm -o target/wasm/raw/eventlog_validator.wasm

rm -rf web-demo/pkg
mkdir -p web-demo/pkg
cp target/wasm/pkg-web/eventlog_wasm.js target/wasm/pkg-web/eventlog_wasm_bg.wasm web-demo/pkg/

web=target/wasm/pkg-web/eventlog_wasm_bg.wasm
printf 'wasm: web %s bytes (%s gzipped), raw %s bytes\n' \
  "$(stat -c %s "$web")" "$(gzip -9 -c "$web" | wc -c)" "$(stat -c %s target/wasm/raw/eventlog_validator.wasm)" >&2
python3 scripts/build-python-wheel.py >/dev/null
