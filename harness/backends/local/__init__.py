"""The local backend: faulty_app replicas as supervised processes, the provider's router stand-in, a metrics
provider and the controller emulation ticking on a scaled clock, all on 127.0.0.1.

``backend.LocalBackend`` composes them; ``supervisor``/``pods``/``deployment`` shape the replicas like the two
Deployments Flagger works with; ``ticker`` drives the controller on its grid; ``metrics`` picks a real
Prometheus server or the embedded one; ``webhooks`` calls Flagger webhooks over HTTP.
"""
