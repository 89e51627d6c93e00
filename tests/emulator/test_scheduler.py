"""A schedule fired on demand starts its state machine as EventBridge Scheduler would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import scheduler
from emulator.server import ACCOUNT_ID, REGION, LocalAws

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


def _role(aws: LocalAws, service: str, actions: list[str], resource: str) -> str:
    iam = aws.client("iam")
    name = f"r-{uuid.uuid4().hex[:10]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return str(arn)


@pytest.fixture(scope="module")
def machine(aws: LocalAws) -> str:
    return str(
        aws.client("stepfunctions").create_state_machine(
            name="scheduled",
            definition=json.dumps(PASS),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/sfn",
        )["stateMachineArn"]
    )


def _schedule(aws: LocalAws, target: dict[str, Any], state: str = "ENABLED") -> str:
    name = f"s-{uuid.uuid4().hex[:10]}"
    aws.client("scheduler").create_schedule(
        Name=name,
        ScheduleExpression="cron(0 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        State=state,
    )
    return name


def _fire(name: str) -> str:
    return scheduler.fire(name, account_id=ACCOUNT_ID, region=REGION)


def test_firing_starts_the_state_machine_with_the_target_input(aws: LocalAws, machine: str):
    role = _role(aws, "scheduler.amazonaws.com", ["states:StartExecution"], machine)
    name = _schedule(aws, {"Arn": machine, "RoleArn": role, "Input": '{"run_label": "nightly"}'})

    execution = _fire(name)

    described = aws.client("stepfunctions").describe_execution(executionArn=execution)
    assert described["stateMachineArn"] == machine
    assert json.loads(described["input"]) == {"run_label": "nightly"}


def test_a_disabled_schedule_does_not_fire(aws: LocalAws, machine: str):
    role = _role(aws, "scheduler.amazonaws.com", ["states:StartExecution"], machine)
    name = _schedule(aws, {"Arn": machine, "RoleArn": role}, state="DISABLED")

    with pytest.raises(scheduler.ScheduleNotFiring, match="DISABLED"):
        _fire(name)


@pytest.mark.parametrize(
    "case",
    [
        ("events.amazonaws.com", ["states:StartExecution"], None, "assume"),
        ("scheduler.amazonaws.com", ["states:DescribeExecution"], None, "may not"),
        ("scheduler.amazonaws.com", ["states:StartExecution"], "arn:aws:states:::x", "may not"),
    ],
)
def test_a_role_that_cannot_start_the_state_machine_does_not_fire(
    aws: LocalAws, machine: str, case: tuple[str, list[str], str | None, str]
):
    service, actions, resource, phrase = case
    role = _role(aws, service, actions, resource or machine)
    name = _schedule(aws, {"Arn": machine, "RoleArn": role})

    with pytest.raises(scheduler.ScheduleNotFiring, match=phrase):
        _fire(name)
