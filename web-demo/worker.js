// Runs the validator off the main thread, so the page stays responsive
// with thousands of files.
import init, { validateBatch, version } from "./pkg/eventlog_wasm.js";

const ready = init().then(() => {
  postMessage({ type: "ready", version: version() });
});

onmessage = async (e) => {
  await ready;
  const { id, names, buffers } = e.data;
  const lines = validateBatch(buffers.map((b) => new Uint8Array(b)), names);
  const reports = lines.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  postMessage({ type: "reports", id, reports });
};
