"""The steps of a run, one function per state of the state machine.

acquire -> poll (until ready) -> attach_routes -> [workload] -> release.
Each is idempotent: Step Functions may run any of them again after a timeout
or a retried error, and the second run must change nothing the first did.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from nat_on_demand import nat, routes
from nat_on_demand.config import Config
from nat_on_demand.errors import LeaseLost, NatGatewayFailed, NatGatewayTimeout, TransientAwsError
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
    # This call created the NAT Gateway (rather than finding a live one).
    created: bool = False

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
    """Check the NAT Gateway again; fail when it failed or the deadline passed.

    A poll never joins the lease again: one that outlives its run (stopped or
    timed out while the Lambda ran) would bring a released holder back and
    keep a NAT Gateway alive until the reaper's next scheduled pass.
    """
    lease = lease_table(config).get()
    if holder not in lease.holders:
        raise LeaseLost(f"{holder} no longer holds the lease; no NAT Gateway was created for it")
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
            if settle_retired(config, table, lease):
                return NatStatus(
                    None, "waiting", waiting_for=f"{lease.retiring_nat_gateway_id} to be deleted"
                )
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
            return NatStatus(created.id, created.state, created.public_ip, created=True)
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


def settle_retired(config: Config, table: LeaseTable, lease: Lease) -> bool:
    """Move a retired NAT Gateway's teardown along; True while it is still being deleted."""
    retired_id = lease.retiring_nat_gateway_id
    assert retired_id is not None
    retired = nat.describe(retired_id)
    if retired is not None and retired.live:
        # Its teardown stopped part way (the releasing Lambda crashed or timed
        # out). Finishing it is idempotent, whoever does it.
        teardown(config, retired_id, lease.nat_history)
        retired = nat.describe(retired_id)
    if retired is not None and retired.state == nat.DELETING:
        return True
    table.clear_retiring(retired_id)
    return False


def lock_stale_after(config: Config) -> float:
    """Seconds after which a lock's owner can no longer be running (Lambda timeout + margin)."""
    return config.controller_timeout_seconds + 30.0


def _check_current(config: Config, table: LeaseTable, lease: Lease) -> NatStatus | None:
    current_id = lease.nat_gateway_id
    assert current_id is not None
    if lease.lock_owner is not None:
        if lease.lock_is_stale(time.time(), lock_stale_after(config)):
            # Its owner's Lambda timed out: no route removal is still running.
            logger.warning("Breaking stale lease lock", extra={"lock_owner": lease.lock_owner})
            table.release_lock(lease.lock_owner, since=lease.lock_since)
            return None
        return NatStatus(
            current_id, "waiting", waiting_for=f"{lease.lock_owner} to finish removing routes"
        )
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


def attach_routes(config: Config, holder: str, nat_gateway_id: str) -> list[routes.RouteChange]:
    """Route every managed destination through the run's NAT Gateway.

    Only while the run holds the lease on that NAT Gateway: a step that
    outlives its run (the execution timed out or was stopped, and the reaper
    released it) must not route anything to a NAT Gateway being torn down.
    """
    table = lease_table(config)
    lease = table.get()
    if holder not in lease.holders or lease.nat_gateway_id != nat_gateway_id:
        raise LeaseLost(
            f"{holder} no longer holds the lease on {nat_gateway_id} (the lease now has "
            f"{lease.nat_gateway_id or 'no NAT Gateway'}); no route was added"
        )
    changes = routes.attach(config, nat_gateway_id, lease.nat_history)
    for change in changes:
        if change.action != routes.KEPT:
            logger.info("Route " + change.action, extra=change.as_dict())
    _undo_if_retired(config, table, holder, nat_gateway_id)
    return changes


def _undo_if_retired(config: Config, table: LeaseTable, holder: str, nat_gateway_id: str) -> None:
    """Take back this step's routes if the NAT Gateway was retired while it ran.

    A teardown retires the NAT Gateway in the lease before it removes routes.
    So a route this step added after the teardown looked at the route table
    is seen here, and removed, before it can outlive the NAT Gateway as a
    blackhole; one added before that, the teardown removes itself. A Lambda
    killed between the two leaves it to the reaper's scheduled pass.
    """
    lease = table.get()
    if lease.nat_gateway_id == nat_gateway_id:
        return
    undone = routes.detach(config, nat_gateway_id, {nat_gateway_id})
    for change in undone:
        logger.warning("Route taken back", extra=change.as_dict())
    raise LeaseLost(
        f"{holder}: NAT Gateway {nat_gateway_id} was retired while its routes were added "
        f"(the lease now has {lease.nat_gateway_id or 'no NAT Gateway'}); "
        f"{len(undone)} route(s) taken back"
    )


@dataclass(frozen=True)
class Release:
    released: bool
    remaining_holders: int
    torn_down_nat_gateway_id: str | None = None
    route_changes: tuple[routes.RouteChange, ...] = ()
    idle_nat_gateway_id: str | None = None
    idle_until: int | None = None
    # Seconds the torn-down NAT Gateway existed (None when unknown or not torn down).
    uptime_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "released": self.released,
            "remaining_holders": self.remaining_holders,
            "torn_down_nat_gateway_id": self.torn_down_nat_gateway_id,
            "route_changes": [c.as_dict() for c in self.route_changes],
            "idle_nat_gateway_id": self.idle_nat_gateway_id,
            "idle_until": self.idle_until,
            "uptime_seconds": self.uptime_seconds,
        }


def release(config: Config, holder: str) -> Release:
    """Leave the lease; the last holder removes the routes and deletes the NAT Gateway.

    With an idle grace, the last holder removes the routes but keeps the NAT
    Gateway for a back-to-back run; the reaper deletes it when the grace ends.
    """
    table = lease_table(config)
    for _ in range(_LEASE_ROUNDS):
        remaining = table.leave_unless_last(holder)
        if remaining is not None:
            holders = len(remaining.holders)
            logger.info("Left lease; others still hold it", extra={"holders": holders})
            return Release(True, holders)
        lease = table.get()
        if holder not in lease.holders:
            return _resume_release(config, holder, lease)
        nat_id = lease.nat_gateway_id
        idle_until = idle_deadline(config, nat_id) if nat_id is not None else None
        if nat_id is not None and idle_until is not None:
            if table.leave_as_last_idle(holder, lease, idle_until):
                logger.info(
                    "Left lease as last holder; NAT Gateway kept idle",
                    extra={"nat_gateway_id": nat_id, "idle_until": idle_until},
                )
                return _finish_idle_release(config, holder, nat_id, idle_until)
            continue
        if table.leave_as_last(holder, lease):
            logger.info("Left lease as last holder", extra={"nat_gateway_id": nat_id})
            if nat_id is None:
                return Release(True, 0)
            done = teardown(config, nat_id, lease.nat_history)
            return Release(
                True, 0, nat_id, tuple(done.route_changes), uptime_seconds=done.uptime_seconds
            )
    # Runs kept joining and leaving under us; Step Functions retries the step.
    raise TransientAwsError("the lease kept changing while releasing; try again")


def idle_deadline(config: Config, nat_gateway_id: str) -> int | None:
    """Until when a NAT Gateway left by its last run stays idle; None: delete it now.

    Each started NAT Gateway hour is billed in full. With
    `idle_within_billed_hour`, the grace ends early enough for the reaper to
    start the deletion before the NAT Gateway's next billed hour begins.
    """
    if config.idle_grace_seconds <= 0:
        return None
    found = nat.describe(nat_gateway_id)
    if found is None or found.state != nat.AVAILABLE:
        return None
    now = time.time()
    until = now + config.idle_grace_seconds
    if config.idle_within_billed_hour and found.created_at is not None:
        hours_started = max(1, math.ceil((now - found.created_at) / 3600))
        hour_ends = found.created_at + hours_started * 3600
        until = min(until, hour_ends - config.reaper_interval_seconds - 60)
    return int(until) if until > now else None


def _finish_idle_release(config: Config, holder: str, nat_id: str, idle_until: int) -> Release:
    changes = routes.detach(config, nat_id, {nat_id})
    for change in changes:
        logger.info("Route " + change.action, extra=change.as_dict())
    lease_table(config).release_lock(holder)
    return Release(True, 0, None, tuple(changes), nat_id, idle_until)


def _resume_release(config: Config, holder: str, lease: Lease) -> Release:
    """A retried release: finish what this holder started, or do nothing."""
    if lease.lock_owner == holder:
        if lease.nat_gateway_id is None:
            lease_table(config).release_lock(holder)
            return Release(False, len(lease.holders))
        return _finish_idle_release(
            config, holder, lease.nat_gateway_id, lease.idle_until or int(time.time())
        )
    retiring = lease.retiring_nat_gateway_id
    if retiring is None or lease.retiring_by != holder:
        return Release(False, len(lease.holders))
    done = teardown(config, retiring, lease.nat_history)
    return Release(
        True,
        len(lease.holders),
        retiring,
        tuple(done.route_changes),
        uptime_seconds=done.uptime_seconds,
    )


@dataclass(frozen=True)
class Teardown:
    route_changes: list[routes.RouteChange]
    # How long the NAT Gateway existed, from its CreateTime (None if unknown).
    uptime_seconds: float | None


def teardown(config: Config, nat_gateway_id: str, owned: frozenset[str]) -> Teardown:
    """Routes first, then the NAT Gateway: never a route left pointing at a deleted NAT."""
    changes = routes.detach(config, nat_gateway_id, owned | {nat_gateway_id})
    for change in changes:
        logger.info("Route " + change.action, extra=change.as_dict())
    found = nat.describe(nat_gateway_id)
    uptime = None
    if found is not None and found.created_at is not None:
        uptime = round(time.time() - found.created_at, 1)
    nat.delete(nat_gateway_id)
    logger.info(
        "NAT Gateway deletion started",
        extra={"nat_gateway_id": nat_gateway_id, "uptime_seconds": uptime},
    )
    return Teardown(changes, uptime)
