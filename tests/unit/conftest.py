"""Unit tests: the domain code against moto in-process, with the emulator's fidelity fixes.

The same fixes the local AWS server uses are installed here, so that no unit
test passes on a moto gap (NAT Gateways available at once, ClientToken
ignored, tag filters ignored, routes never blackhole...).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator import ec2 as ec2_fidelity
from emulator import settings
from emulator.server import install_fidelity_patches
from nat_on_demand import steps
from nat_on_demand.config import Config

PENDING_SECONDS = 100.0
DELETING_SECONDS = 50.0


@pytest.fixture
def clock() -> Iterator[settings.Clock]:
    """The emulator's clock, frozen: NAT Gateways move on only when a test advances it."""
    saved = settings.timings
    settings.timings = settings.Timings(
        nat_pending_seconds=PENDING_SECONDS, nat_deleting_seconds=DELETING_SECONDS
    )
    settings.clock.freeze()
    yield settings.clock
    settings.clock.thaw()
    settings.timings = saved


@pytest.fixture(scope="session")
def _moto() -> Iterator[Any]:
    """One moto mock for the session; each test gets fresh backends from `mocked_aws`."""
    install_fidelity_patches()
    mock = mock_aws()
    mock.start()
    yield mock
    mock.stop()


@pytest.fixture
def mocked_aws(_moto: Any, clock: settings.Clock) -> Iterator[None]:
    _moto.reset()
    ec2_fidelity.reset()
    yield
    ec2_fidelity.clear_forced_failures()


@cache
def client(service: str) -> Any:
    """A test's own boto3 client (creating one costs ~0.3 s, so they are shared)."""
    return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]


@dataclass
class Network:
    """A VPC like a user's: public subnet with an internet gateway, private route tables."""

    ec2: Any
    dynamodb: Any
    vpc_id: str
    public_subnet_id: str
    allocation_id: str
    private_route_table_ids: list[str]
    igw_id: str
    config: Config

    def routes(self, table_id: str) -> dict[str, dict[str, Any]]:
        table = self.ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        return {
            r["DestinationCidrBlock"]: r for r in table["Routes"] if "DestinationCidrBlock" in r
        }

    def tables(self) -> list[dict[str, Any]]:
        return self.ec2.describe_route_tables(RouteTableIds=self.private_route_table_ids)[
            "RouteTables"
        ]

    def nat_state(self, nat_gateway_id: str) -> str:
        found = self.ec2.describe_nat_gateways(NatGatewayIds=[nat_gateway_id])["NatGateways"]
        return str(found[0]["State"])


def build_network(
    *, tables: int = 2, destinations: tuple[str, ...] = ("0.0.0.0/0",), name: str = "unit"
) -> Network:
    ec2 = client("ec2")
    dynamodb = client("dynamodb")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    allocation_id = ec2.allocate_address(Domain="vpc")["AllocationId"]
    table_ids = [
        ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(tables)
    ]
    table_name = f"{name}-lease"
    dynamodb.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    config = Config(
        instance=name,
        public_subnet_id=subnet_id,
        allocation_id=allocation_id,
        route_table_ids=tuple(table_ids),
        destination_cidr_blocks=destinations,
        lease_table=table_name,
        ready_timeout_seconds=600,
        poll_interval_seconds=10,
        workload_timeout_seconds=900,
        nat_tags={"team": "data"},
    )
    return Network(ec2, dynamodb, vpc_id, subnet_id, allocation_id, table_ids, igw_id, config)


@pytest.fixture
def network(mocked_aws: None) -> Network:
    return build_network()


@pytest.fixture
def environment(network: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    """The handlers' environment for `network`, as the Terraform module sets it."""
    from nat_on_demand import config as configuration

    c = network.config
    values = {
        "NAME": c.instance,
        "PUBLIC_SUBNET_ID": c.public_subnet_id,
        "EIP_ALLOCATION_ID": c.allocation_id,
        "ROUTE_TABLE_IDS": json.dumps(list(c.route_table_ids)),
        "DESTINATION_CIDR_BLOCKS": json.dumps(list(c.destination_cidr_blocks)),
        "LEASE_TABLE": c.lease_table,
        "NAT_READY_TIMEOUT_SECONDS": "600",
        "POLL_INTERVAL_SECONDS": "7",
        "WORKLOAD_TIMEOUT_SECONDS": "900",
        "NAT_TAGS": json.dumps(dict(c.nat_tags)),
    }
    for name, value in values.items():
        monkeypatch.setenv(configuration.PREFIX + name, value)
    configuration.load.cache_clear()
    yield network
    configuration.load.cache_clear()


def run_until_ready(network: Network, clock: settings.Clock, holder: str) -> str:
    """Acquire for `holder` and poll, the clock moving, until the NAT Gateway is available."""
    status = steps.acquire(network.config, holder)
    while not status.ready:
        clock.advance(10)
        status = steps.poll(network.config, holder, status.nat_gateway_id, time.time() + 600)
    assert status.nat_gateway_id is not None
    return status.nat_gateway_id


def run_until_routed(network: Network, clock: settings.Clock, holder: str) -> str:
    """run_until_ready, then the routes attached: a run as its workload starts."""
    nat_id = run_until_ready(network, clock, holder)
    steps.attach_routes(network.config, holder, nat_id)
    return nat_id
