#!/usr/bin/env bash
# Benchmarks (never part of scripts/test.sh or CI): builds the release binaries once (SwiftPM reuses them
# when nothing changed), starts moto, and runs scripts/bench/bench.py, which starts a fresh kube-test-server
# per measurement and writes the results table into docs/benchmarks.md (a --quick run writes to
# ${TMPDIR:-/tmp}/benchmarks-quick.md unless --out is given).
#
#   scripts/bench.sh                      # full run, about 2 minutes after the release build
#   scripts/bench.sh --quick              # smaller sizes, fewer repetitions, under a minute
#   scripts/bench.sh --kubeconfig PATH    # a real cluster: no stand-in; namespaces ecrbench-<random>-*, deleted at the end
#   scripts/bench.sh --bin-dir DIR        # use prebuilt binaries (aws-ecr-cred-helper, kube-test-server) instead of building
#   other options: --sizes 10,100 --scenarios fanout,startup,idle_run,watching --out FILE --json FILE --context NAME
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/moto.sh

bin_dir=""
static=(--static-stdlib)
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir=$2; static=(); shift 2 ;;
    --bin-dir=*) bin_dir=${1#--bin-dir=}; static=(); shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing wrk (the independent load generator for the fan-out floor)" >&2
    apt-get update -qq >&2 && apt-get install -y -qq wrk >&2
  else
    echo "wrk is needed for the fan-out floor: apt-get install wrk" >&2
    exit 1
  fi
fi

ensure_venv
if [ -z "$bin_dir" ]; then
  # The image ships a --static-swift-stdlib build, so that is what is measured. Both products share one
  # configuration, so the second build only links.
  echo "== release build (several minutes on 2 cores the first time; reused afterwards)" >&2
  swift build -c release --static-swift-stdlib --product aws-ecr-cred-helper >&2
  swift build -c release --static-swift-stdlib --product kube-test-server >&2
  bin_dir=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
start_moto
"$TEST_PYTHON" scripts/bench/bench.py --bin-dir "$bin_dir" "${static[@]}" ${args[@]+"${args[@]}"}
