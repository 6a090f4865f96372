"""Safety rails: context allowlist, namespace ownership, TTL sweep."""

from __future__ import annotations

import pytest

from harness.backends.kubernetes.api import NamespaceInfo
from harness.backends.kubernetes.safety import (
    EXPIRES_LABEL,
    MANAGED_BY_LABEL,
    RUN_ID_LABEL,
    check_context,
    ensure_owned,
    load_allowed_contexts,
    merge_allowlists,
    new_ownership,
    select_expired,
    sweep_expired,
)
from harness.errors import SafetyError
from harness.testing.cluster import FakeCluster

NOW = 1_800_000_000.0


def owned(name: str, expires: float | None, run_id: str = "r1") -> NamespaceInfo:
    labels = {MANAGED_BY_LABEL: "canary-chaos", RUN_ID_LABEL: run_id}
    if expires is not None:
        labels[EXPIRES_LABEL] = str(int(expires))
    return NamespaceInfo(name, labels)


class TestContexts:
    def test_allowlisted_context_passes(self):
        """An allowlisted context is accepted."""
        check_context("kind-canary-chaos", ["kind-canary-chaos"])

    def test_other_context_is_refused_with_a_hint(self):
        """Any other context is refused, and the message says how to allow it."""
        with pytest.raises(
            SafetyError,
            match=r"'prod' is not allowlisted \(allowed: kind-canary-chaos\).*--context-allow prod",
        ):
            check_context("prod", ["kind-canary-chaos"])

    def test_empty_allowlist_refuses_everything(self):
        """No allowlist means no cluster is touched."""
        with pytest.raises(SafetyError, match="allowed: none"):
            check_context("kind-canary-chaos", [])

    def test_config_file_forms(self, tmp_path):
        """The config file accepts `contexts: [...]` or a bare list; a missing file is an empty list."""
        (tmp_path / "a.yaml").write_text("contexts: [kind-canary-chaos, k3d-dev]\n")
        (tmp_path / "b.yaml").write_text("- kind-x\n")
        assert load_allowed_contexts(tmp_path / "a.yaml") == ("kind-canary-chaos", "k3d-dev")
        assert load_allowed_contexts(tmp_path / "b.yaml") == ("kind-x",)
        assert load_allowed_contexts(tmp_path / "missing.yaml") == ()
        assert merge_allowlists(["a", "b"], ["b", "c"]) == ("a", "b", "c")

    def test_malformed_config_file_is_refused(self, tmp_path):
        """A config file that is not a list of names raises SafetyError naming the file."""
        (tmp_path / "c.yaml").write_text("contexts: kind-x\n")
        with pytest.raises(SafetyError, match=r"c\.yaml: expected 'contexts: \[name, \.\.\.\]'"):
            load_allowed_contexts(tmp_path / "c.yaml")

    def test_alias_bomb_in_the_config_file_is_refused(self, tmp_path):
        """The allowlist file is read with the scenario loader's limits: a 9^9 alias bomb is refused."""
        bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        (tmp_path / "bomb.yaml").write_text(bomb)
        with pytest.raises(SafetyError, match=r"bomb\.yaml: cannot read the context allowlist.*alias"):
            load_allowed_contexts(tmp_path / "bomb.yaml")


class TestOwnership:
    def test_labels_carry_run_id_and_expiry(self):
        """Ownership labels: managed-by, run id and an integer epoch expiry; ISO expiry as annotation."""
        ownership = new_ownership("ab12", NOW, ttl_seconds=3600)
        assert ownership.labels() == {
            MANAGED_BY_LABEL: "canary-chaos",
            RUN_ID_LABEL: "ab12",
            EXPIRES_LABEL: "1800003600",
        }
        assert ownership.annotations()["canary-chaos.io/expires-at-iso"] == "2027-01-15T09:00:00+00:00"

    def test_invalid_run_id_is_refused(self):
        """A run id that is not a valid label value is refused."""
        with pytest.raises(SafetyError):
            new_ownership("Bad_ID!", NOW)

    def test_foreign_namespace_is_refused(self):
        """A namespace without our labels (or with another run's id) may not be touched."""
        with pytest.raises(SafetyError, match="not created by this harness run"):
            ensure_owned(NamespaceInfo("payments", {"team": "payments"}), "payments")
        with pytest.raises(SafetyError):
            ensure_owned(owned("x", NOW), "x", run_id="r2")
        with pytest.raises(SafetyError, match="does not exist"):
            ensure_owned(None, "ghost")
        assert ensure_owned(owned("x", NOW), "x", run_id="r1").name == "x"


class TestSweep:
    def test_selects_only_expired_owned_namespaces(self):
        """Expired and ours → selected; not expired, no expiry, foreign or terminating → kept."""
        namespaces = [
            owned("old", NOW - 1),
            owned("edge", NOW),
            owned("fresh", NOW + 60),
            owned("no-expiry", None),
            NamespaceInfo("foreign", {EXPIRES_LABEL: "1"}),
            NamespaceInfo("half", {MANAGED_BY_LABEL: "canary-chaos", EXPIRES_LABEL: "1"}),
            NamespaceInfo("going", owned("going", 1).labels, phase="Terminating"),
        ]
        assert select_expired(namespaces, NOW) == ["old", "edge"]

    def test_sweep_deletes_only_expired_harness_namespaces(self, clock):
        """sweep_expired deletes the expired harness namespace and leaves every other one."""
        cluster = FakeCluster(clock=clock)
        for ns in (owned("old", NOW - 10), owned("fresh", NOW + 10), NamespaceInfo("kube-system", {})):
            cluster.namespaces[ns.name] = ns
        assert sweep_expired(cluster, NOW, ["kind-canary-chaos"]) == ["old"]
        assert sorted(cluster.namespaces) == ["fresh", "kube-system"]

    def test_sweep_refuses_unlisted_context(self, clock):
        """The sweep checks the context allowlist before listing anything."""
        cluster = FakeCluster(clock=clock, context="prod")
        cluster.namespaces["old"] = owned("old", 1)
        with pytest.raises(SafetyError):
            sweep_expired(cluster, NOW, ["kind-canary-chaos"])
        assert "old" in cluster.namespaces
        assert not [c for c in cluster.calls if c[0] == "list_namespaces"]
