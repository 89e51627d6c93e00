"""The EC2 fidelity layer behaves as AWS does where nat-on-demand depends on it.

Most tests run against the in-process local AWS with a frozen clock: NAT Gateway
transitions happen when the test advances `settings.clock`, so the file runs in
seconds and never races. One test uses the real clock with short timings, and
one runs under `moto.mock_aws` to show that path is patched as well.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator import ec2 as fidelity
from emulator import settings
from emulator.server import LocalAws

PENDING = 10.0
DELETING = 5.0
LISTED = 100.0


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    """Known timings on a frozen clock; fresh emulator state for each test."""
    fidelity.install()
    saved = replace(settings.timings)
    settings.timings.nat_pending_seconds = PENDING
    settings.timings.nat_deleting_seconds = DELETING
    settings.timings.nat_deleted_listed_seconds = LISTED
    settings.clock.freeze()
    fidelity.reset()
    yield
    fidelity.reset()
    settings.clock.thaw()
    settings.timings.nat_pending_seconds = saved.nat_pending_seconds
    settings.timings.nat_deleting_seconds = saved.nat_deleting_seconds
    settings.timings.nat_deleted_listed_seconds = saved.nat_deleted_listed_seconds


@pytest.fixture(scope="module")
def client(aws: LocalAws) -> Any:
    # Tests share one account (a backend reset costs more than the test) and
    # keep apart by working in a VPC of their own.
    return aws.client("ec2")


@dataclass
class Network:
    vpc_id: str
    subnet_id: str
    allocation_id: str
    route_table_id: str


def make_network(ec2: Any, *, internet_gateway: bool = True) -> Network:
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    if internet_gateway:
        igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    allocation_id = ec2.allocate_address(Domain="vpc")["AllocationId"]
    route_table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    return Network(vpc_id, subnet_id, allocation_id, route_table_id)


def create_nat(ec2: Any, net: Network, **kwargs: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"SubnetId": net.subnet_id, "AllocationId": net.allocation_id}
    params.update(kwargs)
    return ec2.create_nat_gateway(**params)["NatGateway"]  # type: ignore[no-any-return]


def nats_in(ec2: Any, vpc_id: str) -> list[str]:
    found = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [vpc_id]}])
    return [nat["NatGatewayId"] for nat in found["NatGateways"]]


def describe(ec2: Any, nat_id: str) -> dict[str, Any]:
    return ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]  # type: ignore[no-any-return]


def state(ec2: Any, nat_id: str) -> str:
    return describe(ec2, nat_id)["State"]  # type: ignore[no-any-return]


def address(ec2: Any, allocation_id: str) -> dict[str, Any]:
    return ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"][0]  # type: ignore[no-any-return]


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def available_nat(ec2: Any, net: Network) -> str:
    nat_id: str = create_nat(ec2, net)["NatGatewayId"]
    settings.clock.advance(PENDING)
    assert state(ec2, nat_id) == "available"
    return nat_id


def route_state(ec2: Any, route_table_id: str, cidr: str = "0.0.0.0/0") -> str:
    table = ec2.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"][0]
    (route,) = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == cidr]
    return route["State"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- 1. lifecycle


def test_create_is_pending_until_nat_pending_seconds_then_available(client: Any) -> None:
    net = make_network(client)
    created = create_nat(client, net)
    nat_id = created["NatGatewayId"]
    assert created["State"] == "pending"
    settings.clock.advance(PENDING - 0.1)
    assert state(client, nat_id) == "pending"
    settings.clock.advance(0.1)
    nat = describe(client, nat_id)
    assert nat["State"] == "available"
    assert "FailureCode" not in nat
    assert "DeleteTime" not in nat


def test_delete_keeps_eip_until_deleted_then_frees_it(client: Any) -> None:
    net = make_network(client)
    nat_id = available_nat(client, net)
    eni_id = describe(client, nat_id)["NatGatewayAddresses"][0]["NetworkInterfaceId"]

    assert client.delete_nat_gateway(NatGatewayId=nat_id)["NatGatewayId"] == nat_id
    assert state(client, nat_id) == "deleting"
    assert address(client, net.allocation_id)["NetworkInterfaceId"] == eni_id
    assert "AssociationId" in address(client, net.allocation_id)

    settings.clock.advance(DELETING)
    nat = describe(client, nat_id)
    assert nat["State"] == "deleted"
    assert "DeleteTime" in nat
    assert "AssociationId" not in address(client, net.allocation_id)
    interfaces = client.describe_network_interfaces()["NetworkInterfaces"]
    assert eni_id not in [eni["NetworkInterfaceId"] for eni in interfaces]


def test_a_new_nat_with_the_eip_fails_while_the_old_one_is_deleting(client: Any) -> None:
    net = make_network(client)
    old_id = available_nat(client, net)
    client.delete_nat_gateway(NatGatewayId=old_id)

    too_early = create_nat(client, net)["NatGatewayId"]
    settings.clock.advance(DELETING)
    assert state(client, old_id) == "deleted"
    settings.clock.advance(PENDING - DELETING)
    assert state(client, too_early) == "failed"
    assert describe(client, too_early)["FailureCode"] == "Resource.AlreadyAssociated"

    after_delete = create_nat(client, net)["NatGatewayId"]
    settings.clock.advance(PENDING)
    assert state(client, after_delete) == "available"


def test_deleted_nat_stays_listed_then_vanishes(client: Any) -> None:
    net = make_network(client)
    nat_id = available_nat(client, net)
    client.delete_nat_gateway(NatGatewayId=nat_id)
    settings.clock.advance(DELETING + LISTED - 1)
    assert state(client, nat_id) == "deleted"
    assert nats_in(client, net.vpc_id) == [nat_id]

    settings.clock.advance(1)
    assert nats_in(client, net.vpc_id) == []
    code, message, status = error_of(client.describe_nat_gateways, NatGatewayIds=[nat_id])
    assert (code, status) == ("NatGatewayNotFound", 400)
    assert nat_id in message


def test_delete_again_succeeds_and_unknown_id_is_not_found(client: Any) -> None:
    net = make_network(client)
    nat_id = available_nat(client, net)
    assert client.delete_nat_gateway(NatGatewayId=nat_id)["NatGatewayId"] == nat_id
    assert client.delete_nat_gateway(NatGatewayId=nat_id)["NatGatewayId"] == nat_id  # deleting
    settings.clock.advance(DELETING)
    assert client.delete_nat_gateway(NatGatewayId=nat_id)["NatGatewayId"] == nat_id  # deleted
    assert state(client, nat_id) == "deleted"

    code, message, status = error_of(
        client.delete_nat_gateway, NatGatewayId="nat-0123456789abcdef0"
    )
    assert (code, status) == ("NatGatewayNotFound", 400)
    assert message == "NAT gateway nat-0123456789abcdef0 was not found"


def test_delete_of_a_failed_nat_succeeds(client: Any) -> None:
    net = make_network(client, internet_gateway=False)
    nat_id = create_nat(client, net)["NatGatewayId"]
    settings.clock.advance(PENDING)
    assert state(client, nat_id) == "failed"
    assert client.delete_nat_gateway(NatGatewayId=nat_id)["NatGatewayId"] == nat_id
    assert state(client, nat_id) == "failed"


def test_describe_with_an_unknown_id_is_not_found(client: Any) -> None:
    net = make_network(client)
    nat_id = create_nat(client, net)["NatGatewayId"]
    code, _, status = error_of(
        client.describe_nat_gateways, NatGatewayIds=[nat_id, "nat-0000000000000000f"]
    )
    assert (code, status) == ("NatGatewayNotFound", 400)


def test_lifecycle_on_the_real_clock(client: Any) -> None:
    settings.clock.thaw()
    settings.timings.nat_pending_seconds = 0.3
    settings.timings.nat_deleting_seconds = 0.3
    net = make_network(client)
    nat_id = create_nat(client, net)["NatGatewayId"]
    assert state(client, nat_id) == "pending"
    time.sleep(0.4)
    assert state(client, nat_id) == "available"
    client.delete_nat_gateway(NatGatewayId=nat_id)
    assert state(client, nat_id) == "deleting"
    time.sleep(0.4)
    assert state(client, nat_id) == "deleted"


# --------------------------------------------------------------------------- 2. ClientToken


def test_client_token_returns_the_same_nat_in_its_current_state(client: Any) -> None:
    net = make_network(client)
    first = create_nat(client, net, ClientToken="run-1")
    settings.clock.advance(PENDING)
    again = client.create_nat_gateway(
        SubnetId=net.subnet_id, AllocationId=net.allocation_id, ClientToken="run-1"
    )
    assert again["ClientToken"] == "run-1"
    assert again["NatGateway"]["NatGatewayId"] == first["NatGatewayId"]
    assert again["NatGateway"]["State"] == "available"
    assert nats_in(client, net.vpc_id) == [first["NatGatewayId"]]


def test_client_token_with_other_parameters_is_a_mismatch(client: Any) -> None:
    net = make_network(client)
    create_nat(client, net, ClientToken="run-1")
    other_eip = client.allocate_address(Domain="vpc")["AllocationId"]
    code, _, status = error_of(
        client.create_nat_gateway,
        SubnetId=net.subnet_id,
        AllocationId=other_eip,
        ClientToken="run-1",
    )
    assert (code, status) == ("IdempotentParameterMismatch", 400)
    assert len(nats_in(client, net.vpc_id)) == 1


def test_client_token_is_per_region(aws: LocalAws, client: Any) -> None:
    west = boto3.client(
        "ec2",
        region_name="us-west-2",
        endpoint_url=aws.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    east_nat = create_nat(client, make_network(client), ClientToken="same")
    west_nat = create_nat(west, make_network(west), ClientToken="same")
    assert west_nat["NatGatewayId"] != east_nat["NatGatewayId"]


def test_concurrent_creates_with_one_token_make_one_nat(aws: LocalAws, client: Any) -> None:
    net = make_network(client)
    # One client per thread, made here: creating boto3 clients is not thread-safe.
    clients = [aws.client("ec2") for _ in range(8)]
    start = threading.Barrier(len(clients))
    ids: list[str] = []
    errors: list[BaseException] = []

    def create(ec2: Any) -> None:
        start.wait()
        try:
            ids.append(create_nat(ec2, net, ClientToken="race")["NatGatewayId"])
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(ec2,)) for ec2 in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == 8
    assert len(set(ids)) == 1
    assert nats_in(client, net.vpc_id) == ids[:1]


def test_moto_backend_reset_forgets_tokens(aws: LocalAws, client: Any) -> None:
    first = create_nat(client, make_network(client), ClientToken="run-1")
    requests.post(f"{aws.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
    # Other parameters, same token: a fresh account has never seen the token.
    second = create_nat(client, make_network(client), ClientToken="run-1")
    assert second["NatGatewayId"] != first["NatGatewayId"]
    assert second["State"] == "pending"


def test_reset_forgets_tokens_and_forced_failures(client: Any) -> None:
    net = make_network(client)
    first = create_nat(client, net, ClientToken="run-1")
    fidelity.force_next_nat_failure("InsufficientFreeAddressesInSubnet", "no addresses")
    fidelity.reset()
    client.delete_nat_gateway(NatGatewayId=first["NatGatewayId"])
    settings.clock.advance(DELETING)
    second = create_nat(client, net, ClientToken="run-1")
    assert second["NatGatewayId"] != first["NatGatewayId"]
    settings.clock.advance(PENDING)
    assert state(client, second["NatGatewayId"]) == "available"


# --------------------------------------------------------------------------- 3. filters


def test_filters_really_filter(client: Any) -> None:
    # Tag keys and values unique to this run: other tests' NAT Gateways share
    # the account, and a tag filter must not return them.
    run = uuid.uuid4().hex[:8]
    key, value = f"nat-on-demand:instance-{run}", f"blue-{run}"
    net = make_network(client)
    other = make_network(client)
    mine = create_nat(
        client,
        net,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": key, "Value": value}]}],
    )["NatGatewayId"]
    theirs = create_nat(
        client,
        other,
        TagSpecifications=[
            {"ResourceType": "natgateway", "Tags": [{"Key": f"Name-{run}", "Value": f"x-{run}"}]}
        ],
    )["NatGatewayId"]
    settings.clock.advance(PENDING)
    client.delete_nat_gateway(NatGatewayId=theirs)

    def ids(*filters: tuple[str, list[str]]) -> set[str]:
        found = client.describe_nat_gateways(
            Filter=[{"Name": name, "Values": values} for name, values in filters]
        )["NatGateways"]
        return {nat["NatGatewayId"] for nat in found}

    def ours(*filters: tuple[str, list[str]]) -> set[str]:
        return ids(*filters) & {mine, theirs}

    assert ids((f"tag:{key}", [value])) == {mine}
    assert ids((f"tag:{key}", ["green"])) == set()
    assert ids((f"tag:{key}", ["blue-*"])) == {mine}
    assert ids(("tag-key", [key])) == {mine}
    assert ids(("tag-key", [f"Name-{run}", key])) == {mine, theirs}
    assert ids(("tag-value", [f"x-{run}"])) == {theirs}
    assert ids(("nat-gateway-id", [mine])) == {mine}
    assert ids(("vpc-id", [other.vpc_id])) == {theirs}
    assert ids(("subnet-id", [net.subnet_id])) == {mine}
    assert ours(("state", ["available"])) == {mine}
    assert ours(("state", ["pending", "deleting"])) == {theirs}
    assert ids(("vpc-id", [net.vpc_id]), ("state", ["deleting"])) == set()


def test_unknown_filter_name_is_invalid(client: Any) -> None:
    code, message, status = error_of(
        client.describe_nat_gateways, Filter=[{"Name": "colour", "Values": ["blue"]}]
    )
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "The filter 'colour' is invalid"


# --------------------------------------------------------------------------- 4. failures


def test_no_internet_gateway_ends_failed_without_the_eip(client: Any) -> None:
    net = make_network(client, internet_gateway=False)
    nat_id = create_nat(client, net)["NatGatewayId"]
    assert "AssociationId" not in address(client, net.allocation_id)
    settings.clock.advance(PENDING)
    nat = describe(client, nat_id)
    assert nat["State"] == "failed"
    assert nat["FailureCode"] == "Gateway.NotAttached"
    assert nat["FailureMessage"] == f"Network {net.vpc_id} has no Internet gateway attached"
    assert "AssociationId" not in address(client, net.allocation_id)
    settings.clock.advance(LISTED)
    assert nats_in(client, net.vpc_id) == []


def test_eip_associated_elsewhere_ends_failed(client: Any) -> None:
    net = make_network(client)
    first = available_nat(client, net)
    first_eni = describe(client, first)["NatGatewayAddresses"][0]["NetworkInterfaceId"]
    second = create_nat(client, net)["NatGatewayId"]
    assert state(client, second) == "pending"
    settings.clock.advance(PENDING)
    nat = describe(client, second)
    assert nat["State"] == "failed"
    assert nat["FailureCode"] == "Resource.AlreadyAssociated"
    assert (
        nat["FailureMessage"] == f"Elastic IP address [{net.allocation_id}] is already associated"
    )
    assert address(client, net.allocation_id)["NetworkInterfaceId"] == first_eni
    assert state(client, first) == "available"


def test_forced_failure_hits_the_next_create_in_its_subnet_only(client: Any) -> None:
    net = make_network(client)
    elsewhere = client.create_subnet(VpcId=net.vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]
    fidelity.force_next_nat_failure(
        "InsufficientFreeAddressesInSubnet",
        "Subnet has insufficient free addresses to create this NAT gateway",
        subnet_id=net.subnet_id,
    )
    spare_eip = client.allocate_address(Domain="vpc")["AllocationId"]
    unaffected = client.create_nat_gateway(SubnetId=elsewhere["SubnetId"], AllocationId=spare_eip)
    hit = create_nat(client, net)["NatGatewayId"]
    settings.clock.advance(PENDING)
    assert state(client, unaffected["NatGateway"]["NatGatewayId"]) == "available"
    nat = describe(client, hit)
    assert (nat["State"], nat["FailureCode"]) == ("failed", "InsufficientFreeAddressesInSubnet")
    assert "AssociationId" not in address(client, net.allocation_id)

    retry = create_nat(client, net)["NatGatewayId"]  # the forced failure was used up
    settings.clock.advance(PENDING)
    assert state(client, retry) == "available"


def test_clear_forced_failures(client: Any) -> None:
    net = make_network(client)
    fidelity.force_next_nat_failure("InsufficientFreeAddressesInSubnet", "no addresses")
    fidelity.clear_forced_failures()
    assert state(client, available_nat(client, net)) == "available"


def test_unknown_subnet_or_allocation_fails_at_once(client: Any) -> None:
    net = make_network(client)
    code, _, status = error_of(
        client.create_nat_gateway,
        SubnetId="subnet-0000000000000000f",
        AllocationId=net.allocation_id,
    )
    assert (code, status) == ("InvalidSubnetID.NotFound", 400)
    code, message, status = error_of(
        client.create_nat_gateway, SubnetId=net.subnet_id, AllocationId="eipalloc-0000000000000000f"
    )
    assert (code, status) == ("InvalidAllocationID.NotFound", 400)
    assert "eipalloc-0000000000000000f" in message
    assert nats_in(client, net.vpc_id) == []
    in_subnet = [{"Name": "subnet-id", "Values": [net.subnet_id]}]
    assert client.describe_network_interfaces(Filters=in_subnet)["NetworkInterfaces"] == []


# --------------------------------------------------------------------------- 5. routes


def test_route_to_a_nat_turns_blackhole_when_it_goes(client: Any) -> None:
    net = make_network(client)
    nat_id = available_nat(client, net)
    client.create_route(
        RouteTableId=net.route_table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
    )
    assert route_state(client, net.route_table_id) == "active"
    client.delete_nat_gateway(NatGatewayId=nat_id)
    assert route_state(client, net.route_table_id) == "blackhole"  # deleting
    settings.clock.advance(DELETING)
    assert route_state(client, net.route_table_id) == "blackhole"  # deleted
    settings.clock.advance(LISTED)
    assert nats_in(client, net.vpc_id) == []
    assert route_state(client, net.route_table_id) == "blackhole"  # gone

    # A blackhole route is replaced to point at a new NAT Gateway.
    new_id = create_nat(client, net)["NatGatewayId"]
    client.replace_route(
        RouteTableId=net.route_table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=new_id
    )
    settings.clock.advance(PENDING)
    assert route_state(client, net.route_table_id) == "active"


def test_route_to_a_failed_nat_is_blackhole(client: Any) -> None:
    net = make_network(client, internet_gateway=False)
    nat_id = create_nat(client, net)["NatGatewayId"]
    client.create_route(
        RouteTableId=net.route_table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
    )
    settings.clock.advance(PENDING)
    assert state(client, nat_id) == "failed"
    assert route_state(client, net.route_table_id) == "blackhole"


def test_route_to_an_unknown_nat_is_not_found(client: Any) -> None:
    net = make_network(client)
    unknown = "nat-0000000000000000f"
    code, message, status = error_of(
        client.create_route,
        RouteTableId=net.route_table_id,
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=unknown,
    )
    assert (code, status) == ("InvalidNatGatewayID.NotFound", 400)
    assert message == f"The natGateway ID '{unknown}' does not exist"

    nat_id = available_nat(client, net)
    client.create_route(
        RouteTableId=net.route_table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
    )
    code, _, _ = error_of(
        client.replace_route,
        RouteTableId=net.route_table_id,
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=unknown,
    )
    assert code == "InvalidNatGatewayID.NotFound"
    table = client.describe_route_tables(RouteTableIds=[net.route_table_id])["RouteTables"][0]
    assert [r.get("NatGatewayId") for r in table["Routes"] if r["Origin"] == "CreateRoute"] == [
        nat_id
    ]


def test_moto_route_errors_still_hold(client: Any) -> None:
    net = make_network(client)
    nat_id = available_nat(client, net)
    route = {"RouteTableId": net.route_table_id, "DestinationCidrBlock": "0.0.0.0/0"}
    client.create_route(**route, NatGatewayId=nat_id)
    assert error_of(client.create_route, **route, NatGatewayId=nat_id)[0] == "RouteAlreadyExists"
    missing = {"RouteTableId": net.route_table_id, "DestinationCidrBlock": "192.0.2.0/24"}
    assert error_of(client.replace_route, **missing, NatGatewayId=nat_id)[0] == (
        "InvalidParameterValue"
    )
    assert error_of(client.delete_route, **missing)[0] == "InvalidRoute.NotFound"


# --------------------------------------------------------------------------- 6. ReleaseAddress


def test_release_of_an_eip_a_nat_holds_is_refused(client: Any) -> None:
    net = make_network(client)
    nat_id = create_nat(client, net)["NatGatewayId"]
    for expected_state in ("pending", "available", "deleting"):
        assert state(client, nat_id) == expected_state
        code, message, status = error_of(client.release_address, AllocationId=net.allocation_id)
        assert (code, status) == ("AuthFailure", 400)
        assert message == "You do not have permission to access the specified resource."
        if expected_state == "pending":
            settings.clock.advance(PENDING)
        elif expected_state == "available":
            client.delete_nat_gateway(NatGatewayId=nat_id)
    settings.clock.advance(DELETING)
    assert state(client, nat_id) == "deleted"
    client.release_address(AllocationId=net.allocation_id)
    assert error_of(client.describe_addresses, AllocationIds=[net.allocation_id])[0] == (
        "InvalidAllocationID.NotFound"
    )


def test_release_of_an_eip_a_failed_nat_named_is_allowed(client: Any) -> None:
    net = make_network(client, internet_gateway=False)
    create_nat(client, net)
    settings.clock.advance(PENDING)
    client.release_address(AllocationId=net.allocation_id)
    assert error_of(client.describe_addresses, AllocationIds=[net.allocation_id])[0] == (
        "InvalidAllocationID.NotFound"
    )


# --------------------------------------------------------------------------- both paths


def test_under_mock_aws_too() -> None:
    with mock_aws():
        ec2: Any = boto3.client("ec2", region_name="us-east-1")
        net = make_network(ec2)
        tags = [{"ResourceType": "natgateway", "Tags": [{"Key": "k", "Value": "v"}]}]
        nat = create_nat(ec2, net, ClientToken="t", TagSpecifications=tags)
        assert nat["State"] == "pending"
        settings.clock.advance(PENDING)
        again = create_nat(ec2, net, ClientToken="t", TagSpecifications=tags)
        assert (again["NatGatewayId"], again["State"]) == (nat["NatGatewayId"], "available")
        other = make_network(ec2)
        create_nat(ec2, other)
        tagged = ec2.describe_nat_gateways(Filter=[{"Name": "tag:k", "Values": ["v"]}])
        assert [n["NatGatewayId"] for n in tagged["NatGateways"]] == [nat["NatGatewayId"]]


def test_install_is_idempotent() -> None:
    from moto.ec2.models.nat_gateways import NatGatewayBackend
    from moto.ec2.models.route_tables import Route

    patched_create = NatGatewayBackend.create_nat_gateway
    patched_state = Route.state
    fidelity.install()
    fidelity.install()
    assert NatGatewayBackend.create_nat_gateway is patched_create
    assert Route.state is patched_state
