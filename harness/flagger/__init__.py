"""Pure emulation of Flagger's canary analysis (Traefik provider), per shared/reference/flagger-semantics.md."""
