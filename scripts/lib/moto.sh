# shellcheck shell=bash
# start_moto: start moto_server on a free loopback port, create the IAM fixture with signature checking
# off, then switch signature checking on. Exports MOTO_ENDPOINT and MOTO_FIXTURE; stops moto on exit.
# Needs ensure_venv first.
start_moto() {
  local root port dir
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ecr-helper-moto.XXXXXX")
  port=$("$TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$TEST_PYTHON" -m moto.server -H 127.0.0.1 -p "$port" > "$dir/moto.log" 2>&1 &
  MOTO_PID=$!
  # shellcheck disable=SC2064
  trap "kill $MOTO_PID 2>/dev/null || true" EXIT
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  local i
  for i in $(seq 1 200); do
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
