"""Copies the monitoring sources in deploy/monitoring/ to where the chart and the Kustomize components read them.

Helm reads files inside the chart only and Kustomize inside the component only, so each gets a copy of the
one source (edit deploy/monitoring/, then run this):
  deploy/monitoring/prometheus-rules.yaml -> deploy/helm/aws-ecr-cred-helper/files/prometheus-rules.yaml
                                          -> deploy/kustomize/components/monitoring/prometheusrule.yaml
                                             (the same text as the spec of a PrometheusRule)
  deploy/monitoring/grafana-dashboard.json -> deploy/helm/aws-ecr-cred-helper/files/grafana-dashboard.json
                                           -> deploy/kustomize/components/grafana-dashboard/grafana-dashboard.json

Usage: monitoring_sync.py [--check]   (--check: change nothing, exit 1 naming every copy that differs)
"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy/monitoring/prometheus-rules.yaml"
DASHBOARD = ROOT / "deploy/monitoring/grafana-dashboard.json"
NOTE = "# Generated from deploy/monitoring/prometheus-rules.yaml by scripts/deploy/monitoring_sync.py: edit that file.\n"


def rules_body(text):
    """The rules file from its `groups:` line on (the header comments describe the source, not the copies)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    return "".join(lines[start:])


def outputs():
    rules = RULES.read_text()
    body = rules_body(rules)
    prometheus_rule = (
        NOTE
        + "# The alerts as a Prometheus Operator PrometheusRule; runbooks in docs/runbooks.md.\n"
        + "apiVersion: monitoring.coreos.com/v1\n"
        + "kind: PrometheusRule\n"
        + "metadata:\n"
        + "  name: aws-ecr-cred-helper\n"
        + "  namespace: kube-system\n"
        + "spec:\n"
        + "".join("  " + line if line.strip() else line for line in body.splitlines(keepends=True))
    )
    dashboard = DASHBOARD.read_text()
    return {
        ROOT / "deploy/helm/aws-ecr-cred-helper/files/prometheus-rules.yaml": NOTE + body,
        ROOT / "deploy/kustomize/components/monitoring/prometheusrule.yaml": prometheus_rule,
        ROOT / "deploy/helm/aws-ecr-cred-helper/files/grafana-dashboard.json": dashboard,
        ROOT / "deploy/kustomize/components/grafana-dashboard/grafana-dashboard.json": dashboard,
    }


def main():
    check = sys.argv[1:] == ["--check"]
    stale = []
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(("out of date: " if check else "wrote ") + str(path))
    if check and stale:
        print("run scripts/deploy/monitoring_sync.py after editing deploy/monitoring/")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
