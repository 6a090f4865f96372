"""The project's public testing API: in-memory fakes of its own ports, for tests and demos.

``ports`` fakes the Flagger emulation's ports (router, workloads, metrics, webhooks, events); ``cluster``
fakes the kubernetes backend's ``ClusterApi`` (a scripted Canary timeline, 410 Gone injection); ``run`` fakes
a backend and a load driver for runner tests. None of them sleeps: each runs on a ``FakeClock``.
"""
