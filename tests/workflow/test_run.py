"""A run of the complete example, end to end, on the local AWS."""

from __future__ import annotations

import json
from typing import Any

from emulator.timeline import Watcher
from workflow.conftest import Stack


def test_successful_run_routes_only_while_the_workload_runs(stack: Stack):
    before = stack.route_tables()
    watcher = Watcher(
        stack.aws.client,
        tag=(stack.outputs["nat_gateway_tag"]["key"], stack.outputs["nat_gateway_tag"]["value"]),
        route_table_ids=stack.route_table_ids,
        destinations=["0.0.0.0/0"],
        interval=0.05,
    ).start()

    execution = stack.start({"run_label": "test", "workload_input": {"job": 1}})
    watcher.follow(execution)
    result = stack.wait(execution)
    stack.wait_until_no_nat_gateway()
    watcher.stop()

    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    nat_id = output["nat"]["nat_gateway_id"]

    # What the workload itself saw while it ran: every private route table
    # routed to this run's NAT Gateway, and that NAT Gateway available.
    seen = output["workload"]["output"]
    assert seen["input"] == {"job": 1}
    assert seen["default_routes"] == {
        table_id: {"nat_gateway_id": nat_id, "state": "active"}
        for table_id in stack.route_table_ids
    }
    assert seen["nat_gateway_states"] == {nat_id: "available"}

    # Seen from outside, in order: available before any route, routes gone
    # before the NAT Gateway started deleting.
    available = watcher.first_nat("available")
    first_route = watcher.first_event("route added")
    last_removal = watcher.last_event("route removed")
    deleting = watcher.first_nat("deleting")
    assert available and first_route and last_removal and deleting
    assert available.at <= first_route.at
    assert last_removal.at <= deleting.at

    # After: nothing billing, and the route tables exactly as before.
    assert stack.nat_gateways("pending", "available") == []
    assert [n["State"] for n in stack.nat_gateways() if n["NatGatewayId"] == nat_id] == ["deleted"]
    assert stack.route_tables() == before


def test_workload_error_fails_the_run_after_teardown(stack: Stack):
    before = stack.route_tables()

    result = stack.wait(stack.start({"workload_input": {"fail": True}}))
    stack.wait_until_no_nat_gateway()

    assert result["status"] == "FAILED"
    assert result["error"] == "WorkloadFailed"
    assert "the workload was asked to fail" in result["cause"]
    assert stack.nat_gateways("pending", "available") == []
    assert stack.route_tables() == before


def test_malformed_input_fails_before_anything_is_created(stack: Stack):
    nat_gateways_before = stack.nat_gateways()

    result = stack.wait(stack.start({"workload": {"typo": True}}))

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidRunInput"
    assert "workload" in result["cause"]
    assert stack.nat_gateways() == nat_gateways_before


def test_input_that_is_not_an_object_fails_with_a_clear_error(stack: Stack):
    result = stack.wait(stack.start(["not", "an", "object"]))

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidRunInput"
    assert "object" in result["cause"]


def test_input_for_another_workload_type_fails_before_anything_is_created(stack: Stack):
    nat_gateways_before = stack.nat_gateways()

    result = stack.wait(stack.start({"hold_seconds": 60}))

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidRunInput"
    assert "hold_seconds applies only to workload type hold" in result["cause"]
    assert stack.nat_gateways() == nat_gateways_before


def _teardown_by_the_run(stack: Stack, execution_arn: str) -> dict[str, Any]:
    """The result ReleaseAfterError recorded: the run's own teardown, not the reaper's."""
    events = stack.aws.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )["events"]
    entered = [
        e["id"]
        for e in events
        if e.get("stateEnteredEventDetails", {}).get("name") == ("ReleaseAfterError")
    ]
    assert entered, "the run never reached ReleaseAfterError"
    succeeded = [
        e for e in events if e["type"] == "TaskSucceeded" and e["previousEventId"] > entered[0]
    ]
    assert succeeded, "ReleaseAfterError did not succeed"
    return dict(json.loads(succeeded[0]["taskSucceededEventDetails"]["output"])["Payload"])


def test_a_large_input_and_a_large_output_fit_side_by_side(stack: Stack):
    # 60 KiB in, about 210 KiB out: together more than a state's 256 KiB, so
    # the run must never hold both at once.
    before = stack.route_tables()
    workload_input = {"blob": "i" * 60_000, "output_bytes": 150_000}

    result = stack.wait(stack.start({"workload_input": workload_input}))
    stack.wait_until_no_nat_gateway()

    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert len(output["workload"]["output"]["padding"]) == 150_000
    assert output["workload"]["output"]["input"] == workload_input
    assert "workload_input" not in output["run"]
    assert stack.route_tables() == before


def test_a_workload_output_over_the_state_limit_fails_the_run_after_its_own_teardown(
    stack: Stack,
):
    before = stack.route_tables()

    arn = stack.start({"workload_input": {"output_bytes": 300_000}})
    result = stack.wait(arn)
    stack.wait_until_no_nat_gateway()

    assert result["status"] == "FAILED"
    assert result["error"] == "States.DataLimitExceeded"
    torn_down = _teardown_by_the_run(stack, arn)
    assert torn_down["torn_down_nat_gateway_id"]
    assert {c["action"] for c in torn_down["route_changes"]} == {"deleted"}
    assert stack.nat_gateways("pending", "available") == []
    assert stack.route_tables() == before


def test_a_workload_input_over_its_limit_fails_before_anything_is_created(stack: Stack):
    nat_gateways_before = stack.nat_gateways()

    result = stack.wait(stack.start({"workload_input": {"blob": "i" * 70_000}}))

    assert result["status"] == "FAILED"
    assert result["error"] == "InvalidRunInput"
    assert "workload_input is 70011 bytes as JSON, more than 65536" in result["cause"]
    assert stack.nat_gateways() == nat_gateways_before
