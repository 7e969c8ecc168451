#!/usr/bin/env bash
# Builds the aws-ecr-cred-helper image as an OCI image layout, without a container engine or daemon, from
# Debian packages (umoci, skopeo, bubblewrap) and the host's own Debian runtime files, then checks it.
#
#   scripts/image/build-oci.sh                     # release build of the binary, then the image
#   BINARY=path/to/aws-ecr-cred-helper scripts/image/build-oci.sh   # or: scripts/image/build-oci.sh PATH
#
# Environment (all optional):
#   BINARY      prebuilt binary to package (else: the release build of scripts/lib/release.sh)
#   OUT_DIR     output folder (default .build-image/ in the repository; .build-*/ is git-ignored)
#   IMAGE_NAME  default ghcr.io/aws-ecr-cred-helper/aws-ecr-cred-helper
#   VERSION     image version label and tag (default 0.1.0)
#   SOURCE_DATE_EPOCH  timestamp of every file and of the image config (default: HEAD's commit time), so
#               the same binary gives the same image digest
#
# Output: $OUT_DIR/oci (OCI layout, tag $VERSION), $OUT_DIR/aws-ecr-cred-helper-$VERSION-$ARCH.docker.tar
# (for `docker load`, `kind load image-archive`, `ctr images import`), $OUT_DIR/report.txt.
#
# The image mirrors the Dockerfile's runtime stage: the binary, the glibc/libstdc++/libgcc_s files it links
# (found with ldd), CA certificates, passwd/group entries for uid 1000, an empty /tmp, and dpkg status
# records for the copied packages so image scanners can see their versions. No shell, no package manager.
#
# Checks (exit non-zero if one fails): config User is uid 1000, Entrypoint is the binary with no Cmd,
# the image unpacks with digest verification, the binary runs `version` as uid 1000 inside the unpacked
# root filesystem mounted read-only, no shell is present, nothing is writable by the runtime user.
set -euo pipefail
# umoci unpacks with the layers' ownership as root, or mapped to the caller with --rootless.
rootless=()
[ "$(id -u)" = 0 ] || rootless=(--rootless)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BINARY=${BINARY:-${1:-}}
OUT_DIR=${OUT_DIR:-$ROOT/.build-image}
IMAGE_NAME=${IMAGE_NAME:-ghcr.io/aws-ecr-cred-helper/aws-ecr-cred-helper}
VERSION=${VERSION:-0.1.0}
BIN_PATH=/usr/local/bin/aws-ecr-cred-helper
RUN_UID=1000
RUN_GID=1000

log() { echo "build-oci: $*" >&2; }
fail() { echo "build-oci: FAILED: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------------------------
need=()
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v jq >/dev/null || need+=(jq)
command -v strip >/dev/null || need+=(binutils)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing tools (${need[*]}); install them with apt-get as root"
  log "installing ${need[*]} from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
os_field() { sed -n "s/^$1=//p" "$(readlink -f /etc/os-release)" | tr -d '"'; }
ARCH=$(dpkg --print-architecture)   # Debian and OCI agree on amd64/arm64/ppc64el... except a few we don't target
case "$ARCH" in amd64|arm64) ;; *) log "warning: architecture $ARCH is untested" ;; esac

# --- binary ------------------------------------------------------------------------------------------------
if [ -z "$BINARY" ]; then
  # The release flags (scripts/lib/release.sh) and link flags (Package.swift): the same binary as the Dockerfile's.
  source "$ROOT/scripts/lib/release.sh"
  log "release build (swift build ${RELEASE_BUILD[*]}); this takes a while on 2 cores"
  (cd "$ROOT" && swift build "${RELEASE_BUILD[@]}" --product aws-ecr-cred-helper)
  BINARY="$(cd "$ROOT" && swift build "${RELEASE_BUILD[@]}" --show-bin-path)/aws-ecr-cred-helper"
fi
[ -x "$BINARY" ] || fail "binary $BINARY does not exist or is not executable"
BINARY=$(readlink -f "$BINARY")

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
fi
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)

mkdir -p "$OUT_DIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/build-oci.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"

# --- root filesystem ---------------------------------------------------------------------------------------
install -D -m 0755 "$BINARY" "$ROOTFS$BIN_PATH"
strip --strip-unneeded "$ROOTFS$BIN_PATH" 2>/dev/null || log "note: strip failed (already stripped or foreign binary); packaging as is"

packages=()
add_package_of() {
  local path=$1 owner
  owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$owner" ] || owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
  if [ -n "$owner" ]; then packages+=("$owner"); else log "note: no Debian package owns $path"; fi
}

# Every shared object the binary loads, at the path the dynamic loader looks for it (ldd's view), including
# the loader itself. A fully static binary has none.
if ldd_out=$(ldd "$BINARY" 2>&1); then
  if grep -q 'not found' <<<"$ldd_out"; then fail "the binary needs libraries this machine lacks: $ldd_out"; fi
  while read -r lib; do
    [ -n "$lib" ] || continue
    install -D -m 0644 "$(readlink -f "$lib")" "$ROOTFS$lib"
    add_package_of "$lib"
  done < <(awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }' <<<"$ldd_out")
  # The loader must stay executable.
  while read -r interp; do chmod 0755 "$ROOTFS$interp"; done < <(awk '$1 ~ /^\// && !/=>/ { print $1 }' <<<"$ldd_out")
else
  log "ldd: $ldd_out (treating the binary as static)"
fi

install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
packages+=(ca-certificates)
install -D -m 0644 "$(readlink -f /etc/os-release)" "$ROOTFS/etc/os-release"
mkdir -p "$ROOTFS/etc"
cat > "$ROOTFS/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
helper:x:$RUN_UID:$RUN_GID:aws-ecr-cred-helper:/nonexistent:/sbin/nologin
EOF
cat > "$ROOTFS/etc/group" <<EOF
root:x:0:
nogroup:x:65534:
helper:x:$RUN_GID:
EOF
# glibc resolves hosts from /etc/hosts, then DNS (Kubernetes mounts both files) without NSS modules.
echo 'hosts: files dns' > "$ROOTFS/etc/nsswitch.conf"
chmod 0644 "$ROOTFS"/etc/passwd "$ROOTFS"/etc/group "$ROOTFS"/etc/nsswitch.conf
# Mount points a runtime fills in; /tmp for tools that insist (the manifests mount an emptyDir there).
mkdir -p "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/tmp" "$ROOTFS/config" "$ROOTFS/config-aws"
chmod 1777 "$ROOTFS/tmp"
# Package metadata (distroless' layout) and licences of everything copied from Debian.
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
mkdir -p "$ROOTFS/var/lib/dpkg/status.d"
for pkg in "${packages[@]}"; do
  dpkg-query -s "$pkg" > "$ROOTFS/var/lib/dpkg/status.d/$pkg"
  if [ -f "/usr/share/doc/$pkg/copyright" ]; then
    install -D -m 0644 "/usr/share/doc/$pkg/copyright" "$ROOTFS/usr/share/doc/$pkg/copyright"
  fi
done
find "$ROOTFS" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# --- OCI layout --------------------------------------------------------------------------------------------
LAYOUT=$OUT_DIR/oci
rm -rf "$LAYOUT"
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$VERSION"
# One layer, written by tar with sorted names, root ownership and fixed times (reproducible digest).
find "$ROOTFS" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort > "$WORK/top-level"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$ROOTFS" -cf "$WORK/layer.tar" -T "$WORK/top-level"
umoci raw add-layer --image "$LAYOUT:$VERSION" --history.created "$CREATED" \
  --history.created_by "scripts/image/build-oci.sh (binary, glibc/libstdc++ from Debian $(os_field VERSION_ID), ca-certificates)" \
  "$WORK/layer.tar"
label() { printf -- '--config.label=%s=%s\n' "$1" "$2"; }
mapfile -t labels < <(
  label org.opencontainers.image.title aws-ecr-cred-helper
  label org.opencontainers.image.description "Keeps Amazon ECR pull secrets fresh in Kubernetes clusters outside AWS"
  label org.opencontainers.image.source https://github.com/aws-ecr-cred-helper/aws-ecr-cred-helper
  label org.opencontainers.image.licenses Apache-2.0
  label org.opencontainers.image.version "$VERSION"
  label org.opencontainers.image.revision "$REVISION"
  label org.opencontainers.image.created "$CREATED"
  label org.opencontainers.image.base.name "debian:$(os_field VERSION_CODENAME) runtime files (distroless layout)"
)
umoci config --image "$LAYOUT:$VERSION" --no-history \
  --created "$CREATED" --author "aws-ecr-cred-helper" --os linux --architecture "$ARCH" \
  --config.user "$RUN_UID:$RUN_GID" \
  --config.entrypoint "$BIN_PATH" \
  --config.env PATH=/usr/local/bin:/usr/bin:/bin \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.exposedports 8080/tcp \
  --config.workingdir / \
  "${labels[@]}" \
  --manifest.annotation "org.opencontainers.image.version=$VERSION" \
  --manifest.annotation "org.opencontainers.image.created=$CREATED"
umoci gc --layout "$LAYOUT"

# --- checks ------------------------------------------------------------------------------------------------
blob() { echo "$LAYOUT/blobs/${1%%:*}/${1#*:}"; }
manifest_digest=$(jq -r --arg tag "$VERSION" \
  '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $tag) | .digest' "$LAYOUT/index.json")
[ -n "$manifest_digest" ] || fail "tag $VERSION not found in $LAYOUT/index.json"
manifest=$(blob "$manifest_digest")
config=$(blob "$(jq -r .config.digest "$manifest")")

user=$(jq -r '.config.User // ""' "$config")
[ "${user%%:*}" = "$RUN_UID" ] || fail "image config User is '$user', expected uid $RUN_UID"
entrypoint=$(jq -c '.config.Entrypoint' "$config")
[ "$entrypoint" = "[\"$BIN_PATH\"]" ] || fail "Entrypoint is $entrypoint, expected [\"$BIN_PATH\"]"
cmd=$(jq -c '.config.Cmd // []' "$config")
[ "$cmd" = "[]" ] || fail "Cmd is $cmd, expected none (the binary runs 'run' without arguments)"
log "config ok: User=$user Entrypoint=$entrypoint Cmd=none"

# skopeo is an independent reader of the layout.
skopeo inspect --config "oci:$LAYOUT:$VERSION" > "$WORK/skopeo-config.json" || fail "skopeo cannot read the layout"
[ "$(jq -r .config.User "$WORK/skopeo-config.json")" = "$user" ] || fail "skopeo sees another User"

CHECK=$WORK/check
umoci unpack "${rootless[@]}" --image "$LAYOUT:$VERSION" "$CHECK" >/dev/null || fail "umoci unpack (digest verification) failed"
RFS=$CHECK/rootfs
for sh in bin/sh bin/bash usr/bin/sh usr/bin/bash bin/busybox; do
  [ ! -e "$RFS/$sh" ] || fail "the image contains a shell ($sh)"
done
writable=$(find "$RFS" -xdev \( -uid "$RUN_UID" -o -perm -0002 \) ! -path "$RFS/tmp" -print | head -5)
[ -z "$writable" ] || fail "files writable by the runtime user: $writable"

# Run `version` as uid 1000 with the image's root mounted read-only (as readOnlyRootFilesystem does), no
# network and an empty environment. bubblewrap needs user namespaces; chroot is the fallback.
run_env=(PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
if bwrap --ro-bind / / --unshare-all --uid "$RUN_UID" --gid "$RUN_GID" true 2>/dev/null; then
  how="bubblewrap, read-only root, uid $RUN_UID, no network"
  version_out=$(bwrap --ro-bind "$RFS" / --proc /proc --dev /dev --unshare-all --uid "$RUN_UID" --gid "$RUN_GID" \
    --clearenv --setenv PATH "${run_env[0]#PATH=}" --setenv SSL_CERT_FILE "${run_env[1]#SSL_CERT_FILE=}" \
    --chdir / "$BIN_PATH" version 2>&1) || fail "the binary did not run 'version' in the image: $version_out"
else
  how="chroot --userspec=$RUN_UID:$RUN_GID (bubblewrap unavailable here: no user namespaces)"
  chroot_cmd=$(command -v chroot)
  version_out=$(env -i "${run_env[@]}" "$chroot_cmd" --userspec="$RUN_UID:$RUN_GID" "$RFS" "$BIN_PATH" version 2>&1) \
    || fail "the binary did not run 'version' in the image: $version_out"
fi
log "binary runs in the image ($how): $(head -1 <<<"$version_out")"

# --- export and report -------------------------------------------------------------------------------------
ARCHIVE=$OUT_DIR/aws-ecr-cred-helper-$VERSION-$ARCH.docker.tar
rm -f "$ARCHIVE"
skopeo copy --quiet "oci:$LAYOUT:$VERSION" "docker-archive:$ARCHIVE:$IMAGE_NAME:$VERSION" \
  || fail "skopeo could not export a docker archive"

compressed=$(jq '[.layers[].size] + [.config.size] | add' "$manifest")
compressed=$((compressed + $(stat -c %s "$manifest")))
unpacked=$(du -sb --apparent-size "$RFS" | cut -f1)
binary_size=$(stat -c %s "$RFS$BIN_PATH")
source_binary_size=$(stat -c %s "$BINARY")
human() { numfmt --to=iec-i --suffix=B --format=%.1f "$1"; }
{
  echo "image:            $IMAGE_NAME:$VERSION ($ARCH)"
  echo "manifest digest:  $manifest_digest"
  echo "OCI layout:       $LAYOUT"
  echo "docker archive:   $ARCHIVE"
  echo "compressed size:  $(human "$compressed") ($compressed bytes: layers + config + manifest)"
  echo "unpacked size:    $(human "$unpacked") ($unpacked bytes)"
  echo "binary size:      $(human "$binary_size") stripped, $(human "$source_binary_size") before strip"
  echo "packages copied:  ${packages[*]}"
  echo "run check:        $how"
  echo "version output:   $(head -1 <<<"$version_out")"
} | tee "$OUT_DIR/report.txt"
