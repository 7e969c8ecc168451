# shellcheck shell=bash
# Shared by the check scripts (scripts/deploy/validate.sh, scripts/observability/check.sh):
#   step NAME COMMAND...   runs COMMAND quietly; prints "ok   NAME", or "FAIL NAME" and the end of its output;
#                          counts into $passed and $failed (STEP_TAIL lines of output on failure, default 60).
#   ensure_debian_package COMMAND PACKAGE WHY
#                          installs PACKAGE with apt-get when COMMAND is missing (as root, as CI runs);
#                          otherwise one line saying what to install, and exit 1.
passed=0
failed=0

step() {
  local name=$1 log
  shift
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/     /' "$log" | tail -"${STEP_TAIL:-60}"
  fi
  rm -f "$log"
}

ensure_debian_package() {
  local command=$1 package=$2 why=$3
  command -v "$command" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing $package from Debian ($why)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
  else
    echo "$command is needed ($why): apt-get install $package (as root)" >&2
    exit 1
  fi
}
