"""Traefik as the provider: EDF weighted round robin, the router stand-in process, its metrics, builtin
PromQL.

Import the submodules directly (``router_client``, ``wrr`` …); this package imports nothing on its own so the
router process (``python -m harness.providers.traefik.router``) starts fast.
"""
