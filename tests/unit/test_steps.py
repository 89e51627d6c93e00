"""A run's steps against the corrected moto: acquire, poll, attach, release."""

from __future__ import annotations

import time

import pytest

from emulator import ec2 as ec2_fidelity
from emulator import settings
from nat_on_demand import nat, routes, steps
from nat_on_demand.errors import LeaseLost, NatGatewayFailed, NatGatewayTimeout
from unit.conftest import (
    DELETING_SECONDS,
    PENDING_SECONDS,
    Network,
    run_until_ready,
    run_until_routed,
)

RUN_A = "arn:aws:states:us-east-1:123456789012:execution:unit:a"
RUN_B = "arn:aws:states:us-east-1:123456789012:execution:unit:b"


def live_nat_gateways(network: Network) -> list[dict]:
    return network.ec2.describe_nat_gateways(
        Filters=[{"Name": "state", "Values": ["pending", "available"]}]
    )["NatGateways"]


def test_acquire_creates_one_pending_nat_gateway(network: Network):
    status = steps.acquire(network.config, RUN_A)

    assert status.state == nat.PENDING
    assert not status.ready
    assert [n["NatGatewayId"] for n in live_nat_gateways(network)] == [status.nat_gateway_id]


def test_retried_acquire_does_not_create_a_second_nat_gateway(network: Network):
    first = steps.acquire(network.config, RUN_A)
    again = steps.acquire(network.config, RUN_A)

    assert again.nat_gateway_id == first.nat_gateway_id
    assert len(live_nat_gateways(network)) == 1


def test_poll_reports_ready_only_once_available(network: Network, clock: settings.Clock):
    status = steps.acquire(network.config, RUN_A)
    deadline = time.time() + 600

    clock.advance(PENDING_SECONDS / 2)
    assert not steps.poll(network.config, RUN_A, status.nat_gateway_id, deadline).ready
    clock.advance(PENDING_SECONDS)
    ready = steps.poll(network.config, RUN_A, status.nat_gateway_id, deadline)

    assert ready.ready
    assert network.nat_state(ready.nat_gateway_id) == nat.AVAILABLE


def test_second_run_reuses_the_nat_gateway(network: Network, clock: settings.Clock):
    first = run_until_routed(network, clock, RUN_A)

    second = steps.acquire(network.config, RUN_B)

    assert second.nat_gateway_id == first
    assert second.ready


def test_release_keeps_nat_while_another_run_holds_it(network: Network, clock: settings.Clock):
    nat_id = run_until_routed(network, clock, RUN_A)
    steps.acquire(network.config, RUN_B)

    result = steps.release(network.config, RUN_A)

    assert result.remaining_holders == 1
    assert result.torn_down_nat_gateway_id is None
    assert network.nat_state(nat_id) == nat.AVAILABLE
    for table_id in network.private_route_table_ids:
        assert network.routes(table_id)["0.0.0.0/0"]["NatGatewayId"] == nat_id


def test_last_release_removes_routes_then_deletes_the_nat_gateway(
    network: Network, clock: settings.Clock
):
    before = network.tables()
    nat_id = run_until_routed(network, clock, RUN_A)

    result = steps.release(network.config, RUN_A)

    assert result.torn_down_nat_gateway_id == nat_id
    assert network.tables() == before
    assert network.nat_state(nat_id) == nat.DELETING
    clock.advance(DELETING_SECONDS + 1)
    assert network.nat_state(nat_id) == nat.DELETED
    assert live_nat_gateways(network) == []


def test_retried_release_changes_nothing_more(network: Network, clock: settings.Clock):
    run_until_routed(network, clock, RUN_A)
    steps.release(network.config, RUN_A)
    after_first = network.tables()

    again = steps.release(network.config, RUN_A)

    assert again.remaining_holders == 0
    assert network.tables() == after_first


def test_release_retried_after_a_crash_mid_teardown_finishes_it(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    before = network.tables()
    nat_id = run_until_routed(network, clock, RUN_A)

    def crash(nat_gateway_id: str) -> None:
        raise RuntimeError("Lambda crashed before DeleteNatGateway")

    with monkeypatch.context() as patch:
        patch.setattr(nat, "delete", crash)
        with pytest.raises(RuntimeError):
            steps.release(network.config, RUN_A)
    assert network.nat_state(nat_id) == nat.AVAILABLE

    result = steps.release(network.config, RUN_A)

    assert result.torn_down_nat_gateway_id == nat_id
    assert network.nat_state(nat_id) == nat.DELETING
    assert network.tables() == before


def test_run_starting_during_teardown_waits_for_the_old_nat_gateway(
    network: Network, clock: settings.Clock
):
    old = run_until_routed(network, clock, RUN_A)
    steps.release(network.config, RUN_A)

    waiting = steps.acquire(network.config, RUN_B)

    assert waiting.nat_gateway_id is None
    assert waiting.waiting_for is not None
    assert old in waiting.waiting_for
    assert live_nat_gateways(network) == []

    clock.advance(DELETING_SECONDS + 1)
    fresh = steps.poll(network.config, RUN_B, None, time.time() + 600)

    assert fresh.nat_gateway_id not in (None, old)
    assert fresh.state == nat.PENDING


def test_run_finishes_an_interrupted_teardown_before_creating(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    old = run_until_routed(network, clock, RUN_A)
    with monkeypatch.context() as patch:
        patch.setattr(nat, "delete", lambda _id: (_ for _ in ()).throw(RuntimeError("crash")))
        with pytest.raises(RuntimeError):
            steps.release(network.config, RUN_A)

    steps.acquire(network.config, RUN_B)

    assert network.nat_state(old) == nat.DELETING
    for table_id in network.private_route_table_ids:
        assert "0.0.0.0/0" not in network.routes(table_id)


def test_failed_nat_gateway_fails_the_run_with_aws_failure_code(
    network: Network, clock: settings.Clock
):
    ec2_fidelity.force_next_nat_failure(
        "InsufficientFreeAddressesInSubnet", "Subnet has insufficient free addresses"
    )
    status = steps.acquire(network.config, RUN_A)
    clock.advance(PENDING_SECONDS + 1)

    with pytest.raises(NatGatewayFailed) as raised:
        steps.poll(network.config, RUN_A, status.nat_gateway_id, time.time() + 600)

    assert raised.value.failure_code == "InsufficientFreeAddressesInSubnet"
    for table_id in network.private_route_table_ids:
        assert "0.0.0.0/0" not in network.routes(table_id)
    assert steps.lease_table(network.config).get().nat_gateway_id is None


def test_poll_past_the_deadline_raises_timeout(network: Network):
    status = steps.acquire(network.config, RUN_A)

    with pytest.raises(NatGatewayTimeout, match=str(status.nat_gateway_id)):
        steps.poll(network.config, RUN_A, status.nat_gateway_id, deadline=time.time() - 1)


def test_nat_gateway_deleted_by_someone_else_is_replaced(network: Network, clock: settings.Clock):
    first = run_until_routed(network, clock, RUN_A)
    network.ec2.delete_nat_gateway(NatGatewayId=first)

    status = steps.poll(network.config, RUN_A, first, time.time() + 600)
    assert status.nat_gateway_id is None
    clock.advance(DELETING_SECONDS + 1)
    status = steps.poll(network.config, RUN_A, None, time.time() + 600)

    assert status.nat_gateway_id not in (None, first)


def test_attach_refuses_a_run_that_no_longer_holds_the_lease(
    network: Network, clock: settings.Clock
):
    nat_id = run_until_routed(network, clock, RUN_A)
    steps.release(network.config, RUN_A)
    before = network.tables()

    with pytest.raises(LeaseLost, match=RUN_A):
        steps.attach_routes(network.config, RUN_A, nat_id)

    assert network.tables() == before


def test_attach_takes_back_routes_added_after_a_teardown_retired_the_nat_gateway(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    # The run ended while its AttachRoutes Lambda was still running (on AWS a
    # Lambda outlives the task that invoked it): the reaper releases the run
    # and tears the NAT Gateway down after the step checked the lease and
    # before it added its routes.
    nat_id = run_until_ready(network, clock, RUN_A)
    before = network.tables()
    attach = routes.attach

    def teardown_first(*args, **kwargs):
        steps.release(network.config, RUN_A)
        return attach(*args, **kwargs)

    monkeypatch.setattr(routes, "attach", teardown_first)

    with pytest.raises(LeaseLost, match="2 route"):
        steps.attach_routes(network.config, RUN_A, nat_id)

    assert network.tables() == before
    assert network.nat_state(nat_id) == nat.DELETING


def test_attach_keeps_shared_routes_when_only_its_own_run_was_released(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    nat_id = run_until_routed(network, clock, RUN_B)
    steps.acquire(network.config, RUN_A)
    attach = routes.attach

    def release_first(*args, **kwargs):
        steps.release(network.config, RUN_A)
        return attach(*args, **kwargs)

    monkeypatch.setattr(routes, "attach", release_first)

    steps.attach_routes(network.config, RUN_A, nat_id)

    for table_id in network.private_route_table_ids:
        assert network.routes(table_id)["0.0.0.0/0"]["NatGatewayId"] == nat_id
    assert network.nat_state(nat_id) == nat.AVAILABLE


def test_a_poll_that_outlives_its_run_does_not_join_the_lease_again(
    network: Network, clock: settings.Clock
):
    status = steps.acquire(network.config, RUN_A)
    steps.release(network.config, RUN_A)
    clock.advance(DELETING_SECONDS + 1)

    with pytest.raises(LeaseLost, match=RUN_A):
        steps.poll(network.config, RUN_A, status.nat_gateway_id, time.time() + 600)

    assert steps.lease_table(network.config).get().holders == frozenset()
    assert live_nat_gateways(network) == []
