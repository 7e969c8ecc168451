"""The fleet scenario (issue 16): one `run` serving many stand-in clusters through CLUSTERS_DIR, with no
cluster of its own (docs/fleet.md: it then serves the fleet alone).

Each cluster is a kube-test-server of its own (release build, TLS, RBAC, the helper's token), holding
namespaces bench-0..bench-(size-1); its helper kubeconfig (CA embedded) is copied into the clusters folder as
cNN.yaml, so the cluster is named cNN. The helper watches NAMESPACES=bench-* in every cluster.

Measured, for the small fleet and the full one (a fresh set of servers each):
- first full pass: spawn to the last cluster's first `sync complete` log line (the line `run` scenarios
  already use), then checked by listing every cluster's secrets; the helper's CPU seconds (/proc) then;
- memory: VmHWM, and VmRSS / RssAnon idle (5 s after the pass, after serving /readyz and /metrics once);
- AWS calls through the counting proxy (one GetAuthorizationToken for the whole fleet, one region).
Full fleet only, reaction while the others are busy: each round creates `burst` namespaces in every other
cluster at once (one /_test/namespaces request each, sent in parallel: the helper must write a secret into
each), then one namespace in the quiet cluster (POST /api/v1/namespaces); latency is from that POST's answer
to its secret's ADDED event on a watch of that cluster. The round ends when every busy cluster holds its new
secrets (that time is reported too: how long the others stayed busy)."""
import concurrent.futures
import os
import re
import shutil
import subprocess
import time

from helper import RunningHelper, free_port
from kube import SecretWatch
from targets import SECRET_NAME, StandIn, cpu_seconds

CLUSTER = re.compile(r"cluster=(\S+)")


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(next(line for line in f if line.startswith("Threads:")).split()[1])


def percentile(values, p):
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


class Fleet:
    def __init__(self, bench):
        self.bench = bench
        self.args = bench.args
        self.workdir = bench.workdir
        self.binary = os.path.join(self.args.bin_dir, "kube-test-server")
        self.servers = []

    def log(self, message):
        print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True, file=__import__("sys").stderr)

    # ------------------------------------------------------------ servers

    def start(self, indices, size):
        """A fresh server (size namespaces) for each index, started 8 at a time."""
        def one(i):
            while len(self.servers) <= i:
                self.servers.append(None)
            if self.servers[i] is None:
                folder = os.path.join(self.workdir, "fleet-server-%02d" % i)
                os.makedirs(folder, exist_ok=True)
                self.servers[i] = StandIn(self.binary, folder)
            self.servers[i].fresh(size)
        for i in indices:  # grow the list first (threads only fill their own slot)
            while len(self.servers) <= i:
                self.servers.append(None)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(one, indices))

    def stop_servers(self):
        for server in self.servers:
            if server:
                server.cleanup()

    def secret_counts(self, indices):
        def count(i):
            listing = self.servers[i].kube.get("/api/v1/secrets?fieldSelector=metadata.name=" + SECRET_NAME)
            return len(listing["items"])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            return dict(zip(indices, pool.map(count, indices)))

    # ------------------------------------------------------------ the helper

    def spawn(self, indices, label):
        clusters = os.path.join(self.workdir, "clusters-%s" % label)
        os.makedirs(clusters, exist_ok=True)
        for i in indices:
            shutil.copy(self.servers[i].helper_kubeconfig, os.path.join(clusters, "c%02d.yaml" % i))
        config = os.path.join(self.workdir, "fleet-config-%s" % label)
        os.makedirs(config, exist_ok=True)
        with open(os.path.join(config, "NAMESPACES"), "w") as f:
            f.write("bench-*\n")
        with open(os.path.join(config, "SECRET_NAME"), "w") as f:
            f.write(SECRET_NAME + "\n")
        home = os.path.join(self.workdir, "fleet-home")  # no ~/.kube/config: no own cluster
        os.makedirs(home, exist_ok=True)
        env = dict(self.bench.helper.env, HOME=home, HTTP_PORT=str(free_port()))
        log_path = os.path.join(config, "run.log")
        log = open(log_path, "wb")
        spawned = time.monotonic()
        process = subprocess.Popen([os.path.join(self.args.bin_dir, "aws-ecr-cred-helper"), "run", "--config-dir", config,
                                    "--aws-config-dir", self.bench.helper.aws_dir, "--clusters-dir", clusters],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        return RunningHelper(process, log_path, spawned, int(env["HTTP_PORT"]))

    def first_pass(self, running, clusters, timeout=600):
        """Polls the log (20 ms) until every cluster logged its first `sync complete`; returns (seconds from
        spawn, CPU seconds then, the largest VmRSS seen, failures logged)."""
        deadline = time.monotonic() + timeout
        peak = 0
        while True:
            try:
                peak = max(peak, running.memory().get("VmRSS", 0))
            except OSError:
                pass
            with open(running.log_path, errors="replace") as f:
                lines = [line for line in f if "sync complete" in line]
            done = {m.group(1) for line in lines if "with failures" not in line for m in [CLUSTER.search(line)] if m}
            if len(done) >= clusters:
                at = time.monotonic()
                cpu = cpu_seconds(running.process.pid)
                return at - running.spawned, cpu, max(peak, running.memory()["VmRSS"]), sum("with failures" in l for l in lines)
            if running.process.poll() is not None:
                raise RuntimeError("helper exited (%s); log: %s" % (running.process.returncode, running.tail()))
            if time.monotonic() > deadline:
                raise RuntimeError("only %d of %d clusters synced within %ss; log: %s" % (len(done), clusters, timeout, running.tail()))
            time.sleep(0.02)

    def measure(self, indices, label, size, react=False):
        proxy = self.bench.proxy
        proxy.reset()
        running = self.spawn(indices, label)
        row = {"clusters": len(indices), "size": size}
        try:
            first, cpu, peak, failures = self.first_pass(running, len(indices))
            counts = self.secret_counts(indices)
            present = sum(counts.values())
            calls_first = [c.action for c in proxy.snapshot()]
            time.sleep(5)
            ready, _ = running.scrape("/readyz")
            metrics, _ = running.scrape("/metrics")
            time.sleep(0.5)
            idle = running.memory()
            row.update(first_pass=first, cpu_first_pass=cpu, peak_rss_seen_kb=peak, failures_logged=failures,
                       present=present, expected=len(indices) * size, aws_first_pass=calls_first,
                       hwm_kb=idle["VmHWM"], rss_kb=idle["VmRSS"], anon_kb=idle.get("RssAnon"), file_kb=idle.get("RssFile"),
                       ready=ready, metrics=metrics, cpu_idle=cpu_seconds(running.process.pid),
                       threads=threads(running.process.pid))
            self.bench.check(present == len(indices) * size, "fleet %s: %d of %d secrets present after the first pass"
                             % (label, present, len(indices) * size))
            self.bench.check(ready == 200 and metrics == 200, "fleet %s: /readyz %s, /metrics %s" % (label, ready, metrics))
            self.log("fleet %s (%d clusters x %d ns): first pass %.2fs, CPU %.2fs, %d/%d present, VmHWM %d kB, idle VmRSS %d kB "
                     "(anon %s kB), AWS calls %s" % (label, len(indices), size, first, cpu, present, len(indices) * size,
                                                     idle["VmHWM"], idle["VmRSS"], idle.get("RssAnon"), calls_first))
            if react:
                row["reaction"] = self.reaction(indices, size)
                after = running.memory()
                row.update(hwm_after_kb=after["VmHWM"], rss_after_kb=after["VmRSS"], anon_after_kb=after.get("RssAnon"))
            calls = [c.action for c in proxy.snapshot()]
            row["aws_calls"] = calls
            self.bench.check(calls == ["GetAuthorizationToken"], "fleet %s: AWS calls %s (one token fetch expected)" % (label, calls))
        finally:
            row["sigterm_to_exit"] = running.stop()
        return row

    # ------------------------------------------------------------ reaction while the others are busy

    def reaction(self, indices, size):
        rounds, burst = self.args.fleet_events, self.args.fleet_burst
        expected = {i: size for i in indices}
        latencies, busy, missed = [], [], 0
        for r in range(rounds):
            quiet = indices[(r * 7) % len(indices)]
            others = [i for i in indices if i != quiet]
            server = self.servers[quiet]
            listing = server.kube.get("/api/v1/secrets?fieldSelector=metadata.name=" + SECRET_NAME)
            watch = SecretWatch(server.admin, SECRET_NAME, listing["metadata"].get("resourceVersion"))
            name = "bench-event-%d" % r
            seen = watch.waiter(name, ("ADDED",))
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda i: self.servers[i].kube.request(
                    "POST", "/_test/namespaces?count=%d&prefix=bench-r%d-" % (burst, r)), others))
            server.kube.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            answered = time.monotonic()
            latency = seen.at - answered if seen.wait(30) else None
            if latency is None:
                missed += 1
            else:
                latencies.append(latency)
            watch.close()
            expected[quiet] += 1
            for i in others:
                expected[i] += burst
            deadline = time.monotonic() + 120
            while True:
                counts = self.secret_counts(indices)
                if all(counts[i] >= expected[i] for i in indices) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            settled = time.monotonic()
            lagging = [i for i in indices if counts[i] < expected[i]]
            self.bench.check(not lagging, "fleet reaction round %d: clusters %s still missing secrets after 120 s" % (r, lagging))
            busy.append(settled - started)
            self.log("fleet reaction round %d: cluster c%02d's new namespace served in %s ms; the %d others' %d new "
                     "namespaces served after %.2f s" % (r, quiet, "%.1f" % (latency * 1e3) if latency is not None else "-",
                                                         len(others), burst * len(others), settled - started))
        self.bench.check(missed == 0, "fleet reaction: %d of %d events not served within 30 s" % (missed, rounds))
        result = {"rounds": rounds, "burst": burst, "missed": missed, "busy_s": busy}
        if latencies:
            result.update(p50=percentile(latencies, 50), p99=percentile(latencies, 99), max=max(latencies),
                          busy_p50=percentile(busy, 50), latencies=latencies)
        return result

    # ------------------------------------------------------------ driver

    def run(self):
        small, full, size = self.args.fleet_small, self.args.fleet_clusters, self.args.fleet_size
        rows = []
        try:
            started = time.monotonic()
            self.start(range(full), size)
            self.log("fleet: %d stand-in servers of %d namespaces started in %.1f s" % (full, size, time.monotonic() - started))
            rows.append(self.measure(list(range(small)), "small", size))
            self.start(range(small), size)  # fresh again: the full fleet's first pass writes every secret
            rows.append(self.measure(list(range(full)), "full", size, react=True))
        finally:
            self.stop_servers()
        return {"runs": rows}
