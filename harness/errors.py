"""The project's exception tree.

    HarnessError                      base of everything we raise on purpose
    ├── InputError        (exit 2)    bad input: scenario, policy, Canary YAML, fault config, CLI args
    │   ├── ScenarioError             a scenario or policy file is invalid
    │   ├── CanarySpecError           a Flagger Canary manifest is invalid or unsupported
    │   └── FaultConfigError          a faulty_app fault configuration is invalid
    ├── InfrastructureError (exit 3)  something the harness depends on broke
    │   ├── ProcessError              a local process could not start or died
    │   ├── ClusterError              Kubernetes API / cluster failure (wraps the vendor exception)
    │   ├── SafetyError               a safety rail refused to act (context, namespace)
    │   ├── MetricsError              a metrics provider failed (Prometheus down, bad query)
    │   │   └── NoValuesFound         query returned no data or NaN (Flagger: "no values found")
    │   ├── LoadError                 the load generator failed
    │   └── ReportError               evidence could not be written
    └── Interrupted                   the run was stopped by a signal (SIGINT/SIGTERM)

Vendor exceptions (httpx, kubernetes, yaml) never leak: gateways wrap them with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_NO_GO = 1
EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3
EXIT_INTERRUPTED = 130


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""

    exit_code = EXIT_INFRASTRUCTURE


class InputError(HarnessError):
    """Bad input; the message names where and what was expected."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can."""

    path: str  # field path, e.g. "analysis.metrics[1].thresholdRange.min"
    expected: str
    found: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None  # e.g. "did you mean 'stepWeight'?"

    def render(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: at {self.path or '<root>'}: expected {self.expected}, found {self.found}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class LocatedInputError(InputError):
    """An input error carrying one or more located problems."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class ScenarioError(LocatedInputError):
    """A scenario or policy file is invalid."""


class CanarySpecError(LocatedInputError):
    """A Flagger Canary manifest is invalid or unsupported by the chosen backend."""


class FaultConfigError(LocatedInputError):
    """A faulty_app fault configuration is invalid."""


class InfrastructureError(HarnessError):
    """Something the harness depends on broke; not a verdict about the canary."""

    exit_code = EXIT_INFRASTRUCTURE


class ProcessError(InfrastructureError):
    """A local process could not be started, or died unexpectedly."""


class ClusterError(InfrastructureError):
    """A Kubernetes API call or cluster precondition failed."""


class SafetyError(InfrastructureError):
    """A safety rail refused to act (kube context not allowlisted, namespace not ours)."""


class MetricsError(InfrastructureError):
    """A metrics query failed (provider down, timeout, bad PromQL, unsupported query)."""


class NoValuesFound(MetricsError):
    """The query returned an empty vector or NaN: Flagger's ``ErrNoValuesFound``."""

    def __init__(self, message: str = "no values found", *, nan: bool = False) -> None:
        super().__init__(message)
        self.nan = nan  # a NaN sample, not an empty vector (Argo Rollouts binds it as [NaN])


class LoadError(InfrastructureError):
    """The load generator failed to start, died, or produced unreadable output."""


class ReportError(InfrastructureError):
    """Evidence (journal, report) could not be written."""


class Interrupted(HarnessError):
    """The run was interrupted by SIGINT or SIGTERM."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}")
