# shellcheck shell=bash
# start_moto: start moto_server on a free loopback port, create the IAM fixture with signature checking
# off, then switch signature checking on. Exports MOTO_ENDPOINT and MOTO_FIXTURE; stops moto on exit.
# Needs ensure_venv first. MOTO_LAUNCHER=path/to/script.py runs that script with moto_server's arguments
# instead (scripts/observability/moto_server.py: ECR tokens with a real expiry).
start_moto() {
  local root port dir launcher=(-m moto.server)
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  [ -z "${MOTO_LAUNCHER:-}" ] || launcher=("$MOTO_LAUNCHER")
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ecr-helper-moto.XXXXXX")
  port=$("$TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$TEST_PYTHON" "${launcher[@]}" -H 127.0.0.1 -p "$port" > "$dir/moto.log" 2>&1 &
  MOTO_PID=$!
  trap stop_moto EXIT
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do
    if curl -fsS "$MOTO_ENDPOINT/moto-api/" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then cat "$dir/moto.log" >&2; echo "moto_server did not start" >&2; return 1; fi
    sleep 0.1
  done
  export MOTO_FIXTURE="$dir/fixture.json"
  "$TEST_PYTHON" "$root/scripts/moto_fixture.py" "$MOTO_ENDPOINT" "$MOTO_FIXTURE"
  # From here on moto checks every request's SigV4 signature against the IAM keys it knows.
  curl -fsS -X POST -H 'Content-Type: text/plain' --data 0 "$MOTO_ENDPOINT/moto-api/reset-auth" >/dev/null
  echo "moto on $MOTO_ENDPOINT (signature checking on), fixture $MOTO_FIXTURE" >&2
}

# start_moto_tls: after start_moto, a second moto_server over HTTPS (certificate from a throwaway CA made by
# scripts/aws/make_test_ca.py), with the same IAM fixture and signature checking on, for the custom-CA tests.
# Exports MOTO_TLS_ENDPOINT (https://127.0.0.1:PORT), MOTO_TLS_FIXTURE and MOTO_TLS_CA (the CA's PEM file).
# It stops on exit with moto, and also as soon as the first moto is gone (in case a caller replaces the EXIT
# trap). Returns non-zero when it cannot start; the tests that need it then skip themselves.
start_moto_tls() {
  local root dir port endpoint
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  dir=$(dirname "$MOTO_FIXTURE")
  "$TEST_PYTHON" "$root/scripts/aws/make_test_ca.py" "$dir/tls" || return 1
  port=$("$TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$TEST_PYTHON" -m moto.server -H 127.0.0.1 -p "$port" -c "$dir/tls/server.pem" -k "$dir/tls/server.key" \
    > "$dir/moto-tls.log" 2>&1 &
  MOTO_TLS_PID=$!
  trap stop_moto EXIT
  # Watchdog: the HTTPS moto does not outlive the first one.
  (
    while kill -0 "$MOTO_PID" 2>/dev/null && kill -0 "$MOTO_TLS_PID" 2>/dev/null; do sleep 1; done
    kill "$MOTO_TLS_PID" 2>/dev/null || true
  ) > /dev/null 2>&1 < /dev/null &
  endpoint="https://127.0.0.1:$port"
  for _ in $(seq 1 200); do
    if curl -fsS --cacert "$dir/tls/ca.pem" "$endpoint/moto-api/" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$MOTO_TLS_PID" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  AWS_CA_BUNDLE="$dir/tls/ca.pem" "$TEST_PYTHON" "$root/scripts/moto_fixture.py" "$endpoint" "$dir/fixture-tls.json" \
    || return 1
  curl -fsS --cacert "$dir/tls/ca.pem" -X POST -H 'Content-Type: text/plain' --data 0 "$endpoint/moto-api/reset-auth" \
    >/dev/null || return 1
  export MOTO_TLS_ENDPOINT="$endpoint" MOTO_TLS_FIXTURE="$dir/fixture-tls.json" MOTO_TLS_CA="$dir/tls/ca.pem"
  echo "HTTPS moto on $MOTO_TLS_ENDPOINT (CA $MOTO_TLS_CA), fixture $MOTO_TLS_FIXTURE" >&2
}

# stop_moto: stop the moto servers this shell started (installed as the EXIT trap; a script that sets its
# own EXIT trap calls it from there).
stop_moto() {
  local pid
  for pid in "${MOTO_PID:-}" "${MOTO_TLS_PID:-}"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  done
}
