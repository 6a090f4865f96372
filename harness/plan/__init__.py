"""The guardrail planner: what the controller's timing model predicts for a Canary before anything runs.

``planner.plan`` walks the tick grid (``timeline``), finds the traps a spec sets for itself (``traps``),
checks the policy's blast limits and the smallest spec change meeting each (``limits``) and predicts the
verdict's measures for one fault (``measures``, ``predict``); ``render`` prints it as tables. For an Argo
Rollout, ``rollout`` does the same from the step walk (``rollout_walk``, ``rollout_runs``) with
``rollout_traps``, ``rollout_limits``, ``rollout_predict`` and ``rollout_scenario`` (argo scenarios);
``command`` picks the planner for ``canary-chaos plan``. Pure but for ``render``, ``rollout_render`` and
``command``.
"""
