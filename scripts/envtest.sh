#!/usr/bin/env bash
# A real Kubernetes API server on loopback (see scripts/lib/envtest.sh for where the binaries come from).
#
#   scripts/envtest.sh find                                  prints the kube-apiserver folder, or why not (exit 1)
#   scripts/envtest.sh start DIR [--with-controller-manager] then `. DIR/env` for KUBE_APISERVER_URL, KUBECONFIG_ADMIN, ...
#   scripts/envtest.sh restart-apiserver DIR                 same port, same etcd data
#   scripts/envtest.sh stop DIR
set -euo pipefail
source "$(dirname "$0")/lib/envtest.sh"
case "${1:-}" in
  find) if envtest_find; then echo "$ENVTEST_BIN"; else echo "$ENVTEST_MISSING" >&2; exit 1; fi ;;
  start) envtest_start "${2:?DIR}" "${3:-}" ;;
  restart-apiserver) envtest_restart_apiserver "${2:?DIR}" ;;
  stop) envtest_stop "${2:?DIR}" ;;
  *) echo "usage: scripts/envtest.sh find | start DIR [--with-controller-manager] | restart-apiserver DIR | stop DIR" >&2; exit 2 ;;
esac
