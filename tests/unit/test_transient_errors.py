"""Transient AWS errors are retried (botocore, then Step Functions); permanent ones are not."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from emulator import faults, settings
from nat_on_demand import nat, routes, steps
from nat_on_demand.errors import AwsError, TransientAwsError
from unit.conftest import PENDING_SECONDS, Network

RUN_A = "arn:aws:states:us-east-1:123456789012:execution:unit:a"


@pytest.fixture(autouse=True)
def _clear_faults() -> Iterator[None]:
    yield
    faults.clear()


def test_throttling_within_the_sdk_retries_is_absorbed(network: Network):
    fault = faults.throttle("ec2", "CreateNatGateway", times=2)

    status = steps.acquire(network.config, RUN_A)

    assert status.state == nat.PENDING
    assert fault.hits == 2


def test_throttling_past_the_sdk_retries_is_transient(network: Network):
    faults.throttle("ec2", "CreateNatGateway", times=10)

    with pytest.raises(TransientAwsError, match="RequestLimitExceeded"):
        steps.acquire(network.config, RUN_A)


def test_a_permanent_error_is_not_transient(network: Network):
    faults.inject(faults.Fault("ec2", "CreateNatGateway", "UnauthorizedOperation", "denied"))

    with pytest.raises(AwsError, match="UnauthorizedOperation") as raised:
        steps.acquire(network.config, RUN_A)

    assert not isinstance(raised.value, TransientAwsError)


def test_not_found_right_after_creation_counts_as_pending(
    network: Network, monkeypatch: pytest.MonkeyPatch
):
    created = steps.acquire(network.config, RUN_A)
    # EC2 is eventually consistent: Describe may not know a new NAT Gateway yet.
    faults.inject(
        faults.Fault("ec2", "DescribeNatGateways", "NatGatewayNotFound", "not found", times=1)
    )

    status = steps.poll(network.config, RUN_A, created.nat_gateway_id, time.time() + 600)

    assert (status.nat_gateway_id, status.state) == (created.nat_gateway_id, nat.PENDING)


def test_route_to_a_nat_gateway_ec2_does_not_know_yet_is_transient(
    network: Network, clock: settings.Clock
):
    created = nat.create(network.config, generation=0)
    clock.advance(PENDING_SECONDS + 1)
    faults.inject(
        faults.Fault(
            "ec2", "CreateRoute", "InvalidNatGatewayID.NotFound", "The natGateway ID does not exist"
        )
    )

    with pytest.raises(TransientAwsError, match=r"InvalidNatGatewayID\.NotFound"):
        routes.attach(network.config, created.id, owned=set())
