"""Pure emulation of Flagger v1.44's canary analysis, tick for tick (see flagger-semantics.md)."""
