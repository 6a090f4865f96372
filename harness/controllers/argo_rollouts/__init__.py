"""Argo Rollouts v1.9.1 emulation: the canary step machine of a Rollout and its AnalysisRuns.

Follows docs/argo-rollouts-semantics.md tick for tick: ``model`` holds the frozen spec and status types,
``expr``/``expr_eval`` parse and evaluate the success/failure conditions in Argo's expression language,
``analysis_run`` schedules and assesses measurements (``run_factory`` builds runs from templates, ``runs``
keeps them), ``rollout_status`` holds the status rules and ``controller`` drives Traefik weights through the
protocols in ``ports``. The manifests are read in the scenario layer (``harness.scenario.argo_rollout``).
"""
