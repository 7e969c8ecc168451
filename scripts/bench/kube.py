"""A small, independent Kubernetes HTTP client for the benchmark driver (admin actions and watches).

It deliberately shares nothing with the Swift client under test: plain http.client over TLS, one
keep-alive connection per client, and a watch thread that stamps every event with time.monotonic()
the moment its line arrives.
"""
import base64
import http.client
import json
import os
import ssl
import tempfile
import threading
import time
import urllib.parse

import yaml


class KubeAccess:
    """Where a cluster is and how to authenticate: server URL, CA, bearer token or client certificate."""

    def __init__(self, server, ca_file=None, token=None, cert_file=None, key_file=None, insecure=False, temp_files=()):
        self.server = server.rstrip("/")
        self.ca_file = ca_file
        self.token = token
        self.cert_file = cert_file
        self.key_file = key_file
        self.insecure = insecure
        self.temp_files = list(temp_files)

    def remove_temp_files(self):
        """Removes the PEM files from_kubeconfig wrote for embedded data."""
        for path in self.temp_files:
            try:
                os.remove(path)
            except OSError:
                pass
        self.temp_files = []

    @staticmethod
    def from_kubeconfig(path, context=None):
        """Reads the current (or named) context of a kubeconfig; embedded CA/cert data go to temp files."""
        with open(path) as f:
            config = yaml.safe_load(f)
        name = context or config.get("current-context")
        ctx = next(c["context"] for c in config["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
        user = next((u["user"] for u in config.get("users", []) if u["name"] == ctx.get("user")), {}) or {}
        base = os.path.dirname(os.path.abspath(path))
        temp_files = []

        def material(data_key, file_key, holder):
            if holder.get(data_key):
                fd, tmp = tempfile.mkstemp(prefix="bench-kube-", suffix=".pem")
                with os.fdopen(fd, "wb") as out:
                    out.write(base64.b64decode(holder[data_key]))
                temp_files.append(tmp)
                return tmp
            if holder.get(file_key):
                return os.path.join(base, holder[file_key])
            return None

        token = user.get("token")
        if not token and user.get("tokenFile"):
            with open(os.path.join(base, user["tokenFile"])) as f:
                token = f.read().strip()
        return KubeAccess(
            server=cluster["server"],
            ca_file=material("certificate-authority-data", "certificate-authority", cluster),
            token=token,
            cert_file=material("client-certificate-data", "client-certificate", user),
            key_file=material("client-key-data", "client-key", user),
            insecure=bool(cluster.get("insecure-skip-tls-verify")),
            temp_files=temp_files,
        )

    def write_token_kubeconfig(self, path, token, name="bench-helper"):
        """A kubeconfig for this server (same CA and TLS settings) that authenticates with `token` only."""
        cluster = {"server": self.server}
        if self.ca_file:
            with open(self.ca_file, "rb") as f:
                cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
        if self.insecure:
            cluster["insecure-skip-tls-verify"] = True
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "bench", "cluster": cluster}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": name}}],
            "current-context": "bench",
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(config, f, default_flow_style=False)

    def ssl_context(self):
        if not self.server.startswith("https://"):
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def connection(self, timeout=30):
        url = urllib.parse.urlsplit(self.server)
        if url.scheme == "https":
            return http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=timeout, context=self.ssl_context())
        return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)

    def headers(self, content_type=None):
        headers = {"Accept": "application/json", "User-Agent": "bench-driver"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        if content_type:
            headers["Content-Type"] = content_type
        return headers


class KubeError(Exception):
    pass


class Kube:
    """Blocking requests on one keep-alive connection (reconnects once when the server closed it)."""

    def __init__(self, access):
        self.access = access
        self.conn = None
        self.lock = threading.Lock()

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, content_type="application/json", ok=(200, 201)):
        status, payload = self.raw(method, path, body, content_type, ok)
        return status, (json.loads(payload) if payload else None)

    def raw(self, method, path, body=None, content_type="application/json", ok=(200, 201)):
        """Like request, but the answer's bytes undecoded (e.g. GET /metrics)."""
        data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
        with self.lock:
            for attempt in (1, 2):
                if self.conn is None:
                    self.conn = self.access.connection()
                try:
                    self.conn.request(method, path, body=data, headers=self.access.headers(content_type if data is not None else None))
                    response = self.conn.getresponse()
                    payload = response.read()
                    break
                except (http.client.HTTPException, ConnectionError, OSError):
                    self.close()
                    if attempt == 2:
                        raise
        if ok and response.status not in ok:
            raise KubeError("%s %s -> %d %s" % (method, path, response.status, payload[:300].decode(errors="replace")))
        return response.status, payload

    def get(self, path):
        return self.request("GET", path)[1]


class SecretWatch:
    """Watches one secret name across all namespaces and records when each event arrives.

    waiter(namespace, kinds) -> a threading.Event set (with .at = arrival time) when the next event of one
    of `kinds` for that namespace arrives after the waiter was registered.
    """

    def __init__(self, access, secret_name, resource_version=None):
        self.access = access
        query = {"watch": "true", "fieldSelector": "metadata.name=" + secret_name}
        if resource_version:
            query["resourceVersion"] = resource_version
        self.path = "/api/v1/secrets?" + urllib.parse.urlencode(query)
        self.lock = threading.Lock()
        self.waiters = {}
        self.events = 0
        self.error = None
        self.conn = access.connection(timeout=None)
        self.conn.request("GET", self.path, headers=self.access.headers())
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise KubeError("watch %s -> %d %s" % (self.path, self.response.status, self.response.read()[:300]))
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def waiter(self, namespace, kinds=("ADDED", "MODIFIED")):
        event = threading.Event()
        event.at = None
        with self.lock:
            self.waiters.setdefault(namespace, []).append((set(kinds), event))
        return event

    def _loop(self):
        try:
            while True:
                line = self.response.readline()
                if not line:
                    return
                at = time.monotonic()
                line = line.strip()
                if not line:
                    continue
                event = json.loads(line)
                kind = event.get("type")
                namespace = ((event.get("object") or {}).get("metadata") or {}).get("namespace")
                with self.lock:
                    self.events += 1
                    pending = self.waiters.get(namespace)
                    if not pending:
                        continue
                    keep = []
                    for kinds, waiter in pending:
                        if kind in kinds:
                            waiter.at = at
                            waiter.set()
                        else:
                            keep.append((kinds, waiter))
                    self.waiters[namespace] = keep
        except Exception as error:  # the stream was closed under us (stop) or the server went away
            self.error = error

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except Exception:
            pass
        self.conn.close()
