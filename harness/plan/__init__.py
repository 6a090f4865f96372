"""The guardrail planner: what the controller's timing model predicts for a Canary before anything runs.

``planner.plan`` walks the tick grid (``timeline``), finds the traps a spec sets for itself (``traps``),
checks the policy's blast limits and the smallest spec change meeting each (``limits``) and predicts the
verdict's measures for one fault (``measures``, ``predict``); ``render`` prints it as tables. Pure but for
``render``.
"""
