"""Shared bits of the loopback test tools: port reporting and exit when the parent (the test) goes away."""
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
