"""Fargate tasks on the local AWS start, run and stop as on AWS (see emulator/ecs.py).

The clock is frozen: a task moves on only when a test advances it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from emulator import ecs as fidelity
from emulator import settings
from emulator.server import LocalAws

START, RUN, STOP = 10.0, 30.0, 5.0


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[settings.Clock]:
    saved = replace(settings.timings)
    settings.timings.ecs_start_seconds = START
    settings.timings.ecs_task_seconds = RUN
    settings.timings.ecs_stop_seconds = STOP
    settings.clock.freeze()
    yield settings.clock
    settings.clock.thaw()
    settings.timings = saved


class Fargate:
    """A cluster, a VPC without DNS hostnames, and a way to run task definitions."""

    def __init__(self, aws: LocalAws) -> None:
        self.ec2 = aws.client("ec2")
        self.ecs = aws.client("ecs")
        self.vpc_id = self.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=self.vpc_id, CidrBlock="10.9.1.0/24")
        self.subnet_id = subnet["Subnet"]["SubnetId"]
        self.cluster = self.ecs.create_cluster(clusterName=f"c-{uuid.uuid4().hex[:8]}")["cluster"][
            "clusterArn"
        ]

    def register(self, *containers: dict[str, Any]) -> str:
        # Fargate: memory for the task, none per container.
        return str(
            self.ecs.register_task_definition(
                family=f"job-{uuid.uuid4().hex[:8]}",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[{"image": "busybox", **c} for c in containers],
            )["taskDefinition"]["taskDefinitionArn"]
        )

    def run(self, task_definition: str, **overrides: Any) -> str:
        response = self.ecs.run_task(
            cluster=self.cluster,
            taskDefinition=task_definition,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet_id]}},
            **({"overrides": overrides} if overrides else {}),
        )
        return str(response["tasks"][0]["taskArn"])

    def describe(self, task_arn: str) -> dict[str, Any]:
        tasks = self.ecs.describe_tasks(cluster=self.cluster, tasks=[task_arn])["tasks"]
        return dict(tasks[0])


@pytest.fixture
def fargate(aws: LocalAws) -> Fargate:
    return Fargate(aws)


def _exit_codes(task: dict[str, Any]) -> dict[str, Any]:
    return {c["name"]: c.get("exitCode") for c in task["containers"]}


def test_run_task_without_security_groups_uses_the_vpc_default(fargate: Fargate):
    arn = fargate.run(fargate.register({"name": "job"}))

    task = fargate.describe(arn)
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    eni = fargate.ec2.describe_network_interfaces(
        NetworkInterfaceIds=[details["networkInterfaceId"]]
    )["NetworkInterfaces"][0]
    default = fargate.ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [fargate.vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]
    assert [g["GroupId"] for g in eni["Groups"]] == [default["GroupId"]]
    assert details["privateDnsName"].endswith(".ec2.internal")


def test_a_task_lives_through_aws_states_in_time(fargate: Fargate, frozen_clock: settings.Clock):
    arn = fargate.run(fargate.register({"name": "job"}))
    seen = [fargate.describe(arn)]
    for seconds in (START / 2, START / 2, RUN, STOP):
        frozen_clock.advance(seconds)
        seen.append(fargate.describe(arn))

    assert [t["lastStatus"] for t in seen] == [
        "PROVISIONING",
        "PENDING",
        "RUNNING",
        "DEPROVISIONING",
        "STOPPED",
    ]
    assert _exit_codes(seen[2]) == {"job": None}
    stopped = seen[-1]
    assert _exit_codes(stopped) == {"job": 0}
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["desiredStatus"] == "STOPPED"
    assert stopped["createdAt"] < stopped["startedAt"] < stopped["stoppingAt"]
    assert stopped["stoppingAt"] < stopped["stoppedAt"]
    eni_id = {d["name"]: d["value"] for d in stopped["attachments"][0]["details"]}[
        "networkInterfaceId"
    ]
    assert (
        fargate.ec2.describe_network_interfaces(
            Filters=[{"Name": "network-interface-id", "Values": [eni_id]}]
        )["NetworkInterfaces"]
        == []
    )


def test_the_command_decides_how_long_a_container_runs_and_its_exit_code(
    fargate: Fargate, frozen_clock: settings.Clock
):
    definition = fargate.register({"name": "job", "command": ["sh", "-c", "exit 0"]})
    arn = fargate.run(
        definition,
        containerOverrides=[{"name": "job", "command": ["sh", "-c", "sleep 5 && exit 3"]}],
    )

    frozen_clock.advance(START + 4)
    assert fargate.describe(arn)["lastStatus"] == "RUNNING"
    frozen_clock.advance(1 + STOP)
    assert _exit_codes(fargate.describe(arn)) == {"job": 3}


def test_the_task_stops_when_its_essential_container_exits(
    fargate: Fargate, frozen_clock: settings.Clock
):
    definition = fargate.register(
        {"name": "job", "command": ["sh", "-c", "sleep 5; exit 0"]},
        {"name": "quick", "essential": False, "command": ["sh", "-c", "sleep 1; exit 1"]},
        {"name": "sidecar", "essential": False, "command": ["sh", "-c", "sleep 60"]},
    )
    arn = fargate.run(definition)

    frozen_clock.advance(START + 5 + STOP)

    task = fargate.describe(arn)
    assert task["lastStatus"] == "STOPPED"
    assert _exit_codes(task) == {"job": 0, "quick": 1, "sidecar": 137}


def test_stop_task_stops_a_running_task_with_sigterm(
    fargate: Fargate, frozen_clock: settings.Clock
):
    arn = fargate.run(fargate.register({"name": "job"}))
    frozen_clock.advance(START + 1)

    fargate.ecs.stop_task(cluster=fargate.cluster, task=arn, reason="enough")
    frozen_clock.advance(STOP)

    task = fargate.describe(arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "enough"
    assert _exit_codes(task) == {"job": 143}


def test_a_task_stopped_before_it_ran_has_no_exit_code(
    fargate: Fargate, frozen_clock: settings.Clock
):
    arn = fargate.run(fargate.register({"name": "job"}))

    fargate.ecs.stop_task(cluster=fargate.cluster, task=arn, reason="never mind")
    frozen_clock.advance(STOP)

    assert _exit_codes(fargate.describe(arn)) == {"job": None}


@pytest.mark.parametrize(
    ("command", "plan"),
    [
        (None, (None, 0)),
        (["python", "job.py"], (None, 0)),
        (["false"], (None, 1)),
        (["sh", "-c", "exit 4"], (None, 4)),
        (["/bin/bash", "-c", "sleep 1.5; echo hi; sleep 2 && exit 2; sleep 9"], (3.5, 2)),
        (["sh", "-c", "sleep 1; false"], (1.0, 1)),
    ],
)
def test_plan_command(command: list[str] | None, plan: tuple[float | None, int]):
    assert fidelity.plan_command(command) == plan
