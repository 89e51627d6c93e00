"""Bad events and bad run input fail with a message that names the field."""

from __future__ import annotations

import pytest

from nat_on_demand import events
from nat_on_demand.errors import InvalidEvent, InvalidRunInput

ARN = "arn:aws:states:us-east-1:123456789012:execution:nat:run-1"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({}, "action"),
        ({"action": "explode"}, "action"),
        ({"action": "release"}, "execution_arn"),
        ({"action": "release", "execution_arn": "arn:aws:lambda:x"}, "execution_arn"),
        (
            {"action": "attach_routes", "execution_arn": ARN, "nat_gateway_id": "igw-1"},
            "nat_gateway_id",
        ),
        (
            {"action": "poll", "execution_arn": ARN, "nat_gateway_id": None, "deadline": "soon"},
            "deadline",
        ),
        ({"action": "release", "execution_arn": ARN, "extra": 1}, "extra"),
        ({"action": "check_workload", "execution_arn": ARN}, "workload"),
        ({"action": "check_workload", "execution_arn": ARN, "workload": []}, "workload"),
        ("release", "object"),
    ],
)
def test_controller_event_errors_name_the_field(event: object, field: str):
    with pytest.raises(InvalidEvent) as raised:
        events.parse_controller_event(event)

    assert field in str(raised.value)
    assert str(raised.value).startswith("controller event:")


def test_valid_controller_events_pass():
    for event in (
        {"action": "acquire", "execution_arn": ARN, "execution_input": {}},
        {"action": "poll", "execution_arn": ARN, "nat_gateway_id": None, "deadline": 1.5},
        {
            "action": "attach_routes",
            "execution_arn": ARN,
            "nat_gateway_id": "nat-0a1b2c3d4e5f60718",
        },
        {"action": "release", "execution_arn": ARN},
        {"action": "check_workload", "execution_arn": ARN, "workload": {"task": {}}},
    ):
        assert events.parse_controller_event(event) == event


@pytest.mark.parametrize(
    ("run_input", "field"),
    [
        ([], "object"),
        ("go", "object"),
        ({"workload": {}}, "workload"),
        ({"run_label": ""}, "run_label"),
        ({"run_label": "x" * 81}, "run_label"),
        ({"run_label": "semi;colon"}, "run_label"),
        ({"hold_seconds": 0}, "hold_seconds"),
        ({"hold_seconds": 86401}, "hold_seconds"),
        ({"hold_seconds": 1.5}, "hold_seconds"),
    ],
)
def test_run_input_errors_name_the_field(run_input: object, field: str):
    with pytest.raises(InvalidRunInput) as raised:
        events.parse_run_input(run_input)

    assert field in str(raised.value)
    assert str(raised.value).startswith("execution input:")


def test_run_input_defaults_workload_input_to_an_empty_object():
    assert events.parse_run_input({}) == {"workload_input": {}}
    assert events.parse_run_input({"workload_input": [1, 2], "run_label": "nightly sync"}) == {
        "workload_input": [1, 2],
        "run_label": "nightly sync",
    }


def test_probe_events_name_the_bad_field():
    with pytest.raises(InvalidEvent, match="nat_gateway_id"):
        events.parse_probe_event({"execution_arn": ARN, "nat_gateway_id": "igw-1"})
    good = {"execution_arn": ARN, "nat_gateway_id": "nat-0a1b2c3d4e5f60718"}
    assert events.parse_probe_event(good) == good


def test_a_workload_input_too_big_for_the_run_is_refused_with_its_size():
    blob = "x" * (64 * 1024)

    with pytest.raises(InvalidRunInput, match=r"workload_input is 655\d\d bytes .* than 65536"):
        events.parse_run_input({"workload_input": {"blob": blob}})
    assert events.parse_run_input({"workload_input": {"blob": blob[:-20]}})["workload_input"]


def test_an_execution_of_another_state_machine_is_refused():
    mine = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"

    events.check_execution_of("arn:aws:states:us-east-1:123456789012:execution:nightly:run-1", mine)
    for other in (
        "arn:aws:states:us-east-1:123456789012:execution:nightly-b:run-1",
        "arn:aws:states:us-east-1:999999999999:execution:nightly:run-1",
    ):
        with pytest.raises(InvalidEvent, match="is not an execution of"):
            events.check_execution_of(other, mine)


def test_an_execution_arn_longer_than_aws_allows_is_refused():
    arn = "arn:aws:states:us-east-1:123456789012:execution:unit:" + "a" * 300

    with pytest.raises(InvalidEvent, match="execution_arn"):
        events.parse_controller_event({"action": "release", "execution_arn": arn})


@pytest.mark.parametrize(
    "name", ["run/1", "run$1", "run%20", "run#1", "a" * 81, "run 1", "r\x00n", "<run>", "run?"]
)
def test_an_execution_name_step_functions_would_refuse_is_refused(name: str):
    arn = "arn:aws:states:us-east-1:123456789012:execution:unit:" + name

    with pytest.raises(InvalidEvent, match="execution_arn"):
        events.parse_controller_event({"action": "release", "execution_arn": arn})


def test_execution_names_step_functions_accepts_are_accepted():
    for name in ("a" * 80, "nightly-2026-12-04T02.00", "läuft", "b4b7c6a2-uuid_like.1"):
        arn = "arn:aws:states:us-east-1:123456789012:execution:unit:" + name
        assert events.parse_controller_event({"action": "release", "execution_arn": arn})


def test_workload_input_size_counts_utf8_bytes_as_step_functions_does():
    # 30,000 two-byte characters: 60,008 bytes as UTF-8 JSON, under the limit.
    assert events.parse_run_input({"workload_input": {"k": "é" * 30_000}})
    with pytest.raises(InvalidRunInput, match=r"workload_input is 66008 bytes"):
        events.parse_run_input({"workload_input": {"k": "é" * 33_000}})
