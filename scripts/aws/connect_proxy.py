#!/usr/bin/env python3
"""A small forward HTTP proxy for tests: CONNECT tunnels (what AsyncHTTPClient uses for http and https
targets) and absolute-form requests. Records what it saw:

  GET /__proxy/log  (origin-form, sent to the proxy itself) -> {"connects": ["host:port", ...],
                                                               "forwards": ["GET http://...", ...],
                                                               "auth_failures": N}
  POST /__proxy/reset

--auth USER:PASSWORD requires Proxy-Authorization: Basic (407 otherwise).
Prints "LISTENING <port>" (and writes --port-file); exits when stdin closes unless --no-stdin-watch.
"""
import argparse
import base64
import json
import os
import select
import socket
import socketserver
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from _tooling import announce, exit_with_parent  # noqa: E402

LOCK = threading.Lock()
LOG = {"connects": [], "forwards": [], "auth_failures": 0}
AUTH = None


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 65536:
            return None, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def relay(a, b):
    socks = [a, b]
    try:
        while True:
            readable, _, _ = select.select(socks, [], [], 60)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return


def respond(sock, status, reason, body=b"", headers=()):
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"] + list(headers)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        head, rest = read_head(sock)
        if head is None:
            return
        lines = head.split("\r\n")
        method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if target.startswith("/__proxy/"):
            if target.startswith("/__proxy/reset"):
                with LOCK:
                    LOG["connects"].clear()
                    LOG["forwards"].clear()
                    LOG["auth_failures"] = 0
                return respond(sock, 200, "OK", b"{}", ["Content-Type: application/json"])
            with LOCK:
                body = json.dumps(LOG).encode()
            return respond(sock, 200, "OK", body, ["Content-Type: application/json"])
        if AUTH is not None:
            expected = "Basic " + base64.b64encode(AUTH.encode()).decode()
            if headers.get("proxy-authorization") != expected:
                with LOCK:
                    LOG["auth_failures"] += 1
                return respond(sock, 407, "Proxy Authentication Required", b"",
                               ['Proxy-Authenticate: Basic realm="test"'])
        if method.upper() == "CONNECT":
            host, _, port = target.rpartition(":")
            with LOCK:
                LOG["connects"].append(target)
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            except OSError:
                return respond(sock, 502, "Bad Gateway")
            sock.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            relay(sock, upstream)
            upstream.close()
            return
        # Absolute-form forwarding (one request per connection).
        url = urllib.parse.urlsplit(target)
        if not url.hostname:
            return respond(sock, 400, "Bad Request")
        with LOCK:
            LOG["forwards"].append(f"{method} {target}")
        length = int(headers.get("content-length") or 0)
        body = rest
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        out = [f"{method} {path} HTTP/1.1"]
        for line in lines[1:]:
            name = line.split(":", 1)[0].strip().lower()
            if name in ("proxy-authorization", "proxy-connection", "connection"):
                continue
            out.append(line)
        out.append("Connection: close")
        try:
            upstream = socket.create_connection((url.hostname, url.port or 80), timeout=10)
        except OSError:
            return respond(sock, 502, "Bad Gateway")
        upstream.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
        while True:
            data = upstream.recv(65536)
            if not data:
                break
            sock.sendall(data)
        upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global AUTH
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--auth")
    p.add_argument("--no-stdin-watch", action="store_true")
    args = p.parse_args()
    AUTH = args.auth
    server = Server(("127.0.0.1", args.port), Handler)
    exit_with_parent(not args.no_stdin_watch)
    announce(server.server_address[1], args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
