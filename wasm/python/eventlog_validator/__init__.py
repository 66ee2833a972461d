"""eventlog's visit-event validator for Python: the rules the event pipeline
applies, compiled to WebAssembly and run with wasmtime. The verdicts are the
pipeline's, byte for byte (`eventlog validate --format json`).

    from eventlog_validator import validate, require_valid

    report = validate(body, name="prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json")
    if not report.valid:
        for p in report.errors:
            print(p.field, p.code, p.message)
    require_valid(body, name)   # raises InvalidEvent listing every problem
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Dict, List, Optional, Tuple, Union

__all__ = [
    "Problem",
    "Report",
    "XapiLine",
    "InvalidEvent",
    "validate",
    "validate_file",
    "check_xapi",
    "require_valid",
    "rules_version",
    "__version__",
]

__version__ = "@VERSION@"


@dataclass(frozen=True)
class Problem:
    """One problem: the field it is about (an event field such as `ptid`;
    `__json__` for the document as a whole, `__root__` for the event,
    `__file__` for the file, `name` or `name.<part>` for the file name), a
    stable code, and a message in plain words."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class Report:
    """The verdict on one event file.

    `event` is the normalized event (as the pipeline stores it) when the
    file is valid. `name_findings` are about the file name (given with
    `name=`): whether it agrees with the content, whether the old pipeline
    would have read it. `json` is the report exactly as `eventlog validate
    --format json` prints it."""

    valid: bool
    path: Optional[str]
    event: Optional[Dict[str, Any]]
    errors: Tuple[Problem, ...]
    name_findings: Tuple[Problem, ...]
    json: str = field(repr=False)

    @property
    def problems(self) -> Tuple[Problem, ...]:
        """Errors, then name findings."""
        return self.errors + self.name_findings


@dataclass(frozen=True)
class XapiLine:
    """The verdict on one non-blank line of an xAPI JSONL file: `verdict` is
    `loadable`, `unknown` (a verb no table takes) or `invalid`; `table` is
    where a loadable line goes; `issues` are statement-schema problems
    (the row still loads); `reason` says why a line is invalid."""

    line: int
    verdict: str
    table: Optional[str]
    kind: Optional[str]
    event_id: Optional[str]
    reason: Optional[str]
    issues: Tuple[Problem, ...]
    json: str = field(repr=False)


class InvalidEvent(ValueError):
    """Raised by `require_valid`: the message lists every problem; the full
    report is in `.report`."""

    def __init__(self, report: Report):
        self.report = report
        where = f"{report.path}: " if report.path else ""
        lines = [f"{where}{len(report.problems)} problem(s)"]
        lines += [f"  {p.field}: {p.message} [{p.code}]" for p in report.problems]
        super().__init__("\n".join(lines))


def _problems(items: Optional[List[Dict[str, Any]]]) -> Tuple[Problem, ...]:
    return tuple(Problem(i["field"], i["code"], i["message"]) for i in items or ())


def _report(text: str) -> Report:
    d = json.loads(text)
    return Report(
        valid=bool(d["valid"]),
        path=d.get("path"),
        event=d.get("event"),
        errors=_problems(d.get("errors")),
        name_findings=_problems(d.get("name_findings")),
        json=text,
    )


class _Module:
    """The WebAssembly module in a wasmtime instance (see wasm/src/raw.rs
    for its ABI). One instance, used under a lock: a wasmtime store is not
    thread-safe. A trap (a bug of ours) replaces the instance, so one bad
    input never breaks the next call."""

    def __init__(self) -> None:
        from wasmtime import Engine, Module

        self._engine = Engine()
        wasm = resources.files(__package__).joinpath("eventlog_validator.wasm").read_bytes()
        self._module = Module(self._engine, wasm)
        self._lock = threading.Lock()
        self._instantiate()

    def _instantiate(self) -> None:
        from wasmtime import Instance, Store

        self._store = Store(self._engine)
        exports = Instance(self._store, self._module, []).exports(self._store)
        self._memory = exports["memory"]
        self._alloc = exports["alloc"]
        self._free = exports["free"]
        self._fns = {"validate": exports["validate"], "check_xapi": exports["check_xapi"]}
        self._text = exports["validate_text"]
        self._version = exports["version"]

    def _put(self, data: bytes) -> Tuple[int, int]:
        ptr = self._alloc(self._store, len(data))
        if data:
            self._memory.write(self._store, data, ptr)
        return ptr, len(data)

    def _take(self, packed: int) -> str:
        ptr, length = packed >> 32, packed & 0xFFFFFFFF
        data = bytes(self._memory.read(self._store, ptr, ptr + length))
        self._free(self._store, ptr, length)
        return data.decode()

    def _invoke(self, export: Any, data: bytes, name: Optional[str], *extra: int) -> str:
        from wasmtime import Trap

        with self._lock:
            try:
                ptr, n = self._put(data)
                nptr, nn = self._put(name.encode() if name else b"")
                out = self._take(export(self._store, ptr, n, nptr, nn, *extra))
                self._free(self._store, ptr, n)
                self._free(self._store, nptr, nn)
                return out
            except Trap:
                self._instantiate()
                raise

    def call(self, fn: str, data: bytes, name: Optional[str]) -> str:
        return self._invoke(self._fns[fn], data, name)

    def text(self, data: bytes, name: Optional[str], color: bool) -> str:
        """The text `eventlog validate` prints for one file."""
        return self._invoke(self._text, data, name, int(color))

    def version(self) -> str:
        with self._lock:
            return self._take(self._version(self._store))


_module: Optional[_Module] = None
_module_lock = threading.Lock()


def _get() -> _Module:
    global _module
    with _module_lock:
        if _module is None:
            _module = _Module()
        return _module


Content = Union[bytes, bytearray, memoryview, str, Dict[str, Any]]


def _bytes(data: Content) -> bytes:
    """The bytes checked: bytes as they are, text as UTF-8, and an event
    held as a dict as `json.dumps(event).encode()` writes it (the bytes a
    gear that logs `json.dumps(event)` puts in S3)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, dict):
        try:
            return json.dumps(data).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise TypeError(f"the event dict cannot be written as JSON: {e}") from None
    raise TypeError(
        "expected the file's content as bytes, str, or the event as a dict; "
        f"got {type(data).__name__}"
    )


def validate(data: Content, name: Optional[str] = None) -> Report:
    """Check one event file's content (`name`: its S3 key or file name, for
    the name checks). Bytes are read as the pipeline reads them (BOMs,
    UTF-16 and UTF-32 included); text is encoded as UTF-8; a dict is
    checked as `json.dumps(event).encode()`. Anything else is a
    `TypeError`."""
    return _report(_get().call("validate", _bytes(data), _name(name)))


def _name(name: Optional[str]) -> Optional[str]:
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str (the S3 key or file name), got {type(name).__name__}")
    return name


def validate_file(path: Union[str, "os.PathLike[str]"]) -> Report:
    """Check the file at `path`; the path is the name the name checks see."""
    shown = os.fspath(path)
    with open(shown, "rb") as f:
        data = f.read()
    return validate(data, shown)


def check_xapi(data: Union[bytes, bytearray, memoryview, str], name: Optional[str] = None) -> List[XapiLine]:
    """Check an xAPI JSONL document line by line, as the ClickHouse loader
    reads it: one verdict per non-blank line."""
    if isinstance(data, dict):
        raise TypeError("check_xapi takes a JSONL document (bytes or str), not a dict")
    out = []
    for text in _get().call("check_xapi", _bytes(data), _name(name)).splitlines():
        if not text:
            continue
        d = json.loads(text)
        out.append(
            XapiLine(
                line=d["line"],
                verdict=d["verdict"],
                table=d.get("table"),
                kind=d.get("kind"),
                event_id=d.get("event_id"),
                reason=d.get("reason"),
                issues=_problems(d.get("issues")),
                json=text,
            )
        )
    return out


def require_valid(data: Content, name: Optional[str] = None) -> Report:
    """The "validate before logging" step: the report if the event is valid,
    else `InvalidEvent` listing every problem. With a `name`, a name that
    disagrees with the content is a problem too: a gear should not log a
    file under a name the pipeline will read differently."""
    report = validate(data, name)
    if not report.valid or report.name_findings:
        raise InvalidEvent(report)
    return report


def rules_version() -> str:
    """The version of the rules inside (the eventlog crate's)."""
    return _get().version()
