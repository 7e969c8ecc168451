"""Benchmark driver for aws-ecr-cred-helper (run it through scripts/bench.sh, which builds the release
binaries, starts moto and passes the paths).

Scenarios: fan-out (sync into N namespaces vs an independent wrk floor), steady state (a second sync, a
resync in `run`), reaction (new namespace / deleted secret -> secret present, seen by a watch), footprint
(peak RSS idle with 10 namespaces and watching thousands, stripped binary size) and startup.
Targets: the stand-in (kube-test-server, default), a real kube-apiserver of the driver's own (--envtest
ROOT: scripts/envtest.sh, a fresh server per measurement) or a real cluster (--kubeconfig).
Results: a markdown block written between markers into the output file (the stand-in and real-server
blocks are separate, and a side-by-side block is rebuilt from both; analysis outside the markers is kept)
and a JSON file beside the work folder.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awsproxy import CountingProxy  # noqa: E402
from fleet import Fleet  # noqa: E402
from floor import run_floor  # noqa: E402
from helper import Helper  # noqa: E402
from kube import SecretWatch  # noqa: E402
from targets import APF_FLAGS, SECRET_NAME, Envtest, RealCluster, StandIn  # noqa: E402

def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def count_requests(requests):
    if requests is None:
        return None
    counts = {"apply": 0, "apply_created": 0, "other_writes": 0, "reads": 0, "errors": 0, "detail": {}}
    per_namespace = {}
    for r in requests:
        if r["method"] == "PATCH":
            per_namespace[r.get("namespace")] = per_namespace.get(r.get("namespace"), 0) + 1
        key = "%s %s %s" % (r["method"], r.get("verb", ""), r.get("resource", ""))
        counts["detail"][key] = counts["detail"].get(key, 0) + 1
        if r["status"] >= 400 or r["status"] == 0:
            counts["errors"] += 1
        if r["method"] == "PATCH" and (r.get("contentType") or "").startswith("application/apply-patch"):
            counts["apply"] += 1
            if r["status"] == 201:
                counts["apply_created"] += 1
        elif r["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            counts["other_writes"] += 1
        else:
            counts["reads"] += 1
    repeated = sorted(ns for ns, n in per_namespace.items() if n > 1)
    # A real server's counters (apiserver_request_total) do not say which namespace a request was for.
    counts["namespaces_written_twice"] = None if requests and not any("namespace" in r for r in requests) else len(repeated)
    counts["namespaces_written_twice_sample"] = repeated[:5]
    return counts


def apply_body_template(kube, namespace):
    """The Secret the helper wrote, as an apply body with the namespace left as a placeholder."""
    secret = kube.get("/api/v1/namespaces/%s/secrets/%s" % (namespace, SECRET_NAME))
    meta = secret["metadata"]
    body = {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": "@@NS@@", "labels": meta.get("labels", {}),
                     "annotations": meta.get("annotations", {})},
        "type": secret["type"], "data": secret["data"],
    }
    return json.dumps(body, separators=(",", ":"))


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="ecr-helper-bench.")
        self.proxy = CountingProxy(os.environ["MOTO_ENDPOINT"])
        if args.envtest:
            self.target = Envtest(args.envtest, self.workdir)
        elif args.kubeconfig:
            self.target = RealCluster(args.kubeconfig, args.context, args.prefix, self.workdir, args.helper_kubeconfig)
        else:
            self.target = StandIn(os.path.join(args.bin_dir, "kube-test-server"), self.workdir)
        self.helper = Helper(os.path.join(args.bin_dir, "aws-ecr-cred-helper"), self.target, self.proxy.url,
                             os.environ["MOTO_FIXTURE"], self.workdir)
        self.results = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "quick": args.quick}
        self.body_template = None
        self.problems = []

    def check(self, ok, message):
        if not ok:
            self.problems.append(message)
            log("CHECK FAILED: " + message)

    def prewarm_moto(self):
        """moto imports its ECR backend on the first call; do that before anything is timed."""
        import boto3
        with open(os.environ["MOTO_FIXTURE"]) as f:
            fixture = json.load(f)
        client = boto3.client("ecr", endpoint_url=os.environ["MOTO_ENDPOINT"], region_name=fixture["region"],
                              aws_access_key_id=fixture["allowed"]["accessKeyId"],
                              aws_secret_access_key=fixture["allowed"]["secretAccessKey"])
        started = time.monotonic()
        client.get_authorization_token()
        self.results["moto_first_call_s"] = time.monotonic() - started
        started = time.monotonic()
        client.get_authorization_token()
        self.results["moto_warm_call_s"] = time.monotonic() - started

    # ---------------------------------------------------------------- fan-out and steady state (sync)

    def calibrate_floor(self):
        size = min(self.args.calibration_size, max(self.args.sizes))
        levels = {}
        for concurrency in self.args.floor_concurrency:
            for _ in range(self.args.calibration_reps):
                batch = self.target.fresh(size, "cal")
                result = run_floor(self.target.url, self.target.helper_token, batch.names, self.body_template,
                                   SECRET_NAME, concurrency, self.workdir)
                levels.setdefault(concurrency, []).append(result["total"])
        best = min(levels, key=lambda c: statistics.median(levels[c]))
        self.results["calibration"] = {"size": size, "levels": levels, "best": best}
        log("floor calibration at N=%d: %s -> best concurrency %d" % (
            size, ", ".join("c=%d %.3fs" % (c, statistics.median(v)) for c, v in levels.items()), best))
        return best

    def fanout(self):
        sizes = self.args.sizes
        # One small sync first, to have the helper's real Secret as the floor's body.
        batch = self.target.fresh(1, "body")
        self.helper.sync(batch.names)
        self.body_template = apply_body_template(self.target.kube, batch.names[0])
        best = self.calibrate_floor() if self.target.helper_token else None
        rows = {n: [] for n in sizes}
        for rep in range(max(self.args.reps_for(n) for n in sizes)):
            for n in sizes:
                if rep >= self.args.reps_for(n):
                    continue
                rows[n].append(self.fanout_once(n, best))
                r = rows[n][-1]
                log("fan-out N=%d rep %d: helper %.3fs (AWS %.3fs) floor %s  applies %s  2nd sync applies %s" % (
                    n, rep + 1, r["helper"]["wall"], r["aws_seconds"],
                    "%.3fs" % r["floor"]["total"] if r["floor"] else "n/a", r["requests"] and r["requests"]["apply"],
                    r["second_requests"] and r["second_requests"]["apply"]))
        self.results["fanout"] = rows

    def fanout_once(self, n, floor_concurrency):
        target, proxy = self.target, self.proxy
        batch = target.fresh(n, "fan")
        target.reset_requests()
        proxy.reset()
        cpu0 = target.cpu()
        first = self.helper.sync(batch.names)
        cpu1 = target.cpu()
        requests = count_requests(target.requests())
        calls = proxy.snapshot()
        self.check(first["exit"] == 0, "sync N=%d exited %s (%s)" % (n, first["exit"], first["log"]))
        self.check(first["outcomes"].get("written") == n, "sync N=%d outcomes %s" % (n, first["outcomes"]))
        if requests:
            self.check(requests["apply"] == n, "sync N=%d sent %d applies" % (n, requests["apply"]))
        ecr_calls = [c for c in calls if c.action == "GetAuthorizationToken"]
        self.check(len(ecr_calls) == 1 and len(calls) == 1, "sync N=%d made AWS calls %s" % (n, [c.action for c in calls]))

        target.reset_requests()
        proxy.reset()
        second = self.helper.sync(batch.names)
        second_requests = count_requests(target.requests())
        self.check(second["outcomes"].get("unchanged") == n, "second sync N=%d outcomes %s" % (n, second["outcomes"]))
        if second_requests:
            self.check(second_requests["apply"] == 0, "second sync N=%d sent %d applies" % (n, second_requests["apply"]))

        floor = None
        if floor_concurrency:
            fbatch = target.fresh(n, "floor")
            target.reset_requests()
            fcpu0 = target.cpu()
            floor = run_floor(target.url, target.helper_token, fbatch.names, self.body_template, SECRET_NAME,
                              floor_concurrency, self.workdir)
            fcpu1 = target.cpu()
            floor["server_cpu"] = (fcpu1 - fcpu0) if fcpu0 is not None else None
            freq = count_requests(target.requests())
            floor["applies_created"] = freq["apply_created"] if freq else None
            self.check(floor["bad"] == 0, "floor N=%d had %d non-2xx answers" % (n, floor["bad"]))
            self.check(floor["created"] == n, "floor N=%d: wrk saw %d of %d secrets created" % (n, floor["created"], n))
            if freq:
                self.check(freq["apply_created"] == n, "floor N=%d created %d secrets" % (n, freq["apply_created"]))
        return {
            "helper": first, "second": second, "requests": requests, "second_requests": second_requests,
            "aws_calls": len(calls), "aws_seconds": sum(c.seconds for c in ecr_calls),
            "server_cpu": (cpu1 - cpu0) if cpu0 is not None else None, "floor": floor,
        }

    # ---------------------------------------------------------------- startup

    def startup(self):
        rows = []
        for _ in range(self.args.startup_reps):
            batch = self.target.fresh(1, "start")
            listing = self.target.kube.get("/api/v1/secrets?fieldSelector=metadata.name=" + SECRET_NAME)
            watch = SecretWatch(self.target.admin, SECRET_NAME, listing["metadata"].get("resourceVersion"))
            seen = watch.waiter(batch.names[0])
            self.proxy.reset()
            running = self.helper.start_run(batch.names)
            try:
                ok = seen.wait(60)
                self.check(ok, "startup: no secret within 60 s; log: %s" % running.tail())
                calls = [c for c in self.proxy.snapshot() if c.action == "GetAuthorizationToken"]
                if ok and calls:
                    raw = seen.at - running.spawned
                    rows.append({"raw": raw, "aws": calls[0].seconds, "adjusted": raw - calls[0].seconds,
                                 "aws_started_after": calls[0].started - running.spawned})
                    log("startup: first secret after %.1f ms (AWS call %.1f ms, started %.1f ms after spawn)" % (
                        raw * 1e3, calls[0].seconds * 1e3, (calls[0].started - running.spawned) * 1e3))
            finally:
                stopped = running.stop()
                watch.close()
            if rows:
                rows[-1]["sigterm_to_exit"] = stopped
        self.results["startup"] = rows

    # ---------------------------------------------------------------- footprint and steady state (run)

    def idle_run(self):
        rows = []
        for _ in range(self.args.idle_reps):
            batch = self.target.fresh(10, "idle")
            self.target.reset_requests()
            self.proxy.reset()
            running = self.helper.start_run(batch.names, {"RESYNC_INTERVAL": "2s"})
            try:
                first = running.wait_log("sync complete", 1) - running.spawned
                running.wait_log("sync complete", 3, timeout=30)
                ready, _ = running.scrape("/readyz")
                metrics_status, _ = running.scrape("/metrics")
                self.check(ready == 200 and metrics_status == 200, "idle run: /readyz %s, /metrics %s" % (ready, metrics_status))
                memory = running.memory()
                hwm, rss = memory["VmHWM"], memory["VmRSS"]
                requests = count_requests(self.target.requests())
                calls = self.proxy.snapshot()
                rows.append({"first_sync": first, "hwm_kb": hwm, "rss_kb": rss, "anon_kb": memory.get("RssAnon"),
                             "file_kb": memory.get("RssFile"), "requests": requests, "aws_calls": len(calls)})
                if requests:
                    self.check(requests["apply"] == 10, "run with 10 namespaces: %d applies after 2 resyncs" % requests["apply"])
                self.check(len(calls) == 1, "run with 10 namespaces: %d AWS calls after 2 resyncs" % len(calls))
                log("idle run (10 ns, 2 resyncs): VmHWM %d kB VmRSS %d kB, applies %s, AWS calls %d" % (
                    hwm, rss, requests and requests["apply"], len(calls)))
            finally:
                stopped = running.stop()
            if rows:
                rows[-1]["sigterm_to_exit"] = stopped
        self.results["idle"] = rows

    # ---------------------------------------------------------------- watching many namespaces + reaction

    def watching(self):
        size, events = self.args.watch_size, self.args.events
        rows = []
        for _ in range(self.args.watch_reps):
            batch = self.target.fresh(size, "watch")
            self.target.reset_requests()
            self.proxy.reset()
            running = self.helper.start_run(batch.pattern)
            try:
                first = running.wait_log("sync complete", 1, timeout=300) - running.spawned
                time.sleep(2)
                running.scrape("/metrics")
                memory = running.memory()
                hwm, rss = memory["VmHWM"], memory["VmRSS"]
                requests = count_requests(self.target.requests())
                if requests:
                    self.check(requests["apply"] == size, "run over %d namespaces sent %d applies" % (size, requests["apply"]))
                listing = self.target.kube.get("/api/v1/secrets?fieldSelector=metadata.name=" + SECRET_NAME)
                watch = SecretWatch(self.target.admin, SECRET_NAME, listing["metadata"].get("resourceVersion"))
                created = self.react(watch, [batch.name(size + i) for i in range(events)], "create")
                deleted = self.react(watch, [batch.name(i) for i in range(events)], "delete")
                watch.close()
                after_memory = running.memory()
                hwm_after, rss_after = after_memory["VmHWM"], after_memory["VmRSS"]
                after = count_requests(self.target.requests())
                calls = self.proxy.snapshot()
                row = {"size": size, "first_sync": first, "hwm_kb": hwm, "rss_kb": rss, "hwm_after_kb": hwm_after,
                       "rss_after_kb": rss_after, "anon_kb": memory.get("RssAnon"), "file_kb": memory.get("RssFile"),
                       "anon_after_kb": after_memory.get("RssAnon"),
                       "requests": requests, "requests_after": after, "aws_calls": len(calls),
                       "create": created, "delete": deleted}
                rows.append(row)
                if after:
                    self.check(after["apply"] == size + 2 * events,
                               "reaction: %d applies for %d namespaces + %d events" % (after["apply"], size, 2 * events))
                log("watching %d: first sync %.2fs, VmHWM %d kB (after events %d kB); create p50 %.1f p99 %.1f ms; "
                    "delete p50 %.1f p99 %.1f ms; applies %s" % (
                        size, first, hwm, hwm_after, created["p50"] * 1e3, created["p99"] * 1e3,
                        deleted["p50"] * 1e3, deleted["p99"] * 1e3, after and after["apply"]))
            finally:
                stopped = running.stop()
            if rows:
                rows[-1]["sigterm_to_exit"] = stopped
        self.results["watch"] = rows

    def react(self, watch, names, kind):
        latencies, missed = [], 0
        kube = self.target.kube
        if kind == "create" and not self.target.is_standin:
            self.target.created.extend(names)
        for name in names:
            seen = watch.waiter(name, ("ADDED",))
            if kind == "create":
                kube.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            else:
                kube.request("DELETE", "/api/v1/namespaces/%s/secrets/%s" % (name, SECRET_NAME))
            answered = time.monotonic()
            if seen.wait(10):
                latencies.append(seen.at - answered)
            else:
                missed += 1
        self.check(missed == 0, "reaction (%s): %d of %d events not served within 10 s" % (kind, missed, len(names)))
        if not latencies:
            return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "count": 0, "missed": missed}
        return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies),
                "count": len(latencies), "missed": missed}

    # ---------------------------------------------------------------- memory at restart (issue 13)

    def sample_until_synced(self, running, timeout=600):
        """Polls the helper's /proc memory every 20 ms until its first `sync complete`; returns (seconds from
        spawn, the largest VmRSS seen, VmHWM then)."""
        deadline = time.monotonic() + timeout
        peak_rss = 0
        while True:
            try:
                memory = running.memory()
                peak_rss = max(peak_rss, memory.get("VmRSS", 0))
            except OSError:
                pass
            if running.log_count("sync complete"):
                at = time.monotonic()
                memory = running.memory()
                return at - running.spawned, max(peak_rss, memory["VmRSS"]), memory["VmHWM"]
            if running.process.poll() is not None:
                raise RuntimeError("helper exited (%s); log: %s" % (running.process.returncode, running.tail()))
            if time.monotonic() > deadline:
                raise RuntimeError("no `sync complete` within %ss; log: %s" % (timeout, running.tail()))
            time.sleep(0.02)

    def idle_memory(self, running):
        """After the first sync: wait args.restart_idle seconds, serve /readyz and /metrics once (as a kubelet and
        a scraper do), read /proc."""
        time.sleep(self.args.restart_idle)
        ready, _ = running.scrape("/readyz")
        metrics, _ = running.scrape("/metrics")
        time.sleep(0.5)
        return ready, metrics, running.memory()

    def restart(self):
        """`run` restarted into a cluster where N target namespaces already hold its secret, beside M foreign
        namespaces (NAMESPACES=bench-*, so the namespace list and watch see all N + M); then, on the same server,
        `run` with NAMESPACES listing 10 of them. The secrets are planted by a first `sync`."""
        n, m = self.args.restart_size, self.args.restart_foreign
        rows = []
        for rep in range(self.args.restart_reps):
            started = time.monotonic()
            batch = self.target.fresh(n, "restart")
            self.target.add_namespaces("other-", m)
            prepared = time.monotonic() - started
            plant = self.helper.sync(batch.names)
            self.check(plant["exit"] == 0 and plant["outcomes"].get("written") == n,
                       "restart N=%d: planting sync exited %s with %s" % (n, plant["exit"], plant["outcomes"]))
            row = {"size": n, "foreign": m, "prepare_s": prepared, "plant_s": plant["wall"]}
            for label, namespaces in (("all", batch.pattern), ("ten", batch.names[:10])):
                self.target.reset_requests()
                running = self.helper.start_run(namespaces)
                try:
                    first, peak_rss, hwm = self.sample_until_synced(running)
                    ready, metrics, idle = self.idle_memory(running)
                    requests = count_requests(self.target.requests())
                finally:
                    stopped = running.stop()
                self.check(ready == 200 and metrics == 200, "restart %s: /readyz %s, /metrics %s" % (label, ready, metrics))
                if requests:
                    self.check(requests["apply"] == 0, "restart %s: %d applies into namespaces that already hold the secret"
                               % (label, requests["apply"]))
                row[label] = {"first_sync": first, "hwm_kb": hwm, "peak_rss_seen_kb": peak_rss, "idle_hwm_kb": idle["VmHWM"],
                              "rss_kb": idle["VmRSS"], "anon_kb": idle.get("RssAnon"), "file_kb": idle.get("RssFile"),
                              "applies": requests["apply"] if requests else None,
                              "reads": requests["reads"] if requests else None, "sigterm_to_exit": stopped}
                log("restart rep %d (%s of %d targets + %d foreign): first sync %.2fs, VmHWM %d kB, idle VmRSS %d kB "
                    "(anon %s kB, file %s kB), applies %s" % (
                        rep + 1, "all" if label == "all" else "10", n, m, first, idle["VmHWM"], idle["VmRSS"],
                        idle.get("RssAnon"), idle.get("RssFile"), row[label]["applies"]))
            rows.append(row)
        self.results["restart"] = rows

    # ---------------------------------------------------------------- throttled by APF (issue 19)

    def throttled_fresh(self, count, tag):
        """A fresh server holding `count` namespaces, with the helper's identity throttled; returns (batch, the
        priority level's concurrency limit)."""
        if isinstance(self.target, Envtest):
            self.target.extra_flags = APF_FLAGS
            try:
                batch = self.target.fresh(count, tag)
            finally:
                self.target.extra_flags = ""
            return batch, self.target.throttle(shares=1)
        batch = self.target.fresh(count, tag)
        return batch, self.target.throttle()

    def rejected_count(self):
        """429s the throttled level answered so far: the stand-in's request log, or kube-apiserver's
        apiserver_flowcontrol_rejected_requests_total for the level."""
        if isinstance(self.target, Envtest):
            return self.target.rejected_total()
        return sum(1 for r in self.target.requests() if r["status"] == 429)

    def throttled(self):
        """`sync` into N namespaces with the helper's identity in a priority level of 1 share that rejects the
        excess (429 + Retry-After), against wrk on the same level with as many connections as the level's
        concurrency limit (the level's capacity: time to N secrets created; wrk does not retry a 429, it comes
        back to that namespace when its list wraps around)."""
        if not (self.target.is_standin or isinstance(self.target, Envtest)):
            log("throttled skipped (needs the stand-in or --envtest: it changes the server's APF configuration)")
            return
        if self.body_template is None:
            batch = self.target.fresh(1, "body")
            self.helper.sync(batch.names)
            self.body_template = apply_body_template(self.target.kube, batch.names[0])
        rows = {}
        for n in self.args.throttle_sizes:
            for rep in range(self.args.throttle_reps):
                batch, limit = self.throttled_fresh(n, "thr")
                self.target.reset_requests()
                rejected0 = self.rejected_count()
                result = self.helper.sync(batch.names)
                requests = count_requests(self.target.requests())
                rejected = self.rejected_count() - rejected0
                listing = self.target.kube.get("/api/v1/secrets?fieldSelector=metadata.name=" + SECRET_NAME)
                present = len({item["metadata"]["namespace"] for item in listing["items"]} & set(batch.names))
                with open(result["log"], errors="replace") as f:
                    summary = [line.strip() for line in f if "thrott" in line.lower()][-3:]
                fbatch, flimit = self.throttled_fresh(n, "thrfloor")
                self.target.reset_requests()
                rejected0 = self.rejected_count()
                floor = run_floor(self.target.url, self.target.helper_token, fbatch.names, self.body_template, SECRET_NAME,
                                  flimit, self.workdir, timeout=600)
                floor["rejected"] = self.rejected_count() - rejected0
                row = {"n": n, "limit": limit, "wall": result["wall"], "exit": result["exit"], "cpu": result["cpu"],
                       "written": result["outcomes"].get("written", 0), "outcomes": result["outcomes"], "present": present,
                       "rejected": rejected, "applies": requests["apply"] if requests else None, "log_lines": summary,
                       "floor": floor, "level": getattr(self.target, "throttle_description", None)}
                rows.setdefault(str(n), []).append(row)
                self.check(result["exit"] == 0 and present == n,
                           "throttled sync N=%d: exit %s, %d of %d hold the secret" % (n, result["exit"], present, n))
                log("throttled N=%d rep %d (level limit %d): sync %.2fs exit %d, %d/%d present, %s 429s; floor (c=%d) %.2fs, "
                    "%d created, %s 429s" % (n, rep + 1, limit, result["wall"], result["exit"], present, n, rejected,
                                               floor["connections"], floor["total"], floor["created"], floor["rejected"]))
        self.results["throttled"] = rows

    # ---------------------------------------------------------------- profile

    # Inclusive shares of the helper's CPU worth watching in a fan-out (mangled-name fragments, perf's view).
    PROFILE_GROUPS = [
        ("decoding the apply answer (KubernetesClient.decode → Secret)", "10KubeClient010KubernetesB0C6decode__6target"),
        ("encoding the apply body (KubernetesClient.encode, JSONEncoder)", "10KubeClient010KubernetesB0C6encodey"),
        ("DesiredSecret.secret(in:)", "10SyncEngine13DesiredSecretV6secret2in"),
        ("AsyncHTTPClient execute (request scheduling)", "15AsyncHTTPClient10HTTPClientC7execute"),
        ("TLS write path (NIOSSLHandler.flush)", "6NIOSSL13NIOSSLHandlerC5flush"),
        ("TLS read path (NIOSSLHandler.channelRead)", "6NIOSSL13NIOSSLHandlerC11channelRead"),
        ("TLS handshakes", "6NIOSSL13NIOSSLHandlerC15doHandshakeStep"),
        ("kernel: write syscalls (loopback TCP)", "[k] ksys_write"),
        ("kernel: read syscalls", "[k] ksys_read"),
        ("Swift runtime: generic metadata lookups", "swift_getGenericMetadata"),
        ("Swift runtime: protocol conformance checks", "swift_conformsToProtocolMaybeInstantiateSuperclasses"),
        ("ArgumentParser (start-up)", "14ArgumentParser07CommandB0V5parse"),
    ]

    def profile(self):
        """perf record (software cpu-clock: this VM has no hardware counters) of one `sync` at the largest size."""
        if not self.target.is_standin or not shutil.which("perf"):
            log("profile skipped (needs perf and the stand-in)")
            return
        n = max(self.args.sizes)
        batch = self.target.fresh(n, "prof")
        data = os.path.join(self.workdir, "perf.data")
        result = self.helper.sync(batch.names, wrapper=("perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-g", "-o", data, "--"))
        if result["exit"] != 0 or not os.path.exists(data):
            log("profile: perf record failed (%s)" % result["exit"])
            return
        report = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "sym", "-g", "none", "--stdio"],
                                capture_output=True, text=True).stdout
        shares = {}
        for line in report.splitlines():
            parts = line.split()
            if len(parts) < 4 or not parts[0].endswith("%"):
                continue
            for label, fragment in self.PROFILE_GROUPS:
                if fragment in line and label not in shares:
                    shares[label] = float(parts[0].rstrip("%"))
        self_report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso", "-g", "none", "--stdio"],
                                     capture_output=True, text=True).stdout
        dsos = []
        for line in self_report.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith("%"):
                dsos.append((parts[1], float(parts[0].rstrip("%"))))
        self.results["profile"] = {"n": n, "cpu": result["cpu"], "wall": result["wall"], "shares": shares,
                                   "dso": dsos[:6], "data": data}
        log("profile of sync N=%d: %s" % (n, ", ".join("%s %.1f%%" % (k, v) for k, v in shares.items())))

    # ---------------------------------------------------------------- fleet (issue 16)

    def fleet(self):
        """One `run` serving many stand-in clusters through CLUSTERS_DIR (scripts/bench/fleet.py)."""
        if not self.target.is_standin:
            log("fleet skipped (it starts stand-in servers of its own)")
            return
        self.results["fleet"] = Fleet(self).run()

    # ---------------------------------------------------------------- binary, machine

    def binary(self):
        path = os.path.join(self.args.bin_dir, "aws-ecr-cred-helper")
        copy = os.path.join(self.workdir, "aws-ecr-cred-helper.stripped")
        shutil.copy(path, copy)
        subprocess.run(["strip", copy], check=True)
        self.results["binary"] = {"bytes": os.path.getsize(path), "stripped_bytes": os.path.getsize(copy),
                                  "static_stdlib": self.args.static_stdlib}

    def machine(self):
        def run(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                return "n/a"
        model = "n/a"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        commit = run(["git", "-C", root, "rev-parse", "--short=12", "HEAD"])
        # With --bin-dir the binaries may be older than HEAD: say when they were built and what HEAD was then.
        built = os.path.getmtime(os.path.join(self.args.bin_dir, "aws-ecr-cred-helper"))
        built_utc = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(built))
        head_then = run(["git", "-C", root, "log", "-1", "--before=" + built_utc, "--format=%H"])[:12]
        dirty = run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift"])
        self.results["machine"] = {
            "nproc": os.cpu_count(), "memory_gib": mem_kb / 1024 / 1024, "cpu": model, "kernel": platform.release(),
            "swift": run(["swift", "--version"]).splitlines()[0] if run(["swift", "--version"]) else "n/a",
            "commit": commit + (" (with uncommitted changes in Sources/)" if dirty else ""),
            "binaries_built": built_utc.replace(" +0000", " UTC"), "head_at_build": head_then,
            "wrk": run(["sh", "-c", "wrk -v 2>&1 | head -1"]), "python": platform.python_version(),
            "moto": run([sys.executable, "-c", "import moto; print(moto.__version__)"]),
            "load_before": os.getloadavg(),
        }

    def describe_target(self):
        target = self.target
        if target.is_standin:
            return {"kind": "stand-in", "starts": target.starts}
        described = {"kind": target.kind, "helper": getattr(target, "helper_identity", None),
                     "request_counts": target.metrics_ok and target.baseline is not None}
        if isinstance(target, Envtest):
            described.update(version=target.version, etcd=target.etcd_version, servers=target.servers, starts=target.starts)
        else:
            described["server"] = target.url
        return described

    # ---------------------------------------------------------------- driver

    def run(self):
        self.machine()
        log("work folder %s; target %s" % (self.workdir, self.target.url or self.target.kind if not self.target.is_standin else "stand-in"))
        self.prewarm_moto()
        self.binary()
        started = time.monotonic()
        try:
            for name in self.args.scenarios:
                log("scenario %s" % name)
                getattr(self, name)()
        finally:
            self.target.cleanup()
            self.proxy.stop()
        self.results["target"] = self.describe_target()
        self.results["machine"]["load_after"] = os.getloadavg()
        self.results["duration_s"] = time.monotonic() - started
        self.results["problems"] = self.problems
        with open(os.path.join(self.workdir, "results.json"), "w") as f:
            json.dump(self.results, f, indent=1, default=str)
        log("raw results in %s/results.json" % self.workdir)
        return self.results


ALL_SCENARIOS = ("fanout", "startup", "idle_run", "watching", "profile", "restart", "throttled")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", required=True, help="folder holding aws-ecr-cred-helper and kube-test-server")
    parser.add_argument("--static-stdlib", action="store_true", help="the binaries were built with --static-swift-stdlib")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions (stand-in: under a minute)")
    parser.add_argument("--kubeconfig", help="benchmark a real cluster instead of the stand-in: its user creates namespaces and "
                        "reads back (needs namespace create/delete, secret and RBAC rights)")
    parser.add_argument("--context", help="context of --kubeconfig")
    parser.add_argument("--helper-kubeconfig", help="with --kubeconfig: the helper's (and floor's) identity, instead of a "
                        "ServiceAccount the driver makes with the helper's rules and a TokenRequest token")
    parser.add_argument("--envtest", metavar="ROOT", help="benchmark real kube-apiservers the driver starts under ROOT with "
                        "scripts/envtest.sh, a fresh one per measurement (scripts/bench.sh --envtest passes this)")
    parser.add_argument("--prefix", default="ecrbench-", help="namespace prefix on a real cluster")
    parser.add_argument("--sizes", help="fan-out sizes, comma-separated")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                        help="comma-separated subset of: fanout,startup,idle_run,watching,profile,restart,throttled,fleet "
                        "(fleet is not in the default set: 50 servers; it writes a block of its own)")
    parser.add_argument("--restart-size", type=int, help="restart scenario: target namespaces already holding the secret")
    parser.add_argument("--restart-foreign", type=int, help="restart scenario: foreign namespaces beside them (default: as many)")
    parser.add_argument("--throttle-sizes", help="throttled scenario: sizes, comma-separated (default 300,5000)")
    parser.add_argument("--watch-size", type=int, help="namespaces served while measuring reaction and memory")
    parser.add_argument("--events", type=int, help="reaction events of each kind per run")
    parser.add_argument("--fleet-clusters", type=int, default=50, help="fleet scenario: clusters in the full fleet")
    parser.add_argument("--fleet-small", type=int, default=10, help="fleet scenario: clusters in the small fleet (memory per cluster)")
    parser.add_argument("--fleet-size", type=int, default=100, help="fleet scenario: namespaces per cluster")
    parser.add_argument("--fleet-events", type=int, default=20, help="fleet scenario: reaction rounds")
    parser.add_argument("--fleet-burst", type=int, default=20, help="fleet scenario: new namespaces per busy cluster per round")
    parser.add_argument("--out", help="markdown file to write the results block into")
    parser.add_argument("--json", help="also copy the raw results here")
    args = parser.parse_args()

    if args.envtest and args.kubeconfig:
        parser.error("--envtest and --kubeconfig are two different targets: give one")
    real = bool(args.kubeconfig or args.envtest)
    if args.quick:
        default_sizes, args.reps = [10, 100, 1000], {10: 2, 100: 2, 1000: 2}
        args.startup_reps, args.idle_reps, args.watch_reps, watch_size, events = 3, 1, 1, 1000, 50
        args.calibration_reps, args.calibration_size = 1, 1000
    else:
        default_sizes, args.reps = [10, 100, 1000, 5000], {10: 5, 100: 5, 1000: 5, 5000: 5}
        args.startup_reps, args.idle_reps, args.watch_reps, watch_size, events = 5, 3, 3, 5000, 200
        args.calibration_reps, args.calibration_size = 3, 1000
    args.floor_concurrency = [4, 8, 16, 32, 64, 128]
    if args.envtest:
        # A fresh kube-apiserver per measurement costs ~6 s, and it writes ~400 secrets/s here (about 20x
        # slower than the stand-in): the same sizes with 3 repetitions (2 with --quick), 4 floor levels.
        args.reps = {n: 2 if args.quick else 3 for n in default_sizes}
        args.floor_concurrency, args.calibration_reps = [8, 16, 32, 64], 1
        if args.quick:
            args.floor_concurrency, args.startup_reps = [16], 2
    elif real:
        # Every measurement needs fresh namespaces on a shared cluster, deleted at the end: keep their number reasonable.
        default_sizes, watch_size = [10, 100, 1000], 1000
        if not args.quick:
            args.reps = {10: 3, 100: 3, 1000: 3}
            args.floor_concurrency, args.calibration_reps = [8, 16, 32, 64], 1
    # Memory at restart (issue 13) and the throttled fan-out (issue 19).
    restart_size = 1000 if args.quick else 5000
    args.restart_reps = 1 if args.quick else 3
    args.throttle_reps = 1
    throttle_sizes = [300, 1000] if args.quick else [300, 5000]
    args.restart_idle = 5.0
    if args.envtest and not args.quick:
        args.restart_reps = 2
    elif real and not args.envtest:
        restart_size = 1000
    args.restart_size = args.restart_size or restart_size
    args.restart_foreign = args.restart_foreign if args.restart_foreign is not None else args.restart_size
    args.throttle_sizes = [int(s) for s in args.throttle_sizes.split(",")] if args.throttle_sizes else throttle_sizes
    args.watch_size = args.watch_size or watch_size
    args.events = args.events or events
    args.sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else default_sizes
    args.reps_for = lambda n: args.reps.get(n, 3)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if not args.out:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        # A quick run never overwrites the committed full figures.
        args.out = os.path.join(tempfile.gettempdir(), "benchmarks-quick.md") if args.quick else os.path.join(root, "docs", "benchmarks.md")

    bench = Bench(args)
    results = bench.run()
    import report
    # The fleet has a block of its own; a fleet-only run leaves the other blocks as they are.
    others = [name for name in args.scenarios if name != "fleet"]
    if others:
        block = report.render(results, args)
        print(block)
        if args.out:
            partial = None
            if set(others) < set(ALL_SCENARIOS) and not args.quick:
                m = results["machine"]
                partial = "_This section is from a later run of only `%s` (%s, commit %s, %.1f minutes, load average %s); the rest of this block is from the full run above._" % (
                    ",".join(others), results["started"], m["commit"], results.get("duration_s", 0) / 60,
                    " ".join("%.2f" % x for x in m["load_before"]))
            report.write_block(args.out, block, "real" if real else "stand-in", partial_note=partial)
            log("results written to %s" % args.out)
    if results.get("fleet"):
        block = report.render_fleet(results, args)
        print(block)
        if args.out:
            report.write_block(args.out, block, "fleet")
            log("fleet results written to %s" % args.out)
    if args.json:
        shutil.copy(os.path.join(bench.workdir, "results.json"), args.json)
    if results["problems"]:
        log("%d checks failed:\n  %s" % (len(results["problems"]), "\n  ".join(results["problems"])))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
