"""Prometheus' ``rate()`` extrapolation and ``histogram_quantile`` interpolation vs hand-computed values."""

from __future__ import annotations

import math

import pytest

from harness.metrics.embedded import bucket_quantile, divide, extrapolated_rate
from harness.metrics.scrape import Sample

# Traefik's default buckets (spec §0) as (upper bound, cumulative count).
INF = math.inf


def samples(*pairs: tuple[float, float]) -> list[Sample]:
    return [Sample(at, value) for at, value in pairs]


def every(step: float, start: float, stop: float, value_at) -> list[Sample]:
    count = round((stop - start) / step) + 1
    return [Sample(start + i * step, value_at(start + i * step)) for i in range(count)]


class TestExtrapolatedRate:
    def test_full_window_of_a_steady_counter(self):
        """Samples on both window edges: the plain slope, 600 requests / 60 s = 10/s."""
        points = every(5, 0, 60, lambda t: 10 * t)
        assert extrapolated_rate(points, 0, 60) == pytest.approx(10.0, rel=1e-12)

    def test_extrapolates_to_both_edges_within_the_threshold(self):
        """Window [2, 62], samples 5..60: 550 over 55 s stretched by 3 s + 2 s to 60 s → 10/s."""
        points = every(5, 5, 60, lambda t: 10 * t)
        assert extrapolated_rate(points, 2, 62) == pytest.approx(10.0, rel=1e-12)

    def test_gap_longer_than_1_1_average_spacings_extrapolates_half_a_spacing(self):
        """Series from 30 s on in a [0, 60] window: 300 × (30 + 2.5)/30 / 60 = 5.4167/s."""
        points = every(5, 30, 60, lambda t: 1000 + 10 * (t - 30))
        assert extrapolated_rate(points, 0, 60) == pytest.approx(300 * 32.5 / 30 / 60, rel=1e-12)

    def test_zero_floor_stops_extrapolation_at_the_counters_zero_point(self):
        """A counter born at 39 s (10 at 40 s, 10/s): extrapolated back 1 s only → 200 × 21/20 / 60 = 3.5."""
        points = every(5, 40, 60, lambda t: 10 * (t - 39))
        assert extrapolated_rate(points, 0, 60) == pytest.approx(3.5, rel=1e-12)

    def test_counter_reset_adds_back_the_value_before_the_drop(self):
        """0,100,200 then reset to 50,150,250,350: increase 350 + 200 = 550 over 60 s."""
        points = samples((0, 0), (10, 100), (20, 200), (30, 50), (40, 150), (50, 250), (60, 350))
        assert extrapolated_rate(points, 0, 60) == pytest.approx(550 / 60, rel=1e-12)

    @pytest.mark.parametrize("points", [[], samples((10, 5))])
    def test_fewer_than_two_samples_yield_no_element(self, points):
        """``rate()`` drops a series with fewer than two samples in the window."""
        assert extrapolated_rate(points, 0, 60) is None

    def test_flat_counter_has_rate_zero(self):
        """No new requests in the window: rate 0 (not absent)."""
        assert extrapolated_rate(every(5, 0, 60, lambda t: 42.0), 0, 60) == 0.0


def traefik(*counts: float) -> list[tuple[float, float]]:
    """Cumulative counts for le = 0.1, 0.3, 1.2, 5, +Inf."""
    return list(zip((0.1, 0.3, 1.2, 5.0, INF), counts, strict=True))


class TestBucketQuantile:
    def test_uniformly_fast_traffic_reports_99_ms(self):
        """Every request under 100 ms: p99 interpolates to 0.99 × 0.1 s = 99 ms (spec §3.2)."""
        assert bucket_quantile(0.99, traefik(50, 50, 50, 50, 50)) * 1000 == pytest.approx(99.0)

    def test_traffic_of_100_to_300_ms_reports_298_ms(self):
        """All requests in (0.1, 0.3]: 0.1 + 0.2 × 0.99 = 0.298 s."""
        assert bucket_quantile(0.99, traefik(0, 50, 50, 50, 50)) * 1000 == pytest.approx(298.0)

    def test_one_second_traffic_reports_1191_ms(self):
        """All requests in (0.3, 1.2]: 0.3 + 0.9 × 0.99 = 1.191 s (spec §3.2)."""
        assert bucket_quantile(0.99, traefik(0, 0, 50, 50, 50)) * 1000 == pytest.approx(1191.0)

    def test_quantile_in_the_inf_bucket_is_the_highest_finite_bound(self):
        """Everything slower than 5 s: p99 is 5 s, the largest value the check can ever see."""
        assert bucket_quantile(0.99, traefik(0, 0, 0, 0, 50)) * 1000 == 5000.0

    def test_fewer_than_two_buckets_is_nan(self):
        """Only the +Inf bucket: NaN."""
        assert math.isnan(bucket_quantile(0.99, [(INF, 10.0)]))

    def test_zero_observations_is_nan(self):
        """No traffic: NaN, which becomes "no values found"."""
        assert math.isnan(bucket_quantile(0.99, traefik(0, 0, 0, 0, 0)))

    def test_missing_inf_bucket_is_nan(self):
        """Without an +Inf bucket the histogram is invalid: NaN."""
        assert math.isnan(bucket_quantile(0.5, [(0.1, 1.0), (0.3, 2.0)]))

    def test_non_monotonic_counts_are_fixed_before_interpolating(self):
        """Counts 10, 9, 20, 20 become 10, 10, 20, 20: q=0.6 → 0.3 + 0.9 × 2/10 = 0.48 (not 0.545)."""
        buckets = [(0.1, 10.0), (0.3, 9.0), (1.2, 20.0), (INF, 20.0)]
        assert bucket_quantile(0.6, buckets) == pytest.approx(0.48)

    def test_buckets_with_the_same_bound_are_added(self):
        """``le="5"`` and ``le="5.0"`` (two exporters) coalesce into one bucket."""
        buckets = [(0.1, 0.0), (5.0, 4.0), (5.0, 6.0), (INF, 10.0)]
        assert bucket_quantile(0.5, buckets) == pytest.approx(0.1 + 4.9 * 0.5)

    def test_lowest_bucket_with_non_positive_bound_returns_that_bound(self):
        """A rank in a first bucket with upper bound ≤ 0 returns the bound itself."""
        assert bucket_quantile(0.2, [(0.0, 5.0), (1.0, 10.0), (INF, 10.0)]) == 0.0

    @pytest.mark.parametrize(("q", "expected"), [(-0.1, -INF), (1.5, INF)])
    def test_out_of_range_quantiles(self, q, expected):
        """q < 0 → -Inf, q > 1 → +Inf."""
        assert bucket_quantile(q, traefik(1, 2, 3, 4, 5)) == expected


class TestDivide:
    @pytest.mark.parametrize(
        ("numerator", "denominator", "expected"), [(1.0, 0.0, INF), (-1.0, 0.0, -INF), (3.0, 4.0, 0.75)]
    )
    def test_ieee_division(self, numerator, denominator, expected):
        """x/0 is ±Inf as in Go; ordinary division otherwise."""
        assert divide(numerator, denominator) == expected

    def test_zero_over_zero_is_nan(self):
        """0/0 = NaN, which the provider reports as "no values found"."""
        assert math.isnan(divide(0.0, 0.0))
