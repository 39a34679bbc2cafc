"""Validates rendered Kubernetes manifests offline (run by tools/k8s-check.sh).

    k8s_validate.py --kubernetes 1.30 [--kubernetes 1.37] NAME=FILE...

Every object of every FILE (multi-document YAML) must pass four rules:

1. Built-in kinds: kubernetes-validate's schemas of each Kubernetes version given, strict
   (an unknown field fails). A kind or apiVersion with no schema there fails too: a typo,
   or an API that version removed. kubernetes-validate itself only warns on those.
2. Custom resources (CRD_RULES below): no CRD schema ships offline, so each kind we use
   has a schema here with the fields we use, their types, enums and the fields upstream
   requires; any other field fails. Adding a field means adding it here, after checking
   it in the CRD's own documentation.
3. References inside the file: a Service, PDB, HPA or NetworkPolicy must select or name
   something the file defines; an Ingress, HTTPRoute or ServiceMonitor must name a
   Service and port that exist; a ConfigMap a pod uses must be there (Secrets are made
   outside the manifests and are not looked for).
4. Containers: no password on a command line (no URL with a password in a container's
   command, args, exec probe or hook, nor `$(VAR)` there when VAR comes from a Secret,
   which the kubelet would expand into the argv); no literal password in an env value or
   a ConfigMap. Every `sh -c`/`bash -c` script there, and every `*.sh` key of a
   ConfigMap, parses (`sh -n`/`bash -n`): YAML quoting breaks shell quietly.
"""

import argparse
import functools
import re
import subprocess
import sys

import jsonschema
import yaml
from kubernetes_validate import utils as kv

# kubernetes-validate reads its 1 MB definitions file on every object: read it once.
kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)


def obj(props, required=()):
    return {"type": "object", "properties": props, "required": list(required),
            "additionalProperties": False}


S, I, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
STRMAP = {"type": "object", "additionalProperties": S}
LABEL_SELECTOR = obj({"matchLabels": STRMAP, "matchExpressions": {"type": "array"}})
METADATA = obj({"name": S, "namespace": S, "labels": STRMAP, "annotations": STRMAP},
               required=["name", "namespace"])
# The duration formats of the two CRDs (Prometheus Operator's, Gateway API's GEP-2257).
PROM_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?"
                 r"(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
GW_DURATION = {"type": "string", "pattern": r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}


def resource(spec):
    return obj({"apiVersion": S, "kind": S, "metadata": METADATA, "spec": spec},
               required=["apiVersion", "kind", "metadata", "spec"])


CRD_RULES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): resource(obj({
        "selector": LABEL_SELECTOR,
        "namespaceSelector": obj({"any": B, "matchNames": {"type": "array", "items": S}}),
        "jobLabel": S,
        "endpoints": {"type": "array", "items": obj({
            "port": S, "targetPort": {"type": ["string", "integer"]}, "path": S,
            "scheme": {"enum": ["http", "https"]}, "interval": PROM_DURATION,
            "scrapeTimeout": PROM_DURATION, "honorLabels": B,
            "relabelings": {"type": "array"}, "metricRelabelings": {"type": "array"}})},
    }, required=["selector"])),
    ("external-secrets.io/v1beta1", "SecretStore"): resource(obj({
        "provider": obj({"aws": obj({
            "service": {"enum": ["SecretsManager", "ParameterStore"]},
            "region": S, "role": S,
            "auth": obj({"jwt": obj({"serviceAccountRef": obj(
                {"name": S, "namespace": S, "audiences": {"type": "array", "items": S}},
                required=["name"])})}),
        }, required=["service", "region"])}),
    }, required=["provider"])),
    ("external-secrets.io/v1beta1", "ExternalSecret"): resource(obj({
        "refreshInterval": S,
        "secretStoreRef": obj({"name": S, "kind": {"enum": ["SecretStore", "ClusterSecretStore"]}},
                              required=["name"]),
        "target": obj({"name": S, "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None"]},
                       "deletionPolicy": {"enum": ["Delete", "Merge", "Retain"]},
                       "immutable": B}),
        "data": {"type": "array", "items": obj({
            "secretKey": S,
            "remoteRef": obj({"key": S, "property": S, "version": S}, required=["key"]),
        }, required=["secretKey", "remoteRef"])},
    }, required=["secretStoreRef"])),
    ("gateway.networking.k8s.io/v1", "Gateway"): resource(obj({
        "gatewayClassName": S,
        "listeners": {"type": "array", "minItems": 1, "maxItems": 64, "items": obj({
            "name": S, "hostname": S, "port": PORT,
            "protocol": {"enum": ["HTTP", "HTTPS", "TLS", "TCP", "UDP"]},
            "tls": obj({"mode": {"enum": ["Terminate", "Passthrough"]},
                        "certificateRefs": {"type": "array", "items": obj(
                            {"group": S, "kind": S, "name": S, "namespace": S},
                            required=["name"])}}),
            "allowedRoutes": obj({"namespaces": obj({
                "from": {"enum": ["All", "Same", "Selector"]}, "selector": LABEL_SELECTOR})}),
        }, required=["name", "port", "protocol"])},
    }, required=["gatewayClassName", "listeners"])),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): resource(obj({
        "parentRefs": {"type": "array", "items": obj(
            {"group": S, "kind": S, "namespace": S, "name": S, "sectionName": S, "port": PORT},
            required=["name"])},
        "hostnames": {"type": "array", "items": S},
        "rules": {"type": "array", "items": obj({
            "matches": {"type": "array", "items": obj({"path": obj({
                "type": {"enum": ["Exact", "PathPrefix", "RegularExpression"]}, "value": S})})},
            "filters": {"type": "array", "items": obj({
                "type": {"enum": ["RequestHeaderModifier", "ResponseHeaderModifier",
                                  "RequestMirror", "RequestRedirect", "URLRewrite",
                                  "ExtensionRef"]},
                "requestRedirect": obj({"scheme": {"enum": ["http", "https"]},
                                        "hostname": S, "port": PORT,
                                        "statusCode": {"enum": [301, 302]}}),
            }, required=["type"])},
            # A Service backend needs its port (a CEL rule of the CRD).
            "backendRefs": {"type": "array", "items": obj(
                {"group": S, "kind": S, "name": S, "namespace": S, "port": PORT,
                 "weight": I}, required=["name", "port"])},
            "timeouts": obj({"request": GW_DURATION, "backendRequest": GW_DURATION}),
        })},
    })),
}

# Kinds made outside the manifests, whose references are not looked for.
EXTERNAL_KINDS = {"Secret"}
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:([^@/\s]+)@", re.I)
VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def pod_spec(o):
    spec = o.get("spec", {})
    if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return spec.get("template", {}).get("spec"), spec.get("template", {}).get("metadata", {})
    if o["kind"] == "Pod":
        return spec, o["metadata"]
    return None, None


def matches(selector, labels):
    """True when a label selector (matchLabels form or a plain map) selects `labels`."""
    want = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    if any(labels.get(k) != v for k, v in want.items()):
        return False
    for e in selector.get("matchExpressions", []):
        has, inv = e["key"] in labels, labels.get(e["key"]) in e.get("values", [])
        if {"In": not (has and inv), "NotIn": has and inv, "Exists": not has,
                "DoesNotExist": has}[e["operator"]]:
            return False
    return True


def shell_syntax(shell, script, what):
    r = subprocess.run([shell, "-n", "-c", script], capture_output=True, text=True)
    return [] if r.returncode == 0 else [f"{what}: {shell} -n: {r.stderr.strip()}"]


def check_containers(o, where):
    errors = []
    if o["kind"] == "ConfigMap":
        for k, v in (o.get("data") or {}).items():
            if URL_PASSWORD.search(str(v)):
                errors.append(f"{where}: data.{k} holds a URL with a password (a ConfigMap is not secret)")
            if k.endswith(".sh"):
                errors += shell_syntax("bash", v, f"{where}: data.{k}")
    spec, _ = pod_spec(o)
    if not spec:
        return errors
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        secret_vars = {e["name"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
        # Every argv the container runs: its own, its exec probes' and its hooks'.
        argvs = [list(c.get("command", [])) + list(c.get("args", []))]
        argvs += [c.get(p, {}).get("exec", {}).get("command", [])
                  for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        argvs += [c.get("lifecycle", {}).get(h, {}).get("exec", {}).get("command", [])
                  for h in ("preStop", "postStart")]
        for cmd in argvs:
            shell = str(cmd[0]).rsplit("/", 1)[-1] if cmd else ""
            if len(cmd) >= 3 and shell in ("sh", "bash") and cmd[1] == "-c":
                errors += shell_syntax(shell, str(cmd[2]), f"{where}: container {c['name']}: script")
        for a in (str(a) for cmd in argvs for a in cmd):
            if URL_PASSWORD.search(a):
                errors.append(f"{where}: container {c['name']}: a URL with a password on a command line: {a[:80]}")
            for v in VAR_REF.findall(a):
                if v in secret_vars:
                    errors.append(f"{where}: container {c['name']}: $({v}) from a Secret on a command line")
        for e in c.get("env", []):
            m = URL_PASSWORD.search(str(e.get("value", "")))
            if m and not re.fullmatch(r"\$\([A-Za-z_][A-Za-z0-9_]*\)", m.group(1)):
                errors.append(f"{where}: env {e['name']} of container {c['name']} holds a literal password")
    return errors


def check_references(objs, name):
    errors = []
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
    pods = [(o, *pod_spec(o)) for o in objs if pod_spec(o)[0]]
    services = by_kind.get("Service", {})

    def selects(selector, what):
        if not any(matches(selector, (meta or {}).get("labels", {})) for _, _, meta in pods):
            errors.append(f"{name}: {what} selects no pod of the manifests")

    def service_port(svc, port, what):
        s = services.get(svc)
        if s is None:
            errors.append(f"{name}: {what} names Service {svc}, which is not in the manifests")
        elif port is not None and not any(port in (p.get("name"), p.get("port")) for p in s["spec"].get("ports", [])):
            errors.append(f"{name}: {what} names port {port} of Service {svc}, which has no such port")

    for o in objs:
        k, n, spec = o["kind"], o["metadata"]["name"], o.get("spec", {})
        what = f"{k} {n}"
        if k == "Service" and spec.get("selector"):
            selects(spec["selector"], what)
        elif k in ("PodDisruptionBudget", "NetworkPolicy"):
            selects(spec.get("selector") or spec.get("podSelector"), what)
        elif k == "HorizontalPodAutoscaler":
            ref = spec["scaleTargetRef"]
            if ref["name"] not in by_kind.get(ref["kind"], {}):
                errors.append(f"{name}: {what} scales {ref['kind']} {ref['name']}, which is not in the manifests")
        elif k == "Ingress":
            for rule in spec.get("rules", []):
                for p in rule.get("http", {}).get("paths", []):
                    svc = p["backend"]["service"]
                    service_port(svc["name"], svc["port"].get("name", svc["port"].get("number")), what)
        elif k == "HTTPRoute":
            for ref in spec.get("parentRefs", []):
                gw = by_kind.get("Gateway", {}).get(ref["name"])
                if gw is None:
                    errors.append(f"{name}: {what} attaches to Gateway {ref['name']}, which is not in the manifests")
                elif "sectionName" in ref and ref["sectionName"] not in [l["name"] for l in gw["spec"]["listeners"]]:
                    errors.append(f"{name}: {what} attaches to listener {ref['sectionName']}, which Gateway {ref['name']} has not")
            for rule in spec.get("rules", []):
                for ref in rule.get("backendRefs", []):
                    service_port(ref["name"], ref.get("port"), what)
        elif k == "ServiceMonitor":
            hits = [s for s in services.values() if matches(spec["selector"], s["metadata"].get("labels", {}))]
            if not hits:
                errors.append(f"{name}: {what} selects no Service of the manifests")
            for ep in spec.get("endpoints", []):
                for s in hits:
                    service_port(s["metadata"]["name"], ep.get("port"), what)
        elif k == "ExternalSecret" and spec["secretStoreRef"].get("kind", "SecretStore") == "SecretStore":
            if spec["secretStoreRef"]["name"] not in by_kind.get("SecretStore", {}):
                errors.append(f"{name}: {what} reads SecretStore {spec['secretStoreRef']['name']}, which is not in the manifests")
    for o, spec, _ in pods:
        used = [v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v]
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            used += [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
        for cm in used:
            if cm not in by_kind.get("ConfigMap", {}):
                errors.append(f"{name}: {o['kind']} {o['metadata']['name']} uses ConfigMap {cm}, which is not in the manifests")
    return errors


def validate_file(name, path, versions):
    with open(path) as f:
        objs = [o for o in yaml.safe_load_all(f) if o]
    errors, builtin, custom = [], 0, 0
    for o in objs:
        if not isinstance(o, dict) or not {"apiVersion", "kind", "metadata"} <= o.keys():
            errors.append(f"{name}: a document without apiVersion, kind and metadata")
            continue
        where = f"{name}: {o['kind']} {o['metadata'].get('name')}"
        rule = CRD_RULES.get((o["apiVersion"], o["kind"]))
        if rule is not None:
            custom += 1
            for e in jsonschema.Draft202012Validator(rule).iter_errors(o):
                errors.append(f"{where}: {'.'.join(map(str, e.absolute_path))}: {e.message} (custom resource rule)")
        else:
            builtin += 1
            for v in versions:
                try:
                    kv.validate(o, v, strict=True)
                except kv.ValidationError as e:
                    errors.append(f"{where}: {'.'.join(map(str, e.path))}: {e.message} (Kubernetes {v}, strict)")
                except kv.SchemaNotFoundError:
                    errors.append(f"{where}: no schema for {o['apiVersion']} {o['kind']} in Kubernetes {v} "
                                  "(a typo, a removed API, or a custom resource without a rule here)")
        errors += check_containers(o, where)
    good = [o for o in objs if isinstance(o, dict) and "kind" in o and "metadata" in o]
    if not errors:
        errors += check_references(good, name)
    return len(objs), builtin, custom, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kubernetes", action="append", required=True, help="a version to validate against")
    ap.add_argument("files", nargs="+", metavar="NAME=FILE")
    args = ap.parse_args()
    failed = False
    for arg in args.files:
        name, _, path = arg.partition("=")
        count, builtin, custom, errors = validate_file(name, path, args.kubernetes)
        for e in errors:
            print(f"FAIL {e}")
        failed |= bool(errors) or count == 0
        status = "ok" if not errors and count else "FAILED" if errors else "FAILED: no object"
        print(f"{name}: {count} objects, {builtin} against Kubernetes "
              f"{' and '.join(args.kubernetes)} (strict), {custom} by custom resource rule: {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
