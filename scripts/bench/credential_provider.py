#!/usr/bin/env python3
"""Node mode's start-to-answer time: how long `aws-ecr-cred-helper credential-provider` takes from exec to its
answer, without the AWS round trip. Separate from bench.py so the two never conflict.

It starts a loopback stub that answers ecr:GetAuthorizationToken at once (over HTTP, and over HTTPS with a
throwaway CA passed as AWS_CA_BUNDLE) and records how long it held each request, runs the binary RUNS times with
a CredentialProviderRequest on stdin, and reports the wall time per run minus the stub's time (what is left is
the process: exec, start-up, parsing, credential choice, signing, the HTTP client, the answer; plus a loopback
connection). It also times the bad-input path (no AWS call at all).

IAM Roles Anywhere: the same runs configured with only a certificate, its key and the three ARNs (no AWS keys),
against a second loopback stub that answers rolesanywhere:CreateSession over TLS (the request is checked as the
service would: X-Amz-X509, an AWS4-X509-* signature by the certificate's key, the chain up to the trust anchor,
the ARNs; scripts/aws/rolesanywhere_endpoint.py's PKI and check) with credentials that expire after the
durationSeconds asked for (1 h by default) while the ECR stub's token lasts 12 h. Every process (each one a
kubelet cache miss) is counted: CreateSession and GetAuthorizationToken calls (the goal is exactly one each),
whether the ECR call was signed with that session's keys, and whether the answer's cacheDuration keeps within
the product's rule (below) and never outlives the session or the token. With --kube-test-server it also counts
CreateSession per fleet: one `sync` over a folder of stand-in clusters.

Writes a markdown block between <!-- credential-provider:begin --> and <!-- credential-provider:end --> in
--out (default docs/benchmarks.md). Needs `cryptography` (the repository's .venv has it).

  .venv/bin/python scripts/bench/credential_provider.py --binary .build/release/aws-ecr-cred-helper \
      [--runs 50] [--out FILE] [--kube-test-server .build/debug/kube-test-server]
"""
import argparse
import base64
import datetime
import http.server
import json
import os
import pathlib
import platform
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- credential-provider:begin -->", "<!-- credential-provider:end -->"
GOAL_MS = 20.0
TOKEN_LIFETIME = 12 * 3600  # what ECR gives
MARGIN = 3600  # the product's REFRESH_MARGIN default (NodeSettings.defaultCacheMargin)


class Stub(http.server.BaseHTTPRequestHandler):
    """ECR: answers GetAuthorizationToken (and ECR Public's) with a 12-hour token."""
    held = []  # seconds each request was held by a stub (this one and the CreateSession one)
    calls = []  # one dict per request to either stub, in order: {"op", "ok", ...}
    protocol_version = "HTTP/1.1"
    # Headers and body leave as separate writes: without TCP_NODELAY, Nagle on this side and delayed ACKs on
    # the client's stall each TLS answer for ~40 ms, a stub artifact that AWS's servers do not have.
    disable_nagle_algorithm = True

    def do_POST(self):
        start = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expires = time.time() + TOKEN_LIFETIME
        authorization = self.headers.get("Authorization", "")
        key = re.search(r"Credential=([^/,\s]+)/", authorization)
        Stub.calls.append({"op": (self.headers.get("X-Amz-Target") or "?").rsplit(".", 1)[-1], "ok": True,
                           "key": key.group(1) if key else None, "token": self.headers.get("X-Amz-Security-Token"),
                           "expires": expires})
        token = base64.b64encode(b"AWS:benchmark-password").decode()
        body = json.dumps({"authorizationData": [{
            "authorizationToken": token, "expiresAt": expires,
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


class SessionStub(http.server.BaseHTTPRequestHandler):
    """rolesanywhere:CreateSession at POST /sessions, checked by rolesanywhere_endpoint.verify_request (X-Amz-X509,
    an AWS4-X509-* Authorization, the signature with the certificate's key, the chain up to the anchor, the
    dates) and for the three ARNs; answers with fresh credentials that expire after durationSeconds."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    anchor = None  # the trust anchor's CA certificate
    verify = None  # rolesanywhere_endpoint.verify_request
    arns = {}
    issued = 0

    def do_POST(self):
        start = time.perf_counter()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        call = {"op": "CreateSession", "ok": False}
        try:
            if path != "/sessions":
                raise ValueError(f"no operation at {path}")
            if "x-amz-x509" not in headers or not headers.get("authorization", "").startswith("AWS4-X509-"):
                raise ValueError("no X-Amz-X509 header or no AWS4-X509-* Authorization")
            SessionStub.verify("POST", path, query, headers, body, SessionStub.anchor)
            params = dict(urllib.parse.parse_qsl(query))
            wrong = [k for k, v in SessionStub.arns.items() if params.get(k) != v]
            if wrong:
                raise ValueError(f"wrong {', '.join(wrong)}")
            duration = int(json.loads(body or b"{}").get("durationSeconds", 3600))
            SessionStub.issued += 1
            expires = int(time.time()) + duration  # whole seconds: the wire form has no fraction
            call.update(ok=True, key=f"ASIABENCH{SessionStub.issued:011d}", token=f"bench-session-{SessionStub.issued}",
                        expires=expires, duration=duration)
            status, document = 201, {"credentialSet": [{"credentials": {
                "accessKeyId": call["key"], "secretAccessKey": "bench-secret-key", "sessionToken": call["token"],
                "expiration": datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
                "roleArn": params.get("roleArn"), "packedPolicySize": 0}], "subjectArn": "arn:aws:rolesanywhere:us-east-1:123456789012:subject/bench"}
        except Exception as error:  # a refusal (rolesanywhere_endpoint.Refusal) or a malformed request
            call["error"] = getattr(error, "message", None) or str(error)
            status, document = 403, {"__type": "AccessDeniedException", "message": call["error"]}
        Stub.calls.append(call)
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
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


def serve(tls_dir=None, handler=Stub):
    server = StubServer(("127.0.0.1", 0), handler)
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
    """Wall time, CPU time (user + system, from the child's rusage), the outcome of one run and its output."""
    start = time.perf_counter()
    process = subprocess.Popen([binary, "credential-provider"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    process.stdin.write(stdin)
    process.stdin.close()
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, process.returncode, out, err


def measure(binary, runs, env, stdin, expect_ok, check=None):
    """Times RUNS runs after 3 warm-up runs; `check(calls, stdout, started, ended)` (wall clock) looks at every
    run, warm-ups included, and its results are returned in "checks"."""
    samples, cpu, checks = [], [], []
    for i in range(runs + 3):
        before, calls_before = len(Stub.held), len(Stub.calls)
        started = time.time()
        wall, used, code, out, err = run_once(binary, stdin, env)
        ended = time.time()
        if (code == 0) != expect_ok:
            sys.exit(f"unexpected exit {code}: {err.decode()[:300]}")
        held = sum(Stub.held[before:])
        if check:
            checks.append(check(Stub.calls[calls_before:], out, started, ended))
        if i >= 3:  # the first runs warm the page cache
            samples.append((wall - held) * 1000)
            cpu.append(used * 1000)
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1], "max": samples[-1],
            "cpu": statistics.median(cpu), "n": len(samples), "checks": checks}


# --- IAM Roles Anywhere ---------------------------------------------------------------------------------------------

def go_seconds(text):
    """Seconds of a Go duration as the product writes it (`0s`, `45s`, `29m59s`, `1h59m59s`)."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+)s", text)
    if not parts:
        raise ValueError(f"not a duration: {text!r}")
    h, m, s = (int(x or 0) for x in parts.groups())
    return h * 3600 + m * 60 + s


def cache_rule(remaining, margin=MARGIN):
    """The product's rule (CredentialProviderAPI.cacheDuration, given min(token expiry, session expiry) -
    now): 0 when at most 1 s is left; remaining - margin when more than twice the margin is left; else half of
    what is left; whole seconds, rounded down."""
    if remaining <= 1:
        return 0
    return int(remaining - margin if remaining > 2 * margin else remaining / 2)


def check_roles_anywhere(calls, out, started, ended):
    """One process: its calls to both stubs and its answer, against the rules."""
    sessions = [c for c in calls if c["op"] == "CreateSession"]
    tokens = [c for c in calls if c["op"] == "GetAuthorizationToken"]
    result = {"sessions": len(sessions), "tokens": len(tokens), "refused": [c.get("error") for c in calls if not c["ok"]],
              "signed_with_session": False, "cache": None, "within_rule": False, "outlives": None}
    if not sessions or not tokens or not sessions[-1]["ok"]:
        return result
    session, token = sessions[-1], tokens[-1]
    result["signed_with_session"] = all(t["key"] == session["key"] and t["token"] == session["token"] for t in tokens)
    cache = go_seconds(json.loads(out)["cacheDuration"])
    expires = min(session["expires"], token["expires"])
    # The product reads its clock between our `started` and `ended`, and the rule grows with what is left.
    low, high = cache_rule(expires - ended), cache_rule(expires - started)
    result.update(cache=cache, within_rule=low - 1 <= cache <= high,
                  session_left=session["expires"] - ended, duration=session["duration"],
                  # the kubelet's cache, from the earliest the product could have answered
                  outlives=started + cache > session["expires"] or started + cache > token["expires"],
                  before_session_end=session["expires"] - (ended + cache))
    return result


def summarize(checks):
    def span(values, fmt=str):
        lo, hi = fmt(min(values)), fmt(max(values))
        return lo if lo == hi else f"{lo}–{hi}"

    def go(seconds):
        seconds = int(seconds)
        if seconds < 60:
            return f"{seconds}s"
        if seconds < 3600:
            return f"{seconds // 60}m{seconds % 60}s"
        return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"

    n = len(checks)
    answered = [c for c in checks if c["cache"] is not None]
    return {
        "n": n,
        "sessions": span([c["sessions"] for c in checks]),
        "sessions_ok": all(c["sessions"] == 1 for c in checks),
        "tokens": span([c["tokens"] for c in checks]),
        "tokens_ok": all(c["tokens"] == 1 for c in checks),
        "refused": sum(len(c["refused"]) for c in checks),
        "signed": sum(c["signed_with_session"] for c in checks),
        "cache": span([c["cache"] for c in answered], go) if answered else "-",
        "session": go(answered[0]["duration"]) if answered else "-",
        "before_end": span([c["before_session_end"] for c in answered], lambda s: go(int(s))) if answered else "-",
        "rule_ok": len(answered) == n and all(c["within_rule"] for c in answered),
        "outlives": sum(bool(c["outlives"]) for c in answered),
    }


def roles_anywhere_environment(pki, certificate, key, extra):
    import rolesanywhere_endpoint as ra
    return {"PATH": "/usr/bin:/bin", "HOME": tempfile.mkdtemp(),
            "AWS_ROLES_ANYWHERE_CERTIFICATE": f"{pki}/{certificate}", "AWS_ROLES_ANYWHERE_PRIVATE_KEY": f"{pki}/{key}",
            "AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": ra.TRUST_ANCHOR_ARN, "AWS_ROLES_ANYWHERE_PROFILE_ARN": ra.PROFILE_ARN,
            "AWS_ROLE_ARN": SessionStub.arns["roleArn"], **extra}


def fleet_count(binary, kube_test_server, clusters, namespaces, env, workdir):
    """One `sync` in fleet mode over `clusters` stand-in clusters of `namespaces` namespaces each: its calls."""
    sys.path.insert(0, str(ROOT / "scripts/bench"))
    from targets import SECRET_NAME, StandIn
    servers = []
    try:
        folder = os.path.join(workdir, "clusters")
        os.makedirs(folder)
        for i in range(clusters):
            os.makedirs(os.path.join(workdir, f"server-{i:02d}"))
            server = StandIn(kube_test_server, os.path.join(workdir, f"server-{i:02d}"))
            servers.append(server)
            server.fresh(namespaces)
            shutil.copy(server.helper_kubeconfig, os.path.join(folder, f"c{i:02d}.yaml"))
        config, aws = os.path.join(workdir, "config"), os.path.join(workdir, "config-aws")
        os.makedirs(config)
        os.makedirs(aws)
        for name, value in {"NAMESPACES": "bench-*", "SECRET_NAME": SECRET_NAME}.items():
            pathlib.Path(config, name).write_text(value + "\n")
        before = len(Stub.calls)
        result = subprocess.run([binary, "sync", "--config-dir", config, "--aws-config-dir", aws, "--clusters-dir", folder],
                                env={**env, "AWS_DEFAULT_REGION": "eu-west-1"}, capture_output=True, text=True, timeout=300)
        calls = Stub.calls[before:]
        if result.returncode != 0:
            sys.exit(f"fleet sync exited {result.returncode}: {result.stderr[-1500:]}")
        return {"clusters": clusters, "namespaces": namespaces,
                "written": sum(line.endswith("\twritten") for line in result.stdout.splitlines()),
                "sessions": sum(c["op"] == "CreateSession" for c in calls),
                "tokens": sum(c["op"] == "GetAuthorizationToken" for c in calls),
                "refused": sum(not c["ok"] for c in calls)}
    finally:
        for server in servers:
            server.cleanup()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--out", default=str(ROOT / "docs/benchmarks.md"))
    p.add_argument("--kube-test-server", help="a kube-test-server binary (any build): also count CreateSession per fleet")
    p.add_argument("--fleet-clusters", type=int, default=10)
    p.add_argument("--fleet-namespaces", type=int, default=5)
    args = p.parse_args()
    binary = os.path.abspath(args.binary)
    sys.path.insert(0, str(ROOT / "scripts/aws"))
    try:
        import rolesanywhere_endpoint as ra
    except ImportError as error:
        sys.exit(f"{error}: run this with the repository's .venv/bin/python (it has `cryptography`)")
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
    trust = {"AWS_CA_BUNDLE": f"{tls}/ca.pem"}
    if os.path.isdir(system):
        folder = f"{tls}/certs"
        os.makedirs(folder)
        for name in os.listdir(system):
            os.symlink(os.path.join(system, name), os.path.join(folder, name))
        digest = subprocess.run(["openssl", "x509", "-subject_hash", "-noout", "-in", f"{tls}/ca.pem"],
                                capture_output=True, text=True, check=True).stdout.strip()
        os.symlink(f"{tls}/ca.pem", os.path.join(folder, f"{digest}.0"))
        trust = {"SSL_CERT_DIR": folder}
        results["answer, HTTPS stub, system roots (as against AWS)"] = measure(
            binary, args.runs, {**base, "AWS_ENDPOINT_URL": https_url, **trust}, REQUEST, True)
    results["bad input (no AWS call)"] = measure(binary, args.runs, base, b"{not json", False)

    # IAM Roles Anywhere: the test endpoint's PKI (leaves under its trust anchor), a CreateSession stub over TLS
    # (the same server certificate as the ECR stub's) and the ECR stub; no AWS keys anywhere.
    pki = tempfile.mkdtemp()
    ra.make_pki(pki)
    SessionStub.verify = staticmethod(ra.verify_request)
    SessionStub.anchor = ra.x509.load_pem_x509_certificate(pathlib.Path(pki, "anchor-ca.pem").read_bytes())
    SessionStub.arns = {"trustAnchorArn": ra.TRUST_ANCHOR_ARN, "profileArn": ra.PROFILE_ARN,
                        "roleArn": "arn:aws:iam::123456789012:role/ecr-pull"}
    _, session_url = serve(tls, SessionStub)
    endpoints = {"AWS_ENDPOINT_URL": https_url, "AWS_ENDPOINT_URL_ROLESANYWHERE": session_url, **trust}
    where = "system roots" if "SSL_CERT_DIR" in trust else "AWS_CA_BUNDLE"
    scenarios = {
        f"Roles Anywhere, P-256 key: CreateSession + answer, HTTPS stubs, {where}": ("ec256.crt", "ec256.key", {}),
        f"Roles Anywhere, RSA 2048 key + intermediate: CreateSession + answer, HTTPS stubs, {where}": ("rsa.crt", "rsa.key", {}),
        # 3 h > twice the margin: the other branch of the rule (3 h - 1 h)
        "Roles Anywhere, P-256 key, AWS_ROLES_ANYWHERE_SESSION_DURATION=3h": (
            "ec256.crt", "ec256.key", {"AWS_ROLES_ANYWHERE_SESSION_DURATION": "3h"}),
    }
    counted = {}
    for label, (certificate, key, extra) in scenarios.items():
        env = roles_anywhere_environment(pki, certificate, key, {**endpoints, **extra})
        measured = measure(binary, args.runs, env, REQUEST, True, check_roles_anywhere)
        counted[label] = summarize(measured.pop("checks"))
        if not extra:
            results[label] = measured
    fleet = None
    if args.kube_test_server:
        # Only node mode reads SSL_CERT_DIR (its lazy system roots); the other modes take AWS_CA_BUNDLE.
        env = roles_anywhere_environment(pki, "ec256.crt", "ec256.key", {
            "AWS_ENDPOINT_URL": https_url, "AWS_ENDPOINT_URL_ROLESANYWHERE": session_url, "AWS_CA_BUNDLE": f"{tls}/ca.pem"})
        fleet = fleet_count(binary, os.path.abspath(args.kube_test_server), args.fleet_clusters, args.fleet_namespaces,
                            env, tempfile.mkdtemp())

    rows = "\n".join(
        f"| {name} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['max']:.1f} ms | {r['cpu']:.1f} ms | "
        f"{'met' if r['p95'] <= GOAL_MS else 'MISSED'} |" for name, r in results.items())

    def every(ok, text):
        return f"{text} in every run" if ok else f"{text} (goal 1: MISSED)"

    count_rows = "\n".join(
        f"| {name.split(':')[0]} | {c['n']} | {every(c['sessions_ok'], c['sessions'])} | {every(c['tokens_ok'], c['tokens'])} | "
        f"{c['signed']} of {c['n']} | {c['session']} | {c['cache']} | {c['before_end']} | "
        f"{'every run' if c['rule_ok'] and not c['outlives'] else 'MISSED (%d outlive)' % c['outlives']}"
        f"{'; %d calls refused' % c['refused'] if c['refused'] else ''} |" for name, c in counted.items())
    if fleet:
        fleet_line = (f"Fleet mode, one `sync` over {fleet['clusters']} stand-in clusters × {fleet['namespaces']} namespaces "
                      f"with the P-256 certificate: **{fleet['sessions']} CreateSession** and {fleet['tokens']} "
                      f"GetAuthorizationToken for the whole fleet (goal: 1 and 1), {fleet['written']} of "
                      f"{fleet['clusters'] * fleet['namespaces']} secrets written"
                      + (f", {fleet['refused']} calls refused" if fleet["refused"] else "") + ".")
    else:
        fleet_line = "Fleet mode: not counted in this run (no --kube-test-server)."
    block = f"""{BEGIN}
Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, the binary
({os.path.getsize(binary) / 2**20:.1f} MiB), {results['bad input (no AWS call)']['n']} runs each after 3 warm-up runs, load
average {os.getloadavg()[0]:.1f} at the end; wall: from exec to exit minus the time the loopback stubs spent on the
requests (accept, TLS handshake, answer); CPU: the process's own user + system time.

| path | wall p50 | wall p95 | wall max | CPU p50 (user + system) | goal p95 ≤ {GOAL_MS:.0f} ms |
| --- | --- | --- | --- | --- | --- |
{rows}

IAM Roles Anywhere, counted in every process (warm-ups included; each process is one kubelet cache miss): only
a certificate, its key and the three ARNs, no AWS keys. The session stub checks each CreateSession as the
service would (X-Amz-X509, the AWS4-X509 signature, the chain, the ARNs) and its credentials expire after the
durationSeconds asked for; the ECR token lasts {TOKEN_LIFETIME // 3600} h. Rule: cacheDuration = what is left of
the earlier of the two expiries minus REFRESH_MARGIN ({MARGIN // 3600} h) when more than twice the margin is
left, else half of what is left.

| scenario | processes | CreateSession per process | GetAuthorizationToken per process | ECR call signed with that session | session | cacheDuration | kubelet cache ends before the session | within the rule, never outlives session or token |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{count_rows}

{fleet_line}
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
