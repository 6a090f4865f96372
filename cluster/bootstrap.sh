#!/usr/bin/env bash
# Install Traefik 3 + Flagger (with its bundled Prometheus) and the faulty_app image into a cluster.
#
# Usage: cluster/bootstrap.sh [--kind-cluster NAME] [--image IMAGE] [--push] [--skip-image] [--mesh linkerd]
#                            [--controller argo-rollouts]
#   --kind-cluster NAME  kind cluster to load the image into (default: canary-chaos)
#   --image IMAGE        app image to build (default canary-chaos/faulty-app:<project version>)
#   --push               push IMAGE to its registry instead of `kind load` (any other cluster)
#   --skip-image         do not build/load the image (e.g. a registry already has it)
#   --mesh linkerd       also install Linkerd (cluster/linkerd/install.sh) before Traefik, mesh Traefik
#                        (cluster/linkerd/traefik-values.yaml: the load path into the mesh) and run Flagger
#                        with meshProvider=gatewayapi:v1beta1 on linkerd-viz' Prometheus
#   --controller argo-rollouts
#                        also install Argo Rollouts (chart 2.41.0, controller v1.9.1) routing Traefik's
#                        traefik.io TraefikServices (cluster/argo/argo-rollouts-values.yaml); Flagger stays installed
#
# Idempotent: `helm upgrade --install` and `kubectl apply` converge; rerun it freely.
# Versions are pinned to what Flagger v1.44.0's Traefik e2e uses.
set -euo pipefail

TRAEFIK_CHART_VERSION="37.4.0"   # Traefik 3.6.2
FLAGGER_CHART_VERSION="1.44.0"   # Flagger v1.44.0
ARGO_ROLLOUTS_CHART_VERSION="2.41.0"  # argo-helm; the controller image is pinned to v1.9.1 in the values
ARGO_ROLLOUTS_NAMESPACE="argo-rollouts"
TRAEFIK_NAMESPACE="traefik"
FLAGGER_NAMESPACE="flagger-system"
KIND_CLUSTER="canary-chaos"
BUILD_IMAGE=1
MESH="none"
CONTROLLER="flagger"
PUSH_IMAGE=0
ROLLOUT_TIMEOUT="300s"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="${REPO_ROOT}/cluster"
# The image tag is the project version, the one the packaged manifests name (never a moving tag).
PROJECT_VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "${REPO_ROOT}/pyproject.toml" | head -n 1)"
APP_IMAGE="canary-chaos/faulty-app:${PROJECT_VERSION}"

log() { printf '>>> %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --kind-cluster) KIND_CLUSTER="${2:?--kind-cluster needs a name}"; shift 2 ;;
    --image) APP_IMAGE="${2:?--image needs an image reference}"; shift 2 ;;
    --push) PUSH_IMAGE=1; shift ;;
    --skip-image) BUILD_IMAGE=0; shift ;;
    --mesh) MESH="${2:?--mesh needs a mesh name (linkerd)}"; shift 2 ;;
    --controller) CONTROLLER="${2:?--controller needs a controller name (argo-rollouts)}"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[[ "$MESH" == none || "$MESH" == linkerd ]] || die "unknown mesh: $MESH (supported: linkerd)"
[[ "$CONTROLLER" == flagger || "$CONTROLLER" == argo-rollouts ]] \
  || die "unknown controller: $CONTROLLER (supported: argo-rollouts; Flagger is always installed)"

require() {
  local tool="$1" hint="$2"
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH: $hint"
}

require kubectl "install kubectl >= 1.29 (https://kubernetes.io/docs/tasks/tools/)"
require helm "install Helm 3 (https://helm.sh/docs/intro/install/)"
if [[ "$BUILD_IMAGE" == 1 ]]; then
  require docker "install Docker, or pass --skip-image if the image is already available to the nodes"
  [[ "$PUSH_IMAGE" == 1 ]] || require kind "install kind (https://kind.sigs.k8s.io/), or pass --push / --skip-image"
fi
[[ -n "$PROJECT_VERSION" ]] || die "cannot read the project version from pyproject.toml"

kubectl cluster-info >/dev/null 2>&1 || die "no reachable cluster in the current kube context ($(kubectl config current-context 2>/dev/null || echo none))"
log "kube context: $(kubectl config current-context)"

if [[ "$BUILD_IMAGE" == 1 ]]; then
  # First: the event receiver below runs in this image too.
  log "Building ${APP_IMAGE}"
  docker build -f "${REPO_ROOT}/faulty_app/Dockerfile" -t "${APP_IMAGE}" "${REPO_ROOT}"
  if [[ "$PUSH_IMAGE" == 1 ]]; then
    log "Pushing ${APP_IMAGE}"
    docker push "${APP_IMAGE}"
  else
    log "Loading ${APP_IMAGE} into kind cluster ${KIND_CLUSTER}"
    kind load docker-image "${APP_IMAGE}" --name "${KIND_CLUSTER}"
  fi
fi

TRAEFIK_VALUES=(--values "${CLUSTER_DIR}/traefik-values.yaml")
FLAGGER_VALUES=(--values "${CLUSTER_DIR}/flagger-values.yaml")
if [[ "$MESH" == linkerd ]]; then
  # First: Linkerd's injector must be running when Traefik's pods are created, so they get the proxy.
  log "Installing Linkerd (cluster/linkerd/install.sh)"
  "${CLUSTER_DIR}/linkerd/install.sh"
  TRAEFIK_VALUES+=(--values "${CLUSTER_DIR}/linkerd/traefik-values.yaml")
  FLAGGER_VALUES+=(--values "${CLUSTER_DIR}/linkerd/flagger-values.yaml")
fi

log "Installing Traefik chart ${TRAEFIK_CHART_VERSION} into ${TRAEFIK_NAMESPACE} (mesh ${MESH})"
helm repo add traefik https://traefik.github.io/charts --force-update >/dev/null
helm repo add flagger https://flagger.app --force-update >/dev/null
helm repo update traefik flagger >/dev/null
helm upgrade --install traefik traefik/traefik \
  --version "${TRAEFIK_CHART_VERSION}" \
  --namespace "${TRAEFIK_NAMESPACE}" --create-namespace \
  "${TRAEFIK_VALUES[@]}" \
  --wait --timeout "${ROLLOUT_TIMEOUT}"

log "Installing the Flagger event receiver into ${FLAGGER_NAMESPACE}"
kubectl create namespace "${FLAGGER_NAMESPACE}" --dry-run=client -o yaml | kubectl apply -f -
if [[ "$MESH" == linkerd ]]; then
  # Flagger queries linkerd-viz' Prometheus, which admits it by mesh identity only (the chart's
  # linkerdAuthPolicy): Flagger's namespace is injected, as Flagger's kustomize/linkerd does.
  kubectl annotate namespace "${FLAGGER_NAMESPACE}" linkerd.io/inject=enabled --overwrite
fi
kubectl apply -n "${FLAGGER_NAMESPACE}" -k "${CLUSTER_DIR}/event-receiver"
kubectl -n "${FLAGGER_NAMESPACE}" set image deployment/event-receiver "receiver=${APP_IMAGE}"

log "Installing Flagger chart ${FLAGGER_CHART_VERSION} (mesh ${MESH}, prometheus.install=true)"
helm upgrade --install flagger flagger/flagger \
  --version "${FLAGGER_CHART_VERSION}" \
  --namespace "${FLAGGER_NAMESPACE}" \
  "${FLAGGER_VALUES[@]}" \
  --wait --timeout "${ROLLOUT_TIMEOUT}"

if [[ "$CONTROLLER" == argo-rollouts ]]; then
  log "Installing Argo Rollouts chart ${ARGO_ROLLOUTS_CHART_VERSION} into ${ARGO_ROLLOUTS_NAMESPACE}"
  helm repo add argo https://argoproj.github.io/argo-helm --force-update >/dev/null
  helm repo update argo >/dev/null
  helm upgrade --install argo-rollouts argo/argo-rollouts \
    --version "${ARGO_ROLLOUTS_CHART_VERSION}" \
    --namespace "${ARGO_ROLLOUTS_NAMESPACE}" --create-namespace \
    --values "${CLUSTER_DIR}/argo/argo-rollouts-values.yaml" \
    --wait --timeout "${ROLLOUT_TIMEOUT}"
  kubectl -n "${ARGO_ROLLOUTS_NAMESPACE}" rollout status deployment/argo-rollouts --timeout "${ROLLOUT_TIMEOUT}"
  for crd in rollouts.argoproj.io analysistemplates.argoproj.io analysisruns.argoproj.io; do
    kubectl get crd "$crd" >/dev/null || die "CRD $crd is missing after the Argo Rollouts install"
  done
fi

log "Waiting for rollouts"
kubectl -n "${TRAEFIK_NAMESPACE}" rollout status deployment/traefik --timeout "${ROLLOUT_TIMEOUT}"
if [[ "$MESH" == linkerd ]]; then
  # A Traefik installed before Linkerd (an earlier bootstrap without --mesh) keeps unmeshed pods: restart.
  if ! kubectl -n "${TRAEFIK_NAMESPACE}" get pods -l app.kubernetes.io/name=traefik \
      -o jsonpath='{.items[*].spec.containers[*].name}' | grep -qw linkerd-proxy; then
    log "Restarting Traefik so the Linkerd injector meshes its pods"
    kubectl -n "${TRAEFIK_NAMESPACE}" rollout restart deployment/traefik
    kubectl -n "${TRAEFIK_NAMESPACE}" rollout status deployment/traefik --timeout "${ROLLOUT_TIMEOUT}"
  fi
fi
kubectl -n "${FLAGGER_NAMESPACE}" rollout status deployment/flagger --timeout "${ROLLOUT_TIMEOUT}"
if [[ "$MESH" == linkerd ]]; then
  # Pods created before the namespace was injected (an earlier bootstrap without --mesh) keep no proxy.
  if kubectl -n "${FLAGGER_NAMESPACE}" get pods \
      -o jsonpath='{range .items[*]}{.spec.containers[*].name}{"\n"}{end}' | grep -vqw linkerd-proxy; then
    log "Restarting ${FLAGGER_NAMESPACE}'s Deployments so the Linkerd injector meshes their pods"
    kubectl -n "${FLAGGER_NAMESPACE}" rollout restart deployment
    kubectl -n "${FLAGGER_NAMESPACE}" rollout status deployment/flagger --timeout "${ROLLOUT_TIMEOUT}"
  fi
fi
kubectl -n "${FLAGGER_NAMESPACE}" rollout status deployment/flagger-prometheus --timeout "${ROLLOUT_TIMEOUT}"
kubectl -n "${FLAGGER_NAMESPACE}" rollout status deployment/event-receiver --timeout "${ROLLOUT_TIMEOUT}"

for crd in ingressroutes.traefik.io traefikservices.traefik.io canaries.flagger.app metrictemplates.flagger.app; do
  kubectl get crd "$crd" >/dev/null || die "CRD $crd is missing after install"
done
log "Ready: Traefik web entrypoint on NodePort 30080 (kind maps it to 127.0.0.1:18080); app image ${APP_IMAGE}"
