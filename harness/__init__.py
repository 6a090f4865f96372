"""canary-chaos: prove that Flagger canary guardrails (Traefik provider) abort within their blast limits."""

__version__ = "0.1.0"
