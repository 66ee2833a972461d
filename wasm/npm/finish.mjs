// Make wasm-bindgen's output directories publishable npm packages: names,
// version, license and keywords from the crate (`cargo metadata`), entry
// points for `require` and `import`, engines, a README of their own, and
// the files list. Run by scripts/build-wasm.sh after wasm-bindgen.
//
//   node wasm/npm/finish.mjs target/wasm/pkg-node node METADATA.json
//   node wasm/npm/finish.mjs target/wasm/pkg-web web METADATA.json
import { readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const [dir, kind, metadata] = process.argv.slice(2);
if (!dir || !["node", "web"].includes(kind) || !metadata) {
  console.error("usage: finish.mjs PKG_DIR node|web METADATA.json");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const path = join(dir, "package.json");
const crate = JSON.parse(readFileSync(metadata, "utf8")).packages.find((p) => p.name === "eventlog-wasm");
if (!crate) {
  console.error(`finish.mjs: ${metadata} has no eventlog-wasm package`);
  process.exit(1);
}
const common = {
  version: crate.version,
  license: crate.license,
  repository: { type: "git", url: crate.repository },
  keywords: crate.keywords,
  types: "eventlog_wasm.d.ts",
  files: ["eventlog_wasm_bg.wasm", "eventlog_wasm_bg.wasm.d.ts", "eventlog_wasm.js", "eventlog_wasm.d.ts", "README.md"],
};
const pkg =
  kind === "node"
    ? {
        name: "eventlog-validator",
        description: "The NACC visit-event validator for Node: eventlog's rules in WebAssembly, the same verdicts as the pipeline.",
        ...common,
        main: "eventlog_wasm.js",
        // CommonJS; `import` of it gets the same named exports.
        exports: {
          ".": { types: "./eventlog_wasm.d.ts", require: "./eventlog_wasm.js", import: "./eventlog_wasm.js", default: "./eventlog_wasm.js" },
          "./package.json": "./package.json",
        },
        engines: { node: ">=18" },
      }
    : {
        name: "eventlog-validator-web",
        description: "The NACC visit-event validator for browsers and bundlers: eventlog's rules in WebAssembly, the same verdicts as the pipeline.",
        ...common,
        type: "module",
        main: "eventlog_wasm.js",
        module: "eventlog_wasm.js",
        exports: {
          ".": { types: "./eventlog_wasm.d.ts", import: "./eventlog_wasm.js", default: "./eventlog_wasm.js" },
          "./eventlog_wasm_bg.wasm": "./eventlog_wasm_bg.wasm",
          "./package.json": "./package.json",
        },
        // What wasm-bindgen's inline JavaScript would go in (none today).
        sideEffects: ["./snippets/*"],
      };
writeFileSync(path, JSON.stringify(pkg, null, 2) + "\n");
copyFileSync(join(here, kind === "node" ? "README-node.md" : "README-web.md"), join(dir, "README.md"));
