"""The local IP-echo service answers with the NAT Gateway a VPC function's traffic leaves from."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from emulator import ec2 as ec2_fidelity
from emulator import settings
from emulator.echo import EchoServer
from emulator.server import LocalAws

PENDING = 10.0


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[settings.Clock]:
    ec2_fidelity.install()
    saved = replace(settings.timings)
    settings.timings.nat_pending_seconds = PENDING
    settings.clock.freeze()
    yield settings.clock
    settings.clock.thaw()
    settings.timings = saved


@dataclass
class Vpc:
    ec2: Any
    vpc_id: str
    public_subnet: str
    explicit_subnet: str
    main_subnet: str
    explicit_table: str
    main_table: str
    function_name: str


def _function(aws: LocalAws, name: str, subnets: list[str]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", "def handler(event, context):\n    return {}\n")
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="probe.handler",
        Code={"ZipFile": buffer.getvalue()},
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": []},
    )


@pytest.fixture
def vpc(aws: LocalAws) -> Vpc:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.7.{i}.0/24")["Subnet"]["SubnetId"]
        for i in range(3)
    ]
    explicit = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=explicit, SubnetId=subnets[1])
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"][0]["RouteTableId"]
    name = f"probe-{uuid.uuid4().hex[:8]}"
    _function(aws, name, subnets[1:])
    return Vpc(ec2, vpc_id, subnets[0], subnets[1], subnets[2], explicit, main, name)


def _nat(vpc: Vpc) -> tuple[str, str]:
    allocation = vpc.ec2.allocate_address(Domain="vpc")
    nat = vpc.ec2.create_nat_gateway(
        SubnetId=vpc.public_subnet, AllocationId=allocation["AllocationId"]
    )["NatGateway"]["NatGatewayId"]
    return nat, allocation["PublicIp"]


def _route_all(vpc: Vpc, nat: str, cidr: str = "0.0.0.0/0") -> None:
    for table in (vpc.explicit_table, vpc.main_table):
        vpc.ec2.create_route(RouteTableId=table, DestinationCidrBlock=cidr, NatGatewayId=nat)


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode().strip())
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


@pytest.fixture
def echo(aws: LocalAws, vpc: Vpc) -> Iterator[EchoServer]:
    with EchoServer(aws, vpc.function_name) as server:
        yield server


def test_no_route_means_no_connectivity(echo: EchoServer):
    assert _get(echo.url) is None


def test_routes_to_an_available_nat_gateway_answer_with_its_public_ip(
    vpc: Vpc, echo: EchoServer, frozen_clock: settings.Clock
):
    nat, public_ip = _nat(vpc)
    _route_all(vpc, nat)
    assert _get(echo.url) is None, "answered while the NAT Gateway was pending"

    frozen_clock.advance(PENDING + 1)

    assert _get(echo.url) == public_ip
    # The path names the asking function; one the local AWS does not know gets nothing.
    assert _get(echo.url_for(vpc.function_name)) == public_ip
    assert _get(echo.url_for("no-such-function")) is None


def test_a_subnet_that_does_not_reach_the_nat_gateway_refuses(
    vpc: Vpc, echo: EchoServer, frozen_clock: settings.Clock
):
    nat, _ = _nat(vpc)
    # Only the explicitly associated table; the subnet on the main table has no route.
    vpc.ec2.create_route(
        RouteTableId=vpc.explicit_table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
    )
    frozen_clock.advance(PENDING + 1)

    assert _get(echo.url) is None


def test_routes_for_other_destinations_do_not_reach_the_service(
    vpc: Vpc, echo: EchoServer, frozen_clock: settings.Clock
):
    nat, _ = _nat(vpc)
    _route_all(vpc, nat, cidr="203.0.113.0/24")
    frozen_clock.advance(PENDING + 1)

    assert _get(echo.url) is None


def test_a_deleted_nat_gateway_leaves_a_blackhole_and_no_connectivity(
    vpc: Vpc, echo: EchoServer, frozen_clock: settings.Clock
):
    nat, _ = _nat(vpc)
    _route_all(vpc, nat)
    frozen_clock.advance(PENDING + 1)
    vpc.ec2.delete_nat_gateway(NatGatewayId=nat)

    assert _get(echo.url) is None


def test_hooks_force_another_address_or_no_connectivity(echo: EchoServer):
    echo.answer_with("192.0.2.99")
    assert _get(echo.url) == "192.0.2.99"

    echo.refuse()
    assert _get(echo.url) is None

    echo.follow_routes()
    assert _get(echo.url) is None
    assert echo.requests == 3
