"""Where the benchmark writes: the stand-in API server (a fresh kube-test-server per measurement, so every
run starts from exactly N namespaces and an empty request log), a real kube-apiserver of its own (envtest:
also started afresh per measurement) or a real cluster through a kubeconfig (namespaces with a unique
prefix, created per measurement and deleted at the end).

On a real server the admin identity (the kubeconfig's user, or envtest's cluster-admin certificate) creates
the namespaces and reads back; the helper and the wrk floor run as a ServiceAccount of their own, bound to
HELPER_RULES (the stand-in's helper rights), with a token from TokenRequest."""
import concurrent.futures
import json
import os
import re
import secrets as pysecrets
import shutil
import signal
import subprocess
import time

from kube import Kube, KubeAccess

SECRET_NAME = "registry-aws-ecr"
HELPER_TOKEN = "bench-helper-token"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


# apiserver_request_total's verbs as the stand-in's request log spells them (method, verb).
METRIC_VERBS = {"APPLY": ("PATCH", "patch"), "PATCH": ("PATCH", "patch"), "POST": ("POST", "create"),
                "PUT": ("PUT", "update"), "DELETE": ("DELETE", "delete"), "DELETECOLLECTION": ("DELETE", "deletecollection"),
                "GET": ("GET", "get"), "LIST": ("GET", "list"), "WATCH": ("GET", "watch"), "WATCHLIST": ("GET", "watch")}
METRIC_LINE = re.compile(r'^apiserver_request_total\{(.*)\} (\S+)$')
METRIC_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class RealCluster:
    """A real cluster. The admin kubeconfig's user (namespace create/delete, secrets read-back, and RBAC
    set-up unless `helper_kubeconfig` is given) prepares and reads back; the helper and the floor use the
    helper identity: `helper_kubeconfig`, or a ServiceAccount made here, bound to HELPER_RULES, whose token
    comes from TokenRequest. Everything made here is deleted at the end.

    Request counts come from the API server's own apiserver_request_total counter (when the admin may read
    /metrics), JSON clients only: kube-controller-manager and other built-in components talk protobuf. On a
    shared cluster other JSON clients (kubectl, operators) are counted too."""
    is_standin = False
    kind = "real cluster"

    def __init__(self, kubeconfig, context, prefix, workdir, helper_kubeconfig=None):
        self.workdir = workdir
        self.prefix = "%s%s-" % (prefix, pysecrets.token_hex(3))
        self.runs = 0
        self.created = []
        self.cluster_objects = []
        self.helper_context = None
        self.baseline = None
        self.metrics_ok = True
        self.connect(kubeconfig, context)
        if helper_kubeconfig:
            self.helper_kubeconfig = helper_kubeconfig
            self.helper_token = KubeAccess.from_kubeconfig(helper_kubeconfig).token
            self.helper_identity = "the user of %s" % helper_kubeconfig
        else:
            namespace = self.prefix + "helper"
            self.created.append(namespace)
            self.kube.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            self.provision_helper(namespace, namespace)

    def connect(self, kubeconfig, context=None):
        self.admin = KubeAccess.from_kubeconfig(kubeconfig, context)
        self.kube = Kube(self.admin)
        self.url = self.admin.server

    def provision_helper(self, namespace, name):
        """ServiceAccount NAMESPACE/NAME + ClusterRole and ClusterRoleBinding NAME with HELPER_RULES; a
        TokenRequest token for it; a kubeconfig holding only that token. Checks the rights took effect and
        that they are no wider (a cluster-wide LIST of secrets without the name selector is refused)."""
        kube = self.kube
        kube.request("POST", "/api/v1/namespaces/%s/serviceaccounts" % namespace,
                     {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}})
        kube.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                     {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
                      "rules": HELPER_RULES})
        self.cluster_objects.append("/apis/rbac.authorization.k8s.io/v1/clusterroles/" + name)
        kube.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                     {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                      "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
        self.cluster_objects.append("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/" + name)
        _, answer = kube.request("POST", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (namespace, name),
                                 {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                  "spec": {"expirationSeconds": 4 * 3600}})
        self.helper_token = answer["status"]["token"]
        self.helper_identity = "ServiceAccount %s/%s (TokenRequest token)" % (namespace, name)
        self.helper_kubeconfig = os.path.join(self.workdir, "helper-kubeconfig.yaml")
        self.admin.write_token_kubeconfig(self.helper_kubeconfig, self.helper_token, name)
        helper = Kube(KubeAccess(self.admin.server, ca_file=self.admin.ca_file, token=self.helper_token, insecure=self.admin.insecure))
        try:
            deadline = time.monotonic() + 30
            while True:  # RBAC reaches the authorizer through an informer: wait until the binding is seen.
                status, _ = helper.request("GET", "/api/v1/secrets?fieldSelector=metadata.name%3D" + SECRET_NAME, ok=None)
                if status == 200:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the helper's ServiceAccount still gets %d listing its secrets after 30 s" % status)
                time.sleep(0.1)
            status, _ = helper.request("GET", "/api/v1/secrets", ok=None)
            if status != 403:
                raise RuntimeError("the helper's ServiceAccount may list every secret (%d): its rights are wider than HELPER_RULES" % status)
        finally:
            helper.close()

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

    # -------------------------------------------------------- request counts from apiserver_request_total

    def counters(self):
        """apiserver_request_total of JSON clients by (verb, resource, subresource, code); None without /metrics."""
        if not self.metrics_ok:
            return None
        status, text = self.kube.raw("GET", "/metrics", ok=None)
        if status != 200:
            self.metrics_ok = False
            return None
        counts = {}
        for line in text.decode(errors="replace").splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            match = METRIC_LINE.match(line)
            if not match:
                continue
            labels = dict(METRIC_LABEL.findall(match.group(1)))
            if labels.get("contentType") != "application/json" or not labels.get("resource"):
                continue
            key = (labels.get("verb", ""), labels["resource"], labels.get("subresource", ""), labels.get("code", "0"))
            counts[key] = counts.get(key, 0) + int(float(match.group(2)))
        return counts

    def settled_counters(self):
        """The counter is incremented just after the answer is written: read until two reads agree."""
        previous = self.counters()
        for _ in range(40):
            if previous is None:
                return None
            time.sleep(0.05)
            current = self.counters()
            if current == previous:
                return current
            previous = current
        return previous

    def reset_requests(self):
        self.baseline = self.settled_counters()

    def requests(self):
        """The requests since reset_requests, in the stand-in request log's shape (without namespaces)."""
        if self.baseline is None:
            return None
        now = self.settled_counters()
        if now is None:
            return None
        entries = []
        for key, count in now.items():
            delta = count - self.baseline.get(key, 0)
            if delta <= 0:
                continue
            verb, resource, subresource, code = key
            method, kube_verb = METRIC_VERBS.get(verb, (verb, verb.lower()))
            entry = {"method": method, "verb": kube_verb, "resource": resource + ("/" + subresource if subresource else ""),
                     "status": int(code) if code.isdigit() else 0,
                     "contentType": "application/apply-patch+yaml" if verb == "APPLY" else "application/json"}
            entries.extend([entry] * delta)
        return entries

    def cpu(self):
        return None

    def stop(self):
        pass

    def cleanup(self):
        names = sorted(set(self.created))
        for path in self.cluster_objects:
            self.kube.request("DELETE", path, ok=None)
        if names:
            def delete(chunk):
                client = Kube(self.admin)
                for name in chunk:
                    client.request("DELETE", "/api/v1/namespaces/" + name, ok=None)
                client.close()

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                list(pool.map(delete, [names[i::16] for i in range(16) if names[i::16]]))
            print("deleted %d namespaces with prefix %s" % (len(names), self.prefix), flush=True)
        self.kube.close()
        self.admin.remove_temp_files()


class Envtest(RealCluster):
    """A real kube-apiserver of our own (scripts/envtest.sh: etcd, kube-apiserver v1.19 with RBAC, and
    kube-controller-manager), started afresh for every measurement like the stand-in, so every run starts
    from exactly N namespaces bench-0..bench-(N-1) and no secrets from earlier runs (deleting thousands of
    namespaces takes longer than starting a server). Per server: the helper's ServiceAccount
    kube-system/aws-ecr-cred-helper, bound to HELPER_RULES, with a TokenRequest token; one warm-up apply by
    the admin, so the first measured write does not pay the server's lazy set-up."""
    kind = "envtest"

    def __init__(self, root, workdir):
        self.root = os.path.abspath(root)
        self.workdir = workdir
        self.script = os.path.join(ROOT, "scripts", "envtest.sh")
        self.dir = None
        self.servers = 0
        self.starts = []
        self.version = self.etcd_version = None
        self.pids = {}
        self.created, self.cluster_objects = [], []
        self.helper_context = None
        self.baseline = None
        self.metrics_ok = True
        self.admin = self.kube = self.url = None
        self.helper_kubeconfig = self.helper_token = None

    def start(self):
        self.stop()
        self.servers += 1
        self.dir = os.path.join(self.root, "server-%d" % self.servers)
        os.makedirs(self.dir)
        pki = os.path.join(self.root, "pki")
        if os.path.isdir(pki):  # envtest_start keeps the certificates it finds: skip making keys every time
            shutil.copytree(pki, os.path.join(self.dir, "pki"))
        started = time.monotonic()
        with open(os.path.join(self.root, "envtest.log"), "ab") as log:
            status = subprocess.run([self.script, "start", self.dir, "--with-controller-manager"],
                                    stdout=log, stderr=log).returncode
        if status != 0:
            raise RuntimeError("scripts/envtest.sh start failed (%d); see %s/envtest.log and %s/logs" % (status, self.root, self.dir))
        if not os.path.isdir(pki):
            shutil.copytree(os.path.join(self.dir, "pki"), pki)
        with open(os.path.join(self.dir, "env")) as f:
            env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        self.connect(env["KUBECONFIG_ADMIN"])
        for name in ("kube-apiserver", "etcd", "kube-controller-manager"):
            try:
                with open(os.path.join(self.dir, "pids", name + ".pid")) as f:
                    self.pids[name] = int(f.read().strip())
            except (OSError, ValueError):
                self.pids.pop(name, None)
        if self.version is None:
            self.version = self.kube.get("/version").get("gitVersion")
            try:
                etcd = os.readlink("/proc/%d/exe" % self.pids["etcd"])
                self.etcd_version = subprocess.run([etcd, "--version"], capture_output=True, text=True,
                                                   timeout=30).stdout.splitlines()[0].split(":", 1)[1].strip()
            except (KeyError, OSError, IndexError, subprocess.SubprocessError):
                self.etcd_version = None
        self.provision_helper("kube-system", "aws-ecr-cred-helper")
        self.cluster_objects = []  # they go with the server
        self.kube.request("PATCH", "/api/v1/namespaces/default/secrets/bench-warm-up?fieldManager=bench-admin&force=true",
                          json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bench-warm-up"},
                                      "type": "Opaque", "data": {"a": "Yg=="}}).encode(), "application/apply-patch+yaml")
        self.starts.append(time.monotonic() - started)

    def fresh(self, count, tag="run"):
        """A new server holding exactly `count` namespaces bench-0..bench-(count-1), as on the stand-in."""
        self.start()
        batch = Batch("bench-", count)
        if count:
            self.create_namespaces(batch.names)
        self.created = []  # they go with the server
        return batch

    def cpu(self):
        """CPU seconds of the server: kube-apiserver + etcd (kube-controller-manager, a client, not counted)."""
        values = [cpu_seconds(self.pids[name]) for name in ("kube-apiserver", "etcd") if name in self.pids]
        if not values or any(v is None for v in values):
            return None
        return sum(values)

    def stop(self):
        if self.kube:
            self.kube.close()
        if self.admin:
            self.admin.remove_temp_files()
        if self.dir:
            # The server and its data are thrown away: SIGKILL the processes this server's start recorded
            # instead of their graceful shutdown (~7 s), then let envtest_stop tidy up whatever is left.
            for name, pid in self.pids.items():
                try:
                    if os.path.basename(os.readlink("/proc/%d/exe" % pid)) == name:
                        os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        self.pids = {}

    def cleanup(self):
        self.stop()
