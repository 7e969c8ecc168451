#!/usr/bin/env python3
"""Node mode's start-to-answer time: how long `aws-ecr-cred-helper credential-provider` takes from exec to its
answer, without the AWS round trip. Stdlib only; separate from bench.py so the two never conflict.

It starts a loopback stub that answers ecr:GetAuthorizationToken at once (over HTTP, and over HTTPS with a
throwaway CA passed as AWS_CA_BUNDLE) and records how long it held each request, runs the binary RUNS times with
a CredentialProviderRequest on stdin, and reports the wall time per run minus the stub's time (what is left is
the process: exec, start-up, parsing, credential choice, signing, the HTTP client, the answer; plus a loopback
connection). It also times the bad-input path (no AWS call at all). Writes a markdown block between
<!-- credential-provider:begin --> and <!-- credential-provider:end --> in --out (default docs/benchmarks.md).

  scripts/bench/credential_provider.py --binary .build/release/aws-ecr-cred-helper [--runs 50] [--out FILE]
"""
import argparse
import base64
import http.server
import json
import os
import pathlib
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- credential-provider:begin -->", "<!-- credential-provider:end -->"
GOAL_MS = 20.0


class Stub(http.server.BaseHTTPRequestHandler):
    held = []  # seconds each request was held by the stub
    protocol_version = "HTTP/1.1"
    # Headers and body leave as separate writes: without TCP_NODELAY, Nagle on this side and delayed ACKs on
    # the client's stall each TLS answer for ~40 ms, a stub artifact that AWS's servers do not have.
    disable_nagle_algorithm = True

    def do_POST(self):
        start = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        token = base64.b64encode(b"AWS:benchmark-password").decode()
        body = json.dumps({"authorizationData": [{
            "authorizationToken": token, "expiresAt": time.time() + 12 * 3600,
            "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        Stub.held.append(time.perf_counter() - start)

    def log_message(self, *args):
        pass


class StubServer(http.server.ThreadingHTTPServer):
    def get_request(self):
        # With TLS, accept() includes the server's half of the handshake: the stub's time, not the helper's.
        start = time.perf_counter()
        request = super().get_request()
        Stub.held.append(time.perf_counter() - start)
        return request


def serve(tls_dir=None):
    server = StubServer(("127.0.0.1", 0), Stub)
    if tls_dir:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(f"{tls_dir}/server.pem", f"{tls_dir}/server.key")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheme = "https" if tls_dir else "http"
    return server, f"{scheme}://127.0.0.1:{server.server_address[1]}"


REQUEST = json.dumps({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                      "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1"}).encode()


def run_once(binary, stdin, env):
    """Wall time, CPU time (user + system, from the child's rusage) and the outcome of one run."""
    start = time.perf_counter()
    process = subprocess.Popen([binary, "credential-provider"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    process.stdin.write(stdin)
    process.stdin.close()
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, process.returncode, err


def measure(binary, runs, env, stdin, expect_ok):
    samples, cpu = [], []
    for i in range(runs + 3):
        before = len(Stub.held)
        wall, used, code, err = run_once(binary, stdin, env)
        if (code == 0) != expect_ok:
            sys.exit(f"unexpected exit {code}: {err.decode()[:300]}")
        held = sum(Stub.held[before:])
        if i >= 3:  # the first runs warm the page cache
            samples.append((wall - held) * 1000)
            cpu.append(used * 1000)
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1], "max": samples[-1],
            "cpu": statistics.median(cpu), "n": len(samples)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--out", default=str(ROOT / "docs/benchmarks.md"))
    args = p.parse_args()
    binary = os.path.abspath(args.binary)
    base = {"PATH": "/usr/bin:/bin", "HOME": tempfile.mkdtemp(), "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    results = {}
    _, http_url = serve()
    results["answer, HTTP stub"] = measure(binary, args.runs, {**base, "AWS_ENDPOINT_URL": http_url}, REQUEST, True)
    tls = tempfile.mkdtemp()
    subprocess.run([sys.executable, str(ROOT / "scripts/aws/make_test_ca.py"), tls], check=True)
    _, https_url = serve(tls)
    results["answer, HTTPS stub, AWS_CA_BUNDLE with its CA"] = measure(
        binary, args.runs, {**base, "AWS_ENDPOINT_URL": https_url, "AWS_CA_BUNDLE": f"{tls}/ca.pem"}, REQUEST, True)
    # Against AWS the client trusts the system roots, read one at a time from the hashed folder
    # (/etc/ssl/certs); a copy of that folder with the stub's CA added (SSL_CERT_DIR) costs the same.
    system = "/etc/ssl/certs"
    if os.path.isdir(system):
        folder = f"{tls}/certs"
        os.makedirs(folder)
        for name in os.listdir(system):
            os.symlink(os.path.join(system, name), os.path.join(folder, name))
        digest = subprocess.run(["openssl", "x509", "-subject_hash", "-noout", "-in", f"{tls}/ca.pem"],
                                capture_output=True, text=True, check=True).stdout.strip()
        os.symlink(f"{tls}/ca.pem", os.path.join(folder, f"{digest}.0"))
        results["answer, HTTPS stub, system roots (as against AWS)"] = measure(
            binary, args.runs, {**base, "AWS_ENDPOINT_URL": https_url, "SSL_CERT_DIR": folder}, REQUEST, True)
    results["bad input (no AWS call)"] = measure(binary, args.runs, base, b"{not json", False)

    rows = "\n".join(
        f"| {name} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['max']:.1f} ms | {r['cpu']:.1f} ms | "
        f"{'met' if r['p95'] <= GOAL_MS else 'MISSED'} |" for name, r in results.items())
    block = f"""{BEGIN}
Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, the binary
({os.path.getsize(binary) / 2**20:.1f} MiB), {results['bad input (no AWS call)']['n']} runs each after 3 warm-up runs, load
average {os.getloadavg()[0]:.1f} at the end; wall: from exec to exit minus the time the loopback stub spent on the
request (accept, TLS handshake, answer); CPU: the process's own user + system time.

| path | wall p50 | wall p95 | wall max | CPU p50 (user + system) | goal p95 ≤ {GOAL_MS:.0f} ms |
| --- | --- | --- | --- | --- | --- |
{rows}
{END}"""
    out = pathlib.Path(args.out)
    text = out.read_text() if out.exists() else ""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## Node mode: start to answer\n\n" + block + "\n"
    out.write_text(text)
    print(block)


if __name__ == "__main__":
    main()
