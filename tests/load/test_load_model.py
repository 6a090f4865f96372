"""Pure parts of the load gateway: config, users, answer checks, buckets, parsing, merging, analysis."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faulty_app.checksum import with_checksum
from harness.backends.base import Ingress
from harness.clock import FakeClock, ScaledClock
from harness.errors import LoadError
from harness.load import LocustLoad, SettleBuffer, config_from_profile, default_bucket_seconds
from harness.load_model import (
    BucketAccumulator,
    BucketRecord,
    CohortSpec,
    LocustConfig,
    RateStage,
    RouteSpec,
    Watermark,
    answer_ok,
    cohort_for,
    global_user_number,
    hist_bin,
    hist_quantile,
    is_bad,
    merge_records,
    nearest_rank,
    next_due,
    parse_lines,
    requests_per_interval,
    totals_by_version,
    users_hurt_by,
)
from harness.model import LoadBucket
from harness.scenario_model import Cohort, LoadProfile, LoadStage, Route


def _bucket(start: float, version: str, status: int, requests: int, bad: int = 0, hurt=()) -> LoadBucket:
    return LoadBucket(start, 1.0, version, status, requests, bad, 1.0, 2.0, 3.0, 4.0, tuple(hurt))


def _record(start: float, latencies: list[float], *, version="1.1.0", status=200, hurt=()) -> BucketRecord:
    acc = BucketAccumulator(1.0)
    for index, latency in enumerate(latencies):
        acc.record(
            start + 0.5, version, status, latency, bool(hurt), hurt[index % len(hurt)] if hurt else "u0"
        )
    lines = acc.drain(start + 1.0)
    return parse_lines("".join(lines).encode()).records[0]


class TestConfig:
    def test_json_round_trip(self):
        """A config survives its trip to the child through JSON unchanged."""
        config = LocustConfig(
            target_url="http://127.0.0.1:1",
            run_time_seconds=5,
            rps=None,
            shape=(RateStage(2.0, 10.0), RateStage(1.0, 0.0)),
            routes=(RouteSpec("/api/orders", "POST", 2),),
            cohorts=(CohortSpec("beta", 0.2, (("x-cohort", "beta"),), (("c", "1"),)),),
            host_header="app.example",
        )
        assert LocustConfig.from_json(config.to_json()) == config

    def test_rate_follows_the_shape_and_holds_the_last_stage(self):
        """Shape stages apply in order; the last one's rate holds afterwards."""
        config = LocustConfig("http://x", 10, rps=None, shape=(RateStage(2.0, 10.0), RateStage(1.0, 30.0)))
        assert [config.rps_at(t) for t in (0.0, 1.9, 2.0, 2.9, 50.0)] == [10.0, 10.0, 30.0, 30.0, 30.0]

    def test_from_profile_converts_emulated_durations_to_real(self):
        """At time scale 60 stage durations shrink 60×, rates stay real and buckets are 0.1 s."""
        profile = LoadProfile(
            users=4,
            rps=None,
            shape=(LoadStage(120.0, 20.0),),
            routes=(Route("/", "GET", 2),),
            cohorts=(Cohort("beta", 0.5, (("x-cohort", "beta"),)),),
        )
        clock = ScaledClock(60.0)
        config = config_from_profile(
            profile, target_url="http://r", host_header="h", clock=clock, run_time_emulated=600.0
        )
        assert config.shape == (RateStage(2.0, 20.0),)
        assert config.bucket_seconds == pytest.approx(0.1)
        assert config.routes == (RouteSpec("/", "GET", 2),)
        assert config.cohorts[0].headers == (("x-cohort", "beta"),)
        assert config.run_time_seconds >= 10.0
        assert default_bucket_seconds(1.0) == 1.0

    def test_gateway_errors_are_load_errors(self, tmp_path: Path):
        """A missing interpreter or a second start surface as LoadError, not OSError."""
        load = LocustLoad(
            LocustConfig("http://127.0.0.1:9", 5), run_dir=tmp_path, clock=FakeClock(), python="/nonexistent"
        )
        with pytest.raises(LoadError):
            load.start()
        with pytest.raises(LoadError):
            load.start()
        load.stop()
        assert not issubclass(LoadError, OSError)


class TestUsers:
    def test_worker_numbers_never_collide(self):
        """Worker k numbers its users k, k+N, ...: unique across two workers."""
        numbers = [global_user_number(n, w, 2) for w in (0, 1) for n in range(50)]
        assert len(set(numbers)) == 100

    @pytest.mark.parametrize(("users", "fraction"), [(10, 0.2), (20, 0.25), (100, 0.1)])
    def test_cohort_fraction_is_close(self, users: int, fraction: float):
        """The golden-ratio spread puts ~fraction of the users in the cohort, within one user."""
        cohort = CohortSpec("beta", fraction, (("x", "1"),))
        members = sum(cohort_for(n, [cohort]) is cohort for n in range(users))
        assert abs(members - fraction * users) <= 1

    def test_pacing_never_catches_up_more_than_one_period(self):
        """A late user's next request is one period from its due time, or at most one period back."""
        assert next_due(10.0, 10.1, 0.5) == 10.5
        assert next_due(10.0, 20.0, 0.5) == 19.5


class TestAnswers:
    def test_order_echo_and_checksum(self):
        """An order answer must echo item and quantity and carry a matching checksum."""
        sent = {"item": "item-u0001-1", "quantity": 3}
        good = with_checksum({**sent, "order_id": 7, "version": "1.1.0"})
        assert answer_ok(201, json.dumps(good).encode(), sent)
        assert not answer_ok(201, json.dumps({**good, "quantity": 4}).encode(), sent)
        wrong_echo = with_checksum({**sent, "quantity": 4})
        assert not answer_ok(201, json.dumps(wrong_echo).encode(), sent)
        assert not answer_ok(201, b"not json", sent)

    def test_other_routes_verify_a_checksum_when_present(self):
        """GET bodies with a checksum are verified; bodies without one, and non-2xx, are accepted."""
        body = with_checksum({"message": "hi"})
        assert answer_ok(200, json.dumps(body).encode(), None)
        assert not answer_ok(200, json.dumps({**body, "message": "hi?"}).encode(), None)
        assert answer_ok(200, b"plain text", None)
        assert answer_ok(503, b"{broken", None)

    def test_bad_means_5xx_no_response_or_wrong_answer(self):
        """5xx, status 0 and invalid answers are bad; 2xx and 4xx with valid bodies are not."""
        assert [is_bad(s, True) for s in (0, 200, 404, 500, 504)] == [True, False, False, True, True]
        assert is_bad(200, False)


class TestAccumulator:
    def test_drain_emits_finished_buckets_with_watermark(self):
        """Only buckets that ended are written; the watermark is the start of the open bucket."""
        acc = BucketAccumulator(0.5)
        acc.record(100.1, "1.0.0", 200, 5.0, False, "u0000")
        acc.record(100.2, "1.0.0", 200, 7.0, True, "u0001")
        acc.record(100.6, "1.1.0", 500, 9.0, True, "u0002")
        chunk = parse_lines("".join(acc.drain(100.7)).encode())
        assert [(r.start, r.version, r.requests, r.bad, r.hurt) for r in chunk.records] == [
            (100.0, "1.0.0", 2, 1, ("u0001",))
        ]
        assert chunk.watermark == Watermark(100.5)
        final = parse_lines("".join(acc.drain(100.7, final=True)).encode())
        assert [r.start for r in final.records] == [100.5]
        assert final.watermark == Watermark(math.inf, final=True)
        assert acc.drain(200.0, final=True) == []

    def test_late_request_goes_to_the_oldest_open_bucket(self):
        """A request completing in an already-drained bucket lands in the first open one."""
        acc = BucketAccumulator(1.0)
        acc.drain(105.2)
        acc.record(103.5, "1.0.0", 200, 1.0, False, "u0")
        records = parse_lines("".join(acc.drain(106.1)).encode()).records
        assert [r.start for r in records] == [105.0]


class TestParsing:
    def test_truncated_last_line_is_left_unconsumed(self):
        """Whole lines are parsed; a trailing partial line waits for the rest."""
        line = _record(10.0, [1.0, 2.0]).to_line().encode()
        chunk = parse_lines(line + line[:20])
        assert len(chunk.records) == 1
        assert chunk.consumed == len(line)
        assert chunk.malformed == 0

    def test_malformed_lines_are_counted(self):
        """A garbage line in the middle is skipped and counted."""
        line = _record(10.0, [1.0]).to_line().encode()
        chunk = parse_lines(line + b"{oops\n" + b'{"kind":"bucket","start":1}\n' + line)
        assert len(chunk.records) == 2
        assert chunk.malformed == 2


class TestMerging:
    def test_counts_and_users_merge_exactly(self):
        """Two processes' records of one key add up; hurt users are their union."""
        a = _record(10.0, [1.0, 2.0, 3.0], hurt=("u0001",))
        b = _record(10.0, [4.0, 5.0], hurt=("u0001", "u0002"))
        (merged,) = merge_records([a, b])
        assert (merged.requests, merged.bad, merged.hurt) == (5, 5, ("u0001", "u0002"))
        assert merged.max == 5.0
        assert merge_records([a]) == (a,)

    @given(
        st.lists(st.floats(0.01, 60_000.0), min_size=1, max_size=200),
        st.lists(st.floats(0.01, 60_000.0), min_size=1, max_size=200),
        st.sampled_from([0.5, 0.95, 0.99]),
    )
    def test_merged_percentiles_within_one_percent(self, left, right, quantile):
        """Histogram-merged percentiles are within 1 % of the exact nearest-rank value."""
        (merged,) = merge_records([_record(0.0, left), _record(0.0, right)])
        exact = nearest_rank(sorted(left + right), quantile)
        estimate = {0.5: merged.p50, 0.95: merged.p95, 0.99: merged.p99}[quantile]
        assert abs(estimate - exact) <= 0.01 * exact + 1e-9

    def test_histogram_bins_are_monotonic(self):
        """Larger latencies never fall in smaller bins, and quantiles respect the max."""
        assert hist_bin(0.0) == 0 < hist_bin(0.02) <= hist_bin(1.0) < hist_bin(1000.0)
        assert hist_quantile([(hist_bin(100.0), 1)], 0.5, 99.9) == 99.9


class TestSettleBuffer:
    def test_holds_buckets_until_every_source_passed_them(self):
        """A bucket is released once all expected sources' watermarks are past it, merged once."""
        buffer = SettleBuffer()
        buffer.add("a", [_record(10.0, [1.0])], Watermark(11.0), final=False)
        assert buffer.settle(2) == ()
        buffer.add("b", [_record(10.0, [2.0]), _record(11.0, [3.0])], Watermark(12.0), final=False)
        (settled,) = buffer.settle(2)
        assert (settled.start, settled.requests) == (10.0, 2)
        buffer.add("a", [], None, final=True)
        assert [r.start for r in buffer.settle(2)] == [11.0]

    def test_drain_releases_everything(self):
        """After stop, everything left is released even without watermarks."""
        buffer = SettleBuffer()
        buffer.add("a", [_record(10.0, [1.0])], None, final=False)
        assert len(buffer.settle(3, drain=True)) == 1


class TestAnalysis:
    BUCKETS = (
        _bucket(0.0, "1.0.0", 200, 10),
        _bucket(0.0, "1.1.0", 500, 2, 2, ("u0001", "u0002")),
        _bucket(1.0, "1.1.0", 200, 3),
        _bucket(1.0, "1.1.0", 0, 1, 1, ("u0001",)),
        _bucket(2.0, "none", 503, 1, 1, ("u0003",)),
    )

    def test_totals_by_version(self):
        """Requests, bad answers and hurt users add up per version."""
        totals = totals_by_version(self.BUCKETS)
        assert (totals["1.1.0"].requests, totals["1.1.0"].bad) == (6, 3)
        assert totals["1.1.0"].hurt_users == {"u0001", "u0002"}
        assert totals["1.0.0"].bad == 0

    def test_users_hurt_by_canary(self):
        """Only users hurt by the named version count."""
        assert users_hurt_by(self.BUCKETS, "1.1.0") == {"u0001", "u0002"}
        assert users_hurt_by(self.BUCKETS, "1.0.0") == frozenset()

    def test_requests_per_interval_include_zero_windows(self):
        """Each window reports every asked version, zero included, so low-sample windows show."""
        counts = requests_per_interval(self.BUCKETS, 2.0, start=0.0, end=4.0, versions=("1.0.0", "1.1.0"))
        assert [(c.start, c.version, c.requests) for c in counts] == [
            (0.0, "1.0.0", 10),
            (0.0, "1.1.0", 6),
            (2.0, "1.0.0", 0),
            (2.0, "1.1.0", 0),
        ]


class TestImports:
    def test_gateway_import_keeps_gevent_out(self):
        """Importing the gateway and its model in a fresh interpreter loads neither gevent nor locust."""
        code = (
            "import sys, harness.load, harness.load_model; "
            "assert 'gevent' not in sys.modules and 'locust' not in sys.modules, 'leaked'"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr

    def test_ingress_fields_reach_the_config(self):
        """The runner's Ingress (URL and Host header) is what the child targets."""
        ingress = Ingress("http://127.0.0.1:18080", "app.local")
        config = config_from_profile(
            LoadProfile(),
            target_url=ingress.url,
            host_header=ingress.host_header,
            clock=FakeClock(),
            run_time_emulated=60.0,
        )
        assert (config.target_url, config.host_header, config.rps) == (ingress.url, "app.local", 50.0)
