#!/usr/bin/env bash
# Runs every test: installs the Python test tools into .venv, starts moto on loopback with IAM signature
# checking on, starts a real Kubernetes API server on loopback (etcd, kube-apiserver and
# kube-controller-manager: scripts/lib/envtest.sh finds them through KUBEBUILDER_ASSETS or ../shared/envtest),
# then runs `swift test`. The stand-in Kubernetes server is started in-process by the tests themselves.
#
# Without a kube-apiserver the real-server tier is skipped with one line saying how to enable it;
# REQUIRE_REAL_APISERVER=1 (CI sets it) makes that a failure instead.
# Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter SyncEngineTests`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/moto.sh
source scripts/lib/envtest.sh
ensure_venv
start_moto
# A second, HTTPS moto for the custom-CA tests (AWSClientTests); they skip themselves if it cannot start.
start_moto_tls || echo "warning: the HTTPS moto did not start; the custom-CA tests will be skipped" >&2

if envtest_find; then
  ENVTEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ecr-helper-envtest.XXXXXX")
  trap 'stop_moto; envtest_stop "$ENVTEST_DIR"; rm -rf "$ENVTEST_DIR"' EXIT
  envtest_start "$ENVTEST_DIR" --with-controller-manager
  set -a
  # shellcheck disable=SC1091
  . "$ENVTEST_DIR/env"
  set +a
elif [ "${REQUIRE_REAL_APISERVER:-}" = 1 ]; then
  echo "error: the real API server tier is required (REQUIRE_REAL_APISERVER=1) but cannot start: $ENVTEST_MISSING" >&2
  exit 1
else
  echo "real API server tier skipped: $ENVTEST_MISSING" >&2
fi
swift test "$@"
