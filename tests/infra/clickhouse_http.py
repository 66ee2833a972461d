#!/usr/bin/env python3
"""ClickHouse's HTTP interface in front of chdb (the ClickHouse engine,
in-process), for the tests.

Production talks to a real ClickHouse server or cluster. The tests need a
real engine over the real protocol, and no modern ClickHouse server can be
installed here; chdb is ClickHouse 26 as a library. This front forwards
every query to one chdb session and answers the way ClickHouse's HTTP
interface does. It never fakes a result.

Supported: query in the `query` parameter or the body; INSERT data in the
body when the query is in the URL (written to a temporary file and loaded
with FROM INFILE); `database`; settings as URL parameters; credentials from
X-ClickHouse-User/Key, basic auth or user/password parameters;
`default_format`; `X-ClickHouse-Summary` (rows read and written, from the
engine); ClickHouse-style errors (`Code: N. DB::Exception: …`, status 500,
`X-ClickHouse-Exception-Code`). GET /ping answers `Ok.`.

    python tests/infra/clickhouse_http.py --port 8123 --data /tmp/ch --user default --password secret
"""
import argparse
import base64
import json
import os
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session

NOT_SETTINGS = {"query", "database", "user", "password", "default_format", "session_id", "session_timeout", "query_id",
                "compress", "decompress", "wait_end_of_query", "buffer_size", "max_result_bytes"}
INSERT_WITH_DATA = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
CODE = re.compile(r"Code:\s*(\d+)")


class Engine:
    def __init__(self, data):
        self.session = session.Session(data)
        self.lock = threading.Lock()

    def run(self, sql, fmt, database, settings):
        with self.lock:
            if database:
                self.session.query(f"USE `{database}`")
            applied = []
            try:
                for k, v in settings.items():
                    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
                        raise ValueError(f"Code: 115. DB::Exception: Unknown setting '{k}'. (UNKNOWN_SETTING)")
                    self.session.query(f"SET {k} = {quote(v)}")
                    applied.append(k)
                started = time.monotonic()
                try:
                    return self.session.query(sql, fmt)
                finally:
                    took = time.monotonic() - started
                    if os.environ.get("CLICKHOUSE_FRONT_LOG") and took > 0.2:
                        sys.stderr.write(f"clickhouse-front: {took:.2f} s: {' '.join(sql.split())[:160]}\n")
            finally:
                for k in applied:
                    self.session.query(f"SET {k} = DEFAULT")
                if database:
                    self.session.query("USE default")


def quote(v):
    if re.fullmatch(r"-?\d+(\.\d+)?", v):
        return v
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    engine = None
    credentials = ("default", "")

    def log_message(self, fmt, *args):
        if os.environ.get("CLICKHOUSE_FRONT_LOG"):
            sys.stderr.write("clickhouse-front: " + fmt % args + "\n")

    def reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.handle_query(body)

    def authenticated(self, params):
        user = self.headers.get("X-ClickHouse-User") or params.get("user")
        key = self.headers.get("X-ClickHouse-Key") or params.get("password")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, key = base64.b64decode(auth[6:]).decode().partition(":")
        return (user or "default", key or "") == self.credentials

    def handle_query(self, body):
        url = urlsplit(self.path)
        if url.path in ("/ping", "/ping/"):
            return self.reply(200, "Ok.\n")
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if not self.authenticated(params):
            return self.reply(401, "Code: 516. DB::Exception: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)\n",
                              {"X-ClickHouse-Exception-Code": "516"})
        settings = {k: v for k, v in params.items() if k not in NOT_SETTINGS and not k.startswith("param_")}
        sql = params.get("query")
        tmp = None
        if sql is None:
            sql = body.decode()
        elif body:
            m = INSERT_WITH_DATA.match(sql)
            if not m:
                sql = sql + "\n" + body.decode()
            else:
                fd, tmp = tempfile.mkstemp(prefix="ch-insert-")
                with os.fdopen(fd, "wb") as f:
                    f.write(body)
                sql = f"{m.group(1)} FROM INFILE '{tmp}' FORMAT {m.group(2)}"
        m = FORMAT_CLAUSE.search(sql)
        fmt = m.group(1) if m and not sql.lstrip().upper().startswith("INSERT") else params.get("default_format", "TabSeparated")
        if m and not sql.lstrip().upper().startswith("INSERT"):
            sql = sql[: m.start()]
        try:
            result = self.engine.run(sql, fmt, params.get("database"), settings)
        except Exception as e:  # chdb raises with ClickHouse's own message
            msg = str(e).strip()
            code = CODE.search(msg)
            return self.reply(500, msg + "\n", {"X-ClickHouse-Exception-Code": code.group(1) if code else "1001"})
        finally:
            if tmp:
                os.unlink(tmp)
        summary = {"read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
                   "written_rows": str(getattr(result, "rows_written", lambda: 0)()), "written_bytes": str(getattr(result, "bytes_written", lambda: 0)())}
        self.reply(200, result.bytes(), {"Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Format": fmt,
                                         "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":"))})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--user", default="default")
    ap.add_argument("--password", default="")
    args = ap.parse_args()
    Handler.engine = Engine(args.data)
    Handler.credentials = (args.user, args.password)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
