"""Idle grace and the reaper, on the corrected moto."""

from __future__ import annotations

import dataclasses
import time

import pytest

from emulator import settings
from nat_on_demand import nat, reaper, routes, steps
from unit.conftest import PENDING_SECONDS, Network, run_until_routed

RUN_A = "arn:aws:states:us-east-1:123456789012:execution:unit:a"
RUN_B = "arn:aws:states:us-east-1:123456789012:execution:unit:b"


def idle_network(network: Network, seconds: int = 600, **more: object) -> Network:
    network.config = dataclasses.replace(network.config, idle_grace_seconds=seconds, **more)
    return network


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move wall-clock time (lease timestamps, idle deadlines) forward."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


def statuses(**by_holder: str):
    def status_of(arn: str) -> str | None:
        return by_holder.get(arn.rsplit(":", 1)[-1])

    return status_of


def live(network: Network) -> list[str]:
    return [n.id for n in nat.find_owned(network.config, states=nat.LIVE_STATES)]


# --- idle grace ---------------------------------------------------------------


def test_last_release_under_idle_grace_keeps_the_nat_gateway_without_routes(
    network: Network, clock: settings.Clock
):
    before = network.tables()
    nat_id = run_until_routed(idle_network(network), clock, RUN_A)

    result = steps.release(network.config, RUN_A)

    assert result.idle_nat_gateway_id == nat_id
    assert result.idle_until == pytest.approx(time.time() + 600, abs=5)
    assert network.tables() == before
    assert network.nat_state(nat_id) == nat.AVAILABLE
    lease = steps.lease_table(network.config).get()
    assert (lease.holders, lease.nat_gateway_id, lease.lock_owner) == (frozenset(), nat_id, None)


def test_back_to_back_run_reuses_the_idle_nat_gateway_at_once(
    network: Network, clock: settings.Clock
):
    nat_id = run_until_routed(idle_network(network), clock, RUN_A)
    steps.release(network.config, RUN_A)

    status = steps.acquire(network.config, RUN_B)

    assert (status.nat_gateway_id, status.ready) == (nat_id, True)
    assert steps.lease_table(network.config).get().idle_until is None


def test_idle_grace_ends_before_the_next_billed_hour(network: Network, clock: settings.Clock):
    within_the_hour = idle_network(network, 3600, idle_within_billed_hour=True)
    nat_id = run_until_routed(within_the_hour, clock, RUN_A)

    until = steps.idle_deadline(network.config, nat_id)

    created = nat.describe(nat_id).created_at
    assert until is not None
    assert until <= created + 3600 - network.config.reaper_interval_seconds - 60


def test_no_idle_grace_when_the_billed_hour_is_nearly_over(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    within_the_hour = idle_network(network, 3600, idle_within_billed_hour=True)
    nat_id = run_until_routed(within_the_hour, clock, RUN_A)
    later(monkeypatch, 3500)

    result = steps.release(network.config, RUN_A)

    assert result.torn_down_nat_gateway_id == nat_id
    assert network.nat_state(nat_id) == nat.DELETING


def test_new_run_waits_while_an_idle_release_removes_routes(
    network: Network, clock: settings.Clock
):
    nat_id = run_until_routed(idle_network(network), clock, RUN_A)
    table = steps.lease_table(network.config)
    assert table.leave_as_last_idle(RUN_A, table.get(), int(time.time()) + 600)

    waiting = steps.acquire(network.config, RUN_B)
    assert not waiting.ready
    assert RUN_A in (waiting.waiting_for or "")

    steps.release(network.config, RUN_A)  # the retried release finishes and unlocks
    ready = steps.poll(network.config, RUN_B, nat_id, time.time() + 600)
    assert (ready.nat_gateway_id, ready.ready) == (nat_id, True)


def test_a_stale_lock_is_broken_by_a_waiting_run(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    nat_id = run_until_routed(idle_network(network), clock, RUN_A)
    table = steps.lease_table(network.config)
    table.leave_as_last_idle(RUN_A, table.get(), int(time.time()) + 600)
    later(monkeypatch, steps.lock_stale_after(network.config) + 1)

    status = steps.acquire(network.config, RUN_B)

    assert (status.nat_gateway_id, status.ready) == (nat_id, True)
    assert table.get().lock_owner is None


def test_retried_idle_release_finishes_the_route_removal(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    before = network.tables()
    run_until_routed(idle_network(network), clock, RUN_A)
    with monkeypatch.context() as patch:
        patch.setattr(routes, "detach", lambda *a, **k: (_ for _ in ()).throw(RuntimeError()))
        with pytest.raises(RuntimeError):
            steps.release(network.config, RUN_A)

    steps.release(network.config, RUN_A)

    assert network.tables() == before
    assert steps.lease_table(network.config).get().lock_owner is None


# --- the reaper ---------------------------------------------------------------


def test_reaper_releases_an_ended_run_and_tears_down(network: Network, clock: settings.Clock):
    before = network.tables()
    nat_id = run_until_routed(network, clock, RUN_A)

    sweep = reaper.reap(network.config, statuses(a="ABORTED"), name="reaper:1")

    assert sweep.released_holders == [RUN_A]
    assert sweep.torn_down == [nat_id]
    assert network.tables() == before
    assert network.nat_state(nat_id) == nat.DELETING


def test_reaper_leaves_a_healthy_run_alone(network: Network, clock: settings.Clock):
    nat_id = run_until_routed(network, clock, RUN_A)
    before = network.tables()

    sweep = reaper.reap(network.config, statuses(a="RUNNING"), name="reaper:1")

    assert sweep.cleaned_up == 0
    assert network.tables() == before
    assert network.nat_state(nat_id) == nat.AVAILABLE
    assert steps.lease_table(network.config).get().holders == {RUN_A}


def test_reaper_keeps_an_idle_nat_gateway_until_its_grace_ends(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    nat_id = run_until_routed(idle_network(network), clock, RUN_A)
    steps.release(network.config, RUN_A)

    assert reaper.reap(network.config, statuses(), name="reaper:1").torn_down == []
    later(monkeypatch, 601)
    sweep = reaper.reap(network.config, statuses(), name="reaper:2")
    assert sweep.torn_down == [nat_id]
    assert network.nat_state(nat_id) == nat.DELETING
    # The grace ending is the reaper's own work, not a clean-up after a run.
    assert sweep.grace_ended == [nat_id]
    assert sweep.cleaned_up == 0
    assert sweep.uptimes and sweep.uptimes[0] > 600


def test_reaper_finishes_a_teardown_that_stopped_before_the_delete(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    before = network.tables()
    nat_id = run_until_routed(network, clock, RUN_A)
    with monkeypatch.context() as patch:
        patch.setattr(nat, "delete", lambda _id: (_ for _ in ()).throw(RuntimeError("crash")))
        with pytest.raises(RuntimeError):
            steps.release(network.config, RUN_A)
    assert network.nat_state(nat_id) == nat.AVAILABLE

    reaper.reap(network.config, statuses(a="FAILED"), name="reaper:1")

    assert network.nat_state(nat_id) == nat.DELETING
    assert network.tables() == before


def test_reaper_tears_down_a_nat_gateway_no_lease_points_at(
    network: Network, clock: settings.Clock, monkeypatch: pytest.MonkeyPatch
):
    orphan = nat.create(network.config, generation=7)
    clock.advance(PENDING_SECONDS + 1)

    assert reaper.reap(network.config, statuses(), name="reaper:1").torn_down == []
    later(monkeypatch, steps.lock_stale_after(network.config) + 1)
    assert reaper.reap(network.config, statuses(), name="reaper:2").torn_down == [orphan.id]
    assert live(network) == []


def test_reaper_deletes_only_our_dead_routes(network: Network, clock: settings.Clock):
    nat_id = run_until_routed(network, clock, RUN_A)
    steps.release(network.config, RUN_A)
    clock.advance(100)
    ours, theirs = network.private_route_table_ids
    network.ec2.create_route(
        RouteTableId=ours, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id
    )
    foreign_eip = network.ec2.allocate_address(Domain="vpc")["AllocationId"]
    foreign = network.ec2.create_nat_gateway(
        SubnetId=network.public_subnet_id, AllocationId=foreign_eip
    )["NatGateway"]["NatGatewayId"]
    network.ec2.create_route(
        RouteTableId=theirs, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=foreign
    )
    network.ec2.delete_nat_gateway(NatGatewayId=foreign)
    clock.advance(100)

    sweep = reaper.reap(network.config, statuses(), name="reaper:1")

    assert [(c.route_table_id, c.previous_target) for c in sweep.routes_deleted] == [(ours, nat_id)]
    assert "0.0.0.0/0" not in network.routes(ours)
    assert network.routes(theirs)["0.0.0.0/0"]["NatGatewayId"] == foreign


def test_reaper_twice_changes_nothing_more(network: Network, clock: settings.Clock):
    run_until_routed(network, clock, RUN_A)
    reaper.reap(network.config, statuses(a="TIMED_OUT"), name="reaper:1")
    after = network.tables()

    again = reaper.reap(network.config, statuses(a="TIMED_OUT"), name="reaper:2")

    assert again.cleaned_up == 0
    assert network.tables() == after
