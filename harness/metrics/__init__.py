"""Metrics: the Prometheus query path Flagger uses, a real Prometheus server, and the embedded stand-in.

``query_client.PrometheusQueryClient`` behaves like Flagger's Prometheus provider over HTTP; ``server`` runs
Debian's ``prometheus`` binary on 127.0.0.1; ``embedded`` reproduces Prometheus' ``rate()`` extrapolation and
``histogram_quantile`` over ``scrape``d exposition text, for machines without the server.
"""
