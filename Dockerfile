# syntax=docker/dockerfile:1.7
#
# aws-ecr-cred-helper image: a static-stdlib Swift binary on a distroless runtime.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     -t ghcr.io/aws-ecr-cred-helper/aws-ecr-cred-helper:0.1.0 .
#
# Multi-arch: each platform is built natively (or under QEMU emulation with buildx); nothing below names an
# architecture. Cross-compiling would need a Swift SDK per target, which this file deliberately avoids.
#
# Runtime choice (see docs/deploy.md, "The image"): the binary is linked with --static-swift-stdlib, so the
# Swift runtime and FoundationEssentials are inside it, but it still links glibc, libstdc++, libgcc_s and
# zlib (HTTP decompression in swift-nio-extras) dynamically; a fully static musl build is not available for
# this toolchain here. distroless/cc-debian12 carries exactly those libraries plus CA certificates and
# tzdata, without a shell or package manager, and is rebuilt by its maintainers for Debian security
# updates. Pin it by digest in release builds.
# scripts/image/build-oci.sh builds the equivalent image without a Docker engine.

FROM swift:6.3-bookworm AS build
WORKDIR /src
# Tests/ is copied because SwiftPM checks that every target declared in Package.swift has its folder.
# The cache mount keeps package checkouts and build products between builds without putting them in a layer.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
# The release flags come from scripts/lib/release.sh and the link flags (--no-export-dynamic) from Package.swift,
# so this, scripts/image/build-oci.sh and scripts/bench.sh build the same binary.
COPY scripts/lib/release.sh ./scripts/lib/
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN --mount=type=cache,target=/src/.build,id=aws-ecr-cred-helper-build \
    source scripts/lib/release.sh \
    && swift build "${RELEASE_BUILD[@]}" --product aws-ecr-cred-helper \
    && install -D -m 0755 "$(swift build "${RELEASE_BUILD[@]}" --show-bin-path)/aws-ecr-cred-helper" \
       /out/usr/local/bin/aws-ecr-cred-helper \
    && strip /out/usr/local/bin/aws-ecr-cred-helper \
    && ldd /out/usr/local/bin/aws-ecr-cred-helper \
    && /out/usr/local/bin/aws-ecr-cred-helper version

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG TARGETARCH
LABEL org.opencontainers.image.title="aws-ecr-cred-helper" \
      org.opencontainers.image.description="Keeps Amazon ECR pull secrets fresh in Kubernetes clusters outside AWS" \
      org.opencontainers.image.source="https://github.com/aws-ecr-cred-helper/aws-ecr-cred-helper" \
      org.opencontainers.image.url="https://github.com/aws-ecr-cred-helper/aws-ecr-cred-helper" \
      org.opencontainers.image.documentation="https://github.com/aws-ecr-cred-helper/aws-ecr-cred-helper/blob/main/docs/deploy.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=build --chown=0:0 --chmod=0755 /out/usr/local/bin/aws-ecr-cred-helper /usr/local/bin/aws-ecr-cred-helper
# Numeric, so Kubernetes can verify runAsNonRoot without a passwd lookup; matches fsGroup 1000 of the original
# manifest, whose config Secrets are mounted with mode 0640.
USER 1000:1000
EXPOSE 8080
# No HEALTHCHECK: Kubernetes ignores it; the manifests probe /healthz and /readyz on port 8080 instead.
# No arguments: runs `run`, the long-running controller, as the original image did.
ENTRYPOINT ["/usr/local/bin/aws-ecr-cred-helper"]
