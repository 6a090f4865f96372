"""Input files: scenario and policy YAML, the Flagger Canary they name, and the YAML locator behind every
located error.

``loader.load_scenario`` turns a scenario file into a frozen ``model.Scenario`` (its Canary via ``canary`` and
``flagger_canary``, its load/timing/expect sections via ``sections``, the policy via ``policy``); ``fields``
and ``yamlloc`` make every problem name the file, line, field path, the expected and the found value. Pure.
"""
