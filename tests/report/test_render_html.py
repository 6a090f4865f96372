"""The HTML evidence report: sections, escaping, redaction, incomplete runs, self-containment."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness.report.charts import PANEL_TITLES
from harness.report.journal import read_journal
from harness.report.render_html import render_html, render_html_text

from .journal_factory import GOLDEN, build, hostile, write_interrupted


class Page(HTMLParser):
    """Tags, attributes and text of a page, as a browser's parser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> set[str]:
        return {str(a["id"]) for _, a in self.tags if a.get("id")}

    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def report() -> str:
    records = [read_journal(GOLDEN), build("no-go"), build("inconclusive")]
    return render_html_text(records, title="canary-chaos evidence")


class TestSections:
    def test_summary_table_lists_every_run_with_its_decision(self, report: str) -> None:
        """The summary has one badge per run, colour-coded by decision class."""
        summary = report[report.index('id="summary"') : report.index('class="card run"')]
        assert re.findall(r'class="badge ([A-Z-]+)"', summary) == ["GO", "NO-GO", "INCONCLUSIVE"]
        for text in ("http-500-burst", "late-errors-overshoot", "cohort-miss", "5m40s", "7m", "5m10s–6m10s"):
            assert text in summary

    def test_each_run_has_every_section(self, report: str) -> None:
        """Every run shows expectations, notes, charts, conditions, sample counts, events and provenance."""
        text = Page(report).all_text()
        for heading in (
            "Expectations",
            "Remediation notes",
            "Timeline",
            "Rollback conditions in force",
            "Canary samples per check interval",
            "Event log",
            "Provenance",
        ):
            assert text.count(heading) == 3, heading
        for title in PANEL_TITLES:
            assert report.count(title) == 3, title
        assert report.count("<svg") >= 3

    def test_rollback_conditions_and_event_log(self, report: str) -> None:
        """Conditions state T × I and the max weight; the event log has Flagger's messages."""
        text = Page(report).all_text()
        assert "Flagger rolls back after 5 failed checks (5 × 1m = 5m after the first failing check)" in text
        assert "progressDeadlineSeconds 600 s" in text
        assert "Rolling back podinfo.test failed checks threshold reached 5" in text
        assert "request-success-rate" in text
        assert "[99, +∞]" in text

    def test_remediation_notes(self, report: str) -> None:
        """The NO-GO run's notes propose concrete changes."""
        text = Page(report).all_text()
        assert "threshold 5→3 or interval 1m→45s would meet it" in text
        assert "canary reached 60% > 50%: maxWeight overshoot with stepWeight 20" in text
        assert "the fault never reached traffic" in text

    def test_low_sample_windows_are_flagged(self, report: str) -> None:
        """Check windows with too few canary requests are highlighted as 'no sample, no signal'."""
        assert report.count('<tr class="low">') >= 2
        assert "no sample, no signal" in Page(report).all_text()

    def test_stamp_only_for_go(self, report: str) -> None:
        """The 'Guardrail last proven' stamp appears once, for the GO run, with the spec hash prefix."""
        record = read_journal(GOLDEN)
        stamp = f"Guardrail last proven: {record.finished_at} for spec hash {record.canary_hash[:12]}"
        assert report.count("Guardrail last proven") == 1
        assert stamp in report

    def test_provenance(self, report: str) -> None:
        """Tool versions and the git commit are shown."""
        text = Page(report).all_text()
        assert "d33ea5416988b9b9e2b4da82efc86fc460530e0f" in text
        assert "prometheus 2.42.0" in text


class TestSelfContained:
    def test_no_scripts_and_no_external_urls(self, report: str) -> None:
        """No script element, no resource URL, no stylesheet link: the page works offline."""
        page = Page(report)
        assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "object", "embed")]
        assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:|//)", report)
        assert "@import" not in report
        assert "url(http" not in report
        assert "http://" not in report
        assert "https://" not in report

    def test_anchor_ids_are_unique(self, report: str) -> None:
        """Summary links point to unique run sections."""
        page = Page(report)
        hrefs = [a["href"] for t, a in page.tags if t == "a" and a.get("href")]
        assert hrefs
        assert all(str(h)[1:] in page.ids() for h in hrefs)


class TestEscapingAndRedaction:
    def test_hostile_strings_are_escaped(self) -> None:
        """Script tags and attributes from events, descriptions and logs appear as text, never as markup."""
        html = render_html_text([hostile(build("rolled-back-go"))])
        page = Page(html)
        assert "script" not in {t for t, _ in page.tags}
        assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" in page.all_text()  # shown to the reader as text

    def test_secrets_are_redacted(self) -> None:
        """Bearer tokens, admin tokens and token: lines are not in the report."""
        html = render_html_text([hostile(build("rolled-back-go"))])
        for secret in ("abcdef123456", "hunter2-admin-token", "sk-live-0123456789"):
            assert secret not in html
        assert "Authorization: [REDACTED]" in html
        assert "[REDACTED]" in html


class TestIncompleteRuns:
    def test_truncated_journal_renders_incomplete(self, tmp_path: Path) -> None:
        """A journal cut mid-write renders with the INCOMPLETE banner and what was readable."""
        text = GOLDEN.read_text()
        path = tmp_path / "run.json"
        path.write_text(text[: len(text) // 2])
        out = render_html([read_journal(path)], tmp_path / "report.html")
        html = out.read_text()
        assert 'class="badge INCOMPLETE"' in html
        assert "banner incomplete" in html
        assert "not valid JSON" in html
        assert "Guardrail last proven" not in html

    def test_interrupted_partial_renders_incomplete(self, tmp_path: Path) -> None:
        """The .partial.jsonl of an interrupted run renders, with its events and charts."""
        partial = write_interrupted(tmp_path / "run.json")
        html = render_html_text([read_journal(partial)])
        assert 'class="badge INCOMPLETE"' in html
        assert "run interrupted during stage" in html
        assert "Halt podinfo.test advancement" in html
        assert "<svg" in html

    def test_empty_record_renders(self, tmp_path: Path) -> None:
        """A journal with nothing usable still renders (no data, no crash)."""
        path = tmp_path / "run.json"
        path.write_text("{")
        html = render_html_text([read_journal(path)])
        assert 'class="badge INCOMPLETE"' in html
        assert "no events recorded" in html


class TestBatchRerender:
    def test_a_cached_run_section_is_rendered_once_and_reused(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A batch re-renders after each run: the cache renders each run's section (charts) only once."""
        from harness.report import render_html as module

        calls: list[str] = []
        real = module.run_view

        def counting(record, index):  # type: ignore[no-untyped-def]
            calls.append(record.run_id)
            return real(record, index)

        monkeypatch.setattr(module, "run_view", counting)
        first, second = build("no-go"), build("inconclusive")
        cache: module.ViewCache = {}
        once = render_html_text([first], cache=cache)
        twice = render_html_text([first, second], cache=cache)
        assert calls == [first.run_id, second.run_id]
        assert once.count('class="card run"') == 1
        assert twice.count('class="card run"') == 2


class TestMeshEvidence:
    """On Linkerd the journal's cluster_canary carries the mTLS evidence of the app and the ingress pods."""

    MESH: ClassVar[dict[str, Any]] = {
        "namespace": "canary-chaos-1",
        "meshed": True,
        "pods": [
            {"pod": "faulty-app-primary-1", "meshed": True, "proxy_version": "stable-2.14.0",
             "identity": "default.canary-chaos-1.serviceaccount.identity.linkerd.cluster.local",
             "identity_source": "proxy metrics", "mtls_requests": 120.0, "problem": ""},
        ],
    }  # fmt: skip
    INGRESS: ClassVar[dict[str, Any]] = {
        "namespace": "traefik",
        "meshed": False,
        "pods": [{"pod": "traefik-1", "meshed": False, "proxy_version": "", "identity": "",
                  "identity_source": "", "mtls_requests": None, "problem": "no linkerd-proxy container"}],
    }  # fmt: skip

    def render(self, cluster_canary: dict | None) -> str:
        import dataclasses

        record = dataclasses.replace(build("rolled-back-go"), cluster_canary=cluster_canary)
        return Page(render_html_text([record], title="t")).all_text()

    def test_app_and_ingress_pods_with_identities(self) -> None:
        text = self.render({"scale": 2, "changes": [], "manifest": {}, "mesh": self.MESH,
                            "ingress_mesh": self.INGRESS})  # fmt: skip
        assert "Mesh identity (Linkerd mTLS, read before the rollout)" in text
        assert "app pods in namespace canary-chaos-1: all meshed" in text
        assert (
            "default.canary-chaos-1.serviceaccount.identity.linkerd.cluster.local proxy metrics 120" in text
        )
        assert "ingress pods (the load's way in) in namespace traefik: NOT all meshed" in text
        assert "traefik-1 NO" in text
        assert "no linkerd-proxy container" in text

    def test_no_section_off_the_mesh(self) -> None:
        assert "Mesh identity" not in self.render({"scale": 4, "changes": [], "manifest": {}})
        assert "Mesh identity" not in self.render(None)
