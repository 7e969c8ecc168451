#!/usr/bin/env python3
"""An IAM Roles Anywhere endpoint for tests, on loopback with TLS.

At start it writes a throwaway PKI into --pki-dir (unless one is there already):
  tls/ca.pem, tls/server.pem, tls/server.key   the endpoint's own TLS certificate (trust tls/ca.pem)
  anchor-ca.pem                                the trust anchor's CA (root); intermediate.pem below it
  rsa.crt + rsa.key                            RSA 2048 leaf under the intermediate; the .crt holds leaf then
                                               intermediate; key PKCS#1; rsa-pkcs8.key the same key in PKCS#8
  rsa2.crt + rsa2.key                          a second RSA leaf (a renewal)
  ec256.crt + ec256.key                        P-256 leaf under the root; key SEC1; ec256-pkcs8.key PKCS#8
  ec384.crt + ec384.key                        P-384 leaf under the intermediate (leaf then intermediate); PKCS#8
  leaf-*.pem / intermediates-*.pem             the leaf and the intermediates of each, apart (for the oracle)
  expired.*, notyet.*                          P-256 leaves outside their validity
  untrusted.crt + untrusted.key                a P-256 leaf from a CA the anchor does not hold
  ed25519.key, p521.key, encrypted.key, rsa1024.key   keys of kinds IAM Roles Anywhere does not take
Then it serves:
  https://127.0.0.1:<tls port>/sessions  CreateSession: checks the X.509 SigV4 signature with the presented
     certificate's public key (RSA PKCS#1 v1.5 / ECDSA, SHA-256, as AWS's helper signs), the chain up to the anchor
     CA and the validity dates, the trust anchor, profile and role ARNs and durationSeconds; answers with
     credentials from moto (sts:AssumeRole of the role with the fixture's keys, --moto-fixture) so that moto with
     signature checking on accepts them, or with made-up ones without moto.
  http://127.0.0.1:<port>/__ra/log       GET: every CreateSession seen ({"requests": [{serial, ok, error, ...}]})
The TLS port is written to <pki-dir>/tls-port before the control port is announced (--port-file).
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _tooling import announce, exit_with_parent  # noqa: E402
import make_test_ca  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST_ANCHOR_ARN = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/11111111-2222-3333-4444-555555555555"
PROFILE_ARN = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:profile/66666666-7777-8888-9999-000000000000"

# --- PKI ------------------------------------------------------------------------------------------------------------

NOW = datetime.datetime.now(datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(subject, public_key, issuer_name, issuer_key, ca, not_before, not_after):
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject)).issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    # SHA-256 for every certificate: iam-rolesanywhere-session names its algorithm after the issuer's hash.
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, fmt):
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def write(directory, filename, data):
    with open(os.path.join(directory, filename), "wb") as f:
        f.write(data)


def make_pki(directory):
    os.makedirs(directory, exist_ok=True)
    make_test_ca.main(os.path.join(directory, "tls"))
    day = datetime.timedelta(days=1)
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = certificate("Roles Anywhere test root", root_key.public_key(), name("Roles Anywhere test root"), root_key, True,
                       NOW - day, NOW + 10 * day)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = certificate("Roles Anywhere test intermediate", inter_key.public_key(), root.subject, root_key, True,
                        NOW - day, NOW + 10 * day)
    write(directory, "anchor-ca.pem", pem(root))
    write(directory, "intermediate.pem", pem(inter))

    def leaf(label, key, under_intermediate=False, not_before=NOW - day, not_after=NOW + 2 * day, key_format=None):
        issuer, issuer_key = (inter, inter_key) if under_intermediate else (root, root_key)
        cert = certificate(f"helper-{label}", key.public_key(), issuer.subject, issuer_key, False, not_before, not_after)
        chain = pem(inter) if under_intermediate else b""
        write(directory, f"{label}.crt", pem(cert) + chain)
        write(directory, f"leaf-{label}.pem", pem(cert))
        write(directory, f"intermediates-{label}.pem", chain)
        write(directory, f"{label}.key", key_pem(key, key_format or serialization.PrivateFormat.PKCS8))
        return cert

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf("rsa", rsa_key, under_intermediate=True, key_format=serialization.PrivateFormat.TraditionalOpenSSL)
    write(directory, "rsa-pkcs8.key", key_pem(rsa_key, serialization.PrivateFormat.PKCS8))
    leaf("rsa2", rsa.generate_private_key(public_exponent=65537, key_size=2048), under_intermediate=True)
    ec256_key = ec.generate_private_key(ec.SECP256R1())
    leaf("ec256", ec256_key, key_format=serialization.PrivateFormat.TraditionalOpenSSL)
    write(directory, "ec256-pkcs8.key", key_pem(ec256_key, serialization.PrivateFormat.PKCS8))
    leaf("ec384", ec.generate_private_key(ec.SECP384R1()), under_intermediate=True)
    leaf("expired", ec.generate_private_key(ec.SECP256R1()), not_before=NOW - 3 * day, not_after=NOW - day)
    leaf("notyet", ec.generate_private_key(ec.SECP256R1()), not_before=NOW + day, not_after=NOW + 3 * day)

    other_key = ec.generate_private_key(ec.SECP256R1())
    other = certificate("Some other CA", other_key.public_key(), name("Some other CA"), other_key, True, NOW - day, NOW + 10 * day)
    untrusted_key = ec.generate_private_key(ec.SECP256R1())
    untrusted = certificate("helper-untrusted", untrusted_key.public_key(), other.subject, other_key, False, NOW - day, NOW + 2 * day)
    write(directory, "untrusted.crt", pem(untrusted))
    write(directory, "untrusted.key", key_pem(untrusted_key, serialization.PrivateFormat.PKCS8))

    write(directory, "ed25519.key", key_pem(ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.PKCS8))
    write(directory, "p521.key", key_pem(ec.generate_private_key(ec.SECP521R1()), serialization.PrivateFormat.PKCS8))
    write(directory, "rsa1024.key", key_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024),
                                            serialization.PrivateFormat.TraditionalOpenSSL))
    write(directory, "encrypted.key", ec256_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")))


# --- CreateSession --------------------------------------------------------------------------------------------------

def quote(text):
    return urllib.parse.quote(text, safe="-_.~")


def canonical_query(raw):
    pairs = []
    for piece in raw.split("&") if raw else []:
        key, _, value = piece.partition("=")
        pairs.append((quote(urllib.parse.unquote(key)), quote(urllib.parse.unquote(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def fold(value):
    return " ".join(value.split())


class Refusal(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def verify_request(method, path, query, headers, body, anchor):
    """Returns (leaf certificate, arguments) or raises Refusal, as the service would."""
    authorization = headers.get("authorization", "")
    algorithm, _, rest = authorization.partition(" ")
    if algorithm not in ("AWS4-X509-RSA-SHA256", "AWS4-X509-ECDSA-SHA256"):
        raise Refusal(403, "AccessDeniedException", f"Unsupported signing algorithm {algorithm or '(none)'}")
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    credential = fields.get("Credential", "").split("/")
    signed_headers = fields.get("SignedHeaders", "")
    signature = bytes.fromhex(fields.get("Signature", ""))
    try:
        leaf = x509.load_der_x509_certificate(base64.b64decode(headers["x-amz-x509"]))
        chain = [x509.load_der_x509_certificate(base64.b64decode(part))
                 for part in headers.get("x-amz-x509-chain", "").split(",") if part]
    except Exception:
        raise Refusal(400, "ValidationException", "Invalid X-Amz-X509 or X-Amz-X509-Chain header")
    if len(credential) != 5 or credential[0] != str(leaf.serial_number) or credential[3] != "rolesanywhere":
        raise Refusal(403, "AccessDeniedException", "Credential does not name the certificate's serial number")
    amz_date = headers.get("x-amz-date", "")
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300:
        raise Refusal(403, "AccessDeniedException", "Signature expired")
    names = signed_headers.split(";")
    for required in ("host", "x-amz-date", "x-amz-x509"):
        if required not in names:
            raise Refusal(403, "AccessDeniedException", f"{required} is not signed")
    canonical = "\n".join([
        method, path, canonical_query(query),
        "".join(f"{n}:{fold(headers.get(n, ''))}\n" for n in names),
        signed_headers, hashlib.sha256(body).hexdigest(),
    ])
    string_to_sign = "\n".join([algorithm, amz_date, "/".join(credential[1:]),
                                hashlib.sha256(canonical.encode()).hexdigest()])
    public_key = leaf.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm == "AWS4-X509-RSA-SHA256":
            public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm == "AWS4-X509-ECDSA-SHA256":
            public_key.verify(signature, string_to_sign.encode(), ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature()
    except InvalidSignature:
        raise Refusal(403, "AccessDeniedException", "Signature validation failed")
    # The chain: leaf, then the intermediates, each issued by the next, the last by the anchor's CA.
    path_certs = [leaf] + chain
    for cert in path_certs:
        if not cert.not_valid_before_utc <= datetime.datetime.now(datetime.timezone.utc) <= cert.not_valid_after_utc:
            raise Refusal(403, "AccessDeniedException", "Certificate is expired or not yet valid")
    for child, parent in zip(path_certs, path_certs[1:] + [anchor]):
        try:
            child.verify_directly_issued_by(parent)
        except Exception:
            raise Refusal(403, "AccessDeniedException", "Untrusted signing certificate: not issued by the trust anchor's CA")
    return leaf


class State:
    def __init__(self, args):
        self.args = args
        self.anchor = x509.load_pem_x509_certificate(open(os.path.join(args.pki_dir, "anchor-ca.pem"), "rb").read())
        self.lock = threading.Lock()
        self.log = []
        self.fixture = json.load(open(args.moto_fixture)) if args.moto_fixture else None

    def credentials(self, role_arn, session_name, duration):
        if self.fixture is None:
            expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=duration)
            return {"accessKeyId": "ASIAROLESANYWHERETEST", "secretAccessKey": "made-up-secret-key-for-tests",
                    "sessionToken": "made-up-session-token", "expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}
        import boto3
        sts = boto3.client("sts", endpoint_url=self.fixture["endpoint"], region_name=self.fixture["region"],
                           aws_access_key_id=self.fixture["allowed"]["accessKeyId"],
                           aws_secret_access_key=self.fixture["allowed"]["secretAccessKey"])
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=duration)["Credentials"]
        return {"accessKeyId": answer["AccessKeyId"], "secretAccessKey": answer["SecretAccessKey"],
                "sessionToken": answer["SessionToken"],
                "expiration": answer["Expiration"].astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def handler_for(state, tls):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, document):
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status >= 400:
                self.send_header("x-amzn-ErrorType", document.get("__type", ""))
            self.send_header("x-amzn-RequestId", "ra-test-request")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if not tls and self.path == "/__ra/log":
                with state.lock:
                    self.answer(200, {"requests": list(state.log)})
            else:
                self.answer(404, {"__type": "ResourceNotFoundException", "message": "no such path"})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not tls:
                return self.answer(404, {"__type": "ResourceNotFoundException", "message": "TLS only"})
            path, _, query = self.path.partition("?")
            headers = {k.lower(): v for k, v in self.headers.items()}
            entry = {"serial": None, "ok": False, "error": None, "signed_headers": None, "body": body.decode("utf-8", "replace")}
            try:
                if path != "/sessions":
                    raise Refusal(404, "ResourceNotFoundException", f"no operation at {path}")
                leaf = verify_request("POST", path, query, headers, body, state.anchor)
                entry["serial"] = str(leaf.serial_number)
                entry["signed_headers"] = headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
                params = dict(urllib.parse.parse_qsl(query))
                document = json.loads(body or b"{}")
                if params.get("trustAnchorArn") != state.args.trust_anchor_arn:
                    raise Refusal(403, "AccessDeniedException", "Untrusted signing certificate: unknown trust anchor")
                if params.get("profileArn") != state.args.profile_arn:
                    raise Refusal(404, "ResourceNotFoundException", "Profile not found")
                if state.args.role_arn and params.get("roleArn") != state.args.role_arn:
                    raise Refusal(403, "AccessDeniedException", "Unable to assume role: the profile does not allow it")
                duration = int(document.get("durationSeconds", 3600))
                if not 900 <= duration <= 43200:
                    raise Refusal(400, "ValidationException", "durationSeconds must be between 900 and 43200")
                session_name = document.get("roleSessionName") or str(leaf.serial_number)[:32]
                credentials = state.credentials(params["roleArn"], session_name, duration)
                entry["ok"] = True
                self.answer(201, {
                    "credentialSet": [{
                        "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/test/{session_name}",
                                            "assumedRoleId": "AROATEST:" + session_name},
                        "credentials": credentials, "packedPolicySize": 0, "roleArn": params["roleArn"],
                        "sourceIdentity": leaf.subject.rfc4514_string(),
                    }],
                    "subjectArn": f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:subject/test",
                })
            except Refusal as refusal:
                entry["error"] = refusal.message
                self.answer(refusal.status, {"__type": refusal.code, "message": refusal.message})
            except Exception as error:  # a bug here: say so rather than hang the test
                entry["error"] = f"{type(error).__name__}: {error}"
                self.answer(500, {"__type": "InternalServerException", "message": entry["error"]})
            finally:
                with state.lock:
                    state.log.append(entry)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file")
    parser.add_argument("--pki-dir", required=True)
    parser.add_argument("--moto-fixture")
    parser.add_argument("--trust-anchor-arn", default=TRUST_ANCHOR_ARN)
    parser.add_argument("--profile-arn", default=PROFILE_ARN)
    parser.add_argument("--role-arn", help="the only role the profile allows (default: any)")
    args = parser.parse_args()
    exit_with_parent()
    if not os.path.exists(os.path.join(args.pki_dir, "anchor-ca.pem")):
        make_pki(args.pki_dir)
    state = State(args)

    api = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state, tls=True))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(args.pki_dir, "tls", "server.pem"), os.path.join(args.pki_dir, "tls", "server.key"))
    api.socket = context.wrap_socket(api.socket, server_side=True)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    tmp = os.path.join(args.pki_dir, "tls-port.tmp")
    with open(tmp, "w") as f:
        f.write(str(api.server_address[1]))
    os.replace(tmp, os.path.join(args.pki_dir, "tls-port"))

    control = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state, tls=False))
    announce(control.server_address[1], args.port_file)
    control.serve_forever()


if __name__ == "__main__":
    main()
