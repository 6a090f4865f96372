"""Verdicts: a run's measured figures against its limits, decided GO, NO-GO or INCONCLUSIVE.

``judge.evaluate`` takes the ``evidence.Evidence`` of a run (the timeline, the scenario, the policy) and
applies the measures: the figures from the timeline (``measure``), whether the fault reached canary traffic
(``reach``, against ``fault_effect``), and recovery and the untouched primary after the rollback (``after``).
Pure.
"""
