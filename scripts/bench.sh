#!/usr/bin/env bash
# Benchmarks (never part of scripts/test.sh or CI): builds the release binaries once (SwiftPM reuses them
# when nothing changed), starts moto, and runs scripts/bench/bench.py, which starts a fresh API server per
# measurement and writes its results block into docs/benchmarks.md (a --quick run writes to
# ${TMPDIR:-/tmp}/benchmarks-quick.md unless --out is given). The stand-in and the real-server runs have
# separate blocks there, and either run rebuilds the side-by-side block from both.
#
#   scripts/bench.sh                      # the stand-in (kube-test-server), about 2 minutes after the release build
#   scripts/bench.sh --envtest            # a real kube-apiserver v1.19 (scripts/lib/envtest.sh), a fresh one per
#                                         #   measurement, the helper as a least-privilege ServiceAccount: ~20 minutes
#                                         #   (the throttled scenario starts its servers with API Priority and Fairness on)
#   scripts/bench.sh --quick [--envtest]  # smaller sizes, fewer repetitions (stand-in under a minute, real ~3 minutes)
#   scripts/bench.sh --kubeconfig PATH    # a real cluster: its user makes namespaces ecrbench-<random>-* and the
#                                         #   helper's ServiceAccount + ClusterRole(Binding), all deleted at the end
#   scripts/bench.sh --bin-dir DIR        # use prebuilt binaries (aws-ecr-cred-helper, kube-test-server) instead of building
#   scripts/bench.sh --scenarios fleet    # issue 16: one `run` serving 50 stand-in clusters of 100 namespaces
#                                         #   (CLUSTERS_DIR, no own cluster) and 10 of them; its own block (~1 minute)
#                                         #   --fleet-clusters 50 --fleet-small 10 --fleet-size 100 --fleet-events 20 --fleet-burst 20
#   other options: --sizes 10,100 --scenarios fanout,startup,idle_run,watching,profile,restart,throttled --out FILE
#                  --json FILE --context NAME --restart-size N --restart-foreign M --throttle-sizes 300,5000
#                  --helper-kubeconfig PATH (with --kubeconfig: the helper's identity instead of a ServiceAccount made for it)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/moto.sh
source scripts/lib/envtest.sh

bin_dir=""
envtest=0
static=(--static-stdlib)
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir=$2; static=(); shift 2 ;;
    --bin-dir=*) bin_dir=${1#--bin-dir=}; static=(); shift ;;
    --envtest) envtest=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ $envtest = 1 ] && ! envtest_find; then
  echo "--envtest needs a kube-apiserver: $ENVTEST_MISSING" >&2
  exit 1
fi

source scripts/lib/steps.sh
ensure_debian_package wrk wrk "the independent load generator for the fan-out floor"

ensure_venv
if [ -z "$bin_dir" ]; then
  # The image ships a --static-swift-stdlib build, so that is what is measured. Both products share one
  # configuration, so the second build only links.
  echo "== release build (several minutes on 2 cores the first time; reused afterwards)" >&2
  source scripts/lib/release.sh
  swift build "${RELEASE_BUILD[@]}" --product aws-ecr-cred-helper >&2
  swift build "${RELEASE_BUILD[@]}" --product kube-test-server >&2
  bin_dir=$(swift build "${RELEASE_BUILD[@]}" --show-bin-path)
fi
start_moto
if [ $envtest = 1 ]; then
  # bench.py starts (scripts/envtest.sh start: envtest_start ... --with-controller-manager) and stops one
  # server per measurement under this folder; whatever is still running there is stopped on exit.
  envtest_root=$(mktemp -d "${TMPDIR:-/tmp}/ecr-helper-bench-envtest.XXXXXX")
  stop_envtest_servers() {
    local dir
    for dir in "$envtest_root"/server-*/; do
      if [ -d "$dir" ]; then envtest_stop "$dir"; fi
    done
    rm -rf "$envtest_root"
  }
  trap 'stop_moto; stop_envtest_servers' EXIT
  args+=(--envtest "$envtest_root")
fi
"$TEST_PYTHON" scripts/bench/bench.py --bin-dir "$bin_dir" "${static[@]}" ${args[@]+"${args[@]}"}
