#!/usr/bin/env bash
# End to end under the hardened RBAC, on loopback only: renders deploy/kustomize/overlays/hardened (the same
# objects as deploy/hardened/), takes the rules of its ClusterRole VERBATIM as the only rights of the
# helper's user on kube-test-server (TLS, RBAC), starts moto (AWS stand-in, IAM signature checking on) and
# runs `aws-ecr-cred-helper sync` with the rendered Deployment's own settings and the original helper's
# mounted-file layout. Then checks, reading back as admin, that every target namespace holds a valid
# kubernetes.io/dockerconfigjson secret for moto's registry, that a second sync is idempotent and a third
# repairs a tampered copy (apply on an existing object), that `check` finds the RBAC sufficient, and
# that the RBAC really is that tight (other secrets and namespaces are refused to the helper's token).
# Also: the original ClusterRole (original-compatible overlay) still works; the all-namespaces overlay
# (NAMESPACES="*", namespace list/watch) reaches every namespace; `run` serves probes and metrics; the
# Helm chart's RBAC generated for every feature (ci/all-features-values.yaml) and the kustomize components
# (overlays/all-features) are enough for sync (globs, ServiceAccount patching; the chart also a selector and
# two regions), for `run` with leader election (the Lease) and for `cleanup`.
#
# The same checks run on a REAL kube-apiserver (v1.19, RBAC, TokenRequest, kube-controller-manager: see
# scripts/lib/envtest.sh). There each variant's rendered ServiceAccount, ClusterRole, ClusterRoleBinding,
# Role and RoleBinding objects are applied verbatim as admin (one variant at a time: they all share the
# names kube-system/aws-ecr-cred-helper, so the previous variant's objects are deleted first), the helper
# gets its own token for the rendered ServiceAccount through TokenRequest (it never runs as admin), and
# everything is read back as admin. The `run` scenario uses the hardened variant's ClusterRole + Role as
# rendered (on kube-test-server, whose users have cluster-wide rules only, it gets their union).
#
#   scripts/deploy/e2e-hardened.sh [--server stand-in|real|both]
#   HELPER_BIN=... KUBE_TEST_SERVER_BIN=... scripts/deploy/e2e-hardened.sh   # prebuilt binaries
# --server: stand-in = kube-test-server only; real = kube-apiserver only; both = one after the other.
# Default: both when scripts/lib/envtest.sh finds a kube-apiserver (KUBEBUILDER_ASSETS, or ../shared/envtest
# plus etcd on PATH), else stand-in with one line saying the real tier is skipped; REQUIRE_REAL_APISERVER=1
# makes that a failure. Without the binaries it builds the products it needs (debug) in the shared .build.
# Every check line names its server ("ok   [kube-apiserver] hardened: ..."). Ends with "e2e-hardened: N
# passed, M failed" (both servers together); exits 1 if anything failed. KEEP_WORK=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { echo "usage: scripts/deploy/e2e-hardened.sh [--server stand-in|real|both]"; }
server_mode=
while [ $# -gt 0 ]; do
  case $1 in
    --server) [ $# -ge 2 ] || { usage >&2; exit 2; }; server_mode=$2; shift 2 ;;
    --server=*) server_mode=${1#--server=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "e2e-hardened: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $server_mode in
  "" | stand-in | real | both) ;;
  *) echo "e2e-hardened: --server must be stand-in, real or both, not '$server_mode'" >&2; exit 2 ;;
esac

source scripts/lib/venv.sh
source scripts/lib/moto.sh
source scripts/lib/envtest.sh
source scripts/deploy/lib.sh

if [ -z "$server_mode" ]; then
  if envtest_find; then
    server_mode=both
  elif [ "${REQUIRE_REAL_APISERVER:-}" = 1 ]; then
    echo "e2e-hardened: the real kube-apiserver tier is required (REQUIRE_REAL_APISERVER=1) but cannot start: $ENVTEST_MISSING" >&2
    exit 1
  else
    server_mode=stand-in
    echo "e2e-hardened: real kube-apiserver tier skipped: $ENVTEST_MISSING (to enable it: KUBEBUILDER_ASSETS=<folder with kube-apiserver and etcd>, or shared/envtest/bin beside this checkout and etcd on PATH; REQUIRE_REAL_APISERVER=1 makes this an error)" >&2
  fi
elif [ "$server_mode" != stand-in ] && ! envtest_find; then
  echo "e2e-hardened: --server $server_mode needs a real kube-apiserver: $ENVTEST_MISSING" >&2
  exit 1
fi
case $server_mode in
  stand-in) servers=(stand-in) ;;
  real) servers=(real) ;;
  both) servers=(stand-in real) ;;
esac

ensure_venv
ensure_deploy_tools

if [ -z "${HELPER_BIN:-}" ] || { [ "$server_mode" != real ] && [ -z "${KUBE_TEST_SERVER_BIN:-}" ]; }; then
  echo "== building aws-ecr-cred-helper and kube-test-server (debug)" >&2
  swift build --product aws-ecr-cred-helper >&2
  [ "$server_mode" = real ] || swift build --product kube-test-server >&2
  bin=$(swift build --show-bin-path)
  HELPER_BIN=${HELPER_BIN:-$bin/aws-ecr-cred-helper}
  KUBE_TEST_SERVER_BIN=${KUBE_TEST_SERVER_BIN:-$bin/kube-test-server}
fi

start_moto # installs `trap stop_moto EXIT`, replaced right below by cleanup (which calls stop_moto)
work=$(mktemp -d "${TMPDIR:-/tmp}/e2e-hardened.XXXXXX")
server_pid=
run_pid=
envtest_dir=
# stop_run: stops the helper's `run` (SIGTERM, then SIGKILL after 5 s) if one is running.
stop_run() {
  local pid=$run_pid
  run_pid=
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
# stop_standin: stops kube-test-server if it runs.
stop_standin() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  server_pid=
}
cleanup() {
  stop_run || true
  stop_standin || true
  [ -z "$envtest_dir" ] || envtest_stop "$envtest_dir" || true
  stop_moto || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
server_label=
result() {
  if [ "$1" = 0 ]; then
    passed=$((passed + 1)); echo "ok   [$server_label] $2"
  else
    failed=$((failed + 1)); echo "FAIL [$server_label] $2"
  fi
}

# --- what the manifests say ---------------------------------------------------------------------------------
# extract OVERLAY PREFIX: renders the overlay to PREFIX.yaml, then extract_rendered.
extract() {
  kubectl kustomize "deploy/kustomize/overlays/$1" > "$2.yaml"
  extract_rendered "$2"
}
# extract_rendered PREFIX: from PREFIX.yaml writes PREFIX.rules.json (the ClusterRole's rules as
# kube-test-server PolicyRules), PREFIX.pod-rules.json (plus the Roles' rules), PREFIX.env (the Deployment's
# literal env values, shell-quoted, without endpoint overrides: every AWS call goes to moto) and
# PREFIX.secret (the name in resourceNames); for the real server PREFIX.rbac.yaml (the rendered
# ServiceAccount, ClusterRole, ClusterRoleBinding, Role and RoleBinding documents, their text unchanged) and
# PREFIX.sa (NAMESPACE/NAME of the rendered ServiceAccount, the subject of every binding).
extract_rendered() {
  "$DEPLOY_PYTHON" - "$1" <<'PY'
import json, re, shlex, sys, yaml
prefix = sys.argv[1]
text = open(prefix + ".yaml").read()
docs = [d for d in yaml.safe_load_all(text) if d]
(role,) = [d for d in docs if d["kind"] == "ClusterRole"]
rules = [{k: r.get(k, []) for k in ("apiGroups", "resources", "verbs", "resourceNames")} for r in role["rules"]]
json.dump(rules, open(prefix + ".rules.json", "w"), indent=1)
# The pod's namespaced Role (Events) too: kube-test-server users have cluster-wide rules only, so these are
# given for the long-running scenario, which is the one that may record Events.
role_rules = [{k: r.get(k, []) for k in ("apiGroups", "resources", "verbs", "resourceNames")}
              for d in docs if d["kind"] == "Role" for r in d["rules"]]
json.dump(rules + role_rules, open(prefix + ".pod-rules.json", "w"), indent=1)
(deploy,) = [d for d in docs if d["kind"] == "Deployment"]
(container,) = deploy["spec"]["template"]["spec"]["containers"]
literal = [(e["name"], e["value"]) for e in container.get("env", [])
           if "value" in e and not e["name"].startswith("AWS_ENDPOINT_URL")]
with open(prefix + ".env", "w") as f:
    f.writelines("%s=%s\n" % (name, shlex.quote(value)) for name, value in literal)
with open(prefix + ".envlist", "w") as f:  # for env(1): NAME=value, one a line, unquoted
    f.writelines("%s=%s\n" % (name, value) for name, value in literal)
names = {n for r in rules if "secrets" in r["resources"] for n in r["resourceNames"]}
assert len(names) == 1, names
open(prefix + ".secret", "w").write(names.pop())
# The RBAC documents as rendered (text unchanged, comments included), for the real server.
rbac_kinds = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
chunks = [c for c in re.split(r"^---[ \t]*$", text, flags=re.M) if yaml.safe_load(c)]
rbac = [c.strip("\n") + "\n" for c in chunks if yaml.safe_load(c)["kind"] in rbac_kinds]
assert len(rbac) == len([d for d in docs if d["kind"] in rbac_kinds]), "cannot split %s.yaml" % prefix
open(prefix + ".rbac.yaml", "w").write("---\n".join(rbac))
(sa,) = [d for d in docs if d["kind"] == "ServiceAccount"]
sa_ref = (sa["metadata"]["namespace"], sa["metadata"]["name"])
for b in docs:
    if b["kind"] in ("ClusterRoleBinding", "RoleBinding"):
        assert [(s["kind"], s.get("namespace"), s["name"]) for s in b["subjects"]] == [("ServiceAccount",) + sa_ref], b
open(prefix + ".sa", "w").write("%s/%s\n" % sa_ref)
print("%s: %d ClusterRole rules -> %s" % (prefix, len(rules), json.dumps(rules)), file=sys.stderr)
PY
}
extract hardened "$work/hardened"
extract all-namespaces "$work/all"
extract original-compatible "$work/original"
helm template aws-ecr-cred-helper deploy/helm/aws-ecr-cred-helper --namespace kube-system \
  -f deploy/helm/aws-ecr-cred-helper/ci/all-features-values.yaml > "$work/helm.yaml"
extract_rendered "$work/helm"
extract all-features "$work/features"
secret_name=$(cat "$work/hardened.secret")
# Negative control: the hardened rules without `create`. A new secret must then be refused, which shows
# that the server authorizes apply-create as `create` with the name (so the hardened role needs it).
"$DEPLOY_PYTHON" - "$work" <<'PY'
import json, sys
rules = json.load(open(sys.argv[1] + "/hardened.rules.json"))
for r in rules:
    r["verbs"] = [v for v in r["verbs"] if v != "create"]
json.dump(rules, open(sys.argv[1] + "/no-create.rules.json", "w"))
PY

# The original helper's mounted files (/config, /config-aws), with the fixture's IAM user.
mkdir -p "$work/config" "$work/config-aws"
targets=(kube-system default team-a)
echo "${targets[*]}" > "$work/config/NAMESPACES"
printf '%s\n' "$secret_name" > "$work/config/SECRET_NAME"
"$TEST_PYTHON" - "$MOTO_FIXTURE" "$work/config-aws" <<'PY'
import json, os, sys
fixture = json.load(open(sys.argv[1]))
for name, value in [("AWS_ACCESS_KEY_ID", fixture["allowed"]["accessKeyId"]),
                    ("AWS_SECRET_ACCESS_KEY", fixture["allowed"]["secretAccessKey"]),
                    ("AWS_DEFAULT_REGION", fixture["region"])]:
    with open(os.path.join(sys.argv[2], name), "w") as f:
        f.write(value + "\n")
PY

# --- servers ------------------------------------------------------------------------------------------------
# Each setup_* sets: server (stand-in|real), server_label, url, ca (the server's CA file), admin_auth (curl
# arguments that read and write as admin: CA plus admin credentials) and all_namespaces. kubeconfig_for and
# token_for VARIANT give the helper's credentials for a variant (hardened, all, original, no-create, run,
# helm, features); use_variant puts a variant's RBAC in place (real server only: the stand-in has a user per
# variant from the start).
server=
url=
ca=
admin_auth=()
all_namespaces=()
rwork=
current_rbac=

setup_standin() {
  server=stand-in
  server_label=kube-test-server
  all_namespaces=(default kube-system kube-public team-a team-b legacy)
  "$KUBE_TEST_SERVER_BIN" --port 0 \
    --namespaces "$(IFS=,; echo "${all_namespaces[*]}")" \
    --user "hardened-helper:hardened-token:$work/hardened.rules.json" \
    --user "all-namespaces-helper:all-namespaces-token:$work/all.rules.json" \
    --user "no-create-helper:no-create-token:$work/no-create.rules.json" \
    --user "run-helper:run-token:$work/hardened.pod-rules.json" \
    --user "original-helper:original-token:$work/original.rules.json" \
    --user "helm-helper:helm-token:$work/helm.pod-rules.json" \
    --user "features-helper:features-token:$work/features.pod-rules.json" \
    --admin-token-file "$work/admin-token" \
    --kubeconfig "$work/kubeconfig" --kubeconfig-token hardened-token \
    --ca-out "$work/ca.pem" > "$work/server.out" 2> "$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 200); do
    grep -q "KUBE_TEST_SERVER_URL=" "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "kube-test-server did not start" >&2; exit 1; }
    sleep 0.1
  done
  url=$(sed -n 's/^KUBE_TEST_SERVER_URL=//p' "$work/server.out")
  [ -n "$url" ] || { cat "$work/server.log" >&2; echo "kube-test-server printed no URL" >&2; exit 1; }
  ca=$work/ca.pem
  admin_auth=(--cacert "$ca" -H "Authorization: Bearer $(cat "$work/admin-token")")
  sed "s/hardened-token/all-namespaces-token/" "$work/kubeconfig" > "$work/kubeconfig-all"
  sed "s/hardened-token/no-create-token/" "$work/kubeconfig" > "$work/kubeconfig-no-create"
  sed "s/hardened-token/run-token/" "$work/kubeconfig" > "$work/kubeconfig-run"
  sed "s/hardened-token/original-token/" "$work/kubeconfig" > "$work/kubeconfig-original"
  sed "s/hardened-token/helm-token/" "$work/kubeconfig" > "$work/kubeconfig-helm"
  sed "s/hardened-token/features-token/" "$work/kubeconfig" > "$work/kubeconfig-features"
  grep -q all-namespaces-token "$work/kubeconfig-all" || { echo "cannot derive the other kubeconfigs" >&2; exit 1; }
  echo "== kube-test-server at $url, moto at $MOTO_ENDPOINT" >&2
}

kadm() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# rbac_wait PREFIX allowed|denied: asks the server (SubjectAccessReview, as admin) whether PREFIX.sa's
# ServiceAccount may do what each rule of PREFIX.rbac.yaml grants (every verb, resource and name; Role rules
# in the Role's namespace), until all answers are the wanted one (the authorizer's caches follow RBAC
# changes a moment later) or 30 s have passed; then says which answers are not.
rbac_wait() {
  "$DEPLOY_PYTHON" - "$url" "$ca" "$envtest_dir/pki/admin.crt" "$envtest_dir/pki/admin.key" "$1" "$2" <<'PY'
import json, ssl, sys, time, urllib.request, yaml
url, ca, crt, key, prefix, want = sys.argv[1:]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(crt, key)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))  # loopback: no proxy
ns, name = open(prefix + ".sa").read().strip().split("/")
user = "system:serviceaccount:%s:%s" % (ns, name)
groups = ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"]
probes = []
for d in yaml.safe_load_all(open(prefix + ".rbac.yaml")):
    if d and d["kind"] in ("ClusterRole", "Role"):
        for r in d["rules"]:
            for group in r["apiGroups"]:
                for resource in r["resources"]:
                    for verb in r["verbs"]:
                        for rn in r.get("resourceNames") or [""]:
                            probes.append({"verb": verb, "group": group, "resource": resource, "name": rn,
                                           "namespace": d["metadata"].get("namespace", "") if d["kind"] == "Role" else ""})
assert probes, "no rules in " + prefix

def allowed(p):
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": groups, "resourceAttributes": p}}
    req = urllib.request.Request(url + "/apis/authorization.k8s.io/v1/subjectaccessreviews", method="POST",
                                 data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    return bool(json.load(opener.open(req, timeout=10))["status"].get("allowed"))

deadline = time.time() + 30
while True:
    wrong = [p for p in probes if allowed(p) != (want == "allowed")]
    if not wrong:
        break
    if time.time() > deadline:
        for p in wrong:
            print("     %s: %s %s/%s in '%s' is not %s" % (user, p["verb"], p["resource"], p["name"], p["namespace"], want))
        sys.exit(1)
    time.sleep(0.2)
PY
}

# rbac_create VARIANT PREFIX: applies PREFIX.rbac.yaml as admin (kubectl apply), waits until it is in
# effect, then gets the ServiceAccount's own token through TokenRequest and writes the helper's kubeconfig
# (that token, the server's CA). Says what failed.
rbac_create() {
  local variant=$1 prefix=$2 sa
  sa=$(cat "$prefix.sa")
  kadm apply -f "$prefix.rbac.yaml" > "$rwork/$variant.apply.out" 2>&1 \
    || { sed 's/^/     /' "$rwork/$variant.apply.out"; return 1; }
  rbac_wait "$prefix" allowed || return 1
  kadm -n "${sa%/*}" create token "${sa#*/}" --duration 2h > "$rwork/token-$variant" 2> "$rwork/$variant.token.err" \
    || { sed 's/^/     /' "$rwork/$variant.token.err"; return 1; }
  cat > "$rwork/kubeconfig-$variant" <<KC
apiVersion: v1
kind: Config
clusters:
- name: kube-apiserver
  cluster:
    server: "$url"
    certificate-authority-data: $(base64 -w0 < "$ca")
contexts:
- name: kube-apiserver
  context:
    cluster: kube-apiserver
    user: $sa
current-context: kube-apiserver
users:
- name: $sa
  user:
    token: "$(cat "$rwork/token-$variant")"
KC
  chmod 600 "$rwork/kubeconfig-$variant"
}

# use_variant VARIANT PREFIX LABEL: on the real server, deletes the RBAC objects of the variant in place
# (waiting until its rights are gone) and creates PREFIX's, verbatim; one check line. No-op on the stand-in.
use_variant() {
  local variant=$1 prefix=$2 label=$3 ok=0 count
  [ "$server" = real ] || return 0
  if [ -n "$current_rbac" ]; then
    kadm delete -f "$current_rbac.rbac.yaml" --ignore-not-found --wait > "$rwork/delete.out" 2>&1 \
      || { sed 's/^/     /' "$rwork/delete.out"; ok=1; }
    rbac_wait "$current_rbac" denied || ok=1
    current_rbac=
  fi
  echo "== [$server_label] $label: creating the rendered RBAC objects of $(basename "$prefix").yaml as admin" >&2
  rbac_create "$variant" "$prefix" || ok=1
  current_rbac=$prefix
  count=$(grep -c '^kind:' "$prefix.rbac.yaml")
  result $ok "$label: the $count rendered RBAC objects applied verbatim and in effect; helper token from TokenRequest for $(cat "$prefix.sa")"
}

kubeconfig_for() {
  if [ "$server" = stand-in ]; then
    case $1 in hardened) echo "$work/kubeconfig" ;; *) echo "$work/kubeconfig-$1" ;; esac
  else
    # `run` uses the hardened variant's objects as rendered: its ClusterRole and its Role.
    case $1 in run) echo "$rwork/kubeconfig-hardened" ;; *) echo "$rwork/kubeconfig-$1" ;; esac
  fi
}
token_for() {
  if [ "$server" = stand-in ]; then
    case $1 in all) echo all-namespaces-token ;; *) echo "$1-token" ;; esac
  else
    cat "$rwork/token-$1"
  fi
}

setup_real() {
  local ns
  server=real
  server_label=kube-apiserver
  rwork=$work/real
  mkdir -p "$rwork"
  envtest_dir=$work/envtest
  echo "== starting kube-apiserver (etcd, kube-apiserver, kube-controller-manager) in $envtest_dir" >&2
  envtest_start "$envtest_dir" --with-controller-manager >&2
  # shellcheck source=/dev/null
  . "$envtest_dir/env"
  url=$KUBE_APISERVER_URL
  ca=$KUBE_APISERVER_CA
  admin_auth=(--cacert "$ca" --cert "$envtest_dir/pki/admin.crt" --key "$envtest_dir/pki/admin.key")
  for ns in team-a team-b legacy; do kadm create namespace "$ns" >/dev/null; done
  # kube-controller-manager gives every namespace its `default` ServiceAccount a moment later; the features
  # scenario patches team-a's.
  default_sa() { kadm -n legacy get serviceaccount default >/dev/null 2>&1 && kadm -n team-a get serviceaccount default >/dev/null 2>&1; }
  poll 60 default_sa || { echo "kube-controller-manager made no default ServiceAccount in team-a/legacy" >&2; exit 1; }
  # default, kube-system, kube-public and kube-node-lease exist from the start.
  mapfile -t all_namespaces < <(kadm get namespaces -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
  # The control's user: its own ServiceAccount bound to the hardened rules minus create (not a rendered
  # object, so under its own names; it stays for the whole run and shares nothing with the variants).
  "$DEPLOY_PYTHON" - "$work/no-create.rules.json" "$rwork/no-create" <<'PY'
import sys, yaml
rules = [{k: v for k, v in r.items() if v} for r in __import__("json").load(open(sys.argv[1]))]
meta = {"name": "e2e-hardened-no-create", "labels": {"app.kubernetes.io/name": "e2e-hardened-control"}}
sa = {"kind": "ServiceAccount", "name": "e2e-hardened-no-create", "namespace": "kube-system"}
docs = [
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta, namespace="kube-system")},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta, "rules": rules},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": meta,
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": meta["name"]},
     "subjects": [sa]},
]
open(sys.argv[2] + ".rbac.yaml", "w").write(yaml.safe_dump_all(docs, sort_keys=False))
open(sys.argv[2] + ".sa", "w").write("kube-system/e2e-hardened-no-create\n")
PY
  rbac_create no-create "$rwork/no-create" || { echo "cannot create the control's ServiceAccount" >&2; exit 1; }
  current_rbac=
  echo "== kube-apiserver at $url (namespaces: ${all_namespaces[*]}), moto at $MOTO_ENDPOINT" >&2
}

# poll SECONDS COMMAND...: polls (bounded) until the command succeeds.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# --- helpers for the checks (server-neutral: url, ca, admin_auth) ------------------------------------------
# sync PREFIX KUBECONFIG [FLAGS...]: runs the helper with the rendered Deployment's settings (HTTP_PORT forced to 0:
# one-shot sync serves nothing, and 8080 may be taken on a shared machine).
sync() {
  (
    set -a
    # shellcheck disable=SC1090
    source "$1.env"
    set +a
    HTTP_PORT=0 AWS_ENDPOINT_URL=$MOTO_ENDPOINT \
      "$HELPER_BIN" sync --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$2" "${@:3}"
  )
}

# verify NAMESPACES...: every namespace holds the secret, of the right type, for moto's registry.
verify() {
  local ns ok=0
  for ns in "$@"; do
    if ! curl -fsS "${admin_auth[@]}" \
        "$url/api/v1/namespaces/$ns/secrets/$secret_name" > "$work/secret.json"; then
      echo "     $ns: no secret $secret_name"; ok=1; continue
    fi
    "$TEST_PYTHON" - "$work/secret.json" "$MOTO_FIXTURE" "$ns" <<'PY' || ok=1
import base64, json, sys
secret = json.load(open(sys.argv[1]))
fixture = json.load(open(sys.argv[2]))
ns = sys.argv[3]
assert secret["type"] == "kubernetes.io/dockerconfigjson", secret["type"]
auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
registry = "%s.dkr.ecr.%s.amazonaws.com" % (fixture["account"], fixture["region"])
entry = next((v for k, v in auths.items() if registry in k), None)
assert entry, "no entry for %s in %s" % (registry, list(auths))
user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
assert user == "AWS" and password, "auth is not AWS:<token>"
print("     %-15s %s  %s  user=%s  password=<%d chars>" % (ns, secret["type"], registry, user, len(password)))
PY
  done
  return $ok
}

# forbidden TOKEN PATH: the API server must refuse (403) this read to the helper's token.
forbidden() {
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $1" "$url$2")
  [ "$code" = 403 ] || { echo "     $2 answered $code, expected 403"; return 1; }
}

http() { curl -sS -o "$work/http.out" -w '%{http_code}' "http://127.0.0.1:$port$1" 2>/dev/null || true; }
# wait_for SECONDS COMMAND...: polls (bounded) until the command succeeds, as long as the helper runs.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    kill -0 "$run_pid" 2>/dev/null || return 1
    sleep 0.2
  done
}
ready() { [ "$(http /readyz)" = 200 ]; }
wait_for_exit() { ! kill -0 "$run_pid" 2>/dev/null; }
# pull_secrets NS/SA: the imagePullSecrets names of a ServiceAccount.
pull_secrets() {
  curl -fsS "${admin_auth[@]}" "$url/api/v1/namespaces/${1%/*}/serviceaccounts/${1#*/}" |
    "$TEST_PYTHON" -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin).get("imagePullSecrets") or []))'
}
holder() {
  curl -fsS "${admin_auth[@]}" \
    "$url/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/aws-ecr-cred-helper" 2>/dev/null |
    "$TEST_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["spec"].get("holderIdentity",""))' 2>/dev/null
}
# with_env PREFIX [NAME=VALUE...] COMMAND...: COMMAND with PREFIX's Deployment settings, then the
# overrides. env(1) execs COMMAND, so `with_env ... &` gives the helper's own PID.
with_env() {
  local prefix=$1 vars
  shift
  mapfile -t vars < "$prefix.envlist"
  env "${vars[@]}" AWS_ENDPOINT_URL="$MOTO_ENDPOINT" "$@"
}

# features LABEL PREFIX KUBECONFIG NS/SA...: the scenario for one rendering; NS/SA are the ServiceAccounts
# its SERVICE_ACCOUNTS must have patched.
features() {
  local label=$1 prefix=$2 kubeconfig=$3 sa refs ok ns code vars
  shift 3
  local selected=(default team-a team-b legacy)
  echo "== [$server_label] $label: sync, run with leader election, cleanup" >&2
  with_env "$prefix" HTTP_PORT=0 "$HELPER_BIN" sync --config-dir "$work/config" --aws-config-dir "$work/config-aws" \
    --kubeconfig "$kubeconfig"
  result $? "$label RBAC: sync with every feature on"
  verify "${selected[@]}"; result $? "$label RBAC: secret in ${selected[*]}"
  ok=0
  for sa in "$@"; do
    refs=$(pull_secrets "$sa")
    [[ " $refs " == *" $secret_name "* ]] || { echo "     $sa imagePullSecrets: $refs"; ok=1; }
  done
  result $ok "$label RBAC: ServiceAccounts $* reference the secret"
  grep -q '^LEADER_ELECTION=true' "$prefix.env"; result $? "$label RBAC: leader election is on"
  # A background simple command (not a function, not a subshell): $! is the helper itself.
  mapfile -t vars < "$prefix.envlist"
  env "${vars[@]}" AWS_ENDPOINT_URL="$MOTO_ENDPOINT" HTTP_PORT="$port" POD_NAME="$label-leader" POD_NAMESPACE=kube-system \
    "$HELPER_BIN" --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$kubeconfig" \
    > "$prefix.run.log" 2>&1 &
  run_pid=$!
  leads() { [ "$(holder)" = "$label-leader" ] && ready; }
  wait_for 60 leads; result $? "$label RBAC: the controller holds the Lease kube-system/aws-ecr-cred-helper and is ready"
  kill -TERM "$run_pid" 2>/dev/null
  wait_for 20 wait_for_exit || kill -KILL "$run_pid" 2>/dev/null
  wait "$run_pid" 2>/dev/null
  run_pid=
  if grep -qiE 'forbidden|(^|[^0-9])403([^0-9]|$)' "$prefix.run.log"; then
    grep -iE 'forbidden|(^|[^0-9])403([^0-9]|$)' "$prefix.run.log" | head -5 | sed 's/^/     /'
    result 1 "$label RBAC: no RBAC refusal in the controller's log"
  else
    result 0 "$label RBAC: no RBAC refusal in the controller's log"
  fi
  with_env "$prefix" HTTP_PORT=0 "$HELPER_BIN" cleanup --config-dir "$work/config" --aws-config-dir "$work/config-aws" \
    --kubeconfig "$kubeconfig" --yes > "$prefix.cleanup.out" 2>&1
  result $? "$label RBAC: cleanup runs"
  ok=0
  for ns in "${selected[@]}"; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' "${admin_auth[@]}" \
      "$url/api/v1/namespaces/$ns/secrets/$secret_name")
    [ "$code" = 404 ] || { echo "     $ns: secret still there ($code)"; ok=1; }
  done
  result $ok "$label RBAC: cleanup removed the secret from ${selected[*]}"
  ok=0
  for sa in "$@"; do
    refs=$(pull_secrets "$sa")
    [[ " $refs " != *" $secret_name "* ]] || { echo "     $sa imagePullSecrets: $refs"; ok=1; }
  done
  result $ok "$label RBAC: cleanup removed the ServiceAccount references"
}

# --- the checks, on the server set up last ---------------------------------------------------------------
scenarios() {
  local kubeconfig check_rc healthz deadline_ok sa
  set +e
  # --- scenario 1: hardened ClusterRole, explicit namespace list ----------------------------------------------
  use_variant hardened "$work/hardened" hardened
  kubeconfig=$(kubeconfig_for hardened)
  echo "== [$server_label] hardened: sync into ${targets[*]} with exactly the hardened ClusterRole" >&2
  sync "$work/hardened" "$kubeconfig"; result $? "hardened: first sync (secrets created through server-side apply)"
  verify "${targets[@]}"; result $? "hardened: secret present and valid in ${targets[*]}"
  sync "$work/hardened" "$kubeconfig"; result $? "hardened: second sync (idempotent)"
  # Someone overwrites one copy: the next sync must repair it through apply on an existing object.
  curl -fsS "${admin_auth[@]}" -H 'Content-Type: application/merge-patch+json' \
    -X PATCH "$url/api/v1/namespaces/default/secrets/$secret_name" \
    -d '{"data":{".dockerconfigjson":"e30="}}' >/dev/null
  if verify default >/dev/null 2>&1; then result 1 "hardened: tampering took effect"; else result 0 "hardened: tampering took effect"; fi
  sync "$work/hardened" "$kubeconfig"; result $? "hardened: third sync (tampered secret rewritten)"
  verify "${targets[@]}"; result $? "hardened: all valid again"
  if verify team-b >/dev/null 2>&1; then result 1 "hardened: untargeted namespace team-b untouched"
  else result 0 "hardened: untargeted namespace team-b untouched"; fi
  curl -fsS "${admin_auth[@]}" -H 'Content-Type: application/json' \
    -X POST "$url/api/v1/namespaces/default/secrets" \
    -d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"other-secret"},"stringData":{"k":"v"}}' >/dev/null
  forbidden "$(token_for hardened)" /api/v1/namespaces/default/secrets/other-secret; result $? "hardened RBAC: another secret is refused"
  forbidden "$(token_for hardened)" /api/v1/secrets; result $? "hardened RBAC: listing all secrets is refused"
  forbidden "$(token_for hardened)" /api/v1/namespaces; result $? "hardened RBAC: listing namespaces is refused"
  AWS_ENDPOINT_URL=$MOTO_ENDPOINT "$HELPER_BIN" check --config-dir "$work/config" --aws-config-dir "$work/config-aws" \
    --kubeconfig "$kubeconfig" > "$work/check.out" 2>&1 </dev/null
  check_rc=$?
  sed 's/^/     /' "$work/check.out" | head -30
  result $check_rc "hardened: 'check' finds the RBAC sufficient"

  # --- control: without `create` a new secret cannot be written --------------------------------------------
  echo "== [$server_label] control: the hardened rules minus create, into team-b (no secret yet): must fail" >&2
  if sync "$work/hardened" "$(kubeconfig_for no-create)" --namespaces team-b > "$work/no-create.out" 2>&1; then
    result 1 "control: sync without create refused"
  else
    result 0 "control: sync without create refused"
  fi
  tail -3 "$work/no-create.out" | sed 's/^/     /'
  if verify team-b >/dev/null 2>&1; then result 1 "control: team-b still has no secret"; else result 0 "control: team-b still has no secret"; fi

  # --- the original ClusterRole (original-compatible overlay = deploy/original) keeps working --------------
  use_variant original "$work/original" "original ClusterRole"
  echo "== [$server_label] original-compatible: the original ClusterRole, into a fresh namespace" >&2
  # The variants take turns on one cluster as one installation: the original manifest's own identity
  # (SECRET_NAME; it sets no INSTANCE) would make it another installation, whose secret in legacy the later
  # variants (INSTANCE kube-system/aws-ecr-cred-helper) would leave alone (docs/deploy.md, Installations).
  sync "$work/original" "$(kubeconfig_for original)" --namespaces legacy --instance kube-system/aws-ecr-cred-helper
  result $? "original ClusterRole: sync into a fresh namespace"
  verify legacy; result $? "original ClusterRole: secret present and valid in legacy"

  # --- scenario 2: all-namespaces overlay -------------------------------------------------------------------
  use_variant all "$work/all" all-namespaces
  echo "== [$server_label] all-namespaces: NAMESPACES=* with the all-namespaces ClusterRole (adds namespace list/watch)" >&2
  sync "$work/all" "$(kubeconfig_for all)"; result $? "all-namespaces: sync with NAMESPACES=*"
  verify "${all_namespaces[@]}"; result $? "all-namespaces: secret in every namespace (${all_namespaces[*]})"
  forbidden "$(token_for all)" /api/v1/namespaces/default/secrets/other-secret; result $? "all-namespaces RBAC: another secret is refused"

  # --- scenario 3: the long-running controller (the Deployment's default command) ----------------------------
  # `run` with the hardened Deployment's settings on a free port: probes and metrics as the manifests and
  # alerts expect them, and the watch (list/watch by field selector) repairing a deleted copy at once.
  use_variant hardened "$work/hardened" "run (hardened ClusterRole + Role)"
  port=$("$TEST_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "== [$server_label] run: the controller under the hardened ClusterRole + Role, HTTP on $port" >&2
  (
    set -a
    # shellcheck disable=SC1090,SC1091
    source "$work/hardened.env"
    set +a
    HTTP_PORT=$port POD_NAME=aws-ecr-cred-helper-e2e POD_NAMESPACE=kube-system AWS_ENDPOINT_URL=$MOTO_ENDPOINT \
      exec "$HELPER_BIN" --config-dir "$work/config" --aws-config-dir "$work/config-aws" --kubeconfig "$(kubeconfig_for run)"
  ) > "$work/run.log" 2>&1 &
  run_pid=$!
  wait_for 60 ready; result $? "run: /readyz answers 200 after the first sync"
  healthz=$(http /healthz)
  if [ "$healthz" = 200 ]; then result 0 "run: /healthz answers 200"; else result 1 "run: /healthz answers 200 (got $healthz)"; fi
  [ "$(http /metrics)" = 200 ] && "$TEST_PYTHON" - "$work/http.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# What the alerts (deploy/monitoring/prometheus-rules.yaml) read, but the oldest secret expiry: moto's tokens
# carry no future expiresAt (scripts/observability/check.sh runs the alerts on real expiries).
for name in ("aws_ecr_cred_helper_token_expiry_timestamp_seconds", "aws_ecr_cred_helper_last_success_timestamp_seconds",
             "aws_ecr_cred_helper_refresh_failures_total", "aws_ecr_cred_helper_leader"):
    assert re.search(r"^%s(\{|\s)" % name, text, re.M), "metric %s missing" % name
    assert re.search(r"^# HELP %s \S" % name, text, re.M), "metric %s has no HELP" % name
assert re.search(r'^aws_ecr_cred_helper_target_namespaces\{state="fresh"\} 3(\.0)?$', text, re.M), "not 3 fresh namespaces"
assert re.search(r'^aws_ecr_cred_helper_token_expiry_timestamp_seconds\{[^}]*region="us-east-1"', text, re.M), "no region label"
assert re.search(r'^aws_ecr_cred_helper_token_expiry_timestamp_seconds\{[^}]*registry="', text, re.M), "no registry label"
PY
  result $? "run: /metrics has the metrics and labels the PrometheusRule uses"
  curl -fsS "${admin_auth[@]}" -X DELETE \
    "$url/api/v1/namespaces/team-a/secrets/$secret_name" >/dev/null
  repaired() { verify team-a >/dev/null 2>&1; }
  wait_for 30 repaired; result $? "run: a deleted copy is rewritten through the secret watch"
  kill -TERM "$run_pid" 2>/dev/null
  deadline_ok=0
  wait_for 20 wait_for_exit || deadline_ok=1
  result $deadline_ok "run: exits on SIGTERM"
  if [ "$deadline_ok" != 0 ]; then kill -KILL "$run_pid" 2>/dev/null; fi
  wait "$run_pid" 2>/dev/null
  run_pid=
  if grep -qiE 'forbidden|(^|[^0-9])403([^0-9]|$)' "$work/run.log"; then
    grep -iE 'forbidden|(^|[^0-9])403([^0-9]|$)' "$work/run.log" | head -5 | sed 's/^/     /'
    result 1 "run: no RBAC refusal in the log"
  else
    result 0 "run: no RBAC refusal in the log"
  fi

  # --- scenario 4: every optional feature, with exactly the RBAC the chart / the kustomize components give ---
  # NAMESPACES=*, EXCLUDE_NAMESPACES=kube-*, ServiceAccount patching, delete for cleanup/pruning and leader
  # election (chart: also a label selector and two regions); then `cleanup` under the same rights.
  # (On the real server team-a/default already exists: kube-controller-manager made it.)
  for sa in team-a/default team-b/builder; do
    curl -fsS "${admin_auth[@]}" "$url/api/v1/namespaces/${sa%/*}/serviceaccounts/${sa#*/}" >/dev/null 2>&1 ||
      curl -fsS "${admin_auth[@]}" -H 'Content-Type: application/json' \
        -X POST "$url/api/v1/namespaces/${sa%/*}/serviceaccounts" \
        -d "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"${sa#*/}\"}}" >/dev/null
  done
  use_variant helm "$work/helm" helm
  features helm "$work/helm" "$(kubeconfig_for helm)" team-a/default team-b/builder
  use_variant features "$work/features" kustomize-all-features
  features kustomize-all-features "$work/features" "$(kubeconfig_for features)" team-a/default
  set -e
}

for s in "${servers[@]}"; do
  if [ "$s" = stand-in ]; then
    setup_standin
    scenarios
    stop_standin # frees its port and CPU before the real server starts
  else
    setup_real
    scenarios
  fi
done

echo "e2e-hardened: $passed passed, $failed failed"
[ "$failed" = 0 ]
