"""Terraform tests: the module applied, re-planned and destroyed on the local AWS."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest

from emulator.server import LocalAws
from emulator.stepfunctions import definition_diagnostics


# tryfirst: xdist names each test after its group in a hook of its own, which
# must see the groups added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/terraform/" in item.path.as_posix():
            item.add_marker(pytest.mark.terraform)
            # A test's stacks live in its worker's local AWS; a slow example
            # gets a group of its own so that xdist can run it beside others.
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group("terraform"))


@dataclass(frozen=True)
class ExistingVpc:
    """What a user of the examples already has: a VPC, subnets, a workload function.

    Private subnets 0 and 1 share a route table of their own (explicitly
    associated); subnet 2 has no association and so uses the VPC's main table.
    """

    vpc_id: str
    public_subnet_id: str
    private_subnet_ids: list[str]
    private_route_table_ids: list[str]
    main_route_table_id: str
    workload_lambda_arn: str


def _workload_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job.py", "def handler(event, context):\n    return {'echo': event}\n")
    return buffer.getvalue()


def create_existing_vpc(aws: LocalAws, name: str) -> ExistingVpc:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.40.0.0/24")["Subnet"]["SubnetId"]
    public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    ec2.associate_route_table(RouteTableId=public_table, SubnetId=public)
    private = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.40.{i}.0/24")["Subnet"]["SubnetId"]
        for i in (1, 2, 3)
    ]
    tables = [ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in "ab"]
    for subnet in private[:2]:
        ec2.associate_route_table(RouteTableId=tables[0], SubnetId=subnet)
    main_table = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    role = aws.client("iam").create_role(
        RoleName=f"{name}-job",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    function = aws.client("lambda").create_function(
        FunctionName=f"{name}-job",
        Runtime="python3.12",
        Role=role,
        Handler="job.handler",
        Code={"ZipFile": _workload_zip()},
    )["FunctionArn"]
    return ExistingVpc(vpc_id, public, private, tables, main_table, function)


def inventory(aws: LocalAws, prefix: str) -> dict[str, Any]:
    """Everything of `prefix` the module could have created, by service."""
    lambdas = aws.client("lambda").list_functions()["Functions"]
    machines = aws.client("stepfunctions").list_state_machines()["stateMachines"]
    roles = aws.client("iam").list_roles()["Roles"]
    tables = aws.client("dynamodb").list_tables()["TableNames"]
    groups = aws.client("logs").describe_log_groups()["logGroups"]
    addresses = aws.client("ec2").describe_addresses()["Addresses"]
    live_nats = aws.client("ec2").describe_nat_gateways(
        Filter=[{"Name": "state", "Values": ["pending", "available", "deleting"]}]
    )["NatGateways"]
    functions = [f["FunctionName"] for f in lambdas]
    return {
        "lambda": sorted(name for name in functions if name.startswith(prefix)),
        "states": sorted(m["name"] for m in machines if m["name"].startswith(prefix)),
        "iam": sorted(r["RoleName"] for r in roles if r["RoleName"].startswith(prefix)),
        "dynamodb": sorted(t for t in tables if t.startswith(prefix)),
        "logs": sorted(g["logGroupName"] for g in groups if prefix in g["logGroupName"]),
        "eip": sorted(a["AllocationId"] for a in addresses),
        "nat": sorted(n["NatGatewayId"] for n in live_nats),
    }


def deployed_states(aws: LocalAws, state_machine_arn: str) -> dict[str, Any]:
    """The deployed definition's states, after checking the rules every definition keeps.

    Valid for AWS's validator; every Task has a timeout, a Retry, and Catches
    of States.ALL and of States.DataLimitExceeded (which States.ALL does not
    match) that lead to ReleaseAfterError (ReleaseAfterError's own lead to
    RunFailed): no error can skip the teardown.
    """
    definition = aws.client("stepfunctions").describe_state_machine(
        stateMachineArn=state_machine_arn
    )["definition"]
    assert definition_diagnostics(definition) == []
    states: dict[str, Any] = json.loads(definition)["States"]
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        assert state.get("Retry"), name
        expected = "RunFailed" if name == "ReleaseAfterError" else "ReleaseAfterError"
        for error in ("States.ALL", "States.DataLimitExceeded"):
            catchers = [c for c in state.get("Catch", []) if error in c["ErrorEquals"]]
            assert [c["Next"] for c in catchers] == [expected], (name, error)
    return states
