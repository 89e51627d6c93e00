"""The arithmetic of `make bench`: summaries, REPORT lines, transitions, timelines, scaling.

No bench runs here and nothing is timed: these check only how the bench turns
what it recorded into figures.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from bench import figures, report
from bench.figures import Observation
from bench.runs import RunRecord
from bench.scale import make_scale
from emulator.api_calls import ApiCall


def test_summary_is_median_min_max_of_the_values_present() -> None:
    summary = figures.summarise([3.0, None, 1.0, 10.0, 2.0])

    assert summary == figures.Summary(median=2.5, low=1.0, high=10.0, runs=4)
    assert figures.summarise([None, None]) is None


def test_parses_the_figures_of_a_report_line() -> None:
    line = (
        "REPORT RequestId: 4a8af46c-9bb8\tDuration: 98.88 ms\tBilled Duration: 695 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 76 MB\tInit Duration: 595.57 ms\t"
    )

    assert figures.parse_report_line(line) == {
        "Duration": 98.88,
        "Billed Duration": 695.0,
        "Memory Size": 256.0,
        "Max Memory Used": 76.0,
        "Init Duration": 595.57,
    }
    with pytest.raises(ValueError, match="not a REPORT line"):
        figures.parse_report_line("START RequestId: x")


def test_gb_seconds_count_billed_ms_at_the_configured_memory() -> None:
    assert figures.gb_seconds(1000, 1024) == 1.0
    assert figures.gb_seconds(2000, 128) == 0.25


def _event(kind: str, name: str = "", second: int = 0) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "timestamp": datetime.datetime(2026, 12, 3, 12, 0, second, tzinfo=datetime.UTC),
    }
    if kind.endswith("StateEntered"):
        event["stateEnteredEventDetails"] = {"name": name}
    if kind.endswith("StateExited"):
        event["stateExitedEventDetails"] = {"name": name}
    return event


def test_transitions_are_states_entered_plus_task_retries() -> None:
    history = [
        _event("ExecutionStarted"),
        _event("PassStateEntered", "StartRun"),
        _event("PassStateExited", "StartRun"),
        _event("TaskStateEntered", "Acquire"),
        _event("TaskScheduled"),
        _event("TaskFailed"),
        # Retried once: scheduled again without entering the state again.
        _event("TaskScheduled"),
        _event("TaskSucceeded"),
        _event("TaskStateExited", "Acquire"),
        _event("SucceedStateEntered", "RunSucceeded"),
        _event("ExecutionSucceeded"),
    ]

    assert figures.state_transitions(history) == 4


def test_finds_when_a_state_was_left() -> None:
    history = [
        _event("TaskStateEntered", "RunWorkload", second=1),
        _event("TaskStateExited", "RunWorkload", second=4),
    ]
    expected = datetime.datetime(2026, 12, 3, 12, 0, 4, tzinfo=datetime.UTC).timestamp()

    assert figures.state_event_time(history, "TaskStateExited", "RunWorkload") == expected
    assert figures.state_event_time(history, "TaskStateExited", "Release") is None


def test_history_is_kept_as_offsets_types_and_state_names() -> None:
    history = [
        _event("ExecutionStarted", second=1),
        _event("TaskStateEntered", "Acquire", second=2),
        _event("TaskStateExited", "Acquire", second=4),
    ]

    assert figures.compact_history(history) == [
        (0.0, "ExecutionStarted", ""),
        (1.0, "TaskStateEntered", "Acquire"),
        (3.0, "TaskStateExited", "Acquire"),
    ]


def test_routes_are_in_place_at_the_last_route_change_of_the_run() -> None:
    calls = [
        ApiCall("ec2", "CreateRoute", "ASIAEXAMPLEFUNCTION0", at=1.0, wall=101.0),
        ApiCall("ec2", "ReplaceRoute", "ASIAEXAMPLEFUNCTION0", at=2.0, wall=102.0),
        ApiCall("ec2", "DeleteRoute", "ASIAEXAMPLEFUNCTION0", at=3.0, wall=103.0),
    ]
    changes = ("CreateRoute", "ReplaceRoute")

    assert figures.last_call_time(calls, "ec2", changes) == 102.0
    assert figures.first_call_time(calls, "ec2", changes) == 101.0
    assert figures.last_call_time(calls[2:], "ec2", changes) is None


def test_watcher_events_become_observations_with_their_target() -> None:
    added = figures.observation(5.0, "rtb-1", "route added", "0.0.0.0/0 -> nat-1 (active)")
    dead = figures.observation(6.0, "rtb-1", "route changed", "0.0.0.0/0 -> nat-1 (blackhole)")
    igw = figures.observation(7.0, "rtb-1", "route changed", "0.0.0.0/0 -> igw-1 (active)")
    nat = figures.observation(8.0, "nat-1", "available", "public IP 198.51.100.7")

    assert added == Observation(5.0, "rtb-1", "route added", "nat-1", active=True)
    assert dead == Observation(6.0, "rtb-1", "route changed", "nat-1", active=False)
    assert igw.target is None
    assert nat == Observation(8.0, "nat-1", "available")


def test_routes_are_in_place_when_the_last_table_routes_to_the_nat_gateway() -> None:
    seen = [
        Observation(10.0, "nat-1", "available"),
        Observation(10.5, "rtb-1", "route added", "nat-1", active=True),
        Observation(10.6, "rtb-9", "route added", "nat-1", active=True),
        Observation(11.0, "rtb-2", "route added", "nat-1", active=True),
        Observation(15.0, "rtb-1", "route removed"),
    ]

    assert figures.routes_in_place_time(seen, ["rtb-1", "rtb-2"], "nat-1", since=0.0) == 11.0
    assert figures.routes_in_place_time(seen, ["rtb-1", "rtb-2"], "nat-2", since=0.0) is None
    # Already in place when the run started: in place from its start.
    assert figures.routes_in_place_time(seen, ["rtb-1"], "nat-1", since=12.0) == 12.0
    assert figures.nat_state_time(seen, "nat-1", "available") == 10.0


def _record(**overrides: Any) -> RunRecord:
    values: dict[str, Any] = {
        "design": "baseline",
        "order": "first",
        "repetition": 1,
        "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:b:1",
        "status": "SUCCEEDED",
        "nat_gateway_id": "nat-1",
        "reused_nat_gateway": False,
        "lambda_invocations": 3,
        "cold_starts": 0,
        "billed_ms": 20_000,
        "gb_seconds": figures.gb_seconds(20_000, 128),
        "transitions": 7,
        "cost_usd": 0.0,
        "ec2_calls": {"DescribeNatGateways": 14},
        "dynamodb_calls": {},
        "run_seconds": 24.0,
    }
    return RunRecord(**(values | overrides))


def test_only_waiter_sleep_grows_when_billed_time_is_scaled_back_to_aws() -> None:
    scale = make_scale(0.1, hold_seconds=1.0, grace_supported=True)
    # 14 describes: one per waiter before its first sleep and one check, 11 sleeps.
    baseline = _record()
    sleep_ms = 11 * 1.5 * 1000

    assert report.waiter_sleep_ms(baseline, scale) == pytest.approx(sleep_ms)
    assert report.aws_billed_ms(baseline, scale, lambda_waits=True) == pytest.approx(
        20_000 + sleep_ms * 9
    )
    assert report.aws_billed_ms(baseline, scale, lambda_waits=False) == 20_000


def test_scale_keeps_wait_states_and_poll_interval_whole_and_at_least_one_second() -> None:
    scale = make_scale(0.05, hold_seconds=1.0, grace_supported=False)

    assert scale.nat_pending_seconds == pytest.approx(5.0)
    assert scale.waiter_delay_seconds == pytest.approx(0.75)
    assert scale.fixed_wait_seconds == 2
    assert scale.poll_interval_seconds == 1
    assert scale.idle_grace_seconds is None


def test_runs_table_puts_median_and_range_per_run_and_marks_what_is_unsupported() -> None:
    scale = make_scale(0.1, hold_seconds=1.0, grace_supported=False)
    records = [
        _record(repetition=1, billed_ms=20_000, start_to_routes_seconds=11.0),
        _record(repetition=2, billed_ms=22_000, start_to_routes_seconds=12.0),
        _record(repetition=3, billed_ms=21_000, start_to_routes_seconds=14.0),
        _record(repetition=4, status="FAILED", billed_ms=1),
    ]
    columns = [report.Column("baseline", "first", "waiter baseline, run 1", lambda_waits=True)]

    summary = report.summarise_runs(records, columns, scale)
    table = report.runs_tables(summary, ["grace, run 2"])

    entry = summary["baseline/first"]
    assert (entry["runs"], entry["failed"]) == (4, 1)
    assert entry["measured"]["billed_seconds"] == {
        "median": 21.0,
        "min": 20.0,
        "max": 22.0,
        "runs": 3,
    }
    assert entry["on_aws"]["start_to_routes_seconds"]["median"] == pytest.approx(120.0)
    assert "| waiter baseline, run 1 (1 failed) | 3 | 21.00 [20.00-22.00] |" in table
    assert "| grace, run 2 | not supported yet |" in table
