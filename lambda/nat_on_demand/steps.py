"""The steps of a run, one function per state of the state machine.

acquire -> poll (until ready) -> attach_routes -> [workload] -> release.
Each is idempotent: Step Functions may run any of them again after a timeout
or a retried error, and the second run must change nothing the first did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from nat_on_demand import nat, routes
from nat_on_demand.config import Config
from nat_on_demand.errors import NatGatewayFailed, NatGatewayTimeout, TransientAwsError
from nat_on_demand.lease import Lease, LeaseTable

logger = Logger(child=True)

# EC2 may answer NotFound for a NAT Gateway for a few seconds after creating
# it. Within this many seconds of recording it, NotFound means "not yet".
_NOT_FOUND_GRACE_SECONDS = 60

# Rounds of read-decide-write against the lease before giving the state
# machine a "not ready yet" and trying again after the next wait.
_LEASE_ROUNDS = 4


@dataclass(frozen=True)
class NatStatus:
    """Where a run stands with its NAT Gateway; what acquire and poll return."""

    nat_gateway_id: str | None
    state: str
    public_ip: str | None = None
    waiting_for: str | None = None

    @property
    def ready(self) -> bool:
        return self.state == nat.AVAILABLE

    def as_dict(self, deadline: float) -> dict[str, Any]:
        return {
            "nat_gateway_id": self.nat_gateway_id,
            "state": self.state,
            "public_ip": self.public_ip,
            "ready": self.ready,
            "waiting_for": self.waiting_for,
            "deadline": deadline,
        }


def lease_table(config: Config) -> LeaseTable:
    return LeaseTable(config.lease_table, config.lease_id)


def acquire(config: Config, holder: str) -> NatStatus:
    """Join the lease and make sure the slot has a live NAT Gateway."""
    lease = lease_table(config).join(holder)
    logger.info("Joined lease", extra={"holders": len(lease.holders)})
    return ensure_nat(config, expected=None)


def poll(config: Config, holder: str, expected: str | None, deadline: float) -> NatStatus:
    """Check the NAT Gateway again; fail when it failed or the deadline passed."""
    lease_table(config).join(holder)
    status = ensure_nat(config, expected=expected)
    if not status.ready and time.time() >= deadline:
        raise NatGatewayTimeout(
            f"NAT Gateway {status.nat_gateway_id or '(none yet)'} was not available by the "
            f"readiness deadline; last state {status.state}"
            + (f", waiting for {status.waiting_for}" if status.waiting_for else "")
        )
    return status


def ensure_nat(config: Config, expected: str | None) -> NatStatus:
    """Bring the slot one step closer to a live NAT Gateway, and say where it stands.

    `expected` is the NAT Gateway this run saw last time: if it failed, the
    run fails with AWS's FailureCode, even if another run already replaced it.
    """
    table = lease_table(config)
    for attempt in range(_LEASE_ROUNDS):
        lease = table.get()
        if attempt == 0 and expected is not None and expected != lease.nat_gateway_id:
            _fail_if_failed(table, expected)
        if lease.retiring_nat_gateway_id is not None:
            status = _wait_for_retired(config, table, lease)
            if status is not None:
                return status
            continue
        if lease.nat_gateway_id is not None:
            status = _check_current(config, table, lease)
            if status is not None:
                return status
            continue
        created = nat.create(config, lease.generation)
        if table.record_nat(lease.generation, created.id):
            logger.info(
                "NAT Gateway created",
                extra={"nat_gateway_id": created.id, "generation": lease.generation},
            )
            return NatStatus(created.id, created.state, created.public_ip)
        # The generation moved on while we created: no lease points at this
        # NAT Gateway, so nobody else will delete it.
        logger.warning("Deleting unrecorded NAT Gateway", extra={"nat_gateway_id": created.id})
        nat.delete(created.id)
    return NatStatus(None, "waiting", waiting_for="the lease to settle")


def _fail_if_failed(table: LeaseTable, nat_gateway_id: str) -> None:
    found = nat.describe(nat_gateway_id)
    if found is None or found.state != nat.FAILED:
        return
    table.drop_nat(nat_gateway_id, wait_for_deletion=False)
    logger.error(
        "NAT Gateway failed",
        extra={
            "nat_gateway_id": nat_gateway_id,
            "failure_code": found.failure_code,
            "failure_message": found.failure_message,
        },
    )
    raise NatGatewayFailed(
        nat_gateway_id, found.failure_code or "Unknown", found.failure_message or ""
    )


def _wait_for_retired(config: Config, table: LeaseTable, lease: Lease) -> NatStatus | None:
    """A previous NAT Gateway is being torn down: help it along, or clear it once deleted."""
    retired_id = lease.retiring_nat_gateway_id
    assert retired_id is not None
    retired = nat.describe(retired_id)
    if retired is not None and retired.live:
        # Its teardown stopped part way (the releasing Lambda crashed or timed
        # out). Finishing it is idempotent, whoever does it.
        teardown(config, retired_id, lease.nat_history)
        retired = nat.describe(retired_id)
    if retired is not None and retired.state == nat.DELETING:
        return NatStatus(None, "waiting", waiting_for=f"{retired_id} to be deleted")
    table.clear_retiring(retired_id)
    return None


def _check_current(config: Config, table: LeaseTable, lease: Lease) -> NatStatus | None:
    current_id = lease.nat_gateway_id
    assert current_id is not None
    current = nat.describe(current_id)
    if current is None:
        if time.time() - lease.nat_recorded_at < _NOT_FOUND_GRACE_SECONDS:
            return NatStatus(current_id, nat.PENDING)
        logger.warning("NAT Gateway vanished", extra={"nat_gateway_id": current_id})
        table.drop_nat(current_id, wait_for_deletion=False)
        return None
    if current.live:
        return NatStatus(current.id, current.state, current.public_ip)
    if current.state == nat.FAILED:
        _fail_if_failed(table, current.id)
    # Deleted by someone else (the reaper, an operator): wait for it to be gone.
    table.drop_nat(current.id, wait_for_deletion=True)
    logger.warning(
        "NAT Gateway found deleted", extra={"nat_gateway_id": current.id, "state": current.state}
    )
    return None


def attach_routes(config: Config, nat_gateway_id: str) -> list[routes.RouteChange]:
    """Route every managed destination through the run's NAT Gateway."""
    owned = lease_table(config).get().nat_history
    changes = routes.attach(config, nat_gateway_id, owned)
    for change in changes:
        if change.action != routes.KEPT:
            logger.info("Route " + change.action, extra=change.as_dict())
    return changes


@dataclass(frozen=True)
class Release:
    released: bool
    remaining_holders: int
    torn_down_nat_gateway_id: str | None = None
    route_changes: tuple[routes.RouteChange, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "released": self.released,
            "remaining_holders": self.remaining_holders,
            "torn_down_nat_gateway_id": self.torn_down_nat_gateway_id,
            "route_changes": [c.as_dict() for c in self.route_changes],
        }


def release(config: Config, holder: str) -> Release:
    """Leave the lease; the last holder removes the routes and deletes the NAT Gateway."""
    table = lease_table(config)
    for _ in range(_LEASE_ROUNDS):
        remaining = table.leave_unless_last(holder)
        if remaining is not None:
            holders = len(remaining.holders)
            logger.info("Left lease; others still hold it", extra={"holders": holders})
            return Release(True, len(remaining.holders))
        lease = table.get()
        if holder not in lease.holders:
            return _resume_teardown(config, holder, lease)
        if table.leave_as_last(holder, lease):
            logger.info("Left lease as last holder", extra={"nat_gateway_id": lease.nat_gateway_id})
            if lease.nat_gateway_id is None:
                return Release(True, 0)
            changes = teardown(config, lease.nat_gateway_id, lease.nat_history)
            return Release(True, 0, lease.nat_gateway_id, tuple(changes))
    # Runs kept joining and leaving under us; Step Functions retries the step.
    raise TransientAwsError("the lease kept changing while releasing; try again")


def _resume_teardown(config: Config, holder: str, lease: Lease) -> Release:
    """A retried release: finish the teardown this holder started, or do nothing."""
    retiring = lease.retiring_nat_gateway_id
    if retiring is None or lease.retiring_by != holder:
        return Release(False, len(lease.holders))
    changes = teardown(config, retiring, lease.nat_history)
    return Release(True, len(lease.holders), retiring, tuple(changes))


def teardown(
    config: Config, nat_gateway_id: str, owned: frozenset[str]
) -> list[routes.RouteChange]:
    """Routes first, then the NAT Gateway: never a route left pointing at a deleted NAT."""
    changes = routes.detach(config, nat_gateway_id, owned | {nat_gateway_id})
    for change in changes:
        logger.info("Route " + change.action, extra=change.as_dict())
    nat.delete(nat_gateway_id)
    logger.info("NAT Gateway deletion started", extra={"nat_gateway_id": nat_gateway_id})
    return changes
