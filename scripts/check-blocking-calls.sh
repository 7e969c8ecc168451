#!/usr/bin/env bash
# Fails when Swift code under Sources/ or Tests/ makes a call that blocks its thread while waiting: a child
# process waited for synchronously, a sleep of the thread, a semaphore or group wait. In async code such a call
# holds one of the cooperative pool's threads (as many as cores: two on CI) for as long as it waits, and
# everything else in the process (the lease renewals, the watches, every other test) waits with it. That is
# how the suite failed at random under its own parallel load (issue 26).
#
# Where blocking is the point, the line says so with a `// blocking: <why>` comment: a thread of its own (the
# child-process reaper), NIO's thread pool (the exec credential plugin), or a test that blocks the pool on
# purpose. Runs in a second; scripts/test.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

patterns=(
  'waitUntilExit\('                 # Foundation Process: waits on the calling thread
  'readDataToEndOfFile\('           # reads a pipe until the writer closes it
  '(^|[^.[:alnum:]_])Process\(\)'   # Foundation Process: its wait blocks and its reaper races ours
  'Thread\.sleep\('
  '(^|[^.[:alnum:]_])u?sleep\([0-9]'  # C sleep/usleep with a literal
  'usleep\('
  'nanosleep\('
  'DispatchSemaphore'
  'DispatchGroup\(\)'
  'waitpid\([^)]*, *0\)'            # waitpid without WNOHANG
)
pattern=$(IFS='|'; echo "${patterns[*]}")

found=$(grep -rnE --include='*.swift' "$pattern" Sources Tests \
  | grep -v '// blocking:' \
  | grep -vE '^[^:]+:[0-9]+: *//' || true)
if [ -n "$found" ]; then
  echo "error: blocking calls in Swift code (each holds a thread of the cooperative pool while it waits):" >&2
  echo "$found" | sed 's/^/  /' >&2
  echo "fix: await instead (TestSupport's ChildProcess for child processes, Task.sleep or the LeaseThread's sleep for" >&2
  echo "     delays, NIOThreadPool for work that must block); where blocking is deliberate, end the line with" >&2
  echo "     '// blocking: <why>'." >&2
  exit 1
fi
echo "no blocking calls in async code (scripts/check-blocking-calls.sh)"
