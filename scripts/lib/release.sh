# shellcheck shell=bash
# The release build the image ships, in one place: the Dockerfile, scripts/image/build-oci.sh and
# scripts/bench.sh all build with these flags, so what is measured is what ships.
#   --static-swift-stdlib  the Swift runtime and FoundationEssentials inside the binary (docs/deploy.md)
#   -Xswiftc -Osize        every Swift module, the dependencies' too, optimised for size: stripped 33.4 -> 31.7 MB
#                          (issue 13's goal is 32). The fan-out's CPU per write did not grow (A/B at N=1000/5000:
#                          235/250 us with -O, 225/231 us with -Osize): its hot path is BoringSSL (C, unchanged)
#                          and the kernel. docs/benchmarks.md, "Binary size by module".
# The link flag (--no-export-dynamic) is in Package.swift.
RELEASE_BUILD=(-c release --static-swift-stdlib -Xswiftc -Osize)
