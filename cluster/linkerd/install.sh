#!/usr/bin/env bash
# Install Linkerd (CRDs with Gateway API HTTPRoute v1beta1, control plane, viz) for the linkerd provider.
#
# Usage: cluster/linkerd/install.sh [--cert-dir DIR]     install into the current kube context
#        cluster/linkerd/install.sh --certs-only DIR      only make (or keep) the trust anchor + issuer
#
# Called by `cluster/bootstrap.sh --mesh linkerd`, which then installs Flagger with
# cluster/linkerd/flagger-values.yaml. Versions: Linkerd stable-2.14.0, what Flagger v1.44.0's Linkerd
# e2e installs (test/linkerd/install.sh). Idempotent; the certificates are generated once per context
# and reused, because a new trust anchor would cut every meshed pod off from the control plane.
set -euo pipefail

LINKERD_CRDS_CHART_VERSION="1.8.0"            # stable-2.14.0
LINKERD_CONTROL_PLANE_CHART_VERSION="1.15.0"  # stable-2.14.0
LINKERD_VIZ_CHART_VERSION="30.11.0"           # stable-2.14.0
LINKERD_NAMESPACE="linkerd"
VIZ_NAMESPACE="linkerd-viz"
ROLLOUT_TIMEOUT="300s"
CERT_DAYS_ANCHOR=3650
CERT_DAYS_ISSUER=365

CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CERT_DIR=""
CERTS_ONLY=0

log() { printf '>>> %s\n' "$*" >&2; }
die() { printf 'linkerd/install: error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cert-dir) CERT_DIR="${2:?--cert-dir needs a directory}"; shift 2 ;;
    --certs-only) CERT_DIR="${2:?--certs-only needs a directory}"; CERTS_ONLY=1; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# Trust anchor (root CA) and identity issuer (intermediate CA), ECDSA P-256 as Linkerd requires.
# `step` is used when installed (Linkerd's documented tool), else openssl.
make_certs() {
  local dir="$1"
  mkdir -p "$dir"
  if [[ -s "$dir/ca.crt" && -s "$dir/issuer.crt" && -s "$dir/issuer.key" ]]; then
    log "Reusing the Linkerd trust anchor and issuer in $dir"
    return
  fi
  umask 077
  if command -v step >/dev/null 2>&1; then
    step certificate create root.linkerd.cluster.local "$dir/ca.crt" "$dir/ca.key" \
      --profile root-ca --no-password --insecure --not-after "$((CERT_DAYS_ANCHOR * 24))h"
    step certificate create identity.linkerd.cluster.local "$dir/issuer.crt" "$dir/issuer.key" \
      --profile intermediate-ca --not-after "$((CERT_DAYS_ISSUER * 24))h" --no-password --insecure \
      --ca "$dir/ca.crt" --ca-key "$dir/ca.key"
    return
  fi
  command -v openssl >/dev/null 2>&1 || die "neither 'step' nor 'openssl' is on PATH: install one of them"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$CERT_DAYS_ANCHOR" \
    -subj "/CN=root.linkerd.cluster.local" -out "$dir/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:1" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/issuer.key"
  openssl req -new -key "$dir/issuer.key" -subj "/CN=identity.linkerd.cluster.local" -out "$dir/issuer.csr"
  printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" \
    > "$dir/issuer.ext"
  openssl x509 -req -in "$dir/issuer.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -sha256 -days "$CERT_DAYS_ISSUER" -extfile "$dir/issuer.ext" -out "$dir/issuer.crt"
  rm -f "$dir/issuer.csr" "$dir/issuer.ext" "$dir/ca.srl"
  openssl verify -CAfile "$dir/ca.crt" "$dir/issuer.crt" >/dev/null || die "the generated issuer does not verify"
}

if [[ "$CERTS_ONLY" == 1 ]]; then
  make_certs "$CERT_DIR"
  exit 0
fi

command -v kubectl >/dev/null 2>&1 || die "'kubectl' is not on PATH"
command -v helm >/dev/null 2>&1 || die "'helm' is not on PATH: install Helm 3"
CONTEXT="$(kubectl config current-context)"
CERT_DIR="${CERT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/canary-chaos/linkerd/${CONTEXT}}"
make_certs "$CERT_DIR"

helm repo add linkerd https://helm.linkerd.io/stable --force-update >/dev/null
helm repo update linkerd >/dev/null

log "Installing linkerd-crds ${LINKERD_CRDS_CHART_VERSION} (with the Gateway API HTTPRoute CRD)"
helm upgrade --install linkerd-crds linkerd/linkerd-crds \
  --version "${LINKERD_CRDS_CHART_VERSION}" \
  --namespace "${LINKERD_NAMESPACE}" --create-namespace \
  --wait --timeout "${ROLLOUT_TIMEOUT}"

log "Installing linkerd-control-plane ${LINKERD_CONTROL_PLANE_CHART_VERSION}"
helm upgrade --install linkerd-control-plane linkerd/linkerd-control-plane \
  --version "${LINKERD_CONTROL_PLANE_CHART_VERSION}" \
  --namespace "${LINKERD_NAMESPACE}" \
  --set-file identityTrustAnchorsPEM="${CERT_DIR}/ca.crt" \
  --set-file identity.issuer.tls.crtPEM="${CERT_DIR}/issuer.crt" \
  --set-file identity.issuer.tls.keyPEM="${CERT_DIR}/issuer.key" \
  --wait --timeout "${ROLLOUT_TIMEOUT}"

log "Installing linkerd-viz ${LINKERD_VIZ_CHART_VERSION} (its Prometheus is Flagger's metrics server)"
helm upgrade --install linkerd-viz linkerd/linkerd-viz \
  --version "${LINKERD_VIZ_CHART_VERSION}" \
  --namespace "${VIZ_NAMESPACE}" --create-namespace \
  --wait --timeout "${ROLLOUT_TIMEOUT}"

kubectl -n "${LINKERD_NAMESPACE}" rollout status deployment/linkerd-destination --timeout "${ROLLOUT_TIMEOUT}"
kubectl -n "${VIZ_NAMESPACE}" rollout status deployment/prometheus --timeout "${ROLLOUT_TIMEOUT}"
for crd in httproutes.gateway.networking.k8s.io servers.policy.linkerd.io authorizationpolicies.policy.linkerd.io; do
  kubectl get crd "$crd" >/dev/null || die "CRD $crd is missing after the Linkerd install"
done
kubectl apply -f "${CLUSTER_DIR}/linkerd/namespace.yaml"
log "Linkerd ready; namespaces labelled from cluster/linkerd/namespace.yaml are injected"
