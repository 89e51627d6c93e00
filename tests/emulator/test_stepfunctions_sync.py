"""ecs:runTask.sync and states:startExecution.sync:2 run as on AWS (see stepfunctions_sync.py).

These run real executions on the real clock, with short ECS timings.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from moto.ecs.models import EC2ContainerServiceBackend

from emulator import settings
from emulator.server import ACCOUNT_ID, LocalAws

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/sfn"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    saved = replace(settings.timings)
    settings.timings.ecs_start_seconds = 0.2
    settings.timings.ecs_task_seconds = 0.3
    settings.timings.ecs_stop_seconds = 0.1
    with LocalAws() as local:
        yield local
    settings.timings = saved


@pytest.fixture(scope="module")
def fargate(aws: LocalAws) -> dict[str, str]:
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    cluster = ecs.create_cluster(clusterName="sync")["cluster"]["clusterArn"]
    definition = ecs.register_task_definition(
        family="sync-job",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "job", "image": "busybox"}],
    )["taskDefinition"]["taskDefinitionArn"]
    return {"cluster": cluster, "task_definition": definition, "subnet": subnet_id}


def _machine(aws: LocalAws, state: dict[str, Any]) -> str:
    definition = {"StartAt": "Job", "States": {"Job": {**state, "End": True}}}
    return str(
        aws.client("stepfunctions").create_state_machine(
            name=f"sm-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN
        )["stateMachineArn"]
    )


def _run(aws: LocalAws, machine: str, payload: Any = None, timeout: float = 20) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload or {}))
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=arn["executionArn"]))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.1)
    return dict(described)


def _run_task_state(fargate: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::ecs:runTask.sync",
        "Parameters": {
            "Cluster": fargate["cluster"],
            "TaskDefinition": fargate["task_definition"],
            "LaunchType": "FARGATE",
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": [fargate["subnet"]],
                    "AssignPublicIp": "DISABLED",
                }
            },
            "Overrides.$": "$.overrides",
        },
        **extra,
    }


def _command(*command: str) -> dict[str, Any]:
    return {"overrides": {"ContainerOverrides": [{"Name": "job", "Command": list(command)}]}}


def test_run_task_sync_returns_the_stopped_task_in_step_functions_casing(
    aws: LocalAws, fargate: dict[str, str]
):
    result = _run(aws, _machine(aws, _run_task_state(fargate)), {"overrides": {}})

    assert result["status"] == "SUCCEEDED", result
    task = json.loads(result["output"])
    assert task["LastStatus"] == "STOPPED"
    assert task["StopCode"] == "EssentialContainerExited"
    assert [(c["Name"], c["ExitCode"]) for c in task["Containers"]] == [("job", 0)]
    # AWS: a .sync task is started by Step Functions; times are epoch milliseconds.
    assert task["StartedBy"] == "AWS Step Functions"
    assert isinstance(task["StoppedAt"], int)
    assert task["StoppedAt"] > 1_600_000_000_000


def test_run_task_sync_fails_with_task_failed_on_a_non_zero_exit(
    aws: LocalAws, fargate: dict[str, str]
):
    machine = _machine(aws, _run_task_state(fargate))

    result = _run(aws, machine, _command("sh", "-c", "exit 3"))

    assert result["status"] == "FAILED"
    assert result["error"] == "States.TaskFailed"
    task = json.loads(result["cause"])
    assert [(c["Name"], c["ExitCode"]) for c in task["Containers"]] == [("job", 3)]


def test_run_task_sync_fails_with_amazon_ecs_unknown_when_run_task_places_nothing(
    aws: LocalAws, fargate: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(EC2ContainerServiceBackend, "run_task", lambda *a, **k: [])

    result = _run(aws, _machine(aws, _run_task_state(fargate)), {"overrides": {}})

    assert result["status"] == "FAILED"
    assert result["error"] == "AmazonECS.Unknown"


def test_a_timed_out_run_task_sync_state_stops_its_task(aws: LocalAws, fargate: dict[str, str]):
    machine = _machine(aws, _run_task_state(fargate, TimeoutSeconds=1))

    result = _run(aws, machine, _command("sh", "-c", "sleep 30"))

    assert result["status"] == "FAILED"
    assert result["error"] == "States.Timeout"
    ecs = aws.client("ecs")
    deadline = time.monotonic() + 5
    while True:
        arns = ecs.list_tasks(cluster=fargate["cluster"])["taskArns"]
        tasks = ecs.describe_tasks(cluster=fargate["cluster"], tasks=arns)["tasks"]
        user_stopped = [t for t in tasks if t.get("stopCode") == "UserInitiated"]
        if user_stopped or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert user_stopped, "the task the timed-out state started is still running"


@pytest.fixture(scope="module")
def child(aws: LocalAws) -> str:
    """A state machine that echoes its input, after {"sleep": N} seconds, or fails if asked."""
    definition = {
        "StartAt": "Branch",
        "States": {
            "Branch": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.fail", "IsPresent": True, "Next": "Fail"},
                    {"Variable": "$.sleep", "IsPresent": True, "Next": "Sleep"},
                ],
                "Default": "Echo",
            },
            "Sleep": {"Type": "Wait", "SecondsPath": "$.sleep", "Next": "Echo"},
            "Echo": {"Type": "Pass", "Parameters": {"echo.$": "$"}, "End": True},
            "Fail": {"Type": "Fail", "Error": "PartnerDown", "Cause": "503 from the partner"},
        },
    }
    return str(
        aws.client("stepfunctions").create_state_machine(
            name="child", definition=json.dumps(definition), roleArn=ROLE_ARN
        )["stateMachineArn"]
    )


def _start_execution_state(
    child: str, resource: str = "startExecution.sync:2", **extra: Any
) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": f"arn:aws:states:::states:{resource}",
        "Parameters": {
            "StateMachineArn": child,
            "Input.$": "$",
            "Name.$": "$$.Execution.Name",
        },
        **extra,
    }


def test_start_execution_sync2_returns_the_child_output_as_json(aws: LocalAws, child: str):
    result = _run(aws, _machine(aws, _start_execution_state(child)), {"n": 1})

    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["Status"] == "SUCCEEDED"
    assert output["Output"] == {"echo": {"n": 1}}
    # The child is named after the parent, so a retried start is idempotent.
    assert output["ExecutionArn"].endswith(":" + result["name"])


def test_start_execution_sync2_fails_with_the_child_described_in_the_cause(
    aws: LocalAws, child: str
):
    result = _run(aws, _machine(aws, _start_execution_state(child)), {"fail": True})

    assert result["status"] == "FAILED"
    assert result["error"] == "States.TaskFailed"
    described = json.loads(result["cause"])
    assert described["Status"] == "FAILED"
    assert described["Error"] == "PartnerDown"
    assert described["Cause"] == "503 from the partner"


def test_start_execution_without_sync_returns_at_once(aws: LocalAws, child: str):
    result = _run(aws, _machine(aws, _start_execution_state(child, "startExecution")), {"n": 2})

    assert result["status"] == "SUCCEEDED", result
    assert set(json.loads(result["output"])) == {"ExecutionArn", "StartDate"}


def test_a_timed_out_start_execution_sync2_state_stops_the_child(aws: LocalAws, child: str):
    machine = _machine(aws, _start_execution_state(child, TimeoutSeconds=1))

    result = _run(aws, machine, {"sleep": 30})

    assert result["status"] == "FAILED"
    assert result["error"] == "States.Timeout"
    child_arn = child.replace(":stateMachine:", ":execution:") + ":" + result["name"]
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + 5
    while sfn.describe_execution(executionArn=child_arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the child of the timed-out state still runs"
        time.sleep(0.1)
    assert sfn.describe_execution(executionArn=child_arn)["status"] == "ABORTED"
