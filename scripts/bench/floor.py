"""The fan-out floor: N server-side applies of the helper's Secret sent by wrk (C, epoll, OpenSSL), with a
count-based Lua script (floor.lua), so the floor is a measured time until all N namespaces hold the secret
(N answers 201 Created), not N divided by a rate."""
import os
import signal
import subprocess
import time

LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor.lua")


def run_floor(url, token, names, body_template, secret_name, concurrency, workdir, timeout=120):
    names_file = os.path.join(workdir, "floor-names.txt")
    body_file = os.path.join(workdir, "floor-body.json")
    out_file = os.path.join(workdir, "floor.out")
    with open(names_file, "w") as f:
        f.write("\n".join(names) + "\n")
    with open(body_file, "w") as f:
        f.write(body_template)
    if os.path.exists(out_file):
        os.remove(out_file)
    env = dict(os.environ, FLOOR_NAMES=names_file, FLOOR_BODY=body_file, FLOOR_SECRET=secret_name,
               FLOOR_TOKEN=token or "", FLOOR_OUT=out_file)
    connections = max(1, min(concurrency, len(names)))
    with open(os.path.join(workdir, "wrk.out"), "wb") as log:
        spawned = time.monotonic()
        process = subprocess.Popen(
            ["wrk", "-t1", "-c%d" % connections, "-d%ds" % timeout, "--timeout", "30s", "-s", LUA, url],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = spawned + timeout
        result = None
        while time.monotonic() < deadline:
            if os.path.exists(out_file):
                with open(out_file) as f:
                    text = f.read().split()
                if len(text) == 5:
                    result = text
                    break
            if process.poll() is not None:
                break
            time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0
    if result is None:
        raise RuntimeError("wrk did not finish %d writes within %ss (see %s/wrk.out)" % (len(names), timeout, workdir))
    first, end, done, bad, created = float(result[0]), float(result[1]), int(result[2]), int(result[3]), int(result[4])
    return {
        "connections": connections, "total": end - spawned, "writes": end - first, "done": done, "bad": bad,
        "created": created,
        "cpu": usage.ru_utime + usage.ru_stime, "body_bytes": len(body_template) - len("@@NS@@") + len(names[0]),
    }
