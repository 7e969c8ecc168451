#!/usr/bin/env bash
# Runs every test: installs the Python test tools into .venv, starts moto on loopback with IAM signature
# checking on, starts a real Kubernetes API server on loopback (etcd, kube-apiserver and
# kube-controller-manager: scripts/lib/envtest.sh finds them through KUBEBUILDER_ASSETS or ../shared/envtest),
# then runs `swift test`. The stand-in Kubernetes server is started in-process by the tests themselves.
#
# Without a kube-apiserver the real-server tier is skipped with one line saying how to enable it;
# REQUIRE_REAL_APISERVER=1 (CI sets it) makes that a failure instead.
# Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter SyncEngineTests`.
#
# A full run (no arguments) then checks that nothing waits on a thread of the cooperative pool (issue 26):
# the lease deadline test, which blocks the whole pool on purpose and so runs alone, and the timing-sensitive
# suites (leader election, readiness, fleet membership) once more in a process pinned to one CPU, where the
# pool has a single thread and anything that blocks it shows up as a missed deadline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-blocking-calls.sh

# Swift Testing starts every test at once unless told otherwise. On a 2-core machine some 500 tests then
# share the two threads of the cooperative pool, each test's wall-clock bounds stretch with the number of
# its neighbours, and a busy machine (a CPU hog, a build beside it) tips them over: a fresh-clone CI run
# beside a Swift build timed out in 11 tests that each pass in about a second alone. A bounded number of
# tests in flight keeps each close to its time alone; the whole run takes about as long.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-$(($(nproc) * 4))}
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

if [ $# -eq 0 ]; then
  echo "== the lease deadline test, alone (a CPU hog and a blocked cooperative pool)"
  LEASE_DEADLINE_TEST=1 swift test --skip-build --filter LeaseDeadlineTests
  echo "== timing-sensitive suites again with a one-thread cooperative pool (pinned to one CPU)"
  # LIBDISPATCH_COOPERATIVE_POOL_STRICT=1 narrows the pool on Apple's libdispatch; Linux's follows the CPUs
  # the process may use, hence taskset.
  LIBDISPATCH_COOPERATIVE_POOL_STRICT=1 taskset -c 0 swift test --skip-build \
    --filter 'LeaderElectionTests|FleetMembershipTests|ControllerTests|WatchTests'
fi
