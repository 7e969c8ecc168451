"""A tiny counting HTTP proxy in front of moto: every AWS call the helper makes passes through it, so the
benchmark counts them (by X-Amz-Target / Action) and knows how long each took, on the driver's clock.

Requests are forwarded byte for byte (Host header included, so SigV4 signatures stay valid).
"""
import http.client
import http.server
import threading
import time
import urllib.parse


class AWSCall:
    def __init__(self, action, started, finished, status):
        self.action = action
        self.started = started
        self.finished = finished
        self.status = status

    @property
    def seconds(self):
        return self.finished - self.started


class CountingProxy:
    def __init__(self, upstream):
        url = urllib.parse.urlsplit(upstream)
        self.upstream_host, self.upstream_port = url.hostname, url.port or 80
        self.calls = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                started = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    upstream.putheader(name, value)
                upstream.endheaders(body)
                response = upstream.getresponse()
                payload = response.read()
                upstream.close()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                action = self.headers.get("X-Amz-Target") or ""
                if not action and body:
                    form = urllib.parse.parse_qs(body.decode(errors="replace"))
                    action = (form.get("Action") or [""])[0]
                action = action.split(".")[-1] or "%s %s" % (self.command, self.path)
                with proxy.lock:
                    proxy.calls.append(AWSCall(action, started, time.monotonic(), response.status))

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        with self.lock:
            self.calls = []

    def snapshot(self):
        with self.lock:
            return list(self.calls)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
