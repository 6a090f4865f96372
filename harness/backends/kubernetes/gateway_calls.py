"""How the Kubernetes gateway makes a vendor call: every vendor exception becomes ``ClusterError``.

``ApiException`` (``GoneError`` for 410), urllib3 errors and timeouts, kubeconfig errors, the dynamic
client's discovery errors and the client's model validation errors are wrapped with ``raise ... from exc``,
so no vendor exception leaves ``harness.backends.kubernetes.gateway`` / ``gateway_custom``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pydantic
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.dynamic import exceptions as _dynamic_exceptions

from harness.backends.kubernetes.api import GoneError
from harness.backends.kubernetes.wire import body_message, transport_problem
from harness.errors import ClusterError

_T = TypeVar("_T")


@contextmanager
def wrapped(what: str) -> Iterator[None]:
    """Translate vendor exceptions raised inside the block into ``ClusterError``."""
    try:
        yield
    except ApiException as exc:
        if exc.status == 410:
            raise GoneError(f"{what}: 410 Gone ({exc.reason})") from exc
        raise ClusterError(f"{what}: HTTP {exc.status} {exc.reason}: {body_message(exc.body)}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ClusterError(f"{what}: {transport_problem(exc)}") from exc
    except ConfigException as exc:
        raise ClusterError(f"{what}: kubeconfig problem: {exc}") from exc
    except (_dynamic_exceptions.ResourceNotFoundError, _dynamic_exceptions.ResourceNotUniqueError) as exc:
        raise ClusterError(f"{what}: the API server does not serve this kind: {exc}") from exc
    except (pydantic.ValidationError, ValueError, TypeError, KeyError) as exc:
        # The client's models validate responses (pydantic in newer wheels, setters in older ones).
        raise ClusterError(f"{what}: unexpected response from the API server: {exc}") from exc


def call(what: str, fn: Callable[[], _T]) -> _T:
    with wrapped(what):
        return fn()


def is_404(exc: ClusterError) -> bool:
    return isinstance(exc.__cause__, ApiException) and exc.__cause__.status == 404


def get_or_none(what: str, fn: Callable[[], _T]) -> _T | None:
    """``_call``, with HTTP 404 as None."""
    try:
        return call(what, fn)
    except ClusterError as exc:
        if is_404(exc):
            return None
        raise
