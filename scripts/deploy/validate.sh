#!/usr/bin/env bash
# Validates everything under deploy/ and the Dockerfile, offline once the tools are installed (PyPI only):
#   1. yamllint on the sources (deploy/.yamllint.yaml) and on every rendered manifest;
#   2. kustomize builds of the four overlays (kubectl kustomize) and helm lint + helm template of the chart
#      with every values file in deploy/helm/aws-ecr-cred-helper/ci/, plus renders that must fail;
#   3. scripts/deploy/check_manifests.py: Kubernetes schemas (kubernetes-validate, strict, oldest and newest
#      supported version), the Prometheus Operator objects and their PromQL (every rendered PrometheusRule equals
#      deploy/monitoring/prometheus-rules.yaml but for the chart's values; runbook links; the dashboard's
#      queries), and the promised properties
#      (original manifest unchanged but for the image, kustomize == plain manifests, tight RBAC, locked-down
#      pod, RBAC generated from the chart's features);
#   4. checkov (security scan) on the hardened, kustomize and helm output and the Dockerfile, with the skips
#      and reasons in scripts/deploy/checkov.yaml; hadolint on the Dockerfile; shellcheck on the scripts;
#   5. the chart README's values table is up to date, and so are the copies of deploy/monitoring/ (the rules
#      file and the dashboard) in the chart and the Kustomize components.
# Tools: scripts/deploy/lib.sh (ensure_deploy_tools). Rendered output: .build-deploy/rendered/.
# Idempotent; ends with "deploy: N passed, M failed" and exits 1 if anything failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/deploy/lib.sh
t0=$SECONDS
ensure_deploy_tools
echo "deploy tools ready in $((SECONDS - t0)) s: $(kubectl version --client 2>/dev/null | head -1), helm $(helm version --short)" >&2

CHART=deploy/helm/aws-ecr-cred-helper
OUT=$DEPLOY_TOOLS/rendered
rm -rf "$OUT"
mkdir -p "$OUT" "$OUT/checkov"
source scripts/lib/steps.sh
must_fail() {
  # Runs a render that must be refused, and checks the message names the fix.
  local want=$1
  shift
  local out
  if out=$("$@" 2>&1); then echo "rendered although it must fail"; return 1; fi
  grep -q -- "$want" <<<"$out" || { echo "failed without naming '$want':"; echo "$out"; return 1; }
}

# 1. Sources.
step "yamllint deploy/ sources" yamllint --strict -c deploy/.yamllint.yaml deploy/

# 2. Renders.
for overlay in original-compatible hardened all-namespaces all-features node-provider roles-anywhere; do
  step "kustomize build overlays/$overlay" \
    sh -c "kubectl kustomize deploy/kustomize/overlays/$overlay > '$OUT/kustomize-$overlay.yaml'"
done
for values in "$CHART"/ci/*.yaml; do
  case_name=$(basename "$values" .yaml)
  step "helm lint --strict ($case_name)" helm lint --strict "$CHART" -f "$values"
  step "helm template ($case_name)" sh -c \
    "helm template aws-ecr-cred-helper '$CHART' --namespace kube-system -f '$values' > '$OUT/helm-$case_name.yaml'"
done
step "helm refuses: no credentials" must_fail "no AWS credentials" helm template x "$CHART" --set aws.region=us-east-1
step "helm refuses: web identity without a role" must_fail "needs aws.roleArn" \
  helm template x "$CHART" --set aws.region=us-east-1 --set aws.webIdentity.enabled=true
step "helm refuses: Roles Anywhere without its ARNs" must_fail "needs aws.roleArn, aws.rolesAnywhere.trustAnchorArn" \
  helm template x "$CHART" --set aws.region=us-east-1 --set aws.rolesAnywhere.enabled=true
step "helm refuses: Roles Anywhere without an issuer or Secret" must_fail "needs aws.rolesAnywhere.certificate.issuerRef" \
  helm template x "$CHART" --set aws.region=us-east-1 --set aws.rolesAnywhere.enabled=true --set aws.roleArn=arn:aws:iam::123456789012:role/r \
  --set aws.rolesAnywhere.trustAnchorArn=arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/1 \
  --set aws.rolesAnywhere.profileArn=arn:aws:rolesanywhere:us-east-1:123456789012:profile/2
step "helm refuses: no namespaces" must_fail "config.namespaces is empty" \
  helm template x "$CHART" --set aws.credentials.existingSecret=s --set 'config.namespaces='
step "helm refuses: misspelt value (values.schema.json)" must_fail "additional properties 'replicas' not allowed" \
  helm template x "$CHART" --set aws.credentials.existingSecret=s --set replicas=2
step "helm refuses: fleet.replicas below 1 (values.schema.json)" must_fail "/fleet/replicas" \
  helm template x "$CHART" --set aws.credentials.existingSecret=s --set fleet.enabled=true --set fleet.replicas=0
# Rendered output is YAML a machine wrote: only syntax, duplicates and indentation consistency matter.
step "yamllint rendered manifests" yamllint --strict \
  -d '{extends: relaxed, rules: {line-length: disable, indentation: {spaces: consistent, indent-sequences: whatever}}}' "$OUT"

# 3. Schemas and properties.
step "schemas and properties (check_manifests.py)" "$DEPLOY_PYTHON" scripts/deploy/check_manifests.py "$OUT"

# 4. Security scans. The http-off case deliberately has no probes (nothing listens): checked without them.
cp deploy/hardened/aws-ecr-cred-helper.yaml "$OUT/checkov/plain-hardened.yaml"
cp "$OUT"/kustomize-hardened.yaml "$OUT"/kustomize-all-namespaces.yaml "$OUT"/kustomize-all-features.yaml "$OUT/checkov/"
for f in "$OUT"/helm-*.yaml; do
  case $f in *http-off* | *node-provider*) ;; *) cp "$f" "$OUT/checkov/" ;; esac
done
step "checkov kubernetes (hardened, kustomize, helm)" \
  checkov --config-file scripts/deploy/checkov.yaml --framework kubernetes -d "$OUT/checkov"
step "checkov kubernetes (helm, HTTP off: probes skipped, CKV_K8S_8/9)" \
  checkov --config-file scripts/deploy/checkov.yaml --framework kubernetes -f "$OUT/helm-http-off-values.yaml" \
  --skip-check CKV_K8S_8,CKV_K8S_9,CKV_K8S_43,CKV_K8S_40,CKV_K8S_38,CKV_K8S_15
# Node mode's DaemonSet writes root-owned folders of the node (hostPath): root, no probes (nothing listens);
# everything else (no capabilities, read-only root, no privilege escalation, seccomp) is still checked.
step "checkov kubernetes (node mode DaemonSet: root for hostPath, no probes)" \
  checkov --config-file scripts/deploy/checkov.yaml --framework kubernetes \
  -f "$OUT/helm-node-provider-values.yaml" -f "$OUT/kustomize-node-provider.yaml" \
  --skip-check CKV_K8S_8,CKV_K8S_9,CKV_K8S_23,CKV_K8S_40,CKV_K8S_43,CKV_K8S_38,CKV_K8S_15
step "checkov dockerfile" checkov --config-file scripts/deploy/checkov.yaml --framework dockerfile -f Dockerfile
step "hadolint Dockerfile" hadolint Dockerfile
step "shellcheck scripts/image scripts/deploy scripts/observability" shellcheck -x scripts/image/*.sh scripts/deploy/*.sh scripts/observability/*.sh

# 5. Docs generated from values.yaml; the chart's and the components' copies of deploy/monitoring/.
step "chart README values table up to date" "$DEPLOY_PYTHON" scripts/deploy/values_table.py "$CHART" --check
step "monitoring copies up to date (monitoring_sync.py --check)" "$DEPLOY_PYTHON" scripts/deploy/monitoring_sync.py --check

echo "rendered manifests in $OUT ($((SECONDS - t0)) s in all)"
echo "deploy: $passed passed, $failed failed"
[ "$failed" = 0 ]
