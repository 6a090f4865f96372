"""Pure emulation of Flagger's canary analysis (Traefik provider); see flagger-semantics.md."""
