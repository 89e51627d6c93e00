"""The lease item: conditional writes only, so concurrent runs never lose an update."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from nat_on_demand.lease import LeaseTable
from unit.conftest import Network

RUN_A = "arn:aws:states:us-east-1:123456789012:execution:unit:a"
RUN_B = "arn:aws:states:us-east-1:123456789012:execution:unit:b"


def table(network: Network) -> LeaseTable:
    return LeaseTable(network.config.lease_table, network.config.lease_id)


def test_join_is_idempotent(network: Network):
    lease = table(network)

    lease.join(RUN_A)
    again = lease.join(RUN_A)

    assert again.holders == {RUN_A}
    assert again.generation == 0


def test_leave_unless_last_keeps_the_last_holder(network: Network):
    lease = table(network)
    lease.join(RUN_A)

    assert lease.leave_unless_last(RUN_A) is None
    assert lease.get().holders == {RUN_A}


def test_leave_unless_last_drops_one_of_two(network: Network):
    lease = table(network)
    lease.join(RUN_A)
    lease.join(RUN_B)

    remaining = lease.leave_unless_last(RUN_A)

    assert remaining is not None
    assert remaining.holders == {RUN_B}


def test_leave_as_last_retires_the_nat_gateway_in_the_same_write(network: Network):
    lease = table(network)
    lease.join(RUN_A)
    assert lease.record_nat(0, "nat-0000000000000000a")

    assert lease.leave_as_last(RUN_A, lease.get())

    after = lease.get()
    assert after.holders == frozenset()
    assert after.nat_gateway_id is None
    assert after.retiring_nat_gateway_id == "nat-0000000000000000a"
    assert after.retiring_by == RUN_A
    assert after.generation == 1
    assert after.nat_history == {"nat-0000000000000000a"}


def test_leave_as_last_fails_when_someone_joined_since_the_read(network: Network):
    lease = table(network)
    lease.join(RUN_A)
    lease.record_nat(0, "nat-0000000000000000a")
    seen = lease.get()
    lease.join(RUN_B)

    assert not lease.leave_as_last(RUN_A, seen)
    assert lease.get().nat_gateway_id == "nat-0000000000000000a"
    assert lease.get().holders == {RUN_A, RUN_B}


def test_record_nat_refuses_a_stale_generation(network: Network):
    lease = table(network)
    lease.join(RUN_A)
    lease.record_nat(0, "nat-0000000000000000a")
    lease.drop_nat("nat-0000000000000000a", wait_for_deletion=False)

    assert not lease.record_nat(0, "nat-0000000000000000b")
    assert lease.record_nat(1, "nat-0000000000000000c")


def test_record_nat_waits_for_a_retiring_nat_gateway_to_be_cleared(network: Network):
    lease = table(network)
    lease.join(RUN_A)
    lease.record_nat(0, "nat-0000000000000000a")
    lease.drop_nat("nat-0000000000000000a", wait_for_deletion=True)

    assert not lease.record_nat(1, "nat-0000000000000000b")
    assert lease.clear_retiring("nat-0000000000000000a")
    assert lease.record_nat(1, "nat-0000000000000000b")


def test_concurrent_joins_all_land(network: Network):
    lease = table(network)
    runs = [f"arn:aws:states:us-east-1:123456789012:execution:unit:run-{i}" for i in range(20)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lease.join, runs))

    assert lease.get().holders == set(runs)
