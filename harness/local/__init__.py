"""The local backend: faulty_app replicas as processes, the Traefik stand-in router, and their plumbing.

Import the submodules directly (``harness.local.procs``, ``.supervisor``, ``.router_client`` …); this
package imports nothing on its own so the router process starts fast.
"""
