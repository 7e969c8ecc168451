"""Where the benchmark writes: the stand-in API server (a fresh kube-test-server per measurement, so every
run starts from exactly N namespaces and an empty request log) or a real cluster through a kubeconfig
(namespaces with a unique prefix, created per measurement and deleted at the end)."""
import concurrent.futures
import json
import os
import secrets as pysecrets
import signal
import subprocess
import time

from kube import Kube, KubeAccess

SECRET_NAME = "registry-aws-ecr"
HELPER_TOKEN = "bench-helper-token"

# The original helper's ClusterRole plus namespace list/watch, which NAMESPACES patterns need.
HELPER_RULES = [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "patch", "watch", "list"], "resourceNames": [SECRET_NAME]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
]


class Batch:
    """The namespaces of one measurement; `name(i)` also names namespaces created later (they match `pattern`)."""

    def __init__(self, prefix, count):
        self.prefix = prefix
        self.names = [self.name(i) for i in range(count)]

    def name(self, index):
        return "%s%s" % (self.prefix, index)

    @property
    def pattern(self):
        return self.prefix + "*"


def cpu_seconds(pid):
    """utime+stime of a process from /proc (10 ms resolution)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return None


class StandIn:
    is_standin = True

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.process = None
        self.admin = None
        self.kube = None
        self.url = None
        self.helper_token = HELPER_TOKEN
        self.helper_kubeconfig = os.path.join(workdir, "helper-kubeconfig.yaml")
        self.rules_file = os.path.join(workdir, "helper-rules.json")
        with open(self.rules_file, "w") as f:
            json.dump(HELPER_RULES, f)
        self.starts = []

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def fresh(self, count, tag="run"):
        """A new server holding exactly `count` namespaces bench-0..bench-(count-1)."""
        self.stop()
        out = os.path.join(self.workdir, "server.out")
        err = open(os.path.join(self.workdir, "server.log"), "ab")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [self.binary, "--port", "0", "--namespaces", "default,kube-system",
             "--user", "aws-ecr-cred-helper:%s:%s" % (HELPER_TOKEN, self.rules_file),
             "--admin-token-file", os.path.join(self.workdir, "admin-token"),
             "--kubeconfig", self.helper_kubeconfig, "--kubeconfig-token", HELPER_TOKEN,
             "--ca-out", os.path.join(self.workdir, "ca.pem")],
            stdout=open(out, "wb"), stderr=err)
        values = {}
        for _ in range(500):
            with open(out) as f:
                values = dict(line.strip().split("=", 1) for line in f if "=" in line)
            if "KUBE_TEST_SERVER_PORT" in values:
                break
            if self.process.poll() is not None:
                raise RuntimeError("kube-test-server exited; see %s/server.log" % self.workdir)
            time.sleep(0.01)
        else:
            raise RuntimeError("kube-test-server did not announce its URL")
        self.starts.append(time.monotonic() - started)
        self.url = values["KUBE_TEST_SERVER_URL"]
        with open(os.path.join(self.workdir, "admin-token")) as f:
            admin_token = f.read().strip()
        self.admin = KubeAccess(self.url, ca_file=os.path.join(self.workdir, "ca.pem"), token=admin_token)
        self.kube = Kube(self.admin)
        batch = Batch("bench-", count)
        if count:
            self.kube.request("POST", "/_test/namespaces?count=%d&prefix=bench-" % count)
        return batch

    def requests(self):
        return self.kube.get("/_test/requests")

    def reset_requests(self):
        self.kube.request("DELETE", "/_test/requests")

    def cpu(self):
        return cpu_seconds(self.pid) if self.pid else None

    def stop(self):
        if self.kube:
            self.kube.close()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self):
        self.stop()


class RealCluster:
    """A real cluster: the kubeconfig's user must be allowed to create/delete namespaces and secrets."""
    is_standin = False
    pid = None

    def __init__(self, kubeconfig, context, prefix, workdir):
        self.admin = KubeAccess.from_kubeconfig(kubeconfig, context)
        self.kube = Kube(self.admin)
        self.url = self.admin.server
        self.helper_kubeconfig = kubeconfig
        self.context = context
        self.helper_token = self.admin.token
        self.prefix = "%s%s-" % (prefix, pysecrets.token_hex(3))
        self.runs = 0
        self.created = []
        self.workdir = workdir

    def fresh(self, count, tag="run"):
        self.runs += 1
        batch = Batch("%s%s%d-" % (self.prefix, tag, self.runs), count)
        self.create_namespaces(batch.names)
        return batch

    def create_namespaces(self, names):
        self.created.extend(names)

        def create(chunk):
            client = Kube(self.admin)
            for name in chunk:
                client.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            client.close()

        chunks = [names[i::16] for i in range(16)]
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(create, [c for c in chunks if c]))

    def requests(self):
        return None

    def reset_requests(self):
        pass

    def cpu(self):
        return None

    def stop(self):
        pass

    def cleanup(self):
        names = sorted(set(self.created))
        if not names:
            return

        def delete(chunk):
            client = Kube(self.admin)
            for name in chunk:
                client.request("DELETE", "/api/v1/namespaces/" + name, ok=None)
            client.close()

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(delete, [names[i::16] for i in range(16) if names[i::16]]))
        print("deleted %d namespaces with prefix %s" % (len(names), self.prefix), flush=True)
