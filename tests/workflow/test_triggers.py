"""A run starts when an object lands in the example's inbox bucket (an EventBridge rule)."""

from __future__ import annotations

import json
import time

import pytest

from emulator import scheduler
from emulator.server import ACCOUNT_ID
from workflow.conftest import Stack


def test_an_object_landing_in_the_inbox_starts_a_run_with_the_event(stack: Stack):
    sfn = stack.aws.client("stepfunctions")
    known = {
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    }

    stack.aws.client("s3").put_object(
        Bucket=stack.outputs["inbox_bucket"], Key="orders/2026-12-01.csv", Body=b"id,qty\n"
    )

    deadline = time.monotonic() + 10
    while not (
        started := [
            e["executionArn"]
            for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
            if e["executionArn"] not in known
        ]
    ):
        assert time.monotonic() < deadline, "no run started for the new object"
        time.sleep(0.2)
    result = stack.wait(started[0])
    stack.wait_until_no_nat_gateway()

    assert result["status"] == "SUCCEEDED", result
    run_input = json.loads(result["input"])
    assert run_input["run_label"] == "inbox"
    assert run_input["workload_input"]["detail-type"] == "Object Created"
    assert run_input["workload_input"]["detail"]["object"]["key"] == "orders/2026-12-01.csv"
    # The workload got the event as its input.
    seen = json.loads(result["output"])["workload"]["output"]
    assert seen["input"]["detail"]["bucket"]["name"] == stack.outputs["inbox_bucket"]


def test_the_rule_role_may_start_this_state_machine_and_nothing_else(stack: Stack):
    role = stack.outputs["events_role_arn"]
    rule = stack.aws.client("events").list_targets_by_rule(
        Rule=stack.outputs["event_rule_arns"]["inbox"].rsplit("/", 1)[-1]
    )["Targets"][0]
    assert rule["Arn"] == stack.state_machine_arn
    assert rule["RoleArn"] == role

    scheduler.check_role(
        ACCOUNT_ID,
        role,
        principal="events.amazonaws.com",
        action="states:StartExecution",
        resource=stack.state_machine_arn,
    )
    with pytest.raises(scheduler.RoleRefused, match="may not"):
        scheduler.check_role(
            ACCOUNT_ID,
            role,
            principal="events.amazonaws.com",
            action="states:StartExecution",
            resource=stack.state_machine_arn + "-other",
        )
