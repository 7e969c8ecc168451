# shellcheck shell=bash
# A real Kubernetes control plane (etcd + kube-apiserver, optionally kube-controller-manager) on loopback,
# for the real-server test tier and the benchmarks. Binaries are found the way controller-runtime's envtest
# finds them:
#   1. KUBEBUILDER_ASSETS: a folder holding kube-apiserver and etcd (kube-controller-manager if present);
#   2. else ../shared/envtest/bin beside this checkout (kube-apiserver v1.19.0 and kube-controller-manager),
#      with etcd from PATH (Debian: apt-get install etcd-server).
#
#   envtest_find                          sets ENVTEST_BIN (kube-apiserver's folder) and ENVTEST_ETCD, or
#                                         returns 1 with ENVTEST_MISSING saying what to do
#   envtest_start DIR [--with-controller-manager]
#                                         starts it; DIR/env holds KUBE_APISERVER_URL, KUBE_APISERVER_CA,
#                                         KUBECONFIG_ADMIN (cluster-admin, certificates embedded), ETCD_URL
#   envtest_restart_apiserver DIR         stops kube-apiserver and starts it again on the same port and
#                                         etcd (the data stays), as a control-plane upgrade or crash does
#   envtest_stop DIR                      stops everything DIR's start started
#
# scripts/envtest.sh wraps these for use from other programs (the Swift tests start a private server for
# the API-server-restart test that way).

envtest_find() {
  local root shared
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  ENVTEST_MISSING=
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
    if [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ]; then
      ENVTEST_BIN=$KUBEBUILDER_ASSETS
      ENVTEST_ETCD=$KUBEBUILDER_ASSETS/etcd
      return 0
    fi
    ENVTEST_MISSING="KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS holds no executable kube-apiserver and etcd: point it at a folder with both, or unset it to use shared/envtest beside this checkout (and apt-get install etcd-server)"
    return 1
  fi
  shared=$(cd "$root/.." && pwd)/shared/envtest
  if [ -x "$shared/bin/kube-apiserver" ]; then
    if ! command -v etcd >/dev/null 2>&1; then
      ENVTEST_MISSING="etcd is not on PATH: apt-get install etcd-server (kube-apiserver found in $shared/bin)"
      return 1
    fi
    ENVTEST_BIN=$shared/bin
    ENVTEST_ETCD=$(command -v etcd)
    return 0
  fi
  ENVTEST_MISSING="no kube-apiserver found: set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd, or put shared/envtest beside this checkout (and apt-get install etcd-server)"
  return 1
}

# _envtest_ports N: N free loopback ports.
_envtest_ports() {
  python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}

_envtest_alive() { [ -f "$1/pids/$2.pid" ] && kill -0 "$(cat "$1/pids/$2.pid")" 2>/dev/null; }

_envtest_fail() {
  echo "envtest: $2" >&2
  tail -20 "$1/logs/$3.log" >&2 2>/dev/null || true
  envtest_stop "$1"
  return 1
}

_envtest_pki() {
  local pki=$1
  [ -f "$pki/ca.crt" ] && return 0
  (
    cd "$pki" || exit 1
    ssl() { openssl "$@" 2>/dev/null; }
    ssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 3650 -subj "/CN=envtest-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" > server.ext
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" > client.ext
    ssl req -new -nodes -newkey rsa:2048 -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
    ssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile server.ext
    ssl req -new -nodes -newkey rsa:2048 -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin"
    ssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext
    ssl req -x509 -new -nodes -newkey rsa:2048 -keyout front-proxy-ca.key -out front-proxy-ca.crt -days 3650 \
      -subj "/CN=envtest-front-proxy-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign"
    ssl req -new -nodes -newkey rsa:2048 -keyout front-proxy-client.key -out front-proxy-client.csr -subj "/CN=front-proxy-client"
    ssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
      -out front-proxy-client.crt -days 3650 -extfile client.ext
    ssl genrsa -out sa.key 2048
    ssl rsa -in sa.key -pubout -out sa.pub
    rm -f ./*.csr
    chmod 600 ./*.key
  )
}

# _envtest_run_apiserver DIR: starts kube-apiserver with the arguments recorded in DIR/apiserver.args and
# waits until /readyz says ok.
_envtest_run_apiserver() {
  local dir=$1 url pki
  pki=$dir/pki
  url=$(sed -n 's/^KUBE_APISERVER_URL=//p' "$dir/env")
  # shellcheck disable=SC2046
  "$ENVTEST_BIN/kube-apiserver" $(cat "$dir/apiserver.args") >>"$dir/logs/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/kube-apiserver.pid"
  for _ in $(seq 600); do
    [ "$(curl -sS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$url/readyz" 2>/dev/null)" = ok ] && return 0
    _envtest_alive "$dir" kube-apiserver || { _envtest_fail "$dir" "kube-apiserver did not start" kube-apiserver; return 1; }
    sleep 0.2
  done
  _envtest_fail "$dir" "kube-apiserver not ready after 120 s" kube-apiserver
}

envtest_start() {
  local dir=${1:?usage: envtest_start DIR [--with-controller-manager]} kcm=0 pki url p_etcd p_peer p_api p_kcm
  [ "${2:-}" = "--with-controller-manager" ] && kcm=1
  envtest_find || { echo "envtest: $ENVTEST_MISSING" >&2; return 1; }
  mkdir -p "$dir/pki" "$dir/logs" "$dir/pids"
  dir=$(cd "$dir" && pwd)
  pki=$dir/pki
  read -r p_etcd p_peer p_api p_kcm < <(_envtest_ports 4)
  _envtest_pki "$pki" || { echo "envtest: openssl failed to make the certificates" >&2; return 1; }
  url=https://127.0.0.1:$p_api
  cat > "$dir/admin.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: $url
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 < "$pki/admin.crt")
    client-key-data: $(base64 -w0 < "$pki/admin.key")
contexts:
- name: envtest
  context: {cluster: envtest, user: admin}
current-context: envtest
KC
  chmod 600 "$dir/admin.kubeconfig"
  printf 'KUBE_APISERVER_URL=%s\nKUBE_APISERVER_CA=%s\nKUBECONFIG_ADMIN=%s\nETCD_URL=http://127.0.0.1:%s\nENVTEST_DIR=%s\n' \
    "$url" "$pki/ca.crt" "$dir/admin.kubeconfig" "$p_etcd" "$dir" >"$dir/env"

  "$ENVTEST_ETCD" --name envtest --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$p_etcd" --advertise-client-urls "http://127.0.0.1:$p_etcd" \
    --listen-peer-urls "http://127.0.0.1:$p_peer" --initial-advertise-peer-urls "http://127.0.0.1:$p_peer" \
    --initial-cluster "envtest=http://127.0.0.1:$p_peer" --log-level warn --logger zap \
    >"$dir/logs/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/etcd.pid"
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$p_etcd/health" 2>/dev/null | grep -q '"health":"true"' && break
    _envtest_alive "$dir" etcd || { _envtest_fail "$dir" "etcd did not start" etcd; return 1; }
    sleep 0.2
  done

  # One argument per word; recorded so that a restart uses exactly the same ones.
  cat > "$dir/apiserver.args" <<ARGS
--etcd-servers=http://127.0.0.1:$p_etcd
--bind-address=127.0.0.1 --secure-port=$p_api --insecure-port=0
--advertise-address=127.0.0.1 --endpoint-reconciler-type=none
--client-ca-file=$pki/ca.crt --tls-cert-file=$pki/apiserver.crt --tls-private-key-file=$pki/apiserver.key
--authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction
--service-account-issuer=https://kubernetes.default.svc --api-audiences=https://kubernetes.default.svc
--service-account-signing-key-file=$pki/sa.key --service-account-key-file=$pki/sa.pub
--service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true
--requestheader-client-ca-file=$pki/front-proxy-ca.crt --requestheader-allowed-names=front-proxy-client
--requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group
--requestheader-extra-headers-prefix=X-Remote-Extra-
--proxy-client-cert-file=$pki/front-proxy-client.crt --proxy-client-key-file=$pki/front-proxy-client.key
--v=${APISERVER_V:-1} ${EXTRA_APISERVER_FLAGS:-}
ARGS
  _envtest_run_apiserver "$dir" || return 1

  if [ $kcm = 1 ] && [ -x "$ENVTEST_BIN/kube-controller-manager" ]; then
    "$ENVTEST_BIN/kube-controller-manager" --kubeconfig="$dir/admin.kubeconfig" \
      --authentication-kubeconfig="$dir/admin.kubeconfig" --authorization-kubeconfig="$dir/admin.kubeconfig" \
      --bind-address=127.0.0.1 --secure-port="$p_kcm" --port=0 \
      --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
      --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
      --use-service-account-credentials=false --controllers='*' --leader-elect=false \
      --service-cluster-ip-range=10.0.0.0/24 --v="${KCM_V:-1}" \
      >"$dir/logs/kube-controller-manager.log" 2>&1 </dev/null &
    echo $! >"$dir/pids/kube-controller-manager.pid"
    for _ in $(seq 300); do
      [ "$(curl -sk "https://127.0.0.1:$p_kcm/healthz" 2>/dev/null)" = ok ] && break
      _envtest_alive "$dir" kube-controller-manager \
        || { _envtest_fail "$dir" "kube-controller-manager did not start" kube-controller-manager; return 1; }
      sleep 0.2
    done
  fi
  echo "envtest: kube-apiserver ready at $url ($("$ENVTEST_BIN/kube-apiserver" --version 2>/dev/null))" >&2
}

envtest_restart_apiserver() {
  local dir=${1:?usage: envtest_restart_apiserver DIR}
  envtest_find || { echo "envtest: $ENVTEST_MISSING" >&2; return 1; }
  _envtest_kill "$dir" kube-apiserver
  _envtest_run_apiserver "$dir"
}

# _envtest_kill DIR NAME: stops the recorded process, if it is still that program.
_envtest_kill() {
  local f=$1/pids/$2.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null && [ "$(basename "$(readlink -f "/proc/$pid/exe" 2>/dev/null)")" = "$2" ]; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$f"
}

envtest_stop() {
  local dir=${1:?usage: envtest_stop DIR} name
  for name in kube-controller-manager kube-apiserver etcd; do _envtest_kill "$dir" "$name"; done
}
