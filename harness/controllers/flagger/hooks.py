"""Webhook categories as ``scheduler_hooks.go`` runs them, and the payloads (spec §6.1).

Within a category hooks run in spec order; the first failure stops it (rollback hooks: the first
success). The caller owns status writes; these functions call hooks and emit the per-hook events.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from harness.controllers.flagger import events as msg
from harness.controllers.flagger.model import CanarySpec, CanaryStatus, Phase, WebhookSpec, WebhookType
from harness.controllers.flagger.ports import WebhookResult
from harness.controllers.flagger.status import checksum

EventType = Literal["Normal", "Warning"]


class HookHost(Protocol):
    """What the hook runners need from the controller."""

    @property
    def spec(self) -> CanarySpec: ...

    def call_hook(self, hook: WebhookSpec, phase: Phase, status: CanaryStatus | None = None) -> WebhookResult:
        """POST the hook; ``status`` (default: the tick's in-memory Canary) feeds the checksum."""
        ...

    def emit(self, kind: EventType, message: str, phase: Phase | None = None) -> None: ...


def payload(spec: CanarySpec, status: CanaryStatus, phase: Phase, hook: WebhookSpec) -> dict[str, Any]:
    """``CanaryWebhookPayload`` for a non-event hook (``metadata`` omitted when empty)."""
    body: dict[str, Any] = {
        "name": spec.name,
        "namespace": spec.namespace,
        "phase": str(phase),
        "checksum": checksum(status),
    }
    if hook.metadata:
        body["metadata"] = dict(hook.metadata)
    return body


def event_payload(
    spec: CanarySpec,
    status: CanaryStatus,
    phase: Phase,
    hook: WebhookSpec,
    message: str,
    kind: str,
    epoch_ms: int,
) -> dict[str, Any]:
    """``CallEventWebhook``: eventMessage/eventType/timestamp win over the hook's own metadata."""
    metadata: dict[str, str] = {"eventMessage": message, "eventType": kind, "timestamp": str(epoch_ms)}
    for key, value in hook.metadata:
        metadata.setdefault(key, value)
    return {
        "name": spec.name,
        "namespace": spec.namespace,
        "phase": str(phase),
        "checksum": checksum(status),
        "metadata": dict(sorted(metadata.items())),
    }


def of_type(spec: CanarySpec, kind: WebhookType) -> list[WebhookSpec]:
    return [hook for hook in spec.analysis.webhooks if hook.type == kind]


def _first_rejecting(
    host: HookHost, kind: WebhookType, phase: Phase, passed_label: str, status: CanaryStatus | None = None
) -> WebhookSpec | None:
    for hook in of_type(host.spec, kind):
        if not host.call_hook(hook, phase, status).ok:
            return hook
        host.emit("Normal", msg.hook_passed(passed_label, hook.name), status.phase if status else None)
    return None


def confirm_rollout(host: HookHost, status: CanaryStatus) -> WebhookSpec | None:
    """The first rejecting confirm-rollout hook, or None; runs on the re-read Canary ``status``."""
    return _first_rejecting(host, "confirm-rollout", status.phase, "Confirm-rollout", status)


def confirm_traffic_increase(host: HookHost) -> bool:
    for hook in of_type(host.spec, "confirm-traffic-increase"):
        if not host.call_hook(hook, Phase.PROGRESSING).ok:
            host.emit("Warning", msg.waiting_traffic_increase(host.spec, hook.name))
            return False
        host.emit("Normal", msg.hook_passed("Confirm-traffic-increase", hook.name))
    return True


def confirm_promotion(host: HookHost) -> WebhookSpec | None:
    return _first_rejecting(host, "confirm-promotion", Phase.PROGRESSING, "Confirm-promotion")


def pre_rollout(host: HookHost) -> bool:
    for hook in of_type(host.spec, "pre-rollout"):
        result = host.call_hook(hook, Phase.PROGRESSING)
        if not result.ok:
            host.emit("Warning", msg.pre_rollout_failed(host.spec, hook.name, result.detail))
            return False
        host.emit("Normal", msg.hook_passed("Pre-rollout", hook.name))
    return True


def rollout(host: HookHost) -> bool:
    """Rollout hooks (type ``rollout`` or empty) of an analysis tick; no event on success."""
    for hook in of_type(host.spec, "rollout"):
        result = host.call_hook(hook, Phase.PROGRESSING)
        if not result.ok:
            host.emit("Warning", msg.rollout_failed(host.spec, hook.name, result.detail))
            return False
    return True


def post_rollout(host: HookHost, phase: Phase, event_phase: Phase | None = None) -> bool:
    for hook in of_type(host.spec, "post-rollout"):
        result = host.call_hook(hook, phase)
        if not result.ok:
            host.emit("Warning", msg.post_rollout_failed(hook.name, result.detail), event_phase)
            return False
        host.emit("Normal", msg.hook_passed("Post-rollout", hook.name), event_phase)
    return True


def rollback_requested(host: HookHost, phase: Phase) -> bool:
    """True when a rollback hook returns success ("Rollback check <hook> passed")."""
    for hook in of_type(host.spec, "rollback"):
        if host.call_hook(hook, phase).ok:
            host.emit("Warning", msg.rollback_hook_passed(hook.name))
            return True
        host.emit("Normal", msg.rollback_hook_idle(hook.name))
    return False
