"""What each dependency costs in the product binary: symbol sizes from `nm -S`, grouped by the Swift module
in each mangled name (`$s<len><Module>...`), BoringSSL copies by their C prefix, the Swift standard library
and runtime together. Prints a markdown table; the binary is the release build the image ships.

    python3 scripts/bench/binary_size.py .build/x86_64-unknown-linux-gnu/release/aws-ecr-cred-helper
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Where each module comes from (the package that brings it), for the table.
PACKAGE = {
    "FoundationEssentials": "swift-foundation (toolchain)", "_FoundationCollections": "swift-foundation (toolchain)",
    "_RegexParser": "Swift stdlib (string algorithms)", "_StringProcessing": "Swift stdlib (string algorithms)",
    "AsyncAlgorithms": "swift-async-algorithms (via swift-service-lifecycle)", "Algorithms": "swift-algorithms (via async-http-client)",
    "Configuration": "swift-configuration (via async-http-client)", "NIOHTTP2": "swift-nio-http2 (via async-http-client)",
    "NIOHPACK": "swift-nio-http2 (via async-http-client)", "CNIOBoringSSL": "swift-nio-ssl", "NIOSSL": "swift-nio-ssl",
    "CCryptoBoringSSL": "swift-crypto (SHA-256/HMAC for SigV4 and digests)", "Crypto": "swift-crypto",
    "CryptoBoringWrapper": "swift-crypto", "AsyncHTTPClient": "async-http-client", "ArgumentParser": "swift-argument-parser",
    "ArgumentParserToolInfo": "swift-argument-parser", "Prometheus": "swift-prometheus", "ServiceLifecycle": "swift-service-lifecycle",
    "KubeClient": "this project", "SyncEngine": "this project", "AWSClient": "this project", "ECRCredHelper": "this project",
}


def module_of(name):
    if name.startswith("$ss") or name.startswith("swift_") or name.startswith("_swift"):
        return "Swift stdlib and runtime"
    match = re.match(r"^\$s(\d+)", name)
    if match:
        length = int(match.group(1))
        return name[match.end():match.end() + length]
    for prefix in ("CNIOBoringSSL", "CCryptoBoringSSL"):
        if name.startswith(prefix):
            return prefix
    if name.startswith("CNIO") or name.startswith("c_nio"):
        return "NIO C shims"
    return "C libraries and unattributed"


def main():
    binary = sys.argv[1]
    symbols = subprocess.run(["nm", "-S", "--size-sort", binary], capture_output=True, text=True, check=True).stdout
    sizes = collections.Counter()
    for line in symbols.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            sizes[module_of(parts[3])] += int(parts[1], 16)
    with tempfile.TemporaryDirectory() as work:
        stripped = os.path.join(work, "stripped")
        shutil.copy(binary, stripped)
        subprocess.run(["strip", stripped], check=True)
        stripped_size = os.path.getsize(stripped)
    print("| module | package | MB |")
    print("|---|---|---|")
    for module, size in sizes.most_common(25):
        print("| `%s` | %s | %.2f |" % (module, PACKAGE.get(module, ""), size / 1e6))
    print("| (all symbols) | | %.1f |" % (sum(sizes.values()) / 1e6))
    print("| **stripped binary** | | **%.1f** |" % (stripped_size / 1e6))


if __name__ == "__main__":
    sys.exit(main())
