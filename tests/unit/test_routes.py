"""The route rules: add ours, keep ours, replace dead ones, never touch anyone else's."""

from __future__ import annotations

import pytest

from emulator import settings
from nat_on_demand import nat, routes
from nat_on_demand.errors import AwsError, RouteConflict
from unit.conftest import PENDING_SECONDS, Network


@pytest.fixture
def nat_id(network: Network, clock: settings.Clock) -> str:
    created = nat.create(network.config, generation=0)
    clock.advance(PENDING_SECONDS + 1)
    return created.id


def test_attach_creates_a_route_in_every_table(network: Network, nat_id: str):
    changes = routes.attach(network.config, nat_id, owned=set())

    assert [c.action for c in changes] == [routes.CREATED, routes.CREATED]
    for table_id in network.private_route_table_ids:
        route = network.routes(table_id)["0.0.0.0/0"]
        assert route["NatGatewayId"] == nat_id
        assert route["State"] == "active"


def test_attach_twice_keeps_the_routes(network: Network, nat_id: str):
    routes.attach(network.config, nat_id, owned=set())
    before = network.tables()

    changes = routes.attach(network.config, nat_id, owned=set())

    assert [c.action for c in changes] == [routes.KEPT, routes.KEPT]
    assert network.tables() == before


def test_attach_replaces_a_blackhole_left_by_a_deleted_nat_gateway(
    network: Network, nat_id: str, clock: settings.Clock
):
    old = nat.create(network.config, generation=99)
    table = network.private_route_table_ids[0]
    network.ec2.create_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=old.id
    )
    network.ec2.delete_nat_gateway(NatGatewayId=old.id)
    clock.advance(100)
    assert network.routes(table)["0.0.0.0/0"]["State"] == "blackhole"

    changes = routes.attach(network.config, nat_id, owned=set())

    assert changes[0] == routes.RouteChange(table, "0.0.0.0/0", routes.REPLACED, old.id)
    assert network.routes(table)["0.0.0.0/0"]["NatGatewayId"] == nat_id


def test_attach_replaces_a_live_route_to_an_earlier_nat_gateway_of_ours(
    network: Network, nat_id: str
):
    table = network.private_route_table_ids[1]
    earlier_eip = network.ec2.allocate_address(Domain="vpc")["AllocationId"]
    earlier = network.ec2.create_nat_gateway(
        SubnetId=network.public_subnet_id, AllocationId=earlier_eip
    )["NatGateway"]["NatGatewayId"]
    network.ec2.create_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=earlier
    )

    routes.attach(network.config, nat_id, owned={earlier})

    assert network.routes(table)["0.0.0.0/0"]["NatGatewayId"] == nat_id


def test_attach_refuses_to_touch_a_route_to_an_internet_gateway(network: Network, nat_id: str):
    foreign_table = network.private_route_table_ids[1]
    network.ec2.create_route(
        RouteTableId=foreign_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=network.igw_id
    )
    before = network.tables()

    with pytest.raises(RouteConflict) as raised:
        routes.attach(network.config, nat_id, owned=set())

    assert foreign_table in str(raised.value)
    assert network.igw_id in str(raised.value)
    # Nothing changed anywhere, not even in the table without a conflict.
    assert network.tables() == before


def test_attach_refuses_a_live_route_to_someone_elses_nat_gateway(network: Network, nat_id: str):
    other_eip = network.ec2.allocate_address(Domain="vpc")["AllocationId"]
    other = network.ec2.create_nat_gateway(
        SubnetId=network.public_subnet_id, AllocationId=other_eip
    )["NatGateway"]["NatGatewayId"]
    table = network.private_route_table_ids[0]
    network.ec2.create_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=other
    )

    with pytest.raises(RouteConflict, match=other):
        routes.attach(network.config, nat_id, owned=set())

    assert network.routes(table)["0.0.0.0/0"]["NatGatewayId"] == other


def test_attach_names_route_tables_that_do_not_exist(network: Network, nat_id: str):
    config = network.config.__class__(
        **{**network.config.__dict__, "route_table_ids": ("rtb-0123456789abcdef0",)}
    )

    with pytest.raises(AwsError, match="rtb-0123456789abcdef0"):
        routes.attach(config, nat_id, owned=set())


def test_attach_counts_a_route_created_concurrently_as_done(
    network: Network, nat_id: str, monkeypatch: pytest.MonkeyPatch
):
    table = network.private_route_table_ids[0]
    real_describe = routes.describe_tables
    calls = {"n": 0}

    def describe_then_race(ids: tuple[str, ...]):
        tables = real_describe(ids)
        calls["n"] += 1
        if calls["n"] == 1:
            # Another run adds the same route right after our first describe.
            network.ec2.create_route(
                RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
            )
        return tables

    monkeypatch.setattr(routes, "describe_tables", describe_then_race)

    changes = routes.attach(network.config, nat_id, owned=set())

    assert changes[0].action == routes.KEPT
    assert changes[1].action == routes.CREATED


def test_attach_manages_every_destination(mocked_aws: None, clock: settings.Clock):
    from unit.conftest import build_network

    network = build_network(destinations=("203.0.113.0/24", "198.51.100.0/24"))
    created = nat.create(network.config, generation=0)
    clock.advance(PENDING_SECONDS + 1)

    routes.attach(network.config, created.id, owned=set())

    for table_id in network.private_route_table_ids:
        table_routes = network.routes(table_id)
        assert table_routes["203.0.113.0/24"]["NatGatewayId"] == created.id
        assert table_routes["198.51.100.0/24"]["NatGatewayId"] == created.id
        assert "0.0.0.0/0" not in table_routes


def test_detach_deletes_only_routes_to_our_nat_gateway(network: Network, nat_id: str):
    routes.attach(network.config, nat_id, owned=set())
    foreign_table = network.private_route_table_ids[1]
    network.ec2.replace_route(
        RouteTableId=foreign_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=network.igw_id
    )

    changes = routes.detach(network.config, nat_id, owned={nat_id})

    assert [(c.route_table_id, c.action) for c in changes] == [
        (network.private_route_table_ids[0], routes.DELETED)
    ]
    assert "0.0.0.0/0" not in network.routes(network.private_route_table_ids[0])
    assert network.routes(foreign_table)["0.0.0.0/0"]["GatewayId"] == network.igw_id


def test_detach_restores_the_tables_byte_for_byte(network: Network, nat_id: str):
    before = network.tables()

    routes.attach(network.config, nat_id, owned=set())
    routes.detach(network.config, nat_id, owned={nat_id})

    assert network.tables() == before


def test_detach_twice_changes_nothing(network: Network, nat_id: str):
    routes.attach(network.config, nat_id, owned=set())
    routes.detach(network.config, nat_id, owned={nat_id})

    assert routes.detach(network.config, nat_id, owned={nat_id}) == []
