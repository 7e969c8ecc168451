"""The live check: a real Prometheus scrapes a running aws-ecr-cred-helper that works against a real
kube-apiserver and moto, and evaluates the shipped dashboard's queries and the shipped alerts while a short
scenario runs:

  sync         the helper starts and writes its secret into obs-a, obs-b, obs-c
  repair       the secret in obs-b is deleted (as admin) and the helper restores it
  namespace    obs-new is added to NAMESPACES before it exists (writes fail), then created (repaired)
  aws-broken   the mounted secret access key is made wrong: refreshes fail, the old secrets stay
  recovered    the right key is back: the next refresh succeeds
  absent       the helper stops
  fleet        the helper in fleet mode (CLUSTERS_DIR holding its kubeconfig as cluster `edge-1`, no own
               cluster): /metrics linted, `cluster` on every per-cluster family and nowhere else, and the
               series count per cluster that docs/observability.md states

At the end of each phase every query of deploy/monitoring/grafana-dashboard.json is evaluated over the
phase (query_range, Grafana's variables replaced), and every alert expression as Prometheus loaded it
(instant query), each against what that phase must show; Prometheus' own firing alerts are compared with
the ones expected. `promtool check metrics` lints the live /metrics.

Run by scripts/observability/check.sh, which starts the API server and moto and renders the chart; it passes:
  HELPER_BIN, PROMETHEUS_BIN, PROMTOOL_BIN, KUBECONFIG_ADMIN, MOTO_ENDPOINT, MOTO_FIXTURE (environment)
  --work DIR --rbac FILE --rules FILE [--picture PNG --render-python PYTHON] [--dwell SECONDS]
--rbac: the chart's rendered ServiceAccount and RBAC, applied verbatim as admin; the helper runs with a
TokenRequest token of that ServiceAccount, never as admin. --rules: the chart's rendered rules (short
failure window and `for`, so alerts can fire within the run). --picture: afterwards, render the dashboard
panels over the scenario into a PNG (scripts/observability/render_dashboard.py, run by --render-python).
Prints one line per check; ends with "live: N passed, M failed"; exit 1 if any failed.
"""
import argparse
import base64
import json
import math
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
RATE_INTERVAL = "15s"
NAMESPACES = ["obs-a", "obs-b", "obs-c"]
NEW_NAMESPACE = "obs-new"
SECRET = "registry-aws-ecr"
HOUR = 3600.0
ALERTS = ["AWSECRCredHelperTokenExpiringSoon", "AWSECRCredHelperRefreshFailing",
          "AWSECRCredHelperNamespacesNotFresh", "AWSECRCredHelperAbsent"]

results = {"passed": 0, "failed": 0}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only: no proxy


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok or not detail else ': ' + str(detail)[:600]}", flush=True)
    return ok


def wait_for(what, predicate, timeout=60.0, poll=0.25):
    """Polls `predicate` until it returns something truthy; raises TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    problem = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError, subprocess.SubprocessError) as error:
            problem = error
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s" + (f" (last error: {problem})" if problem else ""))
        time.sleep(poll)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with OPENER.open(url, timeout=timeout) as answer:
        return answer.status, answer.read().decode()


def http_status(url):
    try:
        return http_get(url)[0]
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def kadm(*args, check_rc=True, stdin=None):
    proc = subprocess.run(["kubectl", "--kubeconfig", os.environ["KUBECONFIG_ADMIN"], *args],
                          input=stdin, capture_output=True, text=True, timeout=60)
    if check_rc and proc.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
    return proc


# --- Prometheus ------------------------------------------------------------------------------------------------
class Prometheus:
    def __init__(self, binary, work, target_port, rules):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            # The labels a ServiceMonitor scrape gives the helper's series in a cluster.
            "scrape_configs": [{"job_name": "aws-ecr-cred-helper", "static_configs": [{
                "targets": [f"127.0.0.1:{target_port}"],
                "labels": {"namespace": "kube-system", "pod": "aws-ecr-cred-helper-obs", "container": "aws-ecr-cred-helper",
                           "endpoint": "http", "service": "aws-ecr-cred-helper"}}]}],
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(work / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1d"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for("Prometheus ready", lambda: self.proc.poll() is None and http_status(self.url + "/-/ready") == 200, 60)

    def api(self, path, **params):
        status, body = http_get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}", timeout=10)
        answer = json.loads(body)
        if answer.get("status") != "success":
            raise ValueError(f"{path} {params}: {answer}")
        return answer["data"]

    def instant(self, expr, at=None):
        data = self.api("query", query=expr, **({"time": f"{at:.3f}"} if at else {}))
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def range(self, expr, start, end, step=1.0):
        data = self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step}")
        return [(r["metric"], [float(v) for _, v in r["values"]]) for r in data["result"]]

    def firing(self):
        return sorted({a["labels"]["alertname"] for a in self.api("alerts")["alerts"] if a["state"] == "firing"})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


# --- the helper ------------------------------------------------------------------------------------------------
class Helper:
    def __init__(self, binary, work, kubeconfig, log_name="helper.log"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.work = work
        self.command = [binary, "run", "--config-dir", str(work / "config"), "--aws-config-dir", str(work / "config-aws")]
        if kubeconfig:
            self.command += ["--kubeconfig", str(kubeconfig)]
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work),
            "HTTP_PORT": str(self.port), "AWS_ENDPOINT_URL": os.environ["MOTO_ENDPOINT"],
            "POD_NAME": "aws-ecr-cred-helper-obs", "POD_NAMESPACE": "kube-system", "NO_PROXY": "127.0.0.1,localhost",
        }
        self.log = open(work / log_name, "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def metrics(self):
        return http_get(self.url + "/metrics")[1]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def write_config(work, namespaces, secret_key):
    fixture = json.loads(pathlib.Path(os.environ["MOTO_FIXTURE"]).read_text())
    (work / "config").mkdir(exist_ok=True)
    (work / "config-aws").mkdir(exist_ok=True)
    (work / "config" / "NAMESPACES").write_text(" ".join(namespaces) + "\n")
    (work / "config" / "SECRET_NAME").write_text(SECRET + "\n")
    for name, value in [("AWS_ACCESS_KEY_ID", fixture["allowed"]["accessKeyId"]),
                        ("AWS_SECRET_ACCESS_KEY", secret_key or fixture["allowed"]["secretAccessKey"]),
                        ("AWS_DEFAULT_REGION", fixture["region"])]:
        path = work / "config-aws" / name
        path.write_text(value + "\n")
    return fixture


def helper_kubeconfig(work, rbac):
    """Applies the chart's RBAC as admin and returns a kubeconfig with a TokenRequest token of its ServiceAccount."""
    docs = [d for d in yaml.safe_load_all(rbac.read_text()) if d]
    (sa,) = [d for d in docs if d["kind"] == "ServiceAccount"]
    ns, name = sa["metadata"]["namespace"], sa["metadata"]["name"]
    kadm("apply", "-f", str(rbac))
    user = f"system:serviceaccount:{ns}:{name}"
    wait_for("the chart's RBAC in effect", lambda: all(
        kadm("auth", "can-i", verb, f"secrets/{SECRET}", "-n", target, "--as", user, check_rc=False).stdout.strip() == "yes"
        for verb in ("get", "patch", "create") for target in NAMESPACES), 30)
    token = kadm("-n", ns, "create", "token", name, "--duration", "2h").stdout.strip()
    admin = yaml.safe_load(pathlib.Path(os.environ["KUBECONFIG_ADMIN"]).read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kube-apiserver", "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": "helper", "context": {"cluster": "kube-apiserver", "user": name}}],
        "current-context": "helper",
    }
    path = work / "helper.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path, user


def secret_valid(namespace, registry_host):
    proc = kadm("-n", namespace, "get", "secret", SECRET, "-o", "json", check_rc=False)
    if proc.returncode != 0:
        return False
    secret = json.loads(proc.stdout)
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    return secret["type"] == "kubernetes.io/dockerconfigjson" and any(registry_host in host for host in auths)


# --- expectations ----------------------------------------------------------------------------------------------
def finite(values):
    return [v for v in values if not math.isnan(v)]


def last(values):
    values = finite(values)
    return values[-1] if values else math.nan


def peak(values):
    values = finite(values)
    return max(values) if values else math.nan


def one(pred):
    """Exactly one series; `pred` on its values."""
    return lambda series: len(series) == 1 and pred(series[0][1])


def by(label, preds, exact=True):
    """One series per value of `label`, each checked by its predicate (every value named must be there)."""
    def test(series):
        seen = {s[0].get(label, ""): s[1] for s in series}
        if exact and set(seen) != set(preds):
            return False
        return all(key in seen and pred(seen[key]) for key, pred in preds.items())
    return test


def between(low, high):
    return lambda values: low < last(values) <= high


def equals(number):
    return lambda values: last(values) == number


def rises():
    return lambda values: peak(values) > 0


def stays_zero():
    return lambda values: bool(finite(values)) and peak(values) == 0


def dashboard_targets():
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["refId"], target["expr"]


def grafana(expr):
    for name, value in {"$__rate_interval": RATE_INTERVAL, "$job": ".*", "$namespace": ".*"}.items():
        expr = expr.replace(name, value)
    return expr


def describe(series):
    return [({k: v for k, v in labels.items() if k not in ("job", "namespace", "instance", "pod", "container", "endpoint", "service")},
             [round(v, 1) for v in finite(values)][-3:]) for labels, values in series]


def check_phase(prom, phase, start, end, panels, alerts, firing, covered):
    """panels: {(title, refId): predicate over [(labels, values)] of query_range over [start, end]};
    alerts: {alertname: predicate over the instant result of its expression, or None for "no series"}."""
    # Evaluation points at end, end - 1 s, ...: what Prometheus showed at `end` is in the last point.
    start = end - math.ceil(end - start)
    print(f"== phase {phase} ({end - start:.0f} s)", flush=True)
    for title, ref, expr in dashboard_targets():
        test = panels.get((title, ref))
        if test is None:
            continue
        covered.add((title, ref))
        series = prom.range(grafana(expr), start, end)
        check(f"[{phase}] dashboard '{title}' {ref}", test(series), f"{grafana(expr)} -> {describe(series)}")
    for rule in RULES:
        want = alerts.get(rule["alert"])
        result = prom.instant(rule["expr"], end)
        ok = (not result) if want is None else bool(result) and want(result)
        check(f"[{phase}] alert expression {rule['alert']}: " + ("no series" if want is None else "series as expected"),
              ok, f"{result}")
    try:
        got = wait_for(f"firing alerts {firing}", lambda: prom.firing() == sorted(firing) and prom.firing(), 20) \
            if firing else wait_for("no firing alert", lambda: prom.firing() == [] and ["none"], 20)
        check(f"[{phase}] Prometheus fires exactly {sorted(firing) or 'no alert'}", True)
    except TimeoutError:
        got = prom.firing()
        check(f"[{phase}] Prometheus fires exactly {sorted(firing) or 'no alert'}", False, f"firing: {got}")


def promtool_lint(helper, phase):
    promtool_lint_text(helper.metrics(), phase)


def promtool_lint_text(text, phase):
    proc = subprocess.run([os.environ.get("PROMTOOL_BIN", "promtool"), "check", "metrics"], input=text,
                          capture_output=True, text=True, timeout=30)
    check(f"[{phase}] promtool check metrics on the live /metrics", proc.returncode == 0 and not proc.stdout.strip()
          and not proc.stderr.strip(), (proc.stdout + proc.stderr).strip())
    families = set(re.findall(r"^# TYPE (aws_ecr_cred_helper_\w+) ", text, re.M))
    helps = set(re.findall(r"^# HELP (aws_ecr_cred_helper_\w+) \S", text, re.M))
    check(f"[{phase}] every family has HELP and TYPE ({len(families)} families)", families and families == helps,
          sorted(families ^ helps))
    check(f"[{phase}] no per-namespace label by default", not re.search(r"(target_)?namespace=", text),
          [line for line in text.splitlines() if "namespace=" in line][:3])


# Series one cluster adds in fleet mode (docs/observability.md, "Cardinality"): target_namespaces (3 states),
# secret_writes_total (4 outcomes), watch_restarts_total (2 resources), last_success, managed_namespaces,
# refresh_failures_total, api_throttled_requests_total and oldest_secret_expiry (once written).
SERIES_PER_CLUSTER = 14
# A single-cluster helper: those 14, then aws_requests_total (2 outcomes), refresh_duration_seconds (11 buckets,
# +Inf, _sum, _count) and leader; token_expiry_timestamp_seconds adds one per registry.
SERIES_PER_PROCESS = SERIES_PER_CLUSTER + 17
# The families a fleet records once, without `cluster` (one token fetch per region for the whole fleet).
FLEET_FAMILIES = {"aws_requests_total", "refresh_duration_seconds", "token_expiry_timestamp_seconds", "leader"}


def fleet_lint(work, kubeconfig, host):
    """Fleet mode's /metrics: the helper serves a fleet of one cluster (its kubeconfig in CLUSTERS_DIR as
    `edge-1`, no own cluster) against the same API server; after its first pass /metrics must lint, carry
    `cluster="edge-1"` on every per-cluster series and on nothing else, and hold SERIES_PER_CLUSTER series
    with that label."""
    print("== fleet mode", flush=True)
    clusters = work / "clusters"
    clusters.mkdir(exist_ok=True)
    shutil.copy(kubeconfig, clusters / "edge-1.yaml")
    (clusters / "edge-1.yaml").chmod(0o600)
    fleet = Helper(os.environ["HELPER_BIN"], work, None, log_name="helper-fleet.log")
    fleet.command += ["--clusters-dir", str(clusters)]
    try:
        fleet.start()
        wait_for("fleet /readyz 200 after the first pass", lambda: http_status(fleet.url + "/readyz") == 200, 90)
        text = wait_for("fleet /metrics with edge-1's oldest secret expiry",
                        lambda: (t := fleet.metrics()) and 'oldest_secret_expiry_timestamp_seconds{cluster="edge-1"}' in t and t)
        promtool_lint_text(text, "fleet")
        samples = [line for line in text.splitlines() if line.startswith(HELPER_PREFIX)]
        family = lambda line: re.sub(r"_(bucket|sum|count)$", "", re.match(r"aws_ecr_cred_helper_(\w+)", line).group(1))
        clustered = [line for line in samples if 'cluster="edge-1"' in line]
        unlabelled = sorted({family(line) for line in samples if "cluster=" not in line})
        check(f"[fleet] {SERIES_PER_CLUSTER} series per cluster, as documented", len(clustered) == SERIES_PER_CLUSTER,
              f"{len(clustered)}: {clustered}")
        check("[fleet] only the fleet's AWS families and leader carry no cluster label",
              set(unlabelled) == FLEET_FAMILIES, unlabelled)
        check("[fleet] the secrets are still valid (edge-1 is the same API server)",
              all(secret_valid(n, host) for n in NAMESPACES))
    except TimeoutError as error:
        check("[fleet] scenario", False, error)
        fleet.log.flush()
        print("--- fleet helper log (tail) ---")
        print("\n".join((work / "helper-fleet.log").read_text().splitlines()[-30:]))
    finally:
        fleet.stop()


RULES = []
HELPER_PREFIX = "aws_ecr_cred_helper_"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, type=pathlib.Path)
    parser.add_argument("--rbac", required=True, type=pathlib.Path)
    parser.add_argument("--rules", required=True, type=pathlib.Path)
    parser.add_argument("--picture", type=pathlib.Path)
    parser.add_argument("--render-python", default=sys.executable)
    parser.add_argument("--dwell", type=float, default=0, help="seconds to let each phase show on the picture")
    args = parser.parse_args()
    work = args.work
    RULES.extend(r for g in yaml.safe_load(args.rules.read_text())["groups"] for r in g["rules"])
    check("the rendered rules hold the four alerts", sorted(r["alert"] for r in RULES) == sorted(ALERTS),
          [r["alert"] for r in RULES])

    for namespace in NAMESPACES:
        kadm("create", "namespace", namespace)
    kubeconfig, user = helper_kubeconfig(work, args.rbac)
    check(f"the helper runs as {user} (the chart's RBAC, TokenRequest token), not as admin", True)
    fixture = write_config(work, NAMESPACES, None)
    host = f"{fixture['account']}.dkr.ecr.{fixture['region']}.amazonaws.com"

    # Prometheus first, so that it may scrape the helper before its first sync.
    helper = Helper(os.environ["HELPER_BIN"], work, kubeconfig)
    prom = Prometheus(os.environ.get("PROMETHEUS_BIN", "prometheus"), work, helper.port, args.rules)
    events = []
    covered = set()

    def mark(label):
        events.append({"time": time.time(), "label": label})

    def dwell():
        if args.dwell:
            time.sleep(args.dwell)

    def scraped(expr, pred=lambda v: True):
        """Waits until Prometheus has scraped what the helper reports: `expr` has a series satisfying `pred`."""
        return wait_for(f"Prometheus sees {expr}", lambda: any(pred(v) for _, v in prom.instant(expr)), 60)

    try:
        # --- sync ------------------------------------------------------------------------------------------
        start = time.time()
        mark("sync")
        helper.start()
        wait_for("/readyz 200 after the first sync", lambda: http_status(helper.url + "/readyz") == 200, 90)
        wait_for("secrets in " + " ".join(NAMESPACES), lambda: all(secret_valid(n, host) for n in NAMESPACES), 60)
        check("the helper synced every target namespace on the real API server (secrets read back as admin)", True)
        scraped('aws_ecr_cred_helper_target_namespaces{state="fresh"}', lambda v: v == 3)
        scraped("aws_ecr_cred_helper_refresh_duration_seconds_count", lambda v: v >= 1)
        # increase() needs two samples in its window: three successful scrapes so far.
        scraped('sum_over_time(up{job="aws-ecr-cred-helper"}[1m])', lambda v: v >= 3)
        dwell()
        end = time.time()
        promtool_lint(helper, "sync")
        samples = [line for line in helper.metrics().splitlines() if line.startswith(HELPER_PREFIX)]
        registries = sum(line.startswith(HELPER_PREFIX + "token_expiry_timestamp_seconds{") for line in samples)
        check(f"[sync] {SERIES_PER_PROCESS} series plus one per registry ({registries}), as documented",
              registries >= 1 and len(samples) == SERIES_PER_PROCESS + registries, f"{len(samples)} series")
        expiring_what_if = next(r["expr"] for r in RULES if r["alert"] == "AWSECRCredHelperTokenExpiringSoon")
        what_if = prom.instant(expiring_what_if.replace("< 7200", "< 86400"), end)
        check("[sync] TokenExpiringSoon's expression with a 24 h threshold: one series, the time left (11-12 h)",
              len(what_if) == 1 and 11 * HOUR < what_if[0][1] <= 12 * HOUR and what_if[0][0].get("namespace") == "kube-system",
              what_if)
        check_phase(prom, "sync", start, end, {
            ("Oldest pull secret expires in", "A"): one(between(11 * HOUR, 12 * HOUR)),
            ("Since last successful sync", "A"): one(between(-1, 120)),
            ("Namespaces not fresh", "A"): one(equals(0)),
            ("Leading replicas", "A"): one(equals(1)),
            ("Token expiry countdown", "A"): lambda s: len(s) == 1 and s[0][0].get("region") == fixture["region"]
                and s[0][0].get("registry", "").endswith(f".dkr.ecr.{fixture['region']}.amazonaws.com")
                and between(11 * HOUR, 12 * HOUR)(s[0][1]),
            ("Token expiry countdown", "B"): one(between(11 * HOUR, 12 * HOUR)),
            ("Namespaces by state", "A"): by("state", {"fresh": equals(3), "failing": equals(0), "foreign": equals(0)}),
            ("Leader", "A"): one(equals(1)),
            ("Watch restarts", "A"): by("resource", {"secrets": lambda v: peak(v) >= 0, "namespaces": stays_zero()}),
            # The first fetch and writes may precede Prometheus' first scrape (no increase to see then): the
            # series are there, nothing failed. Later phases see them rise.
            ("Refreshes and failures", "A"): by("outcome", {"success": lambda v: peak(v) >= 0, "failure": stays_zero()}),
            ("Refreshes and failures", "B"): one(stays_zero()),
            ("API writes", "A"): by("outcome", {"written": lambda v: peak(v) >= 0, "unchanged": lambda v: peak(v) >= 0,
                                                "failed": stays_zero(), "foreign": stays_zero()}),
            ("API writes", "B"): one(stays_zero()),
        }, {}, [], covered)

        # --- repair ----------------------------------------------------------------------------------------
        start = time.time()
        written_before = sum(v for _, v in prom.instant('aws_ecr_cred_helper_secret_writes_total{outcome="written"}'))
        mark("secret deleted")
        kadm("-n", "obs-b", "delete", "secret", SECRET)
        wait_for("the deleted secret restored in obs-b", lambda: secret_valid("obs-b", host), 30)
        check("a deleted secret is restored by the helper", True)
        scraped('sum(aws_ecr_cred_helper_secret_writes_total{outcome="written"})', lambda v: v >= written_before + 1)
        dwell()
        end = time.time()
        check_phase(prom, "repair", start, end, {
            ("API writes", "A"): by("outcome", {"written": rises(), "failed": stays_zero(), "foreign": stays_zero(),
                                                "unchanged": lambda v: peak(v) >= 0}),
            ("API writes", "B"): one(stays_zero()),
            ("Namespaces by state", "A"): by("state", {"fresh": equals(3), "failing": equals(0), "foreign": equals(0)}),
        }, {}, [], covered)

        # --- a namespace that does not exist yet ---------------------------------------------------------------
        start = time.time()
        mark("namespace missing")
        write_config(work, NAMESPACES + [NEW_NAMESPACE], None)
        scraped('aws_ecr_cred_helper_target_namespaces{state="failing"}', lambda v: v == 1)
        dwell()
        end = time.time()
        check_phase(prom, "namespace", start, end, {
            ("Namespaces not fresh", "A"): one(equals(1)),
            ("Namespaces by state", "A"): by("state", {"fresh": equals(3), "failing": equals(1), "foreign": equals(0)}),
            ("API writes", "A"): by("outcome", {"failed": rises()}, exact=False),
        }, {"AWSECRCredHelperNamespacesNotFresh": lambda r: len(r) == 1 and r[0][1] == 1
            and r[0][0].get("namespace") == "kube-system"}, ["AWSECRCredHelperNamespacesNotFresh"], covered)
        start = time.time()
        mark("namespace created")
        kadm("create", "namespace", NEW_NAMESPACE)
        wait_for(f"the secret written into {NEW_NAMESPACE} once it exists", lambda: secret_valid(NEW_NAMESPACE, host), 120)
        scraped('aws_ecr_cred_helper_target_namespaces{state="fresh"}', lambda v: v == 4)
        dwell()
        end = time.time()
        check_phase(prom, "namespace created", start, end, {
            ("Namespaces by state", "A"): by("state", {"fresh": equals(4), "failing": equals(0), "foreign": equals(0)}),
        }, {}, [], covered)

        # --- AWS access broken ---------------------------------------------------------------------------------
        start = time.time()
        failures_before = sum(v for _, v in prom.instant("aws_ecr_cred_helper_refresh_failures_total"))
        mark("AWS key broken")
        write_config(work, NAMESPACES + [NEW_NAMESPACE], fixture["allowed"]["secretAccessKey"][::-1])
        scraped("aws_ecr_cred_helper_refresh_failures_total", lambda v: v > failures_before)
        # The alert's window (15 s in the rules rendered for this run) has to pass without a success.
        wait_for("AWSECRCredHelperRefreshFailing firing", lambda: "AWSECRCredHelperRefreshFailing" in prom.firing(), 90)
        check("readiness holds while the old tokens are valid", http_status(helper.url + "/readyz") == 200)
        dwell()
        end = time.time()
        refresh_failing = next(r["expr"] for r in RULES if r["alert"] == "AWSECRCredHelperRefreshFailing")
        window = float(re.search(r"> (\d+)\s*\)", refresh_failing).group(1))
        check_phase(prom, "aws-broken", start, end, {
            ("Refreshes and failures", "A"): by("outcome", {"failure": rises(), "success": stays_zero()}),
            ("Refreshes and failures", "B"): one(rises()),
            ("Since last successful sync", "A"): one(lambda v: last(v) > window),
            ("Namespaces by state", "A"): by("state", {"fresh": equals(4), "failing": equals(0), "foreign": equals(0)}),
            ("Oldest pull secret expires in", "A"): one(between(11 * HOUR, 12 * HOUR)),
        }, {"AWSECRCredHelperRefreshFailing": lambda r: len(r) == 1 and r[0][1] > window
            and r[0][0].get("namespace") == "kube-system"}, ["AWSECRCredHelperRefreshFailing"], covered)

        # --- recovered -------------------------------------------------------------------------------------------
        start = time.time()
        fetched_before = sum(v for _, v in prom.instant("aws_ecr_cred_helper_refresh_duration_seconds_count"))
        mark("key fixed")
        write_config(work, NAMESPACES + [NEW_NAMESPACE], None)
        scraped("aws_ecr_cred_helper_refresh_duration_seconds_count", lambda v: v > fetched_before)
        dwell()
        end = time.time()
        promtool_lint(helper, "recovered")
        check_phase(prom, "recovered", start, end, {
            ("Refreshes and failures", "A"): by("outcome", {"success": rises(), "failure": lambda v: peak(v) >= 0}),
            ("Since last successful sync", "A"): one(between(-1, 30)),
            # The fetch after the fix is one Prometheus saw happen (the first may precede the first scrape).
            ("AWS call latency", "A"): one(between(0, 120)),
            ("AWS call latency", "B"): one(between(0, 30)),
            ("Namespaces not fresh", "A"): one(equals(0)),
            ("Oldest pull secret expires in", "A"): one(between(11 * HOUR, 12 * HOUR)),
        }, {}, [], covered)
        picture_end = time.time()

        missing = [f"{title} {ref}" for title, ref, _ in dashboard_targets() if (title, ref) not in covered]
        check("every dashboard query was checked in some phase", not missing, missing)

        # --- absent ----------------------------------------------------------------------------------------------
        start = time.time()
        helper.stop()
        check("the helper exits on SIGTERM", helper.proc.returncode == 0, helper.proc.returncode)
        wait_for("AWSECRCredHelperAbsent firing", lambda: "AWSECRCredHelperAbsent" in prom.firing(), 60)
        end = time.time()
        check_phase(prom, "absent", start, end, {}, {"AWSECRCredHelperAbsent": lambda r: len(r) == 1 and r[0][1] == 1},
                    ["AWSECRCredHelperAbsent"], covered)

        if args.picture:
            (work / "events.json").write_text(json.dumps(events))
            proc = subprocess.run([args.render_python, str(ROOT / "scripts/observability/render_dashboard.py"),
                                   "--prometheus", prom.url, "--start", f"{events[0]['time'] - 5:.0f}",
                                   "--end", f"{picture_end:.0f}", "--events", str(work / "events.json"),
                                   "--rate-interval", RATE_INTERVAL, "--out", str(args.picture)],
                                  capture_output=True, text=True, timeout=300)
            check(f"dashboard picture rendered from this run: {args.picture}", proc.returncode == 0,
                  (proc.stdout + proc.stderr).strip())

        # --- fleet mode --------------------------------------------------------------------------------------
        fleet_lint(work, kubeconfig, host)
    except (TimeoutError, RuntimeError) as error:
        check("scenario", False, error)
        print("--- helper log (tail) ---")
        helper.log.flush()
        print("\n".join((work / "helper.log").read_text().splitlines()[-30:]))
    finally:
        helper.stop()
        prom.stop()
    print(f"live: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
