"""Pure parts of the load gateway: config, records, merging and release of buckets."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from harness.clock import FakeClock, ScaledClock
from harness.controllers.flagger.model import CanarySpec
from harness.load.gateway import child_config, locust_driver
from harness.load.model import (
    BucketMerger,
    BucketRecord,
    ChildConfig,
    StageConfig,
    Watermark,
    bucket_start,
    encode_record,
    merge_records,
    nearest_rank,
    parse_line,
    split_lines,
    summarize,
    to_load_bucket,
)
from harness.model import Ingress, ScenarioId
from harness.scenario.model import Cohort, LoadProfile, LoadStage, Route, Scenario, Timing


def _record(start: float, version: str = "1.0.0", status: int = 200, latencies: tuple[float, ...] = (1.0,),
            bad: int = 0, hurt: tuple[str, ...] = ()) -> BucketRecord:  # fmt: skip
    return summarize(start, 1.0, version, status, latencies, bad, hurt)


class TestChildConfig:
    def test_json_round_trip(self) -> None:
        """A config survives the JSON file between parent and child unchanged."""
        shape = (StageConfig(2.0, 10.0), StageConfig(1.0, 0.0))
        config = ChildConfig(
            url="http://x", users=3, out_dir="/o", start_epoch=5.0, rps=None, shape=shape, host_header="h"
        )
        assert ChildConfig.from_json(config.to_json()) == config

    def test_shape_rps_follows_stages_and_repeats_the_last(self) -> None:
        """rps_at walks the stages in real seconds and keeps the last stage's rate."""
        config = ChildConfig(url="u", users=1, out_dir="o", start_epoch=0, rps=None,
                             shape=(StageConfig(2.0, 10.0), StageConfig(1.0, 30.0)))  # fmt: skip
        assert [config.rps_at(t) for t in (0.0, 1.9, 2.0, 2.9, 50.0)] == [10.0, 10.0, 30.0, 30.0, 30.0]

    def test_child_config_converts_shape_to_real_seconds_and_marks_orders(self) -> None:
        """Stage durations are divided by the clock scale; POST /api/orders is checksum-validated."""
        load = LoadProfile(users=4, rps=None, shape=(LoadStage(60.0, 5.0),),
                           routes=(Route("/"), Route("/api/orders", "post", 2)),
                           cohorts=(Cohort("beta", 0.25, header=(("X-Canary", "1"),)),))  # fmt: skip
        config = child_config(load, Ingress("http://127.0.0.1:9", "app.local"), scale=60.0,
                              out_dir=Path("/tmp/o"), bucket_seconds=0.5)  # fmt: skip
        assert config.shape == (StageConfig(1.0, 5.0),)
        assert [(r.method, r.validate_checksum) for r in config.routes] == [("GET", False), ("POST", True)]
        assert config.host_header == "app.local"
        assert config.cohorts[0].headers == (("X-Canary", "1"),)


class TestRecords:
    def test_encode_parse_round_trip(self) -> None:
        """Bucket records and watermarks decode to what was encoded."""
        record = _record(10.0, latencies=(3.0, 1.0, 2.0), bad=1, hurt=("u0001",))
        assert parse_line(encode_record(record)) == record
        assert parse_line(encode_record(Watermark(12.0, True))) == Watermark(12.0, True)

    def test_the_serving_workload_is_kept_and_keys_the_merge(self) -> None:
        """``wl`` survives the round trip; a line without it (older child) reads as unrecorded."""
        record = summarize(10.0, 1.0, "1.1.0", 200, (1.0,), 0, (), "canary")
        assert parse_line(encode_record(record)) == record
        assert record.key != summarize(10.0, 1.0, "1.1.0", 200, (1.0,), 0, (), "primary").key
        legacy = encode_record(record).replace(', "wl": "canary"', "")
        parsed = parse_line(legacy)
        assert isinstance(parsed, BucketRecord)
        assert parsed.workload == ""

    def test_cohort_route_and_example_user_key_the_merge(self) -> None:
        """``co``/``rt`` split buckets, survive encoding and merging; ``fu`` merges to the smallest id."""
        one = summarize(10.0, 1.0, "1.1.0", 200, (1.0,), 0, (), "canary",
                        cohort="insider", route="GET /", first_user="w1u0002")  # fmt: skip
        other = replace(one, first_user="w0u0004")
        assert parse_line(encode_record(one)) == one
        assert one.key != replace(one, cohort="-").key
        assert one.key != replace(one, route="POST /api/orders").key
        merged = merge_records([one, other])
        assert (merged.cohort, merged.route, merged.first_user, merged.requests) == (
            "insider",
            "GET /",
            "w0u0004",
            2,
        )
        bucket = to_load_bucket(merged, lambda t: t, lambda t: t)
        assert (bucket.cohort, bucket.route, bucket.first_user) == ("insider", "GET /", "w0u0004")
        legacy = parse_line(encode_record(one).split(', "co"')[0] + "}")
        assert isinstance(legacy, BucketRecord)
        assert (legacy.cohort, legacy.route, legacy.first_user) == ("", "", "")

    def test_child_config_carries_cohort_headers_and_seed(self, tmp_path: Path) -> None:
        """The gateway writes each cohort's full headers (the Cookie joined) and the load's seed."""
        cohort = Cohort("c", 0.5, header=(("x", "1"),), cookie=(("a", "1"), ("b", "2")))
        load = LoadProfile(users=4, rps=10, seed=3, cohorts=(cohort,))
        config = child_config(
            load, Ingress("http://127.0.0.1:1"), scale=60, out_dir=tmp_path, bucket_seconds=1
        )
        assert config.cohorts[0].headers == (("x", "1"), ("Cookie", "a=1; b=2"))
        assert ChildConfig.from_json(config.to_json()).seed == 3

    def test_torn_line_is_kept_until_complete(self) -> None:
        """An unterminated last line is held back, then parsed once its newline arrives."""
        line = encode_record(_record(1.0)).encode()
        lines, rest = split_lines(line + b"\n" + line[:10])
        assert len(lines) == 1
        assert rest == line[:10]
        lines, rest = split_lines(rest + line[10:] + b"\n")
        assert parse_line(lines[0]) == _record(1.0)
        assert rest == b""
        assert parse_line('{"k": "b", "s"') is None

    def test_bucket_start_aligns_on_epoch(self) -> None:
        """Buckets of different processes line up on multiples of the length."""
        assert bucket_start(100.74, 0.25) == 100.5
        assert bucket_start(100.0, 1.0) == 100.0

    def test_summarize_uses_nearest_rank(self) -> None:
        """Exact per-process percentiles are nearest-rank over the sorted latencies."""
        record = _record(0.0, latencies=tuple(float(i) for i in range(1, 101)))
        assert (record.p50, record.p95, record.p99, record.max) == (50.0, 95.0, 99.0, 100.0)
        assert nearest_rank([], 0.5) == 0.0


class TestMerge:
    def test_counts_bad_and_hurt_merge_exactly(self) -> None:
        """Requests and bad add up; hurt users are the union."""
        first = _record(0.0, latencies=(1.0, 2.0), bad=1, hurt=("w0u0000",))
        merged = merge_records([first, _record(0.0, latencies=(5.0,), bad=1, hurt=("w1u0000", "w0u0000"))])
        assert (merged.requests, merged.bad, merged.hurt, merged.max) == (3, 2, ("w0u0000", "w1u0000"), 5.0)

    def test_merged_percentiles_within_error_bound(self) -> None:
        """Histogram-merged percentiles are within 2.5 % of the exact nearest-rank value."""
        rng = random.Random(7)
        parts = [[rng.lognormvariate(3.0, 1.2) for _ in range(rng.randint(50, 400))] for _ in range(4)]
        merged = merge_records([_record(0.0, latencies=tuple(p)) for p in parts])
        exact = sorted(x for p in parts for x in p)
        for q, got in ((0.5, merged.p50), (0.95, merged.p95), (0.99, merged.p99)):
            assert math.isclose(got, nearest_rank(exact, q), rel_tol=0.025), q
        assert merged.max == exact[-1]
        assert merged.requests == len(exact)


class TestMerger:
    def test_releases_only_buckets_every_source_finished(self) -> None:
        """A bucket waits until every source's watermark is past its end, and is released once."""
        merger = BucketMerger(("a", "b"))
        merger.add("a", [_record(10.0), _record(11.0), Watermark(12.0)])
        assert merger.release() == []  # source b has not reported yet
        merger.add("b", [_record(10.0, latencies=(4.0,)), Watermark(11.0)])
        released = merger.release()
        assert [(r.start, r.requests) for r in released] == [(10.0, 2)]
        assert merger.release() == []
        merger.add("b", [Watermark(11.5, final=True)])
        assert [(r.start, r.requests) for r in merger.release()] == [(11.0, 1)]

    def test_release_everything_flushes_pending(self) -> None:
        """At stop, every pending bucket is released regardless of watermarks."""
        merger = BucketMerger(("a",))
        merger.add("a", [_record(3.0, status=0, version="none", bad=1, hurt=("u0001",))])
        assert [r.status for r in merger.release(everything=True)] == [0]
        assert merger.requests_seen == 1

    def test_to_load_bucket_places_epoch_on_the_clock(self) -> None:
        """Epoch start and real length become emulated start and duration."""
        clock = FakeClock(scale=60.0)
        bucket = to_load_bucket(_record(5.0, bad=1, hurt=("u0000",)), clock.from_epoch, clock.to_emulated)
        assert (bucket.start, bucket.duration, bucket.bad, bucket.hurt_users) == (5.0, 60.0, 1, ("u0000",))


@pytest.mark.parametrize("latency", [0.001, 0.02, 1.0, 250.0, 30_000.0])
def test_single_bin_error_bound(latency: float) -> None:
    """Any latency above the histogram floor is represented within 2.5 %."""
    merged = merge_records([_record(0.0, latencies=(latency, latency)), _record(0.0, latencies=(latency,))])
    assert merged.p50 <= latency * 1.025
    assert latency < 0.01 or merged.p50 >= latency / 1.025


class TestLocustDriver:
    def test_driver_bounds_run_time_and_buckets_from_the_scenario(self, tmp_path: Path) -> None:
        """Run time is (warm-up + max + recovery) / scale + 60 s; buckets are 10 emulated s, ≤ 1 s real."""
        canary = CanarySpec("app", "ns", "Deployment", "app", "app", 80)
        scenario = Scenario(
            id=ScenarioId("s"), description="", file=tmp_path / "s.yaml", canary=canary, canary_manifest={},
            load=LoadProfile(users=6, workers=2, spawn_rate=3.0),
            timing=Timing(warmup_seconds=600, recovery_seconds=600, max_duration_seconds=1800),
        )  # fmt: skip
        load = locust_driver(
            scenario, Ingress("http://127.0.0.1:1"), clock=ScaledClock(60.0), run_dir=tmp_path
        )
        assert (load.run_time_seconds, load.config.bucket_seconds, load.workers) == (110, 0.25, 2)
        assert (load.spawn_rate, load.config.users, load.processes) == (3.0, 6, ())
        slow = locust_driver(
            scenario, Ingress("http://x"), clock=ScaledClock(1.0), run_dir=tmp_path, workers=1
        )
        assert (slow.run_time_seconds, slow.config.bucket_seconds, slow.workers) == (3060, 1.0, 1)
        assert slow.problem() is None  # not started: nothing to report
        slow.stop()  # stop before start is harmless
