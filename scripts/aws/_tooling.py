"""Shared bits of the loopback test tools: port reporting and exit when the parent (the test) goes away; the
signing oracles' request loop and what they record."""
import json
import os
import sys
import threading


def announce(port, port_file):
    """Report the listening port: one line on stdout, and (atomically) in port_file if given."""
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, port_file)
    print(f"LISTENING {port}", flush=True)


def exit_with_parent(enabled=True):
    """Exit as soon as stdin reaches EOF: the test that started us holds the write end; if it dies, we go."""
    if not enabled:
        return

    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def recorded(signer, request):
    """What a recording signer saw for one request: the values a differential test compares."""
    return {
        "canonical_request": signer.recorded_canonical_request,
        "string_to_sign": signer.recorded_string_to_sign,
        "signature": signer.recorded_signature,
        "authorization": request.headers["Authorization"],
        "headers": [[k, v] for k, v in request.headers.items()],
    }


def sign_each(sign, version_field, version):
    """An oracle's main: {"requests": [...]} on stdin, one result (or its error) per request on stdout."""
    payload = json.load(sys.stdin)
    results = []
    for spec in payload["requests"]:
        try:
            results.append(sign(spec))
        except Exception as e:  # report per request, keep going
            results.append({"error": f"{type(e).__name__}: {e}"})
    json.dump({version_field: version, "results": results}, sys.stdout)
