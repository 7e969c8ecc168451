#!/usr/bin/env bash
# Runs the built image the way a pod of deploy/hardened/ runs it, without a container engine: the OCI
# layout from build-oci.sh is unpacked and its root filesystem mounted READ-ONLY by bubblewrap, as uid/gid
# 1000, with an empty environment but for what the Deployment sets, a tmpfs /tmp, the config folders at
# /config and /config-aws, and a ServiceAccount token, CA and namespace at
# /var/run/secrets/kubernetes.io/serviceaccount with KUBERNETES_SERVICE_HOST/PORT (in-cluster config).
# The API server is kube-test-server on loopback, whose only user has the hardened manifest's rules; AWS is
# moto. Checks: `sync` plants valid secrets; the entrypoint with no arguments (`run`) serves /healthz,
# /readyz and /metrics and stops on SIGTERM.
#
#   scripts/image/build-oci.sh && scripts/image/e2e-image.sh
#   OCI_LAYOUT=dir VERSION=tag KUBE_TEST_SERVER_BIN=path scripts/image/e2e-image.sh
# Ends with "e2e-image: N passed, M failed"; exits 1 if anything failed.
set -euo pipefail
# umoci unpacks with the layers' ownership as root, or mapped to the caller with --rootless.
rootless=()
[ "$(id -u)" = 0 ] || rootless=(--rootless)
cd "$(dirname "$0")/../.."
LAYOUT=${OCI_LAYOUT:-.build-image/oci}
VERSION=${VERSION:-0.1.0}
[ -f "$LAYOUT/index.json" ] || { echo "no OCI layout at $LAYOUT: run scripts/image/build-oci.sh first" >&2; exit 1; }
for tool in umoci bwrap curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/image/build-oci.sh first (it installs it)" >&2; exit 1; }
done
source scripts/lib/venv.sh
source scripts/lib/moto.sh
ensure_venv
if [ -z "${KUBE_TEST_SERVER_BIN:-}" ]; then
  swift build --product kube-test-server >&2
  KUBE_TEST_SERVER_BIN=$(swift build --show-bin-path)/kube-test-server
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/e2e-image.XXXXXX")
start_moto
server_pid=
run_pid=
cleanup() {
  [ -z "$run_pid" ] || kill "$run_pid" 2>/dev/null || true
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  stop_moto
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
result() {
  if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}

umoci unpack "${rootless[@]}" --image "$LAYOUT:$VERSION" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
# Mount points a container runtime creates before it makes the root read-only.
mkdir -p "$rootfs/var/run/secrets/kubernetes.io/serviceaccount"

# The hardened manifest's rules (ClusterRole and the pod's Role) as the helper's only rights.
"$TEST_PYTHON" - deploy/hardened/aws-ecr-cred-helper.yaml "$work/rules.json" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rules = [{k: r.get(k, []) for k in ("apiGroups", "resources", "verbs", "resourceNames")}
         for d in docs if d["kind"] in ("ClusterRole", "Role") for r in d["rules"]]
json.dump(rules, open(sys.argv[2], "w"))
PY
"$KUBE_TEST_SERVER_BIN" --port 0 --namespaces default,kube-system,team-a \
  --user "aws-ecr-cred-helper:pod-token:$work/rules.json" --admin-token-file "$work/admin-token" \
  --ca-out "$work/ca.pem" > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q "KUBE_TEST_SERVER_URL=" "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^KUBE_TEST_SERVER_URL=//p' "$work/server.out")
hostport=${url#https://}
admin=$(cat "$work/admin-token")

# What the kubelet mounts: the ServiceAccount files and the two config Secrets (readable by the pod).
mkdir -p "$work/sa" "$work/config" "$work/config-aws"
printf 'pod-token' > "$work/sa/token"
cp "$work/ca.pem" "$work/sa/ca.crt"
printf 'kube-system' > "$work/sa/namespace"
printf 'default team-a\n' > "$work/config/NAMESPACES"
printf 'registry-aws-ecr\n' > "$work/config/SECRET_NAME"
"$TEST_PYTHON" - "$MOTO_FIXTURE" "$work/config-aws" <<'PY'
import json, os, sys
fixture = json.load(open(sys.argv[1]))
for name, value in [("AWS_ACCESS_KEY_ID", fixture["allowed"]["accessKeyId"]),
                    ("AWS_SECRET_ACCESS_KEY", fixture["allowed"]["secretAccessKey"]),
                    ("AWS_DEFAULT_REGION", fixture["region"])]:
    with open(os.path.join(sys.argv[2], name), "w") as f:
        f.write(value + "\n")
PY
chmod -R a+rX "$work/sa" "$work/config" "$work/config-aws"
http_port=$("$TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The pod: the image's root read-only, uid/gid 1000, the kubelet's mounts, the Deployment's environment.
pod_args=(
  --ro-bind "$rootfs" / --proc /proc --dev /dev --tmpfs /tmp
  --ro-bind "$work/config" /config --ro-bind "$work/config-aws" /config-aws
  --ro-bind "$work/sa" /var/run/secrets/kubernetes.io/serviceaccount
  --unshare-all --share-net --uid 1000 --gid 1000 --die-with-parent --chdir / --clearenv
  --setenv PATH /usr/local/bin:/usr/bin:/bin --setenv SSL_CERT_FILE /etc/ssl/certs/ca-certificates.crt
  --setenv KUBERNETES_SERVICE_HOST "${hostport%:*}" --setenv KUBERNETES_SERVICE_PORT "${hostport##*:}"
  --setenv POD_NAME aws-ecr-cred-helper-image-e2e --setenv POD_NAMESPACE kube-system
  --setenv HTTP_PORT "$http_port" --setenv LOG_FORMAT json --setenv AWS_ENDPOINT_URL "$MOTO_ENDPOINT"
)
# pod ARGS...: the image's entrypoint with ARGS, in the foreground.
pod() { bwrap "${pod_args[@]}" /usr/local/bin/aws-ecr-cred-helper "$@"; }
# helper_pid: the helper process inside the sandbox of $run_pid (bwrap's descendant), as the host sees it.
helper_pid() {
  local pids=("$run_pid") pid children
  while [ ${#pids[@]} -gt 0 ]; do
    pid=${pids[0]}
    pids=("${pids[@]:1}")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = aws-ecr-cred-he ] && { echo "$pid"; return 0; }
    mapfile -t children < <(cat "/proc/$pid/task/"*/children 2>/dev/null | tr ' ' '\n' | grep .)
    pids+=("${children[@]}")
  done
  return 1
}

verify() {
  local ns ok=0
  for ns in "$@"; do
    curl -fsS --cacert "$work/ca.pem" -H "Authorization: Bearer $admin" \
      "$url/api/v1/namespaces/$ns/secrets/registry-aws-ecr" > "$work/secret.json" || { ok=1; continue; }
    "$TEST_PYTHON" -c '
import base64, json, sys
s = json.load(open(sys.argv[1]))
assert s["type"] == "kubernetes.io/dockerconfigjson"
auths = json.loads(base64.b64decode(s["data"][".dockerconfigjson"]))["auths"]
assert any(base64.b64decode(v["auth"]).decode().startswith("AWS:") for v in auths.values())
' "$work/secret.json" || ok=1
  done
  return $ok
}

set +e
pod sync > "$work/sync.out" 2>&1
rc=$?
sed 's/^/     /' "$work/sync.out" | tail -5
result $rc "image: sync (in-cluster config, read-only root, uid 1000, hardened RBAC)"
verify default team-a
result $? "image: secrets planted in default and team-a"

# In the background, bwrap itself must be our child (not a subshell), so that it can be waited for.
pod_run() { exec bwrap "${pod_args[@]}" /usr/local/bin/aws-ecr-cred-helper; }
pod_run > "$work/run.out" 2>&1 &
run_pid=$!
code() { curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port$1" 2>/dev/null || true; }
ready=1
for _ in $(seq 1 300); do
  [ "$(code /readyz)" = 200 ] && { ready=0; break; }
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.2
done
result $ready "image: entrypoint without arguments runs the controller; /readyz 200"
for path in /healthz /metrics; do
  got=$(code "$path")
  if [ "$got" = 200 ]; then result 0 "image: $path 200"; else result 1 "image: $path 200 (got $got)"; fi
done
# SIGTERM to the helper itself (as the kubelet's runtime sends it to the container's process).
stopped=1
if pid=$(helper_pid); then
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$run_pid" 2>/dev/null || { stopped=0; break; }; sleep 0.2; done
else
  echo "     could not find the helper process under bwrap $run_pid"
fi
result $stopped "image: the helper exits on SIGTERM"
if [ "$stopped" = 0 ]; then wait "$run_pid" 2>/dev/null; run_pid=; fi
if grep -qiE 'read-only|permission denied' "$work/run.out" "$work/sync.out"; then
  grep -iE 'read-only|permission denied' "$work/run.out" "$work/sync.out" | head -3 | sed 's/^/     /'
  result 1 "image: no write to the read-only root or permission error"
else
  result 0 "image: no write to the read-only root or permission error"
fi
set -e

echo "e2e-image: $passed passed, $failed failed"
[ "$failed" = 0 ]
