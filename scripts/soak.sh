#!/usr/bin/env bash
# Long soak of the sync controller: random API-server and AWS faults on an accelerated clock (refresh every
# 2 s), checking that every secret stays valid, memory stays flat and nothing leaks. Runs only the soak test
# (Tests/ReliabilityTests/SoakTests.swift), alone in the test process so its memory bound is tight.
#
#   scripts/soak.sh --minutes 30            # 30 minutes
#   scripts/soak.sh --minutes 5 --seed 42   # replay a run's fault sequence (the seed is printed)
#
# The 20-second variant runs in every `scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=10
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift ;;
    --seed) export RELIABILITY_SOAK_SEED=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
export RELIABILITY_SOAK_SECONDS=$((minutes * 60))
exec scripts/test.sh --filter 'ReliabilityTests.SoakTests'
