"""Starts the helper binary under test the way a user does: config folders with the original helper's files,
a kubeconfig, AWS_ENDPOINT_URL pointing at the counting proxy in front of moto."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def memory_kb(pid):
    """VmHWM (peak RSS), VmRSS, RssAnon (private heap and stacks) and RssFile (mapped binary) in kB."""
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:", "RssAnon:", "RssFile:")):
                name, amount = line.split(":", 1)
                values[name] = int(amount.split()[0])
    return values


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningHelper:
    def __init__(self, process, log_path, spawned, http_port):
        self.process = process
        self.log_path = log_path
        self.spawned = spawned
        self.http_port = http_port

    def scrape(self, path="/metrics"):
        """GET one of the helper's HTTP endpoints (so footprint figures include serving them)."""
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path), timeout=10) as response:
            return response.status, response.read()

    def log_count(self, text):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read().count(text)
        except OSError:
            return 0

    def wait_log(self, text, count=1, timeout=60):
        """Waits until `text` appears `count` times in the log; returns the time it was seen (20 ms polling)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log_count(text) >= count:
                return time.monotonic()
            if self.process.poll() is not None:
                raise RuntimeError("helper exited (%s); log: %s" % (self.process.returncode, self.tail()))
            time.sleep(0.02)
        raise RuntimeError("helper did not log %r %d times within %ss; log: %s" % (text, count, timeout, self.tail()))

    def tail(self, lines=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def memory(self):
        return memory_kb(self.process.pid)

    def stop(self):
        """SIGTERM; returns the seconds until the process exited (None if it had to be killed)."""
        if self.process.poll() is not None:
            return None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
            return time.monotonic() - started
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


class Helper:
    def __init__(self, binary, target, aws_endpoint, fixture_path, workdir):
        self.binary = binary
        self.target = target
        self.workdir = workdir
        self.runs = 0
        with open(fixture_path) as f:
            fixture = json.load(f)
        self.aws_dir = os.path.join(workdir, "config-aws")
        os.makedirs(self.aws_dir, exist_ok=True)
        # The original helper's files, with the trailing newline its sample secret has.
        for name, value in [("AWS_ACCESS_KEY_ID", fixture["allowed"]["accessKeyId"]),
                            ("AWS_SECRET_ACCESS_KEY", fixture["allowed"]["secretAccessKey"]),
                            ("AWS_DEFAULT_REGION", fixture["region"])]:
            with open(os.path.join(self.aws_dir, name), "w") as f:
                f.write(value + "\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KUBECONFIG", "NAMESPACE", "LOG_", "HTTP_PORT"))}
        self.env["AWS_ENDPOINT_URL"] = aws_endpoint

    def _prepare(self, namespaces, extra_env):
        self.runs += 1
        config = os.path.join(self.workdir, "config-%d" % self.runs)
        os.makedirs(config, exist_ok=True)
        with open(os.path.join(config, "NAMESPACES"), "w") as f:
            f.write((namespaces if isinstance(namespaces, str) else "\n".join(namespaces)) + "\n")
        with open(os.path.join(config, "SECRET_NAME"), "w") as f:
            f.write("registry-aws-ecr\n")
        args = ["--config-dir", config, "--aws-config-dir", self.aws_dir, "--kubeconfig", self.target.helper_kubeconfig]
        if getattr(self.target, "helper_context", None):
            args += ["--context", self.target.helper_context]
        env = dict(self.env)
        env.update(extra_env or {})
        return config, args, env

    def sync(self, namespaces, extra_env=None, wrapper=()):
        """One `sync`: wall time from spawn to exit, CPU time (rusage) and the per-namespace outcomes it printed.
        `wrapper` prefixes the command (e.g. perf record)."""
        config, args, env = self._prepare(namespaces, extra_env)
        out_path, err_path = os.path.join(config, "sync.out"), os.path.join(config, "sync.log")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            started = time.monotonic()
            process = subprocess.Popen(list(wrapper) + [self.binary, "sync"] + args, stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(process.pid, 0)
            finished = time.monotonic()
            process.returncode = os.waitstatus_to_exitcode(status)
        outcomes = {}
        with open(out_path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 2:
                    outcomes[parts[1]] = outcomes.get(parts[1], 0) + 1
        return {
            "started": started, "wall": finished - started, "exit": process.returncode,
            "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss, "outcomes": outcomes,
            "log": err_path,
        }

    def start_run(self, namespaces, extra_env=None):
        config, args, env = self._prepare(namespaces, extra_env)
        # The health/metrics listener is on, as in a deployment (its default port 8080 may be taken here).
        env.setdefault("HTTP_PORT", str(free_port()))
        log_path = os.path.join(config, "run.log")
        log = open(log_path, "wb")
        started = time.monotonic()
        process = subprocess.Popen([self.binary, "run"] + args, stdout=log, stderr=subprocess.STDOUT, env=env)
        return RunningHelper(process, log_path, started, int(env["HTTP_PORT"]))
