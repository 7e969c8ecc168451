#!/usr/bin/env bash
# The main job end to end, with no AWS account and no cluster: moto (AWS on loopback, IAM signature checking
# on) and kube-test-server (a Kubernetes API server stand-in with TLS and RBAC), the original helper's config
# files in a temp folder, and aws-ecr-cred-helper as the original helper's ServiceAccount:
#   1. `sync` plants the pull secret in five namespaces; `status` shows each one's expiry;
#   2. `run` keeps them fresh: its log says when the next refresh is due, from the token's real expiry;
#   3. someone deletes a secret; `run` puts it back within a second.
# What is simulated is said where it happens. Set DEMO_KEEP=1 to keep the temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/moto.sh

say() { printf '\n== %s\n' "$*" >&2; }
note() { printf '   %s\n' "$*" >&2; }

# A quiet build: one line that shows progress, the whole compiler log only when it fails.
build() {
  local log pid progress
  log=$(mktemp "${TMPDIR:-/tmp}/ecr-helper-build.XXXXXX")
  (swift build --product aws-ecr-cred-helper && swift build --product kube-test-server) > "$log" 2>&1 &
  pid=$!
  if [ -t 2 ]; then
    while kill -0 "$pid" 2>/dev/null; do
      progress=$(grep -o '\[[0-9]*/[0-9]*\]' "$log" | tail -n 1 || true)
      printf '\r== building aws-ecr-cred-helper and kube-test-server %s (first build: several minutes) ' "${progress:-...}" >&2
      sleep 1
    done
    printf '\r\033[K' >&2
  else
    echo "== building aws-ecr-cred-helper and kube-test-server (first build: several minutes)" >&2
  fi
  if ! wait "$pid"; then
    cat "$log" >&2
    echo "== the build failed (full log above, also in $log)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "== built" >&2
}

ensure_venv
build
bin=$(swift build --show-bin-path)
start_moto

work=$(mktemp -d "${TMPDIR:-/tmp}/ecr-helper-demo.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_moto
  if [ "${DEMO_KEEP:-}" != 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

# AWS: moto behind a small proxy. Simulated: moto answers every GetAuthorizationToken with a fixed expiry in
# 2015; real ECR says "12 hours from now". The proxy passes each request to moto unchanged (moto still
# checks the signature) and sets expiresAt in the answer to 12 hours from now, as ECR does.
"$TEST_PYTHON" scripts/aws/fault_proxy.py --upstream "$MOTO_ENDPOINT" --port-file "$work/aws-port" --no-stdin-watch \
  > "$work/aws-proxy.out" 2> "$work/aws-proxy.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/aws-port" ] && break; sleep 0.1; done
aws="http://127.0.0.1:$(cat "$work/aws-port")"
curl -fsS -X POST -H 'Content-Type: application/json' "$aws/__fault/rules" \
  --data '{"rules": [{"match": {"target": "GetAuthorizationToken"}, "times": 1000000, "expires_in": 43200}]}' > /dev/null

# Kubernetes: the stand-in API server; the helper authenticates as the original helper's ServiceAccount.
namespaces="default kube-system team-a team-b team-c"
"$bin/kube-test-server" --port 0 \
  --namespaces "default,kube-system,kube-public,team-a,team-b,team-c" \
  --user "aws-ecr-cred-helper:demo-helper-token:original-helper=registry-aws-ecr" \
  --admin-token-file "$work/admin-token" \
  --kubeconfig "$work/kubeconfig" --kubeconfig-token demo-helper-token \
  --ca-out "$work/ca.pem" > "$work/server.out" 2> "$work/server.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "KUBE_TEST_SERVER_URL=" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^KUBE_TEST_SERVER_URL=//p' "$work/server.out")
admin=$(cat "$work/admin-token")
kube() { curl -fsS --cacert "$work/ca.pem" -H "Authorization: Bearer $admin" "$@"; }

# The original helper's mounted files, with the trailing newlines its sample secret has.
mkdir -p "$work/config" "$work/config-aws"
printf '%s\n' "$namespaces" > "$work/config/NAMESPACES"
printf 'registry-aws-ecr\n' > "$work/config/SECRET_NAME"
python3 - "$MOTO_FIXTURE" "$work/config-aws" <<'PY'
import json, os, sys
fixture = json.load(open(sys.argv[1]))
for name, value in [("AWS_ACCESS_KEY_ID", fixture["allowed"]["accessKeyId"]),
                    ("AWS_SECRET_ACCESS_KEY", fixture["allowed"]["secretAccessKey"]),
                    ("AWS_DEFAULT_REGION", fixture["region"])]:
    with open(os.path.join(sys.argv[2], name), "w") as f:
        f.write(value + "\n")
PY
helper() {
  AWS_ENDPOINT_URL="$aws" "$bin/aws-ecr-cred-helper" "$@" \
    --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$work/kubeconfig"
}
note "AWS: moto at $MOTO_ENDPOINT (IAM signature checking on), behind the expiry proxy at $aws"
note "Kubernetes: kube-test-server at $url; the helper has the original helper's ClusterRole"

say "aws-ecr-cred-helper sync"
helper sync

say "aws-ecr-cred-helper status"
helper status

say "what the secrets hold (read back as admin; passwords shown by length only)"
for ns in $namespaces; do
  kube "$url/api/v1/namespaces/$ns/secrets/registry-aws-ecr" | python3 -c '
import base64, json, sys
s = json.load(sys.stdin)
auths = json.loads(base64.b64decode(s["data"][".dockerconfigjson"]))["auths"]
for registry, entry in auths.items():
    user = base64.b64decode(entry["auth"]).decode().split(":")[0]
    print("   %-12s %s  user=%s  password=<%d chars>" % (s["metadata"]["namespace"], registry, user, len(entry["password"])))
' >&2
done

say "aws-ecr-cred-helper run (the Deployment's command), in the background"
# Started directly (not through the helper function) so that $! is the helper's own process.
HTTP_PORT=0 AWS_ENDPOINT_URL="$aws" "$bin/aws-ecr-cred-helper" run \
  --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$work/kubeconfig" \
  > "$work/run.out" 2> "$work/run.log" &
run_pid=$!
pids+=("$run_pid")
for _ in $(seq 1 200); do grep -q "sync complete" "$work/run.log" && break; sleep 0.1; done
grep "sync complete" "$work/run.log" | head -n 1 | sed 's/^/   /' >&2
python3 - "$work/run.log" <<'PY' >&2
import re, sys
line = next(l for l in open(sys.argv[1]) if "sync complete" in l)
fields = dict(re.findall(r"(\w+)=(\S+)", line))
print("   the token expires at %s; the next refresh is due at %s" % (fields.get("token_expires"), fields.get("next_refresh")))
print("   (half the token's lifetime, minus up to 5% jitter: REFRESH_FRACTION=0.5, never later than REFRESH_INTERVAL)")
PY

say "a repair: someone deletes the secret in team-b (simulated, as admin)"
kube -X DELETE "$url/api/v1/namespaces/team-b/secrets/registry-aws-ecr" > /dev/null
deleted=$(date +%s.%N)
for _ in $(seq 1 100); do
  if kube "$url/api/v1/namespaces/team-b/secrets/registry-aws-ecr" > /dev/null 2>&1; then break; fi
  sleep 0.05
done
restored=$(date +%s.%N)
if kube "$url/api/v1/namespaces/team-b/secrets/registry-aws-ecr" > /dev/null 2>&1; then
  note "restored after $(python3 -c "print(round($restored - $deleted, 2))") s, by the watch on the helper's secrets:"
  grep "repaired pull secret" "$work/run.log" | head -n 1 | sed 's/^/   /' >&2
else
  note "not restored within 5 s; the helper's log:"
  sed 's/^/   /' "$work/run.log" >&2
  exit 1
fi

say "SIGTERM: run stops"
stopping=$(date +%s.%N)
kill -TERM "$run_pid"
status=0
wait "$run_pid" || status=$?
note "exited with status $status after $(python3 -c "print(round($(date +%s.%N) - $stopping, 2))") s; its last log line:"
tail -n 1 "$work/run.log" | sed 's/^/   /' >&2
