#!/usr/bin/env bash
# Fuzzes the helper's parsers with libFuzzer (swiftc -sanitize=fuzzer).
#
#   scripts/fuzz.sh --ci                 build, then 30 s per target (what CI runs)
#   scripts/fuzz.sh --seconds 600        build, then 10 min per target
#   scripts/fuzz.sh --seconds 3600 aws   one target for an hour
#   scripts/fuzz.sh --build-only
#
# Targets (Tests/ReliabilityTests/FuzzChecks.swift): settings (HelperSettings.parse), selector (LabelSelector),
# kubeconfig (YAMLReader + kubeconfig resolution), aws (ECR JSON, AWS error JSON/XML, STS XML, token decoding),
# watch (watch-event lines). Each checks: no crash, every user-facing message is one line, no secret echoed.
#
# How it builds: the three product modules (AWSClient, KubeClient, SyncEngine) are compiled again with
# coverage instrumentation into .build-fuzz; their dependencies (NIO, AsyncHTTPClient, swift-log, ...) are
# the objects of the ordinary debug build in .build, not instrumented. Corpus: Fuzz/corpus/<target> (seeds,
# checked in) plus .build-fuzz/corpus/<target> (what libFuzzer learns). A crash leaves crash-* in
# .build-fuzz/findings/<target> and makes this script fail; add the input to Fuzz/corpus/<target> once fixed
# so FuzzPropertyTests keeps checking it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=""
build_only=false
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) seconds=30 ;;
    --seconds) seconds=$2; shift ;;
    --build-only) build_only=true ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ -n "$seconds" ] || seconds=60
[ ${#targets[@]} -gt 0 ] || targets=(settings selector kubeconfig aws watch)

out=.build-fuzz
mkdir -p "$out/modules" "$out/obj"

echo "fuzz: building the dependencies (ordinary debug build)" >&2
swift build --product aws-ecr-cred-helper 2>&1 | grep -E "error|Compiling|Build" | tail -5 >&2 || true
[ -f .build/debug/aws-ecr-cred-helper ] || { echo "fuzz: swift build failed" >&2; exit 1; }

mapfile -t xcc < <(python3 Fuzz/build_flags.py flags)
mapfile -t objects < <(python3 Fuzz/build_flags.py objects)
common=(-swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility
        -DSWIFT_PACKAGE -package-name aws_ecr_cred_helper -parse-as-library -sanitize=fuzzer -O -g
        -I "$out/modules" -I .build/debug/Modules "${xcc[@]}")

for module in AWSClient KubeClient SyncEngine; do
  echo "fuzz: compiling $module with coverage instrumentation" >&2
  mapfile -t sources < <(find "Sources/$module" -name '*.swift' | sort)
  swiftc -module-name "$module" -wmo -enable-testing -c "${sources[@]}" "${common[@]}" \
    -emit-module -emit-module-path "$out/modules/$module.swiftmodule" -o "$out/obj/$module.o"
done

echo "fuzz: linking $out/fuzz-helper" >&2
swiftc -module-name FuzzHarness "${common[@]}" Fuzz/FuzzEntry.swift Tests/ReliabilityTests/FuzzChecks.swift \
  "$out/obj/AWSClient.o" "$out/obj/KubeClient.o" "$out/obj/SyncEngine.o" "${objects[@]}" \
  -lm -lz -lstdc++ -o "$out/fuzz-helper" 2> >(grep -v "Cannot export local symbol" >&2)

$build_only && exit 0

# FUZZ_RUNS=N runs a fixed number of inputs instead of a fixed time, and FUZZ_SEED fixes libFuzzer's seed:
# together they make a CI run the same on every machine, however loaded (0 = a random seed).
if [ -n "${FUZZ_RUNS:-}" ]; then budget=(-runs="$FUZZ_RUNS"); else budget=(-max_total_time="$seconds"); fi
status=0
for target in "${targets[@]}"; do
  mkdir -p "$out/corpus/$target" "$out/findings/$target"
  if [ -n "${FUZZ_RUNS:-}" ]; then echo "fuzz: $target for $FUZZ_RUNS inputs" >&2; else echo "fuzz: $target for ${seconds}s" >&2; fi
  # SWIFT_BACKTRACE off: the Swift runtime's backtracer would take the signal and exit before libFuzzer
  # saves the crashing input.
  if ! SWIFT_BACKTRACE=enable=no FUZZ_TARGET=$target "$out/fuzz-helper" "$out/corpus/$target" "Fuzz/corpus/$target" \
      "${budget[@]}" -seed="${FUZZ_SEED:-0}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$out/findings/$target/" > "$out/findings/$target.log" 2>&1; then
    echo "fuzz: $target FOUND A PROBLEM (see $out/findings/$target.log and $out/findings/$target/):" >&2
    grep -E "fuzz finding|Fatal error|runtime failure|ERROR: libFuzzer|deadly signal|Test unit written" "$out/findings/$target.log" | head -5 >&2 || true
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$out/findings/$target.log" | tail -2 >&2 || true
  fi
done
exit $status
