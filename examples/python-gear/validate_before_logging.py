#!/usr/bin/env python3
"""A Flywheel gear step that checks a visit event before logging it.

The validator is eventlog's (the rules the event pipeline applies),
compiled to WebAssembly and run with wasmtime: no Rust toolchain and no
network service needed, the same verdicts as the pipeline.

    pip install wasmtime
    scripts/build-wasm.sh          # builds target/wasm/raw/eventlog_validator.wasm
    python examples/python-gear/validate_before_logging.py

The module's ABI (see wasm/src/raw.rs): alloc(len) -> ptr; validate(ptr,
len, name_ptr, name_len) -> (result_ptr << 32 | result_len); check_xapi,
the same for an xAPI JSONL document; free(ptr, len); version() -> packed
like validate.

    python examples/python-gear/validate_before_logging.py --xapi FILE.jsonl...
        # the xAPI line reports (JSON Lines), as `eventlog xapi check --format json`
"""
import argparse
import json
import os
import sys
from datetime import datetime, timezone

from wasmtime import Engine, Instance, Module, Store

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WASM = os.path.join(HERE, "..", "..", "target", "wasm", "raw", "eventlog_validator.wasm")


class EventValidator:
    """eventlog's visit-event validator in a wasmtime instance."""

    def __init__(self, wasm_path=DEFAULT_WASM):
        engine = Engine()
        self._store = Store(engine)
        instance = Instance(self._store, Module.from_file(engine, wasm_path), [])
        exports = instance.exports(self._store)
        self._memory = exports["memory"]
        self._alloc = exports["alloc"]
        self._free = exports["free"]
        self._validate = exports["validate"]
        self._check_xapi = exports["check_xapi"]
        self._version = exports["version"]

    def _put(self, data: bytes):
        ptr = self._alloc(self._store, len(data))
        if data:
            self._memory.write(self._store, data, ptr)
        return ptr, len(data)

    def _take(self, packed: int) -> bytes:
        ptr, length = packed >> 32, packed & 0xFFFFFFFF
        data = bytes(self._memory.read(self._store, ptr, ptr + length))
        self._free(self._store, ptr, length)
        return data

    def _call(self, fn, data: bytes, name: str | None) -> str:
        ptr, n = self._put(data)
        nptr, nn = self._put(name.encode() if name else b"")
        try:
            return self._take(fn(self._store, ptr, n, nptr, nn)).decode()
        finally:
            self._free(self._store, ptr, n)
            self._free(self._store, nptr, nn)

    def report_json(self, data: bytes, name: str | None = None) -> str:
        """The report as JSON text: the same bytes as `eventlog validate --format json`."""
        return self._call(self._validate, data, name)

    def check_xapi_json(self, data: bytes, name: str | None = None) -> str:
        """xAPI JSONL: a JSON line per non-blank line, as `eventlog xapi check --format json`."""
        return self._call(self._check_xapi, data, name)

    def validate(self, data: bytes, name: str | None = None) -> dict:
        return json.loads(self.report_json(data, name))

    def version(self) -> str:
        return self._take(self._version(self._store)).decode()


class InvalidEvent(ValueError):
    pass


def event_key(event: dict, env: str = "prod") -> str:
    """The producer's file name for an event (timestamp in its own zone)."""
    ts = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    project = event["project_label"].replace("/", "-").replace("\\", "-")
    return f"{env}/log-{event['action']}-{ts:%Y%m%d-%H%M%S}-{event.get('pipeline_adcid')}-{project}-{event['ptid']}-{event['visit_date']}.json"


def log_event(event: dict, validator: EventValidator, write) -> str:
    """Serialise, check, and only then write. Raises InvalidEvent with every problem."""
    body = json.dumps(event, separators=(",", ":")).encode()
    key = event_key(event)
    report = validator.validate(body, key)
    if not report["valid"]:
        raise InvalidEvent("; ".join(f"{e['field']}: {e['message']}" for e in report["errors"]))
    for finding in report.get("name_findings", []):
        print(f"warning: {finding['message']}", file=sys.stderr)
    write(key, body)
    return key


def demo(validator):
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    good = {"action": "pass-qc", "study": "adrc", "project_label": "ingest-form", "center_label": "alpha",
            "gear_name": "form-qc-checker", "datatype": "form", "timestamp": now, "visit_date": "2025-03-03",
            "pipeline_adcid": 42, "ptid": "110001", "module": "UDS", "packet": "I"}
    bad = dict(good, ptid="ABCDEFGHIJKLM", module=None, pipeline_adcid=True)
    print(f"validator version {validator.version()}")
    written = []
    key = log_event(good, validator, lambda k, b: written.append(k))
    print(f"logged {key}")
    try:
        log_event(bad, validator, lambda k, b: written.append(k))
    except InvalidEvent as e:
        print(f"not logged: {e}")
    assert written == [key]


def corpus(validator, path):
    """One report per line of a corpus ({"hex": bytes, "name": optional})."""
    out = sys.stdout
    with open(path) as f:
        for line in f:
            if line.strip():
                case = json.loads(line)
                out.write(validator.report_json(bytes.fromhex(case["hex"]), case.get("name")))
                out.write("\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wasm", default=DEFAULT_WASM)
    ap.add_argument("--corpus", help="print a report line per case of this JSONL file")
    ap.add_argument("--xapi", nargs="+", metavar="FILE", help="print the xAPI line reports of these JSONL files")
    args = ap.parse_args()
    v = EventValidator(args.wasm)
    if args.xapi:
        for path in args.xapi:
            with open(path, "rb") as f:
                sys.stdout.write(v.check_xapi_json(f.read(), path))
    elif args.corpus:
        corpus(v, args.corpus)
    else:
        demo(v)
