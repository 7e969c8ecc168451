# shellcheck shell=bash
# ensure_venv: create .venv and install scripts/requirements-test.txt into it (again only when that file changes).
ensure_venv() {
  local root venv stamp
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  venv="$root/.venv"
  stamp="$venv/.requirements.sha256"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  local want
  want=$(sha256sum "$root/scripts/requirements-test.txt" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing test tools into .venv (moto, botocore, ...)" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/requirements-test.txt" >&2
    echo "$want" > "$stamp"
  fi
  export TEST_PYTHON="$venv/bin/python"
  export PATH="$venv/bin:$PATH"
}
