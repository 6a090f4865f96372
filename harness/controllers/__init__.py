"""Controllers under test: the progressive-delivery controllers whose guardrails a scenario judges.

``base`` is the seam: what a controller plug-in provides (its name, the kind it rolls out, its terminal
phases, its local emulation). ``flagger`` is the first plug-in: Flagger v1.44's canary analysis, emulated tick
for tick as ``shared/reference/flagger-semantics.md`` documents it. The emulations are pure; they talk to the
world only through their ``ports``.
"""
