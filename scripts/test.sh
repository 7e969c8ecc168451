#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the Python test tools into .venv, starts moto on loopback
# with IAM signature checking on, then runs `swift test` (the Kubernetes test server is started in-process
# by the tests themselves). Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter SyncEngineTests`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
source scripts/lib/moto.sh
ensure_venv
start_moto
# A second, HTTPS moto for the custom-CA tests (AWSClientTests); they skip themselves if it cannot start.
start_moto_tls || echo "warning: the HTTPS moto did not start; the custom-CA tests will be skipped" >&2
swift test "$@"
