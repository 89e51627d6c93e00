"""The NAT Gateway domain: create, find by tags, describe, delete."""

from __future__ import annotations

from emulator import settings
from nat_on_demand import nat
from nat_on_demand.config import TAG_INSTANCE, TAG_LEASE
from unit.conftest import PENDING_SECONDS, Network


def test_create_starts_pending_and_becomes_available(network: Network, clock: settings.Clock):
    created = nat.create(network.config, generation=0)

    assert created.state == nat.PENDING
    clock.advance(PENDING_SECONDS + 1)
    described = nat.describe(created.id)
    assert described is not None
    assert described.state == nat.AVAILABLE
    assert described.public_ip is not None


def test_create_tags_the_nat_gateway_as_this_instance(network: Network):
    created = nat.create(network.config, generation=3)

    tags = {
        t["Key"]: t["Value"]
        for t in network.ec2.describe_nat_gateways(NatGatewayIds=[created.id])["NatGateways"][0][
            "Tags"
        ]
    }
    assert tags[TAG_INSTANCE] == "unit"
    assert tags[TAG_LEASE] == network.config.lease_id
    assert tags["nat-on-demand:generation"] == "3"
    assert tags["team"] == "data"


def test_create_with_the_same_generation_returns_the_same_nat_gateway(network: Network):
    first = nat.create(network.config, generation=0)
    again = nat.create(network.config, generation=0)

    assert again.id == first.id
    assert len(network.ec2.describe_nat_gateways()["NatGateways"]) == 1


def test_client_token_differs_per_generation_and_instance(network: Network):
    other = network.config.__class__(**{**network.config.__dict__, "instance": "other"})

    tokens = {
        nat.client_token(network.config, 0),
        nat.client_token(network.config, 1),
        nat.client_token(other, 0),
    }
    assert len(tokens) == 3
    assert all(len(token) <= 64 for token in tokens)


def test_find_owned_ignores_nat_gateways_of_other_stacks(network: Network):
    ours = nat.create(network.config, generation=0)
    foreign_eip = network.ec2.allocate_address(Domain="vpc")["AllocationId"]
    network.ec2.create_nat_gateway(
        SubnetId=network.public_subnet_id,
        AllocationId=foreign_eip,
        TagSpecifications=[
            {"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "unit"}]}
        ],
    )

    assert [n.id for n in nat.find_owned(network.config)] == [ours.id]


def test_describe_unknown_nat_gateway_is_none(network: Network):
    assert nat.describe("nat-0123456789abcdef0") is None


def test_delete_is_idempotent_and_tolerates_unknown_ids(network: Network, clock: settings.Clock):
    created = nat.create(network.config, generation=0)

    nat.delete(created.id)
    nat.delete(created.id)
    nat.delete("nat-0123456789abcdef0")

    assert network.nat_state(created.id) == nat.DELETING
