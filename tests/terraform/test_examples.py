"""examples/ecs-task, scheduled and existing-eip, applied unchanged to the local AWS and run.

Each has an xdist group of its own, so that xdist can apply them beside the
other stacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from emulator import scheduler
from emulator.server import ACCOUNT_ID, REGION, LocalAws
from emulator.terraform import EXAMPLES_DIR, Terraform
from terraform import iam_rules
from terraform.conftest import ExistingVpc, create_existing_vpc, deployed_states


@contextmanager
def applied(
    aws: LocalAws,
    example: str,
    variables: dict[str, Any],
    *,
    check_drift: bool = True,
    workload_arns: tuple[str, ...] = (),
) -> Iterator[tuple[Terraform, dict[str, Any]]]:
    """The example applied with `variables`, its IAM checked against the
    least-privilege rules, destroyed after the test.

    `check_drift`: a second plan must want no changes (about 10 s of plan).
    `workload_arns`: functions or state machines of the caller the module may use.
    """
    terraform = Terraform(
        EXAMPLES_DIR / example, name=f"test-{example}", extra_env=aws.environment()
    )
    terraform.init()
    terraform.apply(variables)
    try:
        problems = iam_rules.violations(
            terraform.show_state(),
            public_subnet_id=variables["public_subnet_id"],
            route_table_ids=_route_tables_of(aws, variables),
            workload_arns=workload_arns,
        )
        assert not problems, "IAM broader than the module needs:\n" + "\n".join(problems)
        if check_drift:
            drift = terraform.planned_changes(variables)
            assert not drift, f"a second plan wants changes (drift):\n{drift}"
        yield terraform, terraform.output()
    finally:
        _wait_until_no_live_nat(aws)
        terraform.destroy(variables)
    assert terraform.resources() == []


def _route_tables_of(aws: LocalAws, variables: dict[str, Any]) -> list[str]:
    """The tables the module should manage, resolved here as EC2 does: a
    subnet's explicit association, else its VPC's main table."""
    if "private_route_table_ids" in variables:
        return list(variables["private_route_table_ids"])
    ec2 = aws.client("ec2")
    tables = []
    for subnet in variables["private_subnet_ids"]:
        explicit = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
        )["RouteTables"]
        if not explicit:
            vpc_id = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
            explicit = ec2.describe_route_tables(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "association.main", "Values": ["true"]},
                ]
            )["RouteTables"]
        tables.append(explicit[0]["RouteTableId"])
    return sorted(set(tables))


def _wait_until_no_live_nat(aws: LocalAws) -> None:
    # AWS refuses to release an Elastic IP until its NAT Gateway is deleted.
    deadline = time.monotonic() + 30
    while aws.client("ec2").describe_nat_gateways(
        Filter=[{"Name": "state", "Values": ["pending", "available", "deleting"]}]
    )["NatGateways"]:
        assert time.monotonic() < deadline, "a NAT Gateway is still live"
        time.sleep(0.2)


def _wait(aws: LocalAws, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still running"
        time.sleep(0.2)
    _wait_until_no_live_nat(aws)
    return dict(described)


def _run(aws: LocalAws, state_machine_arn: str, run_input: dict[str, Any]) -> dict[str, Any]:
    execution = aws.client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn, input=json.dumps(run_input)
    )["executionArn"]
    return _wait(aws, execution)


def _tables(aws: LocalAws, vpc: ExistingVpc) -> list[dict[str, Any]]:
    ids = [*vpc.private_route_table_ids, vpc.main_route_table_id]
    found = aws.client("ec2").describe_route_tables(RouteTableIds=ids)["RouteTables"]
    return sorted(found, key=lambda table: str(table["RouteTableId"]))


@pytest.mark.xdist_group("ecs-task")
def test_ecs_task_example_runs_the_task_and_fails_the_run_on_a_non_zero_exit(
    local_aws: LocalAws,
):
    vpc = create_existing_vpc(local_aws, "tfecs")
    variables = {
        "name": "tfecs-nat",
        "public_subnet_id": vpc.public_subnet_id,
        "private_subnet_ids": vpc.private_subnet_ids[:2],
    }
    before = _tables(local_aws, vpc)

    with applied(local_aws, "ecs-task", variables) as (_, outputs):
        ecs = local_aws.client("ecs")
        states = deployed_states(local_aws, outputs["state_machine_arn"])
        assert states["RunWorkload"]["Resource"] == "arn:aws:states:::ecs:runTask.sync"
        network = states["RunWorkload"]["Parameters"]["NetworkConfiguration"]
        assert network["AwsvpcConfiguration"]["Subnets"] == vpc.private_subnet_ids[:2]
        assert "CheckWorkload" in states
        assert "VerifyEgress" not in states

        ok = _run(local_aws, outputs["state_machine_arn"], {"run_label": "ecs-ok"})
        assert ok["status"] == "SUCCEEDED", ok
        summary = json.loads(ok["output"])["workload"]["output"]
        assert summary["exit_codes"] == {"job": 0}
        assert summary["stop_code"] == "EssentialContainerExited"
        task = ecs.describe_tasks(cluster=outputs["cluster_arn"], tasks=[summary["task_arn"]])[
            "tasks"
        ][0]
        # Fargate, in the private subnets, started by Step Functions.
        assert task["launchType"] == "FARGATE"
        assert task["startedBy"] == "AWS Step Functions"
        subnet = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}["subnetId"]
        assert subnet in vpc.private_subnet_ids[:2]

        failed = _run(
            local_aws,
            outputs["state_machine_arn"],
            {
                "workload_input": {
                    "command": ["sh", "-c", "sleep 1; exit 3"],
                    "environment": {"A": "1"},
                }
            },
        )
        assert failed["status"] == "FAILED"
        assert failed["error"] == "WorkloadFailed"
        assert "container job exited with code 3" in failed["cause"]
        assert "EssentialContainerExited" in failed["cause"]
        assert _tables(local_aws, vpc) == before


@pytest.mark.xdist_group("scheduled")
def test_scheduled_example_wires_its_schedules_and_a_fired_one_opens_a_window(
    local_aws: LocalAws,
):
    vpc = create_existing_vpc(local_aws, "tfsched")
    variables = {
        "name": "tfsched-nat",
        "public_subnet_id": vpc.public_subnet_id,
        "private_route_table_ids": vpc.private_route_table_ids,
        "window_seconds": 1,
        "weekend_window_seconds": 60,
    }

    with applied(local_aws, "scheduled", variables) as (_, outputs):
        machine = outputs["state_machine_arn"]
        states = deployed_states(local_aws, machine)
        assert states["RunWorkload"]["Type"] == "Wait"
        assert "CheckWorkload" not in states
        schedules = local_aws.client("scheduler")
        nightly = schedules.get_schedule(Name="tfsched-nat-nightly", GroupName="default")
        weekend = schedules.get_schedule(Name="tfsched-nat-weekend", GroupName="default")

        assert nightly["ScheduleExpression"] == "cron(0 2 * * ? *)"
        assert nightly["ScheduleExpressionTimezone"] == "Europe/Berlin"
        assert nightly["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
        assert nightly["State"] == "ENABLED"
        assert nightly["Target"]["Arn"] == machine
        assert nightly["Target"]["RoleArn"] == outputs["scheduler_role_arn"]
        assert json.loads(nightly["Target"]["Input"]) == {"run_label": "nightly"}
        assert weekend["ScheduleExpression"] == "cron(0 6 ? * SAT *)"
        assert weekend["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert weekend["State"] == "DISABLED"
        assert json.loads(weekend["Target"]["Input"]) == {
            "run_label": "weekend",
            "hold_seconds": 60,
        }

        # Fired as Scheduler would at 02:00: its role starts the run.
        execution = scheduler.fire("tfsched-nat-nightly", account_id=ACCOUNT_ID, region=REGION)
        result = _wait(local_aws, execution)
        assert result["status"] == "SUCCEEDED", result
        run = json.loads(result["output"])["run"]
        assert run["run_label"] == "nightly"
        assert run["hold_seconds"] == 1

        with pytest.raises(scheduler.ScheduleNotFiring, match="DISABLED"):
            scheduler.fire("tfsched-nat-weekend", account_id=ACCOUNT_ID, region=REGION)

        # The role may start this state machine and nothing else.
        other = machine.replace(":stateMachine:tfsched-nat", ":stateMachine:someone-else")
        with pytest.raises(scheduler.RoleRefused, match="may not states:StartExecution"):
            scheduler.check_role(
                ACCOUNT_ID,
                outputs["scheduler_role_arn"],
                principal=scheduler.SCHEDULER_PRINCIPAL,
                action="states:StartExecution",
                resource=other,
            )

        # A run started by hand may ask for a longer window, up to the timeout.
        longer = _run(local_aws, machine, {"run_label": "manual", "hold_seconds": 2})
        assert longer["status"] == "SUCCEEDED", longer
        too_long = _run(local_aws, machine, {"hold_seconds": 61})
        assert too_long["error"] == "InvalidRunInput"
        assert "hold_seconds must be at most 60" in too_long["cause"]


_CHILD = {
    "Comment": "The partner sync: fails when asked to, else answers with what it sent.",
    "StartAt": "Branch",
    "States": {
        "Branch": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "IsPresent": True, "Next": "PartnerDown"}],
            "Default": "Sync",
        },
        "Sync": {"Type": "Pass", "Parameters": {"sent.$": "$", "partner": "ok"}, "End": True},
        "PartnerDown": {"Type": "Fail", "Error": "PartnerDown", "Cause": "503 from the partner"},
    },
}


@pytest.mark.xdist_group("existing-eip")
def test_existing_eip_example_keeps_the_allowlisted_ip_and_runs_the_partner_workflow(
    local_aws: LocalAws,
):
    vpc = create_existing_vpc(local_aws, "tfeip")
    ec2 = local_aws.client("ec2")
    eip = ec2.allocate_address(Domain="vpc")
    child = local_aws.client("stepfunctions").create_state_machine(
        name="tfeip-partner-sync",
        definition=json.dumps(_CHILD),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/partner-sync",
    )["stateMachineArn"]
    variables = {
        "name": "tfeip-nat",
        "public_subnet_id": vpc.public_subnet_id,
        "private_route_table_ids": vpc.private_route_table_ids,
        "eip_allocation_id": eip["AllocationId"],
        "workload_state_machine_arn": child,
    }
    before = _tables(local_aws, vpc)

    # Its module resources (state machine workload IAM aside) are the minimal
    # example's, whose drift the module tests check.
    with applied(
        local_aws, "existing-eip", variables, check_drift=False, workload_arns=(child,)
    ) as (_, outputs):
        assert outputs["egress_public_ip"] == eip["PublicIp"]
        states = deployed_states(local_aws, outputs["state_machine_arn"])
        assert states["RunWorkload"]["Resource"].endswith(":states:startExecution.sync:2")

        ok = _run(local_aws, outputs["state_machine_arn"], {"workload_input": {"batch": 7}})
        assert ok["status"] == "SUCCEEDED", ok
        output = json.loads(ok["output"])
        assert output["nat"]["public_ip"] == eip["PublicIp"]
        assert output["workload"]["output"] == {"sent": {"batch": 7}, "partner": "ok"}
        # Only the partner's range went through the NAT Gateway.
        assert {c["destination"] for c in output["routes"]["changes"]} == {"203.0.113.0/24"}

        failed = _run(local_aws, outputs["state_machine_arn"], {"workload_input": {"fail": True}})
        assert failed["status"] == "FAILED"
        assert failed["error"] == "WorkloadFailed"
        assert "ended FAILED: PartnerDown: 503 from the partner" in failed["cause"]
        assert _tables(local_aws, vpc) == before

    # The Elastic IP belongs to the caller: destroy leaves it.
    addresses = ec2.describe_addresses(AllocationIds=[eip["AllocationId"]])["Addresses"]
    assert [a["PublicIp"] for a in addresses] == [eip["PublicIp"]]
