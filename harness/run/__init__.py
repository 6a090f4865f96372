"""Running scenarios: the imperative shell around the pure core.

``execute`` builds a backend and load per scenario, runs it through ``runner.ScenarioRun`` (preflight → deploy
→ baseline → trigger → observe → recovery → teardown, always tearing down) and writes the evidence;
``recorder`` keeps the run's timeline and ``progress`` shows it live. Listeners get the lifecycle events of
``harness.model``.
"""
