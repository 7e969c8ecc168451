#!/usr/bin/env python3
"""A fault-injecting reverse proxy for AWS-on-loopback tests (stdlib only; botocore only for --sign-unsigned).

Forwards every request to --upstream (moto) unchanged, Host header included, so SigV4 signatures still
verify. Control endpoints (never forwarded):

  POST /__fault/rules   {"rules": [RULE, ...]}   append rules
  POST /__fault/clock   {"offset": 3600}         act as an AWS whose clock is `offset` seconds ahead: requests
                                                 whose X-Amz-Date is more than 5 minutes off get the error AWS
                                                 sends (JSON InvalidSignatureException or XML SignatureDoesNotMatch
                                                 "Signature expired"), and every Date header is shifted
  POST /__fault/reset                            drop rules, clock offset and the log
  GET  /__fault/log                              {"requests": [{method, path, target, action, service, host,
                                                   authorized, signed_by_proxy, x_amz_date, security_token, status,
                                                   fault, web_identity_token}, ...]}
                                                 (service: from the Authorization credential scope; fault: null when
                                                 forwarded, else "status", "drop" or "skew")

RULE = {"match": {"target": "substring of X-Amz-Target", "action": "STS Action", "service": "ecr"},  # all optional
        "times": 1,                                   # how many matching requests it applies to (default 1)
        "status": 400, "headers": {...}, "body": "...",  # answer with this instead of forwarding, or
        "drop": true,                                 # close the connection without an answer, or
        "delay": 0.5,                                 # wait, then carry on (forward or answer), or
        "expires_in": 43200}                          # forward, then set every expiresAt of the answer to now +
                                                      # that many seconds (moto sends a fixed past expiry; a
                                                      # demo of refresh-from-expiry needs a real one)

--sign-unsigned FIXTURE.json: sign unsigned requests (AssumeRoleWithWebIdentity, which AWS accepts unsigned but
moto with signature checking on cannot handle) with the fixture's "allowed" keys before forwarding; the log
marks them signed_by_proxy. --tls-cert/--tls-key serve HTTPS.

Prints "LISTENING <port>" (and writes --port-file); exits when stdin closes unless --no-stdin-watch.
"""
import argparse
import datetime
import email.utils
import http.client
import http.server
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, __import__("os").path.dirname(__file__))
from _tooling import announce, exit_with_parent  # noqa: E402

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "content-length", "date", "server",
}

REQUEST_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade",
}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.log = []
        self.clock_offset = 0.0

    def reset(self):
        with self.lock:
            self.rules, self.log, self.clock_offset = [], [], 0.0


STATE = State()
OPTIONS = None
SIGNING_KEYS = None


def service_of(headers):
    auth = headers.get("Authorization", "")
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        return scope.split("/")[3]
    except (IndexError, ValueError):
        return None


def form_action(body, content_type):
    if "x-www-form-urlencoded" not in (content_type or ""):
        return None
    try:
        return urllib.parse.parse_qs(body.decode("utf-8")).get("Action", [None])[0]
    except Exception:
        return None


def form_param(body, content_type, name):
    if "x-www-form-urlencoded" not in (content_type or ""):
        return None
    try:
        return urllib.parse.parse_qs(body.decode("utf-8")).get(name, [None])[0]
    except Exception:
        return None


def http_date(offset):
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def amz(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, headers, body, date_offset=0.0, keep_date=False):
        """keep_date: a rule's own Date header is sent as given (e.g. to fake a skewed AWS clock)."""
        self.send_response_only(status)
        given_date = [v for k, v in headers if k.lower() == "date"] if keep_date else []
        self.send_header("Date", given_date[0] if given_date else http_date(date_offset))
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _json(self, obj, status=200):
        self._send(status, [("Content-Type", "application/json")], json.dumps(obj).encode())

    def do_GET(self):
        if self.path.startswith("/__fault/log"):
            with STATE.lock:
                return self._json({"requests": list(STATE.log)})
        return self.handle_any("GET")

    def do_POST(self):
        if self.path.startswith("/__fault/"):
            body = self._body()
            data = json.loads(body or b"{}")
            if self.path.startswith("/__fault/rules"):
                with STATE.lock:
                    for rule in data.get("rules", []):
                        rule.setdefault("times", 1)
                        STATE.rules.append(rule)
                return self._json({"ok": True})
            if self.path.startswith("/__fault/clock"):
                with STATE.lock:
                    STATE.clock_offset = float(data.get("offset", 0))
                return self._json({"ok": True})
            if self.path.startswith("/__fault/reset"):
                STATE.reset()
                return self._json({"ok": True})
            return self._json({"error": "unknown control path"}, 404)
        return self.handle_any("POST")

    def do_PUT(self):
        return self.handle_any("PUT")

    def do_DELETE(self):
        return self.handle_any("DELETE")

    def handle_any(self, method):
        body = self._body()
        headers = self.headers
        target = headers.get("X-Amz-Target")
        action = form_action(body, headers.get("Content-Type"))
        service = service_of(headers)
        entry = {
            "method": method, "path": self.path, "target": target, "action": action, "service": service,
            "host": headers.get("Host"), "authorized": "Authorization" in headers, "signed_by_proxy": False,
            "x_amz_date": headers.get("X-Amz-Date"), "security_token": "X-Amz-Security-Token" in headers,
            "status": None, "fault": None,
            # Test tokens only: lets a test check that the token file is re-read for every call.
            "web_identity_token": form_param(body, headers.get("Content-Type"), "WebIdentityToken"),
        }
        with STATE.lock:
            STATE.log.append(entry)
            offset = STATE.clock_offset
            rule = None
            for r in STATE.rules:
                m = r.get("match", {})
                if r["times"] <= 0:
                    continue
                if "target" in m and m["target"] not in (target or ""):
                    continue
                if "action" in m and m["action"] != action:
                    continue
                if "service" in m and m["service"] != service:
                    continue
                r["times"] -= 1
                rule = r
                break

        if rule is not None:
            if rule.get("delay"):
                time.sleep(float(rule["delay"]))
            if rule.get("drop"):
                entry["fault"] = "drop"
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if "status" in rule:
                entry["fault"] = "status"
                entry["status"] = int(rule["status"])
                rbody = rule.get("body", "")
                rbody = rbody.encode() if isinstance(rbody, str) else json.dumps(rbody).encode()
                return self._send(int(rule["status"]), list(rule.get("headers", {}).items()), rbody, offset, keep_date=True)

        if offset:
            server_now = time.time() + offset
            sent = headers.get("X-Amz-Date")
            try:
                sent_ts = datetime.datetime.strptime(sent, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
            except (TypeError, ValueError):
                sent_ts = None
            if sent_ts is not None and abs(sent_ts - server_now) > 300:
                entry["fault"] = "skew"
                entry["status"] = 400 if "json" in (headers.get("Content-Type") or "") else 403
                if sent_ts < server_now:
                    msg = f"Signature expired: {sent} is now earlier than {amz(server_now - 300)} ({amz(server_now)} - 5 min.)"
                else:
                    msg = f"Signature not yet current: {sent} is still later than {amz(server_now + 300)} ({amz(server_now)} + 5 min.)"
                if "json" in (headers.get("Content-Type") or ""):
                    payload = json.dumps({"__type": "InvalidSignatureException", "message": msg}).encode()
                    return self._send(400, [("Content-Type", "application/x-amz-json-1.1"),
                                            ("x-amzn-ErrorType", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"),
                                            ("x-amzn-RequestId", "fault-proxy-skew")], payload, offset)
                payload = (
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                    f"<Code>SignatureDoesNotMatch</Code><Message>{msg}</Message></Error>"
                    "<RequestId>fault-proxy-skew</RequestId></ErrorResponse>"
                ).encode()
                return self._send(403, [("Content-Type", "text/xml")], payload, offset)

        out_headers = [(k, v) for k, v in headers.items() if k.lower() not in REQUEST_HOP_BY_HOP]
        if SIGNING_KEYS and "Authorization" not in headers:
            out_headers = self._sign(method, body, out_headers)
            entry["signed_by_proxy"] = True
        try:
            status, resp_headers, resp_body = forward(method, self.path, out_headers, body)
        except OSError as e:
            entry["status"] = 502
            return self._send(502, [("Content-Type", "text/plain")], f"upstream error: {e}".encode(), offset)
        entry["status"] = status
        if rule is not None and "expires_in" in rule and status == 200:
            resp_body = with_expiry(resp_body, time.time() + float(rule["expires_in"]))
            entry["fault"] = "expires_in"
        return self._send(status, resp_headers, resp_body, offset)

    def _sign(self, method, body, out_headers):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        host = dict((k.lower(), v) for k, v in out_headers).get("host", "localhost")
        req = AWSRequest(method=method, url=f"http://{host}{self.path}", data=body,
                         headers={k: v for k, v in out_headers if k.lower() not in ("host", "content-length")})
        req.headers["Host"] = host
        SigV4Auth(Credentials(*SIGNING_KEYS), "sts", "us-east-1").add_auth(req)
        result = [(k, v) for k, v in req.headers.items()]
        result.append(("Content-Length", str(len(body))))
        return result


def with_expiry(body, expires_at):
    """An ECR GetAuthorizationToken answer with every expiresAt set to `expires_at` (as AWS writes it)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    for entry in data.get("authorizationData", []) if isinstance(data, dict) else []:
        entry["expiresAt"] = round(expires_at, 3)
    return json.dumps(data).encode()


def forward(method, path, headers, body):
    up = urllib.parse.urlsplit(OPTIONS.upstream)
    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheaders(), data
    finally:
        conn.close()


def main():
    global OPTIONS, SIGNING_KEYS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--sign-unsigned", metavar="FIXTURE_JSON")
    p.add_argument("--no-stdin-watch", action="store_true")
    OPTIONS = p.parse_args()
    if OPTIONS.sign_unsigned:
        with open(OPTIONS.sign_unsigned) as f:
            allowed = json.load(f)["allowed"]
        SIGNING_KEYS = (allowed["accessKeyId"], allowed["secretAccessKey"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", OPTIONS.port), Handler)
    server.daemon_threads = True
    if OPTIONS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(OPTIONS.tls_cert, OPTIONS.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    exit_with_parent(not OPTIONS.no_stdin_watch)
    announce(server.server_address[1], OPTIONS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
