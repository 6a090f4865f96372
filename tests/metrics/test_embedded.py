"""The embedded evaluator on synthetic scraped Traefik series, with hand-computed expectations."""

from __future__ import annotations

import itertools
import math
import time

import pytest

from harness.clock import FakeClock, ScaledClock
from harness.controllers.flagger.queries import request_duration, request_success_rate
from harness.errors import MetricsError, NoValuesFound
from harness.metrics.embedded import EmbeddedPrometheus, compact
from harness.metrics.scrape import labels_of, parse_prom_duration, parse_selector, unquote
from harness.providers.traefik.router import TraefikMetrics

from .synthetic_traefik import CANARY, CANARY_2, PRIMARY, Flow, SyntheticTraefik

SUCCESS = request_success_rate("test", "podinfo")  # Flagger's verbatim strings, window 1m
DURATION = request_duration("test", "podinfo")


def rig(*flows: Flow, interval: float = 5.0) -> tuple[FakeClock, SyntheticTraefik, EmbeddedPrometheus]:
    clock = FakeClock()
    exporter = SyntheticTraefik(clock.now, flows)
    return clock, exporter, EmbeddedPrometheus(exporter.text, clock=clock, scrape_interval_seconds=interval)


def scrape_until(clock: FakeClock, prom: EmbeddedPrometheus, until: float, step: float = 5.0) -> None:
    """Scrape now and every ``step`` emulated seconds up to ``until`` (inclusive)."""
    while True:
        prom.scrape_once()
        if clock.now() + step > until + 1e-9:
            return
        clock.advance(step)


class TestSuccessRate:
    def test_4xx_count_as_success_and_5xx_as_failure(self):
        """200 at 90/s, 404 at 5/s, 500 at 5/s on the canary: 95 % (only 5xx are failures)."""
        clock, _, prom = rig(
            Flow(CANARY, 200, 90, 0.05), Flow(CANARY, 404, 5, 0.05), Flow(CANARY, 500, 5, 0.05)
        )
        scrape_until(clock, prom, 120)
        assert prom.query(SUCCESS) == pytest.approx(95.0, rel=1e-12)

    def test_primary_and_lookalike_services_are_not_selected(self):
        """Only ``test-podinfo-canary-<port>@kubernetescrd`` matches the fully anchored regex."""
        clock, _, prom = rig(
            Flow(CANARY, 200, 10, 0.05),
            Flow(PRIMARY, 500, 50, 0.05),
            Flow("xtest-podinfo-canary-80@kubernetescrd", 500, 50, 0.05),
            Flow("test-podinfo-canary-80@kubernetescrd-x", 500, 50, 0.05),
        )
        scrape_until(clock, prom, 60)
        assert prom.query(SUCCESS) == 100.0

    def test_new_500_series_enters_only_after_its_second_scrape(self):
        """A 500 series first seen at 65 s has no rate yet (100 %); at 70 s: 10 / (10 + 1.5) × 100."""
        clock, _, prom = rig(Flow(CANARY, 200, 10, 0.05), Flow(CANARY, 500, 10, 0.05, start=61))
        scrape_until(clock, prom, 65)
        assert prom.query(SUCCESS) == 100.0
        clock.advance(5)
        prom.scrape_once()
        # 500s: samples 40 @65 and 90 @70; zero point at 61 → extrapolated over 9 s: 50 × 9/5 / 60 = 1.5/s
        assert prom.query(SUCCESS) == pytest.approx(1000 / 11.5, rel=1e-12)

    def test_counter_reset_of_a_router_restart_is_not_a_negative_rate(self):
        """A series restarting at 32.5 s keeps counting; the 25 requests between its scrape at 30 s and the
        restart are lost, as in Prometheus: 575 per 60 s instead of 600."""
        clock, _, prom = rig(
            Flow(CANARY, 200, 30, 0.05),
            Flow(CANARY_2, 200, 10, 0.05, reset_at=32.5),
            Flow(CANARY_2, 503, 10, 0.05, reset_at=32.5),
        )
        scrape_until(clock, prom, 60)
        restarted = (275 + 300) / 60  # last value + value before the drop
        expected = (30 + restarted) / (30 + 2 * restarted) * 100
        assert prom.query(SUCCESS) == pytest.approx(expected, rel=1e-12)
        assert 80.5 < expected < 80.51

    def test_no_traffic_in_the_window_is_no_values_found(self):
        """Flat counters: 0/0 = NaN → "no values found" (a quiet canary fails its checks)."""
        clock, exporter, prom = rig(Flow(CANARY, 200, 10, 0.05, start=0))
        scrape_until(clock, prom, 30)
        exporter.add(Flow(CANARY, 200, -10, 0.05, start=30))  # cancels the first flow: counter stays flat
        clock.advance(5)
        scrape_until(clock, prom, 120)
        with pytest.raises(NoValuesFound) as nan:
            prom.query(SUCCESS)
        assert nan.value.nan  # a NaN sample: Argo Rollouts binds it as [NaN], not as an empty vector

    def test_no_series_at_all_is_no_values_found(self):
        """Nothing scraped yet: the empty vector is "no values found"."""
        _, _, prom = rig()
        with pytest.raises(NoValuesFound) as empty:
            prom.query(SUCCESS)
        assert not empty.value.nan

    def test_window_of_the_query_is_honoured(self):
        """Errors since 100.5 s: a 10 s window at 120 s sees 50 %, the 1 m window still dilutes them."""
        clock, exporter, prom = rig(Flow(CANARY, 200, 10, 0.05), interval=1.0)
        scrape_until(clock, prom, 100, step=1.0)
        exporter.add(Flow(CANARY, 500, 10, 0.05, start=100.5))
        clock.advance(1)
        scrape_until(clock, prom, 120, step=1.0)
        assert prom.query(request_success_rate("test", "podinfo", "10s")) == pytest.approx(50.0, rel=1e-9)
        assert 60 < prom.query(SUCCESS) < 90


class TestRequestDuration:
    @pytest.mark.parametrize(
        ("seconds", "expected_ms"), [(0.05, 99.0), (0.2, 298.0), (1.0, 1191.0), (7.5, 5000.0)]
    )
    def test_p99_through_traefiks_coarse_buckets(self, seconds, expected_ms):
        """Uniform latency → the interpolated p99 Flagger sees (spec §3.2: 99, 298, 1191, max 5000 ms)."""
        clock, _, prom = rig(Flow(CANARY, 200, 20, seconds), Flow(PRIMARY, 200, 20, 9.0))
        scrape_until(clock, prom, 90)
        assert prom.query(DURATION) == pytest.approx(expected_ms, rel=1e-12)

    def test_mixed_latencies_sum_buckets_across_codes_and_services(self):
        """Rates 65/75/77/85/85 per bucket → rank 84.15 in (1.2, 5] → 1.2 + 3.8 × 7.15/8 s = 4596.25 ms."""
        clock, _, prom = rig(
            Flow(CANARY, 200, 40, 0.05),
            Flow(CANARY, 200, 10, 0.2),
            Flow(CANARY, 404, 5, 0.02),
            Flow(CANARY, 200, 2, 0.8),
            Flow(CANARY, 500, 8, 2.0),
            Flow(CANARY_2, 200, 20, 0.1),
        )
        scrape_until(clock, prom, 90)
        assert prom.query(DURATION) == pytest.approx(4596.25, rel=1e-12)

    def test_no_traffic_is_no_values_found(self):
        """Zero observations → NaN → "no values found"."""
        clock, _, prom = rig(Flow(CANARY, 200, 0, 0.05))
        scrape_until(clock, prom, 60)
        with pytest.raises(NoValuesFound):
            prom.query(DURATION)

    def test_sum_by_le_prefix_form_is_recognised(self):
        """``sum by (le) (rate(…))`` is the same query as ``sum(rate(…)) by (le)``."""
        clock, _, prom = rig(Flow(CANARY, 200, 20, 1.0))
        scrape_until(clock, prom, 60)
        prefix = (
            "histogram_quantile(0.99, sum by (le) (rate(traefik_service_request_duration_seconds_bucket"
            '{service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd"}[1m]))) * 1000'
        )
        assert prom.query(prefix) == prom.query(DURATION) == pytest.approx(1191.0)


class TestRecogniser:
    def test_whitespace_outside_strings_is_irrelevant(self):
        """Tabs/newlines of Flagger's template, collapsed or removed, give the same value."""
        clock, _, prom = rig(Flow(CANARY, 200, 9, 0.05), Flow(CANARY, 500, 1, 0.05))
        scrape_until(clock, prom, 60)
        assert prom.query(SUCCESS) == prom.query(compact(SUCCESS)) == pytest.approx(90.0)
        assert compact(' a{ x = "1 2" } ') == 'a{x="1 2"}'

    @pytest.mark.parametrize(
        "promql",
        [
            "sum(rate(traefik_service_requests_total[1m]))",
            "up",
            'sum(rate(x{a="b"}[1m])) / sum(rate(x[1m])) > 1',
        ],
    )
    def test_custom_promql_needs_a_real_prometheus(self, promql):
        """Anything but the builtin shapes is refused with a MetricsError, never "no values"."""
        _, _, prom = rig()
        with pytest.raises(MetricsError, match="custom PromQL needs a real Prometheus server") as info:
            prom.query(promql)
        assert not isinstance(info.value, NoValuesFound)

    def test_vector_one_is_online(self):
        """Flagger's ``IsOnline`` query returns 1 without any data."""
        _, _, prom = rig()
        assert prom.is_online() is True
        assert prom.query("vector( 2.5 )") == 2.5

    def test_bad_window_is_a_metrics_error(self):
        """``[1.5m]`` is not a PromQL duration."""
        _, _, prom = rig()
        with pytest.raises(MetricsError, match="bad range duration"):
            prom.query(request_duration("test", "podinfo", "1.5m"))


class TestSelectors:
    LABELS = labels_of("m", {"service": "a-canary-1", "code": "200"})

    @pytest.mark.parametrize(
        ("selector", "expected"),
        [
            ('m{code="200"}', True),
            ('m{code!="200"}', False),
            ('m{code=~"2.."}', True),
            ('m{code=~"2"}', False),  # fully anchored
            ('m{code!~"5.."}', True),
            ('m{missing=""}', True),  # absent label equals ""
            ('m{missing=~".+"}', False),
            ('{__name__="m",service=~"a-.*"}', True),
            ('other{code="200"}', False),
        ],
    )
    def test_matchers(self, selector, expected):
        """The four matcher operators, anchoring and absent labels."""
        assert parse_selector(selector).matches(self.LABELS) is expected

    def test_invalid_regex_is_a_metrics_error(self):
        """A bad regex is a query error."""
        with pytest.raises(MetricsError, match="invalid regular expression"):
            parse_selector('m{code=~"(("}').matches(self.LABELS)

    def test_selector_matching_everything_is_refused(self):
        """Prometheus refuses selectors whose matchers all match the empty string."""
        with pytest.raises(MetricsError, match="non-empty matcher"):
            parse_selector('{code=~".*"}')

    @pytest.mark.parametrize(
        ("literal", "value"), [(r'"a\"b"', 'a"b'), (r'"\\d+"', r"\d+"), ("`\\d`", r"\d"), (r"'x\ty'", "x\ty")]
    )
    def test_string_literals_unquote_like_go(self, literal, value):
        """Escapes in double/single quotes are decoded; backticks are raw."""
        assert unquote(literal) == value

    @pytest.mark.parametrize(
        ("text", "seconds"), [("1m", 60), ("1h30m", 5400), ("250ms", 0.25), ("2d", 172800)]
    )
    def test_durations(self, text, seconds):
        """PromQL durations: integer components, units y w d h m s ms."""
        assert parse_prom_duration(text) == seconds

    @pytest.mark.parametrize("text", ["", "1.5m", "m", "30s1m", "1M"])
    def test_invalid_durations(self, text):
        """Fractions, wrong order and unknown units are rejected as Prometheus does."""
        with pytest.raises(ValueError, match="not a valid duration"):
            parse_prom_duration(text)


class TestScraping:
    def test_reads_the_router_stand_ins_exposition(self):
        """The local router's Traefik metrics (le="5", no *_created) evaluate like the synthetic ones."""
        clock = FakeClock()
        metrics = TraefikMetrics()
        prom = EmbeddedPrometheus(lambda: metrics.render().decode(), clock=clock)
        for second in range(61):
            for _ in range(9):
                metrics.observe(CANARY, "GET", 200, 0.05)
            metrics.observe(CANARY, "GET", 503, 0.05)
            if second % 5 == 0:
                prom.scrape_once()
            clock.advance(1)
        assert prom.query(SUCCESS) == pytest.approx(90.0, rel=1e-12)
        assert prom.query(DURATION) == pytest.approx(99.0, rel=1e-12)

    def test_failed_scrape_leaves_a_gap_and_is_counted(self):
        """A scrape that raises stores nothing and is counted with its error text."""
        clock = FakeClock()

        def broken() -> str:
            raise OSError("connection refused")

        prom = EmbeddedPrometheus(broken, clock=clock)
        assert prom.scrape_once() is False
        assert (prom.scrape_errors, prom.scrapes) == (1, 0)
        assert "connection refused" in (prom.last_error or "")
        assert prom.store.series_labels() == []

    def test_unparsable_exposition_is_a_failed_scrape(self):
        """Garbage text is a failed scrape, not a crash."""
        prom = EmbeddedPrometheus(lambda: "not{ valid", clock=FakeClock())
        assert prom.scrape_once() is False
        assert prom.scrape_errors == 1

    def test_retention_drops_old_samples(self):
        """Samples older than the retention window are forgotten."""
        clock = FakeClock()
        exporter = SyntheticTraefik(clock.now, (Flow(CANARY, 200, 1, 0.05),))
        prom = EmbeddedPrometheus(exporter.text, clock=clock, retention_seconds=20)
        scrape_until(clock, prom, 100)
        labels = prom.store.series_labels()
        kept = prom.store.window(0, 100, labels)
        assert min(p.at for points in kept.values() for p in points) == 80

    def test_background_thread_scrapes_on_the_scaled_grid(self):
        """At scale 100 a 5 s interval is 50 ms real: about 6 scrapes in 0.3 s, then it stops."""
        clock = ScaledClock(100)
        exporter = SyntheticTraefik(clock.now, (Flow(CANARY, 200, 1, 0.05),))
        prom = EmbeddedPrometheus(exporter.text, clock=clock, scrape_interval_seconds=5).start()
        try:
            time.sleep(0.3)
        finally:
            prom.stop()
        count = prom.scrapes
        assert 4 <= count <= 8
        time.sleep(0.1)
        assert prom.scrapes == count
        times = sorted(
            {p.at for pts in prom.store.window(0, math.inf, prom.store.series_labels()).values() for p in pts}
        )
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(4.0 <= gap <= 10.0 for gap in gaps)


def test_the_query_client_tells_a_nan_sample_from_an_empty_vector():
    from harness.metrics.query_client import decode_query_response

    with pytest.raises(NoValuesFound) as nan:
        decode_query_response(
            b'{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}}'
        )
    assert nan.value.nan
    with pytest.raises(NoValuesFound) as empty:
        decode_query_response(b'{"status":"success","data":{"resultType":"vector","result":[]}}')
    assert not empty.value.nan
