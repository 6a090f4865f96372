"""Argo Rollouts v1.9.1 emulation: the canary step machine of a Rollout and its AnalysisRuns.

Follows docs/argo-rollouts-semantics.md tick for tick: ``model`` holds the frozen spec and status types,
``spec_loader`` reads Rollout and AnalysisTemplate manifests with located errors, ``expr`` evaluates the
success/failure conditions in Argo's expression language, ``analysis_run`` schedules and assesses
measurements, and ``controller`` drives Traefik weights through the protocols in ``ports``.
"""
