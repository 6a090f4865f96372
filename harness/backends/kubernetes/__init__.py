"""The kubernetes backend: real Flagger and Traefik on a cluster, driven through the ``api.ClusterApi`` port.

``backend.KubernetesBackend`` deploys the app from ``manifests``, follows the Canary (``follow``, ``status``),
reads events and Prometheus (``observe``) after a ``preflight``, within the ``safety`` rails (context
allowlist, owned namespaces, TTL sweep). ``gateway`` is the only module that imports the ``kubernetes``
client.
"""
