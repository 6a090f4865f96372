"""Load generation: Locust in child processes, never in this one (its gevent patching must not leak).

``gateway.locust_driver`` starts Locust with ``locustfile`` as its locustfile and reads back the JSON-lines
records the children write; ``model`` holds that data and its merging (pure). Only ``locustfile`` imports
Locust, and only the child imports ``locustfile``.
"""
