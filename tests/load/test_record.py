"""The load tool's Recorder: HDR percentiles, open-loop latency, errors by code, timeline, merge."""

from __future__ import annotations

import json
import random
import threading

import pytest

from clients.load.record import Recorder
from clients.load.timeline import mean_us, new_histogram, recorded

T0 = 1000.0  # a monotonic origin; the recorder only ever subtracts it


def _ms(n: float) -> float:
    return n / 1000.0


def test_percentiles_of_one_to_a_thousand_ms_are_exact_within_hdr_precision() -> None:
    recorder = Recorder(T0)
    for i in range(1, 1001):
        recorder.record("SubmitTimeEntries", T0, T0, T0 + _ms(i), "OK")

    overall = recorder.overall()
    assert overall.get_value_at_percentile(50) / 1000 == pytest.approx(500, rel=2e-3)
    assert overall.get_value_at_percentile(99) / 1000 == pytest.approx(990, rel=2e-3)
    assert overall.get_max_value() / 1000 == pytest.approx(1000, rel=2e-3)
    live = recorder.live(now=T0 + 2)
    assert live.p50_ms == pytest.approx(500, rel=2e-3)
    assert live.p99_ms == pytest.approx(990, rel=2e-3)
    assert live.commands == 1000


def test_open_loop_latency_counts_from_the_intended_send_time() -> None:
    recorder = Recorder(T0)
    # Scheduled at T0, sent 900 ms late behind a slow call, answered 100 ms after sending.
    recorder.record("ApproveTimeEntries", T0, T0 + 0.9, T0 + 1.0, "OK")

    assert recorder.overall().get_max_value() / 1000 == pytest.approx(1000, rel=2e-3)
    assert recorder.rpcs()["ApproveTimeEntries"].histogram.get_min_value() / 1000 == pytest.approx(
        1000, rel=2e-3
    )


def test_latency_beyond_sixty_seconds_is_clamped_not_lost() -> None:
    recorder = Recorder(T0)
    recorder.record("StartBillRun", T0, T0, T0 + 120.0, "DEADLINE_EXCEEDED")

    assert recorder.overall().get_total_count() == 1
    assert recorder.overall().get_max_value() / 1_000_000 == pytest.approx(60, rel=2e-3)


def test_errors_are_counted_by_status_code_per_rpc() -> None:
    recorder = Recorder(T0)
    codes = ["OK", "OK", "INVALID_ARGUMENT", "UNAVAILABLE", "UNAVAILABLE"]
    for code in codes:
        recorder.record("SubmitTimeEntries", T0, T0, T0 + 0.01, code)
    recorder.record("IssueInvoice", T0, T0, T0 + 0.01, "FAILED_PRECONDITION")

    rpcs = recorder.rpcs()
    assert rpcs["SubmitTimeEntries"].count == 5
    assert rpcs["SubmitTimeEntries"].errors_by_code == {"INVALID_ARGUMENT": 1, "UNAVAILABLE": 2}
    assert rpcs["IssueInvoice"].errors_by_code == {"FAILED_PRECONDITION": 1}
    assert recorder.errors_by_code() == {"INVALID_ARGUMENT": 1, "UNAVAILABLE": 2, "FAILED_PRECONDITION": 1}
    assert (recorder.commands, recorder.errors) == (6, 4)
    assert recorder.live(now=T0 + 1).errors_by_code == recorder.errors_by_code()


def test_timeline_counts_commands_and_errors_per_second_of_their_end() -> None:
    recorder = Recorder(T0)
    for second, n in enumerate([3, 0, 5]):
        for i in range(n):
            code = "ABORTED" if i == 0 else "OK"
            recorder.record("SubmitExpenses", T0 + second, T0 + second, T0 + second + 0.2, code)

    points = recorder.timeline()
    assert [(p["t"], p["commands"], p["errors"]) for p in points] == [(0, 3, 1), (2, 5, 1)]
    assert points[0]["p50_ms"] == pytest.approx(200, rel=1e-2)
    assert recorder.duration_s == pytest.approx(2.2)


def test_a_late_call_lands_in_its_own_second_even_after_that_second_was_sealed() -> None:
    recorder = Recorder(T0)
    recorder.record("A", T0, T0, T0 + 0.5, "OK")
    recorder.record("A", T0 + 3, T0 + 3, T0 + 3.5, "OK")  # seals second 0
    recorder.record("A", T0, T0, T0 + 0.9, "OK")  # another thread's call that ended in second 0

    first = recorder.timeline()[0]
    assert (first["t"], first["commands"]) == (0, 2)
    assert first["max_ms"] == pytest.approx(900, rel=1e-2)


def test_a_long_run_coarsens_the_timeline_and_keeps_every_call() -> None:
    recorder = Recorder(T0, max_points=10)
    for second in range(100):
        recorder.record("A", T0 + second, T0 + second, T0 + second + 0.01, "OK")

    points = recorder.timeline()
    assert len(points) <= 10
    assert sum(p["commands"] for p in points) == 100
    assert {p["width_s"] for p in points} == {16}


def test_recent_rate_is_over_the_last_five_seconds() -> None:
    recorder = Recorder(T0)
    for second in range(10):
        per_second = 10 if second < 5 else 100
        for i in range(per_second):
            at = T0 + second + i / per_second
            recorder.record("A", at, at, at + 0.001, "OK")

    assert recorder.live(now=T0 + 10).rate_recent == pytest.approx(100, rel=0.01)
    assert recorder.live(now=T0 + 10).elapsed_s == pytest.approx(10)


def test_bill_run_progress_keeps_samples_and_shows_the_latest() -> None:
    recorder = Recorder(T0)
    recorder.bill_run_progress(T0 + 1, 10, 100, 8)
    recorder.bill_run_progress(T0 + 2, 100, 100, 90)

    assert [(s.t, s.processed) for s in recorder.bill_run()] == [(1.0, 10), (2.0, 100)]
    latest = recorder.live(now=T0 + 3).bill_run
    assert latest is not None and (latest.processed, latest.total, latest.invoices) == (100, 100, 90)


def test_recording_from_many_threads_loses_no_call() -> None:
    recorder = Recorder(T0)

    def work(k: int) -> None:
        for i in range(3000):
            recorder.record(f"R{k % 2}", T0, T0, T0 + (i % 50) / 100, "OK" if i % 7 else "ABORTED")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert recorder.commands == 12_000
    assert recorder.overall().get_total_count() == 12_000
    assert sum(p["commands"] for p in recorder.timeline()) == 12_000
    assert recorder.errors == sum(recorder.errors_by_code().values()) == 4 * len(range(0, 3000, 7))


def _calls(seed: int, n: int) -> list[tuple[str, float, float, str]]:
    rng = random.Random(seed)
    rpcs = ["SubmitTimeEntries", "ApproveTimeEntries", "IssueInvoice"]
    calls = []
    for _ in range(n):
        start = T0 + rng.uniform(0, 30)
        calls.append(
            (rng.choice(rpcs), start, start + rng.lognormvariate(-4, 1), rng.choice(["OK"] * 9 + ["ABORTED"]))
        )
    return calls


def _summary(recorder: Recorder) -> dict[str, object]:
    overall = recorder.overall()
    return {
        "overall": [overall.get_value_at_percentile(p) for p in (50, 90, 99, 99.9, 100)],
        "rpcs": {
            name: (s.count, s.errors_by_code, [s.histogram.get_value_at_percentile(p) for p in (50, 99)])
            for name, s in recorder.rpcs().items()
        },
        "timeline": recorder.timeline(),
        "totals": (recorder.commands, recorder.errors, recorder.duration_s),
    }


def test_merging_two_recorders_gives_the_percentiles_of_one_that_saw_everything() -> None:
    calls = _calls(seed=7, n=4000)
    one, left, right = Recorder(T0), Recorder(T0), Recorder(T0)
    for k, (rpc, start, end, code) in enumerate(calls):
        one.record(rpc, start, start, end, code)
        (left if k % 3 else right).record(rpc, start, start, end, code)

    left.merge(right)

    assert _summary(left) == _summary(one)


def test_state_crosses_json_and_rebuilds_the_same_recorder() -> None:
    recorder = Recorder(T0)
    for rpc, start, end, code in _calls(seed=3, n=500):
        recorder.record(rpc, start, start, end, code)
    recorder.bill_run_progress(T0 + 31, 5, 10, 4)

    rebuilt = Recorder.from_state(json.loads(json.dumps(recorder.state())))

    assert _summary(rebuilt) == _summary(recorder)
    assert rebuilt.bill_run() == recorder.bill_run()


def test_merge_moves_the_other_recorders_times_onto_this_origin() -> None:
    early, late = Recorder(T0), Recorder(T0 + 10)
    late.record("A", T0 + 12.5, T0 + 12.5, T0 + 12.6, "OK")  # 2.6 s after its own origin
    late.bill_run_progress(T0 + 13, 1, 2, 1)

    early.merge(late)

    assert [p["t"] for p in early.timeline()] == [12]
    assert early.duration_s == pytest.approx(12.6)
    assert early.bill_run()[0].t == pytest.approx(13)


def test_merging_a_coarsened_timeline_coarsens_this_one_and_keeps_every_call() -> None:
    long_run, short_run = Recorder(T0, max_points=10), Recorder(T0, max_points=10)
    for second in range(100):
        long_run.record("A", T0 + second, T0 + second, T0 + second + 0.01, "OK")
    for second in range(5):
        short_run.record("A", T0 + second, T0 + second, T0 + second + 0.5, "ABORTED")

    short_run.merge(long_run)

    points = short_run.timeline()
    assert {p["width_s"] for p in points} == {16}
    assert (sum(p["commands"] for p in points), sum(p["errors"] for p in points)) == (105, 5)
    assert points[0]["commands"] == 21 and points[0]["max_ms"] == pytest.approx(500, rel=1e-2)


def test_the_fast_bucket_walk_matches_hdrhistograms_own_iterator_and_mean() -> None:
    rng = random.Random(7)
    for n in (1, 9, 5_000):
        histogram = new_histogram()
        for _ in range(n):
            histogram.record_value(int(rng.lognormvariate(9, 1.5)) + 1)
        expected = [
            (i.value_iterated_to, i.count_added_in_this_iter_step) for i in histogram.get_recorded_iterator()
        ]
        assert list(zip(*recorded(histogram), strict=True)) == expected
        assert mean_us(histogram) == histogram.get_mean_value()
    assert mean_us(new_histogram()) == 0.0 and recorded(new_histogram()) == ([], [])
