"""Wire a Kubernetes backend to a real cluster: the gateway for a kubeconfig context, then the backend
(Flagger Canaries: ``KubernetesBackend``; Argo Rollouts: ``ArgoRolloutsBackend``)."""

from __future__ import annotations

from harness.backends.kubernetes.argo_backend import ArgoRolloutsBackend
from harness.backends.kubernetes.backend import KubernetesBackend, KubernetesOptions
from harness.backends.kubernetes.gateway import KubeGateway
from harness.clock import Clock


def connect_backend(
    options: KubernetesOptions, *, context: str | None = None, clock: Clock | None = None
) -> KubernetesBackend:
    """The Kubernetes backend on a real cluster (kubeconfig ``context``, or the current one).

    The context allowlist is checked before any other API call.
    """
    gateway = KubeGateway(context or options.kube_context, request_timeout=options.request_timeout)
    return KubernetesBackend(gateway, options, clock=clock)


def connect_argo_backend(
    options: KubernetesOptions, *, context: str | None = None, clock: Clock | None = None
) -> ArgoRolloutsBackend:
    """The Argo Rollouts backend on a real cluster; the allowlist is checked before any other API call."""
    gateway = KubeGateway(context or options.kube_context, request_timeout=options.request_timeout)
    return ArgoRolloutsBackend(gateway, options, clock=clock)
