#!/usr/bin/env bash
# Start the servers the tests talk to, on 127.0.0.1 and free ports, and
# stop them by PID when the calling script exits. Source it:
#   . scripts/servers.sh; start_s3
# Exports EVENTLOG_TEST_S3_ENDPOINT (and later EVENTLOG_TEST_CLICKHOUSE_URL).

TOOLS="${EVENTLOG_TOOLS:-$HOME/.cache/eventlog}"
VENV="$TOOLS/venv"
SERVER_PIDS=()
SERVER_LOGS="${SERVER_LOGS:-$(mktemp -d)}"

stop_servers() {
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
trap stop_servers EXIT

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL NAME: until the URL answers (any HTTP status), or fail.
wait_http() {
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.2
  done
  echo "servers: $2 did not come up at $1; log:" >&2
  cat "$SERVER_LOGS/$2.log" >&2 || true
  return 1
}

start_s3() {
  local port; port=$(free_port)
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$SERVER_LOGS/moto.log" 2>&1 &
  SERVER_PIDS+=($!)
  export EVENTLOG_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  wait_http "$EVENTLOG_TEST_S3_ENDPOINT" moto
  echo "servers: S3 (moto) at $EVENTLOG_TEST_S3_ENDPOINT, pid ${SERVER_PIDS[-1]}" >&2
}

start_clickhouse() {
  local port; port=$(free_port)
  local data="$SERVER_LOGS/clickhouse-data"
  "$VENV/bin/python" tests/infra/clickhouse_http.py --port "$port" --data "$data" \
    --user default --password eventlog-test >"$SERVER_LOGS/clickhouse.log" 2>&1 &
  SERVER_PIDS+=($!)
  export EVENTLOG_TEST_CLICKHOUSE_URL="http://127.0.0.1:$port"
  export EVENTLOG_TEST_CLICKHOUSE_USER=default EVENTLOG_TEST_CLICKHOUSE_PASSWORD=eventlog-test
  wait_http "$EVENTLOG_TEST_CLICKHOUSE_URL/ping" clickhouse
  echo "servers: ClickHouse (chdb behind tests/infra/clickhouse_http.py) at $EVENTLOG_TEST_CLICKHOUSE_URL, pid ${SERVER_PIDS[-1]}" >&2
}
