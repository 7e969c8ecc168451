#!/usr/bin/env bash
# Shows the main job end to end on a fresh machine, with no AWS account and no cluster: starts moto (AWS
# stand-in, IAM signature checking on) and kube-test-server (Kubernetes stand-in, TLS and RBAC) on
# loopback, mounts the original helper's config files in a temp folder, runs `aws-ecr-cred-helper sync`
# as the original helper's ServiceAccount (the original ClusterRole), and prints what it planted.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/moto.sh
ensure_venv
start_moto

echo "== building (first build takes several minutes)" >&2
swift build --product aws-ecr-cred-helper >&2
swift build --product kube-test-server >&2
bin=$(swift build --show-bin-path)

work=$(mktemp -d "${TMPDIR:-/tmp}/ecr-helper-demo.XXXXXX")
namespaces="default kube-system team-a team-b team-c"
"$bin/kube-test-server" --port 0 \
  --namespaces "default,kube-system,kube-public,team-a,team-b,team-c" \
  --user "aws-ecr-cred-helper:demo-helper-token:original-helper=registry-aws-ecr" \
  --admin-token-file "$work/admin-token" \
  --kubeconfig "$work/kubeconfig" --kubeconfig-token demo-helper-token \
  --ca-out "$work/ca.pem" > "$work/server.out" 2> "$work/server.log" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; stop_moto' EXIT
for _ in $(seq 1 100); do grep -q "KUBE_TEST_SERVER_URL=" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^KUBE_TEST_SERVER_URL=//p' "$work/server.out")
echo "== Kubernetes stand-in at $url (helper uses the original ClusterRole)" >&2

# The original helper's mounted files, with the trailing newlines its sample secret has.
mkdir -p "$work/config" "$work/config-aws"
printf '%s\n' "$namespaces" > "$work/config/NAMESPACES"
printf 'registry-aws-ecr\n' > "$work/config/SECRET_NAME"
python3 - "$MOTO_FIXTURE" "$work/config-aws" <<'PY'
import json, sys, os
fixture = json.load(open(sys.argv[1]))
folder = sys.argv[2]
for name, value in [("AWS_ACCESS_KEY_ID", fixture["allowed"]["accessKeyId"]),
                    ("AWS_SECRET_ACCESS_KEY", fixture["allowed"]["secretAccessKey"]),
                    ("AWS_DEFAULT_REGION", fixture["region"])]:
    with open(os.path.join(folder, name), "w") as f:
        f.write(value + "\n")
PY

echo "== aws-ecr-cred-helper sync" >&2
AWS_ENDPOINT_URL="$MOTO_ENDPOINT" "$bin/aws-ecr-cred-helper" sync \
  --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$work/kubeconfig"

echo "== what was planted (read back as admin)" >&2
admin=$(cat "$work/admin-token")
for ns in $namespaces; do
  curl -fsS --cacert "$work/ca.pem" -H "Authorization: Bearer $admin" \
    "$url/api/v1/namespaces/$ns/secrets/registry-aws-ecr" |
  python3 -c '
import sys, json, base64
s = json.load(sys.stdin)
cfg = json.loads(base64.b64decode(s["data"][".dockerconfigjson"]))
meta = s["metadata"]
expires = meta.get("annotations", {}).get("aws-ecr-cred-helper/expires-at", "(moto sends an expiry in the past)")
for registry, entry in cfg["auths"].items():
    user = base64.b64decode(entry["auth"]).decode().split(":")[0]
    print("%-12s %s  %s  user=%s  password=<%d chars>  expires-at=%s" % (meta["namespace"], s["type"], registry, user, len(entry["password"]), expires))
'
done
echo "== status" >&2
AWS_ENDPOINT_URL="$MOTO_ENDPOINT" "$bin/aws-ecr-cred-helper" status \
  --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$work/kubeconfig" || true
