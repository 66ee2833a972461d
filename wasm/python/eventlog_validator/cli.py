"""`eventlog-validate PATH...`: the same output and exit codes as
`eventlog validate` (0 all valid, 1 some invalid, 2 usage or I/O error)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional, Sequence, TextIO, Tuple

from eventlog_validator import Report, _get, _report


def _io_message(e: OSError) -> str:
    # The native CLI prints Rust's io::Error text; match it.
    if e.errno is not None:
        return f"{os.strerror(e.errno)} (os error {e.errno})"
    return str(e)


def _walk(root: str, files: List[str], errors: List[Tuple[str, str]]) -> None:
    try:
        entries = sorted(os.scandir(root), key=lambda e: os.fsencode(e.name))
    except OSError as e:
        errors.append((root, _io_message(e)))
        return
    for entry in entries:
        path = os.path.join(root, entry.name)
        try:
            if entry.is_dir():
                _walk(path, files, errors)
            elif entry.is_file() and os.path.splitext(entry.name)[1].lower() == ".json":
                files.append(path)
        except OSError as e:
            errors.append((path, _io_message(e)))


def json_files(paths: Sequence[str]) -> Tuple[List[str], List[Tuple[str, str]]]:
    """Files named directly as they are; directories walked for `*.json`
    (any case) in name order, as the native CLI does."""
    files: List[str] = []
    errors: List[Tuple[str, str]] = []
    for root in paths:
        try:
            if os.path.isdir(root):
                _walk(root, files, errors)
            else:
                os.stat(root)
                files.append(root)
        except OSError as e:
            errors.append((root, _io_message(e)))
    return files, errors


class _Out:
    def __init__(self, stream: TextIO, fmt: str, color: bool):
        self.stream, self.fmt, self.color = stream, fmt, color
        self.valid = self.invalid = self.io_errors = self.internal = self.named = 0
        self.not_read = 0

    def paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def report(self, r: Report, text: str) -> None:
        if r.valid:
            self.valid += 1
        else:
            self.invalid += 1
        if r.name_findings:
            self.named += 1
        if any(i.code == "name_not_read" for i in r.name_findings):
            self.not_read += 1
        if self.fmt == "json":
            self.stream.write(r.json + "\n")
            return
        # The plain-words text comes from the module, as the native CLI's
        # comes from the same core.
        self.stream.write(text)

    def unreadable(self, path: str, code: str, why: str) -> None:
        if self.fmt == "json":
            problem = {"field": "__file__", "code": code, "message": why}
            line = json.dumps({"path": path, "valid": False, "errors": [problem]}, ensure_ascii=False, separators=(",", ":"))
            self.stream.write(line + "\n")
        else:
            mark = "ERROR  " if code == "internal_error" else "UNREADABLE"
            self.stream.write(f"{self.paint('31', mark)} {path}\n        {why}\n")

    def summary(self) -> str:
        def part(n: int, text: str) -> str:
            return f", {n} {text}" if n else ""

        total = self.valid + self.invalid + self.io_errors + self.internal
        return (
            f"{total} {'file' if total == 1 else 'files'}: {self.valid} valid, {self.invalid} invalid"
            + part(self.io_errors, "unreadable")
            + part(self.internal, "not checked (internal error)")
            + part(self.named, "with file-name findings")
            + part(self.not_read, "the pipeline will not read (see their names)")
        )


def _check(out: _Out, path: str) -> None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        out.io_errors += 1
        out.unreadable(path, "unreadable", f"cannot read the file: {_io_message(e)}")
        return
    try:
        report = _report(_get().call("validate", data, path))
        text = _get().text(data, path, out.color) if out.fmt == "text" else ""
    except Exception as e:  # a trap in the module: a bug of ours, not the file's
        out.internal += 1
        out.unreadable(path, "internal_error", f"the checker failed on this file: {e}")
        return
    out.report(report, text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="eventlog-validate",
        description="Check visit-event files with the pipeline's rules "
        "(exit 0 all valid, 1 some invalid, 2 usage or I/O error)",
    )
    ap.add_argument("--format", choices=("text", "json"), default="text",
                    help="text: a line per file, problems below it, a summary; json: one JSON object per file")
    ap.add_argument("paths", nargs="+", metavar="PATH", help="files, or directories to search recursively for *.json files")
    args = ap.parse_args(argv)
    stdout = sys.stdout
    color = args.format == "text" and stdout.isatty() and "NO_COLOR" not in os.environ
    out = _Out(stdout, args.format, color)
    files, errors = json_files(args.paths)
    for path, why in errors:
        out.io_errors += 1
        out.unreadable(path, "unreadable", f"cannot read the file: {why}")
    for path in files:
        _check(out, path)
    if args.format == "text":
        stdout.write(out.summary() + "\n")
    stdout.flush()
    if out.io_errors + out.internal > 0 or not (files or errors):
        if not (files or errors):
            print("eventlog validate: no .json files found under the given paths", file=sys.stderr)
        return 2
    return 1 if out.invalid else 0


