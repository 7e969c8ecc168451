"""Checks every rendered deploy manifest: Kubernetes schemas, PromQL, and the properties the project promises.

Usage: check_manifests.py RENDERED_DIR
RENDERED_DIR holds what validate.sh rendered: kustomize-<overlay>.yaml and helm-<case>.yaml (one per file in
deploy/helm/aws-ecr-cred-helper/ci/). The plain manifests are read from deploy/ directly.
Prints one line per check and ends with "manifests: N passed, M failed"; exits 1 if any failed.
"""
import copy
import json
import pathlib
import re
import sys

import jsonschema
import kubernetes_validate
import promql_parser
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "README.md"
IMAGE = "ghcr.io/aws-ecr-cred-helper/aws-ecr-cred-helper:0.1.0"
SECRET_NAME = "registry-aws-ecr"
# Oldest and newest Kubernetes the manifests are validated against (the chart's kubeVersion starts at 1.25).
KUBE_VERSIONS = ["1.25.0", "1.37.0"]
# What the alerts read (deploy/monitoring/prometheus-rules.yaml, the one source of every PrometheusRule).
METRICS = {
    "aws_ecr_cred_helper_oldest_secret_expiry_timestamp_seconds",
    "aws_ecr_cred_helper_last_success_timestamp_seconds",
    "aws_ecr_cred_helper_refresh_failures_total",
    "aws_ecr_cred_helper_target_namespaces",
    "aws_ecr_cred_helper_leader",
}
ALERTS = {
    "AWSECRCredHelperTokenExpiringSoon", "AWSECRCredHelperRefreshFailing", "AWSECRCredHelperNamespacesNotFresh",
    "AWSECRCredHelperAbsent",
}
RULES_SOURCE = ROOT / "deploy" / "monitoring" / "prometheus-rules.yaml"
DASHBOARD_SOURCE = ROOT / "deploy" / "monitoring" / "grafana-dashboard.json"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
# Grafana's variables, replaced by values Prometheus accepts, to parse the dashboard's queries.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$job": ".*", "$namespace": ".*"}


class Loader(yaml.SafeLoader):
    """YAML 1.1 as Kubernetes reads it, plus Go's 0o octal prefix (the original manifest uses 0o0640)."""


Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^0o[0-7]+$"), list("0"))
_construct_int = Loader.yaml_constructors["tag:yaml.org,2002:int"]
Loader.add_constructor(
    "tag:yaml.org,2002:int",
    lambda loader, node: int(node.value[2:], 8) if node.value.startswith("0o") else _construct_int(loader, node),
)


def load(text):
    return [d for d in yaml.load_all(text, Loader=Loader) if d]


def load_file(path):
    return load(pathlib.Path(path).read_text())


def key(doc):
    m = doc["metadata"]
    return (doc["kind"], m.get("namespace", ""), m["name"])


def by_key(docs):
    return {key(d): d for d in docs}


def normalize(doc):
    """Order of volumeMounts and volumes carries no meaning (env order does, and is kept)."""
    doc = copy.deepcopy(doc)
    spec = doc.get("spec", {}).get("template", {}).get("spec")
    if spec:
        spec["volumes"] = sorted(spec.get("volumes", []), key=lambda v: v["name"])
        for c in spec.get("containers", []):
            c["volumeMounts"] = sorted(c.get("volumeMounts", []), key=lambda v: v["mountPath"])
    return doc


results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok or not detail else ': ' + detail}")
    return ok


def same_objects(name, left, right, ignore=()):
    a = {k: normalize(v) for k, v in by_key(left).items() if k[0] not in ignore}
    b = {k: normalize(v) for k, v in by_key(right).items() if k[0] not in ignore}
    if set(a) != set(b):
        return check(name, False, f"objects differ: only left {sorted(set(a) - set(b))}, only right {sorted(set(b) - set(a))}")
    diff = [k for k in a if a[k] != b[k]]
    return check(name, not diff, f"content differs for {diff}")


# --- schemas --------------------------------------------------------------------------------------------------
# The Prometheus Operator CRDs are not in kubernetes-validate; these cover the fields the chart sets.
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["selector", "endpoints"],
                "additionalProperties": False,
                "properties": {
                    "selector": {"type": "object"},
                    "namespaceSelector": {"type": "object"},
                    "endpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "port": {"type": "string"},
                                "path": {"type": "string"},
                                "interval": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                                "scrapeTimeout": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                            },
                        },
                    },
                },
            }
        },
    },
    ("monitoring.coreos.com/v1", "PodMonitor"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["selector", "podMetricsEndpoints"],
                "additionalProperties": False,
                "properties": {
                    "selector": {"type": "object"},
                    "podMetricsEndpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "port": {"type": "string"},
                                "path": {"type": "string"},
                                "interval": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                                "scrapeTimeout": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                            },
                        },
                    },
                },
            }
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["groups"],
                "additionalProperties": False,
                "properties": {
                    "groups": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "rules"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string"},
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["alert", "expr"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                            "expr": {"type": "string"},
                                            "for": {"type": "string", "pattern": r"^(\d+(ms|s|m|h|d|w|y))+$"},
                                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            }
        },
    },
}


# cert-manager's Certificate (cert-manager.io/v1, from its CRD's openAPIV3Schema): the fields the chart and the
# Kustomize component set, with the CRD's enums, so a misspelt usage or key algorithm fails here, not in a cluster.
CRD_SCHEMAS[("cert-manager.io/v1", "Certificate")] = {
    "type": "object",
    "required": ["spec"],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["issuerRef", "secretName"],
            "additionalProperties": False,
            "properties": {
                "secretName": {"type": "string", "minLength": 1},
                "commonName": {"type": "string", "maxLength": 64},
                "duration": {"type": "string", "pattern": r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$"},
                "renewBefore": {"type": "string", "pattern": r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$"},
                "usages": {
                    "type": "array",
                    "items": {"type": "string", "enum": [
                        "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
                        "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
                        "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
                        "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
                    ]},
                },
                "privateKey": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "algorithm": {"type": "string", "enum": ["RSA", "ECDSA", "Ed25519"]},
                        "encoding": {"type": "string", "enum": ["PKCS1", "PKCS8"]},
                        "rotationPolicy": {"type": "string", "enum": ["Never", "Always"]},
                        "size": {"type": "integer"},
                    },
                },
                "issuerRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string", "minLength": 1}, "kind": {"type": "string"}, "group": {"type": "string"}},
                },
            },
        }
    },
}


def validate_schemas(source, docs):
    for doc in docs:
        crd = CRD_SCHEMAS.get((doc["apiVersion"], doc["kind"]))
        label = f"{source}: schema {doc['kind']}/{doc['metadata']['name']}"
        if crd:
            try:
                jsonschema.validate(doc, crd)
                ok, detail = True, ""
            except jsonschema.ValidationError as error:
                ok, detail = False, error.message
            if ok and doc["kind"] == "PrometheusRule":
                for group in doc["spec"]["groups"]:
                    for rule in group["rules"]:
                        try:
                            promql_parser.parse(rule["expr"])
                        except ValueError as error:
                            ok, detail = False, f"{rule['alert']}: PromQL: {error}"
            check(label + (" (CRD subset, PromQL parsed)" if doc["kind"] == "PrometheusRule" else " (CRD subset)"), ok, detail)
            continue
        problems = []
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{version}: {error.message} at {'/'.join(map(str, error.path))}")
            except Exception as error:  # noqa: BLE001 - report any validator failure as a failed check
                problems.append(f"{version}: {error}")
        check(label + f" (Kubernetes {', '.join(KUBE_VERSIONS)}, strict)", not problems, "; ".join(problems))


# --- properties ---------------------------------------------------------------------------------------------
def find(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"].endswith(name))]


def the(docs, kind, name=None):
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def rules_of(docs, kind="ClusterRole"):
    return [r for d in find(docs, kind) for r in d.get("rules", [])]


def check_hardened(source, docs, secret_name=SECRET_NAME, http=True):
    """The properties every hardened output must have, whatever the features."""
    all_rules = rules_of(docs, "ClusterRole") + rules_of(docs, "Role")
    wild = [r for r in all_rules if "*" in r.get("verbs", []) + r.get("resources", []) + r.get("apiGroups", [])]
    check(f"{source}: no wildcard RBAC", not wild, str(wild))
    # Fleet mode's kubeconfig Secrets (CLUSTER_SECRET_SELECTOR): RBAC cannot select Secrets by label, so that
    # Role reads the Secrets of the helper's own namespace; only list/watch, only there, only with a selector.
    fleet_roles = [d for d in find(docs, "Role") if d["metadata"]["name"].endswith("fleet-targets")]
    fleet_rules = [r for d in fleet_roles for r in d.get("rules", [])]
    selector = any(e.get("name") == "CLUSTER_SECRET_SELECTOR" for d in find(docs, "Deployment")
                   for c in d["spec"]["template"]["spec"]["containers"] for e in c.get("env", []))
    check(f"{source}: fleet kubeconfig Role iff CLUSTER_SECRET_SELECTOR, list/watch on secrets only",
          bool(fleet_roles) == selector and all(r.get("resources") == ["secrets"] and sorted(r.get("verbs", [])) == ["list", "watch"] for r in fleet_rules),
          str(fleet_rules))
    all_rules = rules_of(docs, "ClusterRole") + [r for d in find(docs, "Role") if d not in fleet_roles for r in d.get("rules", [])]
    secret_rules = [r for r in all_rules if "secrets" in r.get("resources", [])]
    check(
        f"{source}: every secret verb limited to {secret_name}",
        secret_rules and all(r.get("resourceNames") == [secret_name] for r in secret_rules),
        str(secret_rules),
    )
    verbs = {v for r in secret_rules for v in r["verbs"]}
    check(f"{source}: secret verbs get/list/watch/create/patch", {"get", "list", "watch", "create", "patch"} <= verbs, str(verbs))
    for sa in find(docs, "ServiceAccount"):
        check(f"{source}: ServiceAccount does not automount", sa.get("automountServiceAccountToken") is False)
    deploy = the(docs, "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    check(f"{source}: pod token mounted explicitly", pod.get("automountServiceAccountToken") is True)
    check(f"{source}: pod runAsNonRoot, uid 1000, seccomp RuntimeDefault",
          psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 1000
          and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", str(psc))
    (container,) = pod["containers"]
    sc = container.get("securityContext", {})
    check(f"{source}: container locked down",
          sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
          and sc.get("capabilities", {}).get("drop") == ["ALL"] and sc.get("runAsNonRoot") is True
          and sc.get("runAsUser") == 1000 and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
          and not sc.get("privileged") and not sc.get("capabilities", {}).get("add"), str(sc))
    res = container.get("resources", {})
    check(f"{source}: resources set", bool(res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory")))
    env = env_of(container)
    check(f"{source}: POD_NAME/POD_NAMESPACE from the downward API",
          env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name"
          and env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace")
    if http:
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        live = container.get("livenessProbe", {}).get("httpGet", {})
        ready = container.get("readinessProbe", {}).get("httpGet", {})
        check(f"{source}: port http 8080, liveness /healthz, readiness /readyz",
              ports.get("http") == 8080 and live == {"path": "/healthz", "port": "http"}
              and ready == {"path": "/readyz", "port": "http"}, f"{ports} {live} {ready}")
    mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
    check(f"{source}: writable /tmp on an emptyDir (read-only root)", "/tmp" in mounts)
    return deploy, container, env


def has_rule(docs, kind, resource, verbs, names=None, group=""):
    for r in rules_of(docs, kind):
        if resource in r.get("resources", []) and group in r.get("apiGroups", []) and set(verbs) <= set(r["verbs"]):
            if names is None or r.get("resourceNames") == names:
                return True
    return False


def check_original(rendered):
    seed_text = SEED.read_text() if SEED.exists() else None
    ours = load_file(ROOT / "deploy/original/aws-ecr-cred-helper.yaml")
    if seed_text is not None:
        block = re.search(r"```\n(.*?)```", seed_text, re.S).group(1)
        ours_text = (ROOT / "deploy/original/aws-ecr-cred-helper.yaml").read_text()
        changed = [(a, b) for a, b in zip(block.splitlines(), ours_text.splitlines()) if a != b]
        check("deploy/original is the original text but for the image line",
              len(block.splitlines()) == len(ours_text.splitlines()) and len(changed) == 1
              and changed[0][1].strip() == f"image: {IMAGE}", str(changed))
        seed = load(block)
        the(seed, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGE
        same_objects("deploy/original equals the original manifest except the image", seed, ours)
    else:
        print(f"note: {SEED} not found; skipped the comparison with the original manifest")
    validate_schemas("deploy/original", ours)
    comp = load_file(rendered / "kustomize-original-compatible.yaml")
    validate_schemas("kustomize original-compatible", comp)
    same_objects("kustomize original-compatible equals deploy/original (without the config Secrets)", ours, comp, ignore=("Secret",))


def check_hardened_plain_and_kustomize(rendered):
    plain = load_file(ROOT / "deploy/hardened/aws-ecr-cred-helper.yaml")
    example = load_file(ROOT / "deploy/hardened/config.example.yaml")
    validate_schemas("deploy/hardened", plain + example)
    check_hardened("deploy/hardened", plain)
    hard = load_file(rendered / "kustomize-hardened.yaml")
    validate_schemas("kustomize hardened", hard)
    same_objects("kustomize hardened equals deploy/hardened", plain, hard)
    check("deploy/hardened: events Role only in the pod's namespace",
          has_rule(plain, "Role", "events", ["create", "patch"]) and not has_rule(plain, "ClusterRole", "events", ["create"]))
    check("deploy/hardened: no namespace, ServiceAccount, lease or delete rights by default",
          not has_rule(plain, "ClusterRole", "namespaces", ["list"]) and not has_rule(plain, "ClusterRole", "serviceaccounts", ["patch"])
          and not has_rule(plain, "Role", "leases", ["create"], group="coordination.k8s.io")
          and not has_rule(plain, "ClusterRole", "secrets", ["delete"]))
    alln = load_file(rendered / "kustomize-all-namespaces.yaml")
    validate_schemas("kustomize all-namespaces", alln)
    _, _, env = check_hardened("kustomize all-namespaces", alln)
    check("kustomize all-namespaces: NAMESPACES=* and namespace list/watch",
          env.get("NAMESPACES", {}).get("value") == "*" and has_rule(alln, "ClusterRole", "namespaces", ["list", "watch"]))
    feat = load_file(rendered / "kustomize-all-features.yaml")
    validate_schemas("kustomize all-features", feat)
    check_prometheus_rule("kustomize all-features (components/monitoring)", the(feat, "PrometheusRule"))
    check_dashboard_configmap("kustomize all-features (components/grafana-dashboard)", the(feat, "ConfigMap", "-dashboard"))
    monitor, pod_labels = the(feat, "PodMonitor"), the(feat, "Deployment")["spec"]["template"]["metadata"]["labels"]
    check("kustomize all-features: PodMonitor selects the pod's labels and scrapes port http",
          all(pod_labels.get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
          and monitor["spec"]["podMetricsEndpoints"][0]["port"] == "http")
    deploy, _, env = check_hardened("kustomize all-features", feat)
    check("kustomize all-features: every component's rule, limited by name where RBAC allows",
          has_rule(feat, "ClusterRole", "namespaces", ["list", "watch"])
          and has_rule(feat, "ClusterRole", "serviceaccounts", ["get", "patch"], names=["default"])
          and has_rule(feat, "ClusterRole", "secrets", ["delete"], names=[SECRET_NAME])
          and has_rule(feat, "Role", "leases", ["create"], group="coordination.k8s.io")
          and has_rule(feat, "Role", "leases", ["get", "update"], names=["aws-ecr-cred-helper"], group="coordination.k8s.io"))
    check("kustomize all-features: 2 replicas, LEADER_ELECTION=true, PodDisruptionBudget, PATCH_SERVICE_ACCOUNTS=true",
          deploy["spec"]["replicas"] == 2 and env.get("LEADER_ELECTION", {}).get("value") == "true"
          and env.get("PATCH_SERVICE_ACCOUNTS", {}).get("value") == "true" and len(find(feat, "PodDisruptionBudget")) == 1)

    ra = load_file(rendered / "kustomize-roles-anywhere.yaml")
    validate_schemas("kustomize roles-anywhere", ra)
    _, container, env = check_hardened("kustomize roles-anywhere", ra)
    certificate = the(ra, "Certificate")
    volumes = {v["name"]: v for v in the(ra, "Deployment")["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    check("kustomize roles-anywhere: the Certificate's Secret mounted read-only, the env's paths in it, a new key each renewal",
          volumes["aws-roles-anywhere"]["secret"]["secretName"] == certificate["spec"]["secretName"]
          and mounts["aws-roles-anywhere"].get("readOnly") is True
          and env["AWS_ROLES_ANYWHERE_CERTIFICATE"]["value"] == mounts["aws-roles-anywhere"]["mountPath"] + "/tls.crt"
          and env["AWS_ROLES_ANYWHERE_PRIVATE_KEY"]["value"] == mounts["aws-roles-anywhere"]["mountPath"] + "/tls.key"
          and certificate["spec"]["privateKey"]["rotationPolicy"] == "Always" and "client auth" in certificate["spec"]["usages"])


def check_helm(rendered):
    cases = sorted(rendered.glob("helm-*.yaml"))
    check("helm: every ci/ values file rendered", len(cases) >= 5, str([c.name for c in cases]))
    for path in cases:
        case = path.stem[len("helm-"):]
        docs = load_file(path)
        src = f"helm {case}"
        validate_schemas(src, docs)
        http = case != "http-off-values"
        deploy, container, env = check_hardened(src, docs, http=http)
        pod = deploy["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
        replicas = deploy["spec"]["replicas"]
        leader = env.get("LEADER_ELECTION", {}).get("value")
        fleet = "FLEET_GROUP" in env
        check(f"{src}: LEADER_ELECTION matches replicas (never in fleet mode)",
              (leader == "true") == (replicas > 1 and not fleet), f"replicas {replicas}, {leader}, fleet {fleet}")
        check(f"{src}: fleet membership Lease rules (get/list/watch/create/update/delete, release namespace) iff fleet mode",
              has_rule(docs, "Role", "leases", ["get", "list", "watch", "create", "update", "delete"], group="coordination.k8s.io") == fleet)
        check(f"{src}: PodDisruptionBudget iff replicas > 1", bool(find(docs, "PodDisruptionBudget")) == (replicas > 1))
        lease = has_rule(docs, "Role", "leases", ["create"], group="coordination.k8s.io") and has_rule(
            docs, "Role", "leases", ["get", "update"], names=["aws-ecr-cred-helper"], group="coordination.k8s.io")
        check(f"{src}: Lease rules iff leader election", lease == (leader == "true"))
        globbing = bool(re.search(r"[*?]", env["NAMESPACES"]["value"])) or "NAMESPACE_SELECTOR" in env
        check(f"{src}: namespace list/watch iff globs or a selector",
              has_rule(docs, "ClusterRole", "namespaces", ["list", "watch"]) == globbing)
        sa_patch = env.get("PATCH_SERVICE_ACCOUNTS", {}).get("value") == "true"
        names = env.get("SERVICE_ACCOUNTS", {}).get("value", "default").split()
        check(f"{src}: ServiceAccount get/patch (by name) iff PATCH_SERVICE_ACCOUNTS",
              has_rule(docs, "ClusterRole", "serviceaccounts", ["get", "patch"], names=names) == sa_patch)
        pruning = env.get("PRUNE_UNSELECTED", {}).get("value") == "true" or bool(find(docs, "Job", "cleanup"))
        check(f"{src}: secret delete iff pruning or cleanup", has_rule(docs, "ClusterRole", "secrets", ["delete"]) == pruning)
        check(f"{src}: Events Role", has_rule(docs, "Role", "events", ["create", "patch"]))
        web = "aws-web-identity-token" in volumes
        if web:
            src_token = volumes["aws-web-identity-token"]["projected"]["sources"][0]["serviceAccountToken"]
            token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE", {}).get("value", "")
            check(f"{src}: web identity: projected token, audience sts.amazonaws.com, file matches mount, role ARN",
                  src_token["audience"] == "sts.amazonaws.com" and token_file == mounts["aws-web-identity-token"]["mountPath"] + "/token"
                  and env.get("AWS_ROLE_ARN", {}).get("value", "").startswith("arn:"))
            check(f"{src}: web identity: no key Secret", not find(docs, "Secret") and "config-aws" not in volumes)
        elif "aws-roles-anywhere" in volumes:
            mount = mounts.get("aws-roles-anywhere", {})
            tls_secret = volumes["aws-roles-anywhere"].get("secret", {}).get("secretName")
            check(f"{src}: Roles Anywhere: the tls Secret mounted read-only, the paths in the env point into it, ARNs and role set",
                  mount.get("readOnly") is True and tls_secret is not None
                  and env.get("AWS_ROLES_ANYWHERE_CERTIFICATE", {}).get("value") == mount.get("mountPath") + "/tls.crt"
                  and env.get("AWS_ROLES_ANYWHERE_PRIVATE_KEY", {}).get("value") == mount.get("mountPath") + "/tls.key"
                  and ":trust-anchor/" in env.get("AWS_ROLES_ANYWHERE_TRUST_ANCHOR_ARN", {}).get("value", "")
                  and ":profile/" in env.get("AWS_ROLES_ANYWHERE_PROFILE_ARN", {}).get("value", "")
                  and env.get("AWS_ROLE_ARN", {}).get("value", "").startswith("arn:"), str(mount))
            check(f"{src}: Roles Anywhere: no AWS key anywhere", not find(docs, "Secret") and "config-aws" not in volumes
                  and "AWS_ACCESS_KEY_ID" not in env)
            for certificate in find(docs, "Certificate"):
                check(f"{src}: Roles Anywhere: the Certificate fills the mounted Secret, for client auth, a new key each renewal",
                      certificate["spec"]["secretName"] == tls_secret and "client auth" in certificate["spec"].get("usages", [])
                      and certificate["spec"]["privateKey"].get("rotationPolicy") == "Always")
        else:
            secret_name = volumes.get("config-aws", {}).get("secret", {}).get("secretName")
            check(f"{src}: credentials Secret mounted read-only at /config-aws",
                  secret_name is not None and mounts.get("config-aws", {}).get("mountPath") == "/config-aws"
                  and mounts["config-aws"].get("readOnly") is True)
            created = [s["metadata"]["name"] for s in find(docs, "Secret")]
            if secret_name == "aws-ecr-cred-helper-config-aws":
                check(f"{src}: existing Secret used, none created", not created, str(created))
            else:
                check(f"{src}: inline keys: the chart's Secret is the one mounted", created == [secret_name], str(created))
        monitors = find(docs, "ServiceMonitor")
        rules = find(docs, "PrometheusRule")
        if monitors:
            svc = the(docs, "Service")
            check(f"{src}: ServiceMonitor selects the Service's labels and port http",
                  all(svc["metadata"]["labels"].get(k) == v for k, v in monitors[0]["spec"]["selector"]["matchLabels"].items())
                  and monitors[0]["spec"]["endpoints"][0]["port"] == "http")
        if rules:
            values = yaml.safe_load((ROOT / "deploy/helm/aws-ecr-cred-helper/ci" / f"{case}.yaml").read_text()) or {}
            check_prometheus_rule(src, rules[0], values.get("prometheusRule", {}))
        for dashboard in find(docs, "ConfigMap", "-dashboard"):
            check_dashboard_configmap(src, dashboard)
        if not http:
            check(f"{src}: HTTP off: no probes, Service, ServiceMonitor or PrometheusRule",
                  "livenessProbe" not in container and not find(docs, "Service") and not monitors and not rules)


# --- monitoring: one source for the rules and the dashboard ------------------------------------------------
def source_rules():
    return yaml.safe_load(RULES_SOURCE.read_text())["groups"]


def check_rules_source():
    """The plain rules file: the alerts, the metrics they read, a runbook section for each runbook_url."""
    rules = [r for g in source_rules() for r in g["rules"]]
    exprs = {r["alert"]: r["expr"] for r in rules}
    used = set(re.findall(r"aws_ecr_cred_helper_[a-z_]+", " ".join(exprs.values())))
    check("prometheus-rules.yaml: the four alerts, reading the metrics the helper exports",
          set(exprs) == ALERTS and used == METRICS, f"{sorted(exprs)} {sorted(used)}")
    problems = []
    for name, expr in exprs.items():
        try:
            promql_parser.parse(expr)
        except ValueError as error:
            problems.append(f"{name}: {error}")
    check("prometheus-rules.yaml: PromQL parsed", not problems, "; ".join(problems))
    anchors = {re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
               for line in RUNBOOKS.read_text().splitlines() if line.startswith("## ")}
    missing = []
    for r in rules:
        url = r.get("annotations", {}).get("runbook_url", "")
        anchor = url.partition("#")[2]
        if not url.endswith("docs/runbooks.md#" + r["alert"].lower()) or anchor not in anchors:
            missing.append(f"{r['alert']}: {url or 'no runbook_url'}")
    check("prometheus-rules.yaml: every alert links its own section of docs/runbooks.md", not missing, "; ".join(missing))
    check("prometheus-rules.yaml: thresholds the chart replaces are where it expects them",
          "7200" in exprs["AWSECRCredHelperTokenExpiringSoon"] and exprs["AWSECRCredHelperRefreshFailing"].count("3600") == 2)


def check_prometheus_rule(src, doc, values=None):
    """A rendered PrometheusRule is the source's rules, changed only as the chart's prometheusRule values say
    (thresholds replaced, `for`, severity, extra labels)."""
    values = values or {}
    replace = {
        "AWSECRCredHelperTokenExpiringSoon": ("7200", str(values.get("expiryThresholdSeconds", 7200))),
        "AWSECRCredHelperRefreshFailing": ("3600", str(values.get("failureWindowSeconds", 3600))),
    }
    want = copy.deepcopy(source_rules())
    for group in want:
        for rule in group["rules"]:
            if rule["alert"] in replace:
                rule["expr"] = rule["expr"].replace(*replace[rule["alert"]])
            if values.get("for"):
                rule["for"] = values["for"]
            rule["labels"] = {**rule.get("labels", {}), **({"severity": values["severity"]} if values.get("severity") else {}),
                              **values.get("additionalLabels", {})}
    got = doc["spec"]["groups"]
    changes = {k: v for k, v in values.items() if k not in ("enabled", "labels")}
    check(f"{src}: PrometheusRule = deploy/monitoring/prometheus-rules.yaml" + (f" with {changes}" if changes else ""),
          got == want, json.dumps(got)[:400])


def dashboard_queries(dashboard):
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]


def check_dashboard_source():
    dashboard = json.loads(DASHBOARD_SOURCE.read_text())
    queries = dashboard_queries(dashboard)
    problems = []
    for title, expr in queries:
        for name, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(name, value)
        if "$" in expr:
            problems.append(f"{title}: unknown variable in {expr}")
            continue
        try:
            promql_parser.parse(expr)
        except ValueError as error:
            problems.append(f"{title}: {error}")
    check(f"grafana-dashboard.json: {len(queries)} queries parsed (PromQL, Grafana variables replaced)",
          queries and not problems, "; ".join(problems))
    used = set(re.findall(r"aws_ecr_cred_helper_[a-z_]+?(?=_bucket|_sum|_count|\{|\)|\s|$)", " ".join(e for _, e in queries)))
    check("grafana-dashboard.json: reads token expiry, namespace states, refreshes, AWS latency, writes, the leader",
          {"aws_ecr_cred_helper_token_expiry_timestamp_seconds", "aws_ecr_cred_helper_target_namespaces",
           "aws_ecr_cred_helper_aws_requests_total", "aws_ecr_cred_helper_refresh_failures_total",
           "aws_ecr_cred_helper_refresh_duration_seconds", "aws_ecr_cred_helper_secret_writes_total",
           "aws_ecr_cred_helper_leader"} <= used, str(sorted(used)))


def check_dashboard_configmap(src, doc, label="grafana_dashboard", value="1"):
    data = doc.get("data", {})
    ok = (doc["metadata"].get("labels", {}).get(label) == value and list(data) == ["aws-ecr-cred-helper.json"]
          and json.loads(data["aws-ecr-cred-helper.json"]) == json.loads(DASHBOARD_SOURCE.read_text()))
    check(f"{src}: dashboard ConfigMap labelled {label}={value} holds deploy/monitoring/grafana-dashboard.json", ok)


def check_node_provider(rendered):
    """Node mode's DaemonSet: root only for the node's folders, otherwise locked down, and invisible to the
    controller's Service, PodDisruptionBudget and NetworkPolicy."""
    for name in ("helm-node-provider-values.yaml", "helm-node-provider-token-only-values.yaml", "kustomize-node-provider.yaml"):
        docs = load_file(rendered / name)
        src = name[:-5]
        ds = the(docs, "DaemonSet")
        pod = ds["spec"]["template"]["spec"]
        labels = ds["spec"]["template"]["metadata"]["labels"]
        check(f"{src}: DaemonSet mounts no API token and shares no host namespace",
              pod.get("automountServiceAccountToken") is False
              and not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")))
        (container,) = pod["containers"]
        sc = container.get("securityContext", {})
        check(f"{src}: DaemonSet container: no capabilities, read-only root, no escalation, not privileged",
              sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("capabilities", {}).get("add")
              and sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
              and not sc.get("privileged"), str(sc))
        args = container.get("args", [])
        check(f"{src}: DaemonSet runs credential-provider install --host-root=/host",
              args[:2] == ["credential-provider", "install"] and "--host-root=/host" in args, str(args))
        # A DaemonSet's container that exits is restarted in a loop (CrashLoopBackOff), with or without a Secret.
        check(f"{src}: DaemonSet stays running (--watch)", "--watch" in args, str(args))
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        host_paths = {v["hostPath"]["path"] for v in pod.get("volumes", []) if "hostPath" in v}
        check(f"{src}: only the kubelet's folders are mounted from the node, each under /host",
              host_paths and all("/host" + p in mounts for p in host_paths) and "/" not in host_paths, str(host_paths))
        for kind in ("Service", "PodDisruptionBudget"):
            for obj in find(docs, kind):
                selector = obj["spec"].get("selector", {})
                selector = selector.get("matchLabels", selector)
                check(f"{src}: {kind} {obj['metadata']['name']} does not select the DaemonSet's pods",
                      not all(labels.get(k) == v for k, v in selector.items()), str(selector))
        policies = [p for p in find(docs, "NetworkPolicy")
                    if all(labels.get(k) == v for k, v in p["spec"]["podSelector"].get("matchLabels", {}).items())]
        check(f"{src}: the DaemonSet's pods allow no traffic in or out",
              len(policies) == 1 and set(policies[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
              and not policies[0]["spec"].get("ingress") and not policies[0]["spec"].get("egress"), str(policies))


def main():
    rendered = pathlib.Path(sys.argv[1])
    check_rules_source()
    check_dashboard_source()
    check_original(rendered)
    check_hardened_plain_and_kustomize(rendered)
    check_helm(rendered)
    check_node_provider(rendered)
    print(f"manifests: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
