#!/usr/bin/env bash
# Observability proven with a real Prometheus (Debian's prometheus package: prometheus and promtool 2.42,
# installed with apt-get when missing):
#   1. promtool check rules: deploy/monitoring/prometheus-rules.yaml, and the PrometheusRule as the chart
#      renders it (default values, ci/all-features-values.yaml) and as the Kustomize component renders it;
#   2. promtool test rules deploy/monitoring/tests/*.yaml: the alerts' unit tests;
#   3. the live check (scripts/observability/live.py): a real kube-apiserver (scripts/lib/envtest.sh) and moto
#      with real token expiries (scripts/observability/moto_server.py); the chart's rendered RBAC applied as
#      admin and the helper run with its ServiceAccount's TokenRequest token; Prometheus on loopback scraping
#      the helper with the chart's rendered rules (short failure window and `for`) while a scenario runs
#      (sync, repair, missing namespace, AWS access broken, recovered, helper gone); every dashboard query
#      and alert expression evaluated per phase; `promtool check metrics` on the live /metrics, in single-cluster
#      and in fleet mode (series counts per process and per cluster as docs/observability.md states).
#
#   scripts/observability/check.sh [--picture PNG [--dwell SECONDS]]
# --picture also renders the dashboard panels of the run into PNG (matplotlib from PyPI into .venv);
# docs/images/dashboard.png is made with `--picture docs/images/dashboard.png --dwell 10`.
# HELPER_BIN=... uses that binary; default .build/debug/aws-ecr-cred-helper (built only when missing).
# Without a kube-apiserver (see scripts/lib/envtest.sh) the live check is skipped with one line saying so;
# REQUIRE_REAL_APISERVER=1 (CI) makes that a failure. Ends with "observability: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

picture=
dwell=0
while [ $# -gt 0 ]; do
  case $1 in
    --picture) picture=$2; shift 2 ;;
    --dwell) dwell=$2; shift 2 ;;
    *) echo "usage: scripts/observability/check.sh [--picture PNG [--dwell SECONDS]]" >&2; exit 2 ;;
  esac
done

source scripts/lib/steps.sh
ensure_debian_package prometheus prometheus "the Prometheus server and promtool"
ensure_debian_package promtool prometheus "promtool"
source scripts/lib/venv.sh
source scripts/lib/moto.sh
source scripts/lib/envtest.sh
source scripts/deploy/lib.sh
ensure_deploy_tools
echo "== $(promtool --version 2>&1 | head -1)" >&2

CHART=deploy/helm/aws-ecr-cred-helper
work=$(mktemp -d "${TMPDIR:-/tmp}/observability.XXXXXX")
envtest_dir=
cleanup() {
  [ -z "$envtest_dir" ] || envtest_stop "$envtest_dir" || true
  stop_moto || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "work folder kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STEP_TAIL=40

# spec_rules RENDERED OUT: the spec of the one PrometheusRule in RENDERED, as a plain rules file.
spec_rules() {
  "$DEPLOY_PYTHON" - "$1" "$2" <<'PY'
import sys, yaml
(rule,) = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"]
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"), sort_keys=False)
PY
}

# --- 1. promtool check rules -------------------------------------------------------------------------------
helm template aws-ecr-cred-helper "$CHART" --namespace kube-system --set aws.credentials.existingSecret=s \
  --set aws.region=us-east-1 --set prometheusRule.enabled=true > "$work/helm-default.yaml"
spec_rules "$work/helm-default.yaml" "$work/helm-default.rules.yaml"
helm template aws-ecr-cred-helper "$CHART" --namespace kube-system -f "$CHART/ci/all-features-values.yaml" \
  > "$work/helm-all-features.yaml"
spec_rules "$work/helm-all-features.yaml" "$work/helm-all-features.rules.yaml"
kubectl kustomize deploy/kustomize/overlays/all-features > "$work/kustomize.yaml"
spec_rules "$work/kustomize.yaml" "$work/kustomize.rules.yaml"
step "promtool check rules deploy/monitoring/prometheus-rules.yaml" promtool check rules deploy/monitoring/prometheus-rules.yaml
step "promtool check rules: the chart's PrometheusRule (default values)" promtool check rules "$work/helm-default.rules.yaml"
step "promtool check rules: the chart's PrometheusRule (ci/all-features-values.yaml)" promtool check rules "$work/helm-all-features.rules.yaml"
step "promtool check rules: the Kustomize component's PrometheusRule" promtool check rules "$work/kustomize.rules.yaml"

# --- 2. promtool test rules ------------------------------------------------------------------------------------
for test in deploy/monitoring/tests/*.yaml; do
  step "promtool test rules $test" promtool test rules "$test"
done

# --- 3. the live check -----------------------------------------------------------------------------------------
live() {
  if ! envtest_find; then
    if [ "${REQUIRE_REAL_APISERVER:-}" = 1 ]; then
      echo "FAIL live check: the real API server is required (REQUIRE_REAL_APISERVER=1) but cannot start: $ENVTEST_MISSING"
      failed=$((failed + 1))
    else
      echo "live check skipped: $ENVTEST_MISSING"
    fi
    return 0
  fi
  local helper=${HELPER_BIN:-.build/debug/aws-ecr-cred-helper} render_python rc=0 counts
  if [ ! -x "$helper" ]; then
    echo "== building aws-ecr-cred-helper (debug)" >&2
    swift build --product aws-ecr-cred-helper >&2
  fi
  ensure_venv
  MOTO_LAUNCHER=scripts/observability/moto_server.py start_moto # sets `trap stop_moto EXIT`: put ours back
  trap cleanup EXIT
  envtest_dir=$work/envtest
  envtest_start "$envtest_dir" >&2
  # The chart as the scenario deploys it: its RBAC verbatim, its rules with a 15 s failure window and
  # `for: 0s` so that every alert can fire within the run.
  helm template obs "$CHART" --namespace kube-system --set aws.credentials.existingSecret=obs-aws \
    --set aws.region=us-east-1 --set 'config.namespaces={obs-a,obs-b,obs-c}' --set prometheusRule.enabled=true \
    --set prometheusRule.failureWindowSeconds=15 --set prometheusRule.for=0s > "$work/live-chart.yaml"
  spec_rules "$work/live-chart.yaml" "$work/live.rules.yaml"
  "$DEPLOY_PYTHON" - "$work/live-chart.yaml" "$work/live-rbac.yaml" <<'PY'
import sys, yaml
kinds = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] in kinds]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PY
  render_python=$TEST_PYTHON
  if [ -n "$picture" ]; then
    local stamp=.venv/.picture-requirements.sha256 want
    want=$(sha256sum scripts/observability/requirements-picture.txt | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
      echo "== installing scripts/observability/requirements-picture.txt (matplotlib) into .venv" >&2
      "$TEST_PYTHON" -m pip install --quiet --disable-pip-version-check -r scripts/observability/requirements-picture.txt >&2
      echo "$want" > "$stamp"
    fi
  fi
  mkdir -p "$work/live"
  HELPER_BIN=$helper PROMETHEUS_BIN=$(command -v prometheus) PROMTOOL_BIN=$(command -v promtool) \
    KUBECONFIG_ADMIN=$(sed -n 's/^KUBECONFIG_ADMIN=//p' "$envtest_dir/env") \
    "$DEPLOY_PYTHON" scripts/observability/live.py --work "$work/live" --rbac "$work/live-rbac.yaml" \
    --rules "$work/live.rules.yaml" ${picture:+--picture "$picture" --render-python "$render_python" --dwell "$dwell"} \
    | tee "$work/live.out" || rc=$?
  counts=$(sed -n 's/^live: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$work/live.out")
  if [ -z "$counts" ]; then
    echo "FAIL live check ended without its summary (exit $rc)"
    failed=$((failed + 1))
  else
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
    [ "$rc" = 0 ] || [ "${counts#* }" != 0 ] || { echo "FAIL live check exited $rc"; failed=$((failed + 1)); }
  fi
}
live

echo "observability: $passed passed, $failed failed"
[ "$failed" = 0 ]
