#!/usr/bin/env python3
"""Build the `eventlog-validator` wheel from the raw WebAssembly module.

    python3 scripts/build-python-wheel.py [--wasm target/wasm/raw/eventlog_validator.wasm] [--out target/wasm/python]

A pure-Python wheel (py3-none-any: WebAssembly runs on every platform
wasmtime supports) holding wasm/python/eventlog_validator/ and the module,
written with the standard library only, so building it needs no build
backend from the network. The version is the workspace's (Cargo.toml).
"""
import argparse
import base64
import hashlib
import os
import re
import sys
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "wasm", "python")



def wasmtime_range():
    """The wasmtime the wheel needs: the major version the tests install
    (scripts/python-requirements.txt pins it), since that is the range that
    is tested. A new major is taken by updating the pin there."""
    with open(os.path.join(REPO, "scripts", "python-requirements.txt")) as f:
        for line in f:
            m = re.match(r"wasmtime==(\d+)\.", line.strip())
            if m:
                major = int(m.group(1))
                return f"wasmtime>={major},<{major + 1}"
    sys.exit("scripts/python-requirements.txt pins no wasmtime")


WASMTIME = wasmtime_range()


def version():
    with open(os.path.join(REPO, "Cargo.toml")) as f:
        text = f.read()
    m = re.search(r'\[workspace\.package\][^\[]*?\nversion = "([^"]+)"', text)
    if not m:
        sys.exit("no [workspace.package] version in Cargo.toml")
    return m.group(1)


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasm", default=os.path.join(REPO, "target", "wasm", "raw", "eventlog_validator.wasm"))
    ap.add_argument("--out", default=os.path.join(REPO, "target", "wasm", "python"))
    a = ap.parse_args()
    ver = version()
    with open(os.path.join(SRC, "README.md")) as f:
        readme = f.read()
    files = {}
    pkg = os.path.join(SRC, "eventlog_validator")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") or name == "py.typed":
            with open(os.path.join(pkg, name), "rb") as f:
                data = f.read()
            if name == "__init__.py":
                data = data.replace(b"@VERSION@", ver.encode())
            files[f"eventlog_validator/{name}"] = data
    with open(a.wasm, "rb") as f:
        files["eventlog_validator/eventlog_validator.wasm"] = f.read()
    info = f"eventlog_validator-{ver}.dist-info"
    files[f"{info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        "Name: eventlog-validator\n"
        f"Version: {ver}\n"
        "Summary: The NACC visit-event validator (eventlog's rules in WebAssembly), for Python gears\n"
        "License: MIT OR Apache-2.0\n"
        "Requires-Python: >=3.9\n"
        f"Requires-Dist: {WASMTIME}\n"
        "Description-Content-Type: text/markdown\n\n" + readme
    ).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: eventlog build-python-wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\neventlog-validate = eventlog_validator.cli:main\n"
    record = [record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    os.makedirs(a.out, exist_ok=True)
    wheel = os.path.join(a.out, f"eventlog_validator-{ver}-py3-none-any.whl")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            # A fixed date: the same sources make the same wheel.
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    print(wheel)


if __name__ == "__main__":
    main()
